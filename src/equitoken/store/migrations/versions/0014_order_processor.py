"""Order processor: orders placed on-chain, their broker fills, their audit trail and the read cursor"""

import sqlalchemy as sa
from alembic import op

revision = "0014_order_processor"
down_revision: str | None = "0013_bridge"


def upgrade() -> None:
    op.create_table(
        "processor_orders",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("processor", sa.String(length=42), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=42), nullable=False),
        sa.Column("recipient", sa.String(length=42), nullable=False),
        sa.Column("sell", sa.Boolean(), nullable=False),
        sa.Column("order_type", sa.String(length=6), nullable=False),
        sa.Column("time_in_force", sa.String(length=3), nullable=False),
        sa.Column("asset_quantity", sa.String(length=78), nullable=False),
        sa.Column("payment_quantity", sa.String(length=78), nullable=False),
        sa.Column("limit_price", sa.String(length=78), nullable=False),
        sa.Column("fee", sa.String(length=78), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("filled_asset", sa.String(length=78), nullable=False),
        sa.Column("filled_payment", sa.String(length=78), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('open', 'ordered', 'closing', 'filled', 'cancelled', 'held')",
            name="processor_order_state_known",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "processor", "order_id", name="one_row_per_processor_order"),
    )
    for column in ("ticker", "requester", "state"):
        op.create_index(f"ix_processor_orders_{column}", "processor_orders", [column], unique=False)
    op.create_table(
        "processor_fills",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.String(length=80), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("notional_usd", sa.BigInteger(), nullable=False),
        sa.Column("token_amount", sa.String(length=78), nullable=False),
        sa.Column("payment", sa.String(length=78), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("custody_entry_id", sa.Integer(), nullable=True),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["custody_entry_id"], ["ledger_entries.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["processor_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_processor_fills_order_id", "processor_fills", ["order_id"], unique=False)
    op.create_table(
        "processor_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["processor_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_processor_events_order_id", "processor_events", ["order_id"], unique=False)
    op.create_table(
        "processor_cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("processor", sa.String(length=42), nullable=False),
        sa.Column("next_order_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "processor"),
    )


def downgrade() -> None:
    op.drop_table("processor_cursors")
    op.drop_index("ix_processor_events_order_id", table_name="processor_events")
    op.drop_table("processor_events")
    op.drop_index("ix_processor_fills_order_id", table_name="processor_fills")
    op.drop_table("processor_fills")
    for column in ("ticker", "requester", "state"):
        op.drop_index(f"ix_processor_orders_{column}", table_name="processor_orders")
    op.drop_table("processor_orders")
