"""Exchange ledger: the splits ledger balances have followed"""

import sqlalchemy as sa
from alembic import op

revision = "0018_exchange_ledger_splits"
down_revision: str | None = "0017_exchange_ledger"


def upgrade() -> None:
    op.create_table(
        "exchange_ledger_splits",
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["corporate_actions.id"]),
        sa.PrimaryKeyConstraint("action_id"),
    )


def downgrade() -> None:
    op.drop_table("exchange_ledger_splits")
