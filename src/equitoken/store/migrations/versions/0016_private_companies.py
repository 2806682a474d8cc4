"""Private companies: the issuer's valuations, issuances, buybacks and transfer-agent decisions"""

import sqlalchemy as sa
from alembic import op

revision = "0016_private_companies"
down_revision: str | None = "0015_attestation"

_INDEXED = ("ticker", "kind", "state")


def upgrade() -> None:
    op.create_table(
        "private_actions",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.Column("holder", sa.String(length=42), nullable=True),
        sa.Column("amount", sa.String(length=78), nullable=True),
        sa.Column("unlock_at", sa.BigInteger(), nullable=True),
        sa.Column("round_id", sa.BigInteger(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('valuation', 'issue', 'buy_back', 'approve', 'reject')",
            name="private_action_kind_known",
        ),
        sa.CheckConstraint("state in ('pending', 'done', 'failed')", name="private_action_state_known"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in _INDEXED:
        op.create_index(f"ix_private_actions_{column}", "private_actions", [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(f"ix_private_actions_{column}", table_name="private_actions")
    op.drop_table("private_actions")
