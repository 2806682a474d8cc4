"""Exchange ledger: purchases and sales of ledger stock balances through the issuer, and their audit trail"""

import sqlalchemy as sa
from alembic import op

revision = "0017_exchange_ledger"
down_revision: str | None = "0016_private_companies"


def upgrade() -> None:
    op.create_table(
        "exchange_ledger_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("filled_shares", sa.String(length=78), nullable=False),
        sa.Column("filled_usd", sa.String(length=78), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side in ('buy', 'sell')", name="exchange_ledger_order_side_known"),
        sa.CheckConstraint(
            "state in ('requested', 'ordered', 'settling', 'done', 'failed')",
            name="exchange_ledger_order_state_known",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("account", "state"):
        op.create_index(
            f"ix_exchange_ledger_orders_{column}", "exchange_ledger_orders", [column], unique=False
        )
    op.create_table(
        "exchange_ledger_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["exchange_ledger_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_exchange_ledger_events_order_id", "exchange_ledger_events", ["order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_exchange_ledger_events_order_id", table_name="exchange_ledger_events")
    op.drop_table("exchange_ledger_events")
    for column in ("state", "account"):
        op.drop_index(f"ix_exchange_ledger_orders_{column}", table_name="exchange_ledger_orders")
    op.drop_table("exchange_ledger_orders")
