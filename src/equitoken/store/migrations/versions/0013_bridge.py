"""Bridge transfers: burns seen at a source chain, their attestations and their mint at the destination"""

import sqlalchemy as sa
from alembic import op

revision = "0013_bridge"
down_revision: str | None = "0012_cfd_transfers"


def upgrade() -> None:
    op.create_table(
        "bridge_transfers",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("source_chain", sa.BigInteger(), nullable=False),
        sa.Column("dest_chain", sa.BigInteger(), nullable=False),
        sa.Column("source_tx", sa.String(length=90), nullable=False),
        sa.Column("source_log_index", sa.Integer(), nullable=False),
        sa.Column("source_block", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=66), nullable=False),
        sa.Column("receiver", sa.String(length=66), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attestations", sa.Text(), nullable=True),
        sa.Column("returns", sa.String(length=66), nullable=True),
        sa.Column("resolution", sa.String(length=100), nullable=True),
        sa.Column("dest_tx", sa.String(length=90), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('burned', 'attested', 'minted', 'held', 'released', 'returned')",
            name="bridge_transfer_state_known",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_chain", "source_tx", "source_log_index", name="one_transfer_per_burn"),
    )
    for column in ("ticker", "dest_chain", "sender", "receiver", "state"):
        op.create_index(f"ix_bridge_transfers_{column}", "bridge_transfers", [column], unique=False)
    op.create_table(
        "bridge_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.String(length=66), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=True),
        sa.Column("to_state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["bridge_transfers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bridge_events_transfer_id", "bridge_events", ["transfer_id"], unique=False)
    op.create_table(
        "bridge_cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )


def downgrade() -> None:
    op.drop_table("bridge_cursors")
    op.drop_index("ix_bridge_events_transfer_id", table_name="bridge_events")
    op.drop_table("bridge_events")
    for column in ("ticker", "dest_chain", "sender", "receiver", "state"):
        op.drop_index(f"ix_bridge_transfers_{column}", table_name="bridge_transfers")
    op.drop_table("bridge_transfers")
