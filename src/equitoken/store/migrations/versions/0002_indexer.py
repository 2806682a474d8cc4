"""indexer: cursors, recent block hashes, the event journal, balances, supply, multipliers, registry, feeds"""

import sqlalchemy as sa
from alembic import op

revision = "0002_indexer"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_table(
        "index_balances",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("raw", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "token", "holder"),
    )
    with op.batch_alter_table("index_balances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_balances_holder"), ["holder"], unique=False)
        batch_op.create_index(batch_op.f("ix_index_balances_ticker"), ["ticker"], unique=False)

    op.create_table(
        "index_blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "index_cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("block_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )
    op.create_table(
        "index_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "block_number", "log_index", name="one_event_per_log"),
    )
    op.create_table(
        "index_feed_rounds",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("feed", sa.String(length=42), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("answer", sa.String(length=78), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind in ('price', 'reserve')", name="feed_kind_known"),
        sa.PrimaryKeyConstraint("chain_id", "feed", "round_id"),
    )
    with op.batch_alter_table("index_feed_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_feed_rounds_ticker"), ["ticker"], unique=False)

    op.create_table(
        "index_investors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("investor_id", sa.String(length=78), nullable=False),
        sa.Column("country", sa.Integer(), nullable=True),
        sa.Column("kyc_expiry", sa.BigInteger(), nullable=True),
        sa.Column("accredited", sa.Boolean(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "investor_id"),
    )
    op.create_table(
        "index_multiplier_events",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("old_multiplier", sa.String(length=78), nullable=True),
        sa.Column("new_multiplier", sa.String(length=78), nullable=False),
        sa.Column("set_at", sa.BigInteger(), nullable=False),
        sa.Column("effective_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind in ('set', 'cancel')", name="multiplier_event_kind_known"),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
    )
    with op.batch_alter_table("index_multiplier_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_multiplier_events_ticker"), ["ticker"], unique=False)

    op.create_table(
        "index_supply",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("raw", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "token"),
    )
    with op.batch_alter_table("index_supply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_supply_ticker"), ["ticker"], unique=False)

    op.create_table(
        "index_supply_points",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "token", "block_number"),
    )
    with op.batch_alter_table("index_supply_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_supply_points_ticker"), ["ticker"], unique=False)

    op.create_table(
        "index_wallets",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("investor_id", sa.String(length=78), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "wallet"),
    )


def downgrade() -> None:
    op.drop_table("index_wallets")
    with op.batch_alter_table("index_supply_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_supply_points_ticker"))

    op.drop_table("index_supply_points")
    with op.batch_alter_table("index_supply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_supply_ticker"))

    op.drop_table("index_supply")
    with op.batch_alter_table("index_multiplier_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_multiplier_events_ticker"))

    op.drop_table("index_multiplier_events")
    op.drop_table("index_investors")
    with op.batch_alter_table("index_feed_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_feed_rounds_ticker"))

    op.drop_table("index_feed_rounds")
    op.drop_table("index_events")
    op.drop_table("index_cursors")
    op.drop_table("index_blocks")
    with op.batch_alter_table("index_balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_balances_ticker"))
        batch_op.drop_index(batch_op.f("ix_index_balances_holder"))

    op.drop_table("index_balances")
