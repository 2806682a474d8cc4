"""CFD transfers: USDC moved between an investor's exchange account and its CFD account, exactly once"""

import sqlalchemy as sa
from alembic import op

revision = "0012_cfd_transfers"
down_revision: str | None = "0011_solana_index"


def upgrade() -> None:
    op.create_table(
        "cfd_transfers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("investor_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction in ('to_cfd', 'from_cfd')", name="cfd_transfer_direction_known"),
        sa.CheckConstraint(
            "state in ('recorded', 'debited', 'credited', 'failed')", name="cfd_transfer_state_known"
        ),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cfd_transfers_investor_id", "cfd_transfers", ["investor_id"], unique=False)
    op.create_index("ix_cfd_transfers_state", "cfd_transfers", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cfd_transfers_state", table_name="cfd_transfers")
    op.drop_index("ix_cfd_transfers_investor_id", table_name="cfd_transfers")
    op.drop_table("cfd_transfers")
