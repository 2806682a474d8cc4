"""oracle: trading halts and the trades of our own venues (closed-market pricing)"""

import sqlalchemy as sa
from alembic import op

revision = "0005_oracle"
down_revision: str | None = "0004_api"


def upgrade() -> None:
    op.create_table(
        "trading_halts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("ends_at is null or ends_at > starts_at", name="halt_ends_after_start"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticker", "starts_at", name="one_halt_per_start"),
    )
    op.create_table(
        "venue_trades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("venue", sa.String(length=40), nullable=False),
        sa.Column("trade_id", sa.String(length=80), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("traded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price > 0", name="venue_trade_price_positive"),
        sa.CheckConstraint("quantity > 0", name="venue_trade_quantity_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue", "trade_id", name="one_row_per_venue_trade"),
    )
    op.create_index("ix_venue_trades_ticker_traded_at", "venue_trades", ["ticker", "traded_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_venue_trades_ticker_traded_at", table_name="venue_trades")
    op.drop_table("venue_trades")
    op.drop_table("trading_halts")
