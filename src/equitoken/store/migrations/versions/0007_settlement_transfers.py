"""indexer journals settlement-token transfers; exchange deposits read them from the journal

Each journaled event names its kind of contract (`source`) and, for a Transfer, its receiver. The
exchange's deposit cursor becomes a position (block, log index) in the indexed transfers into its hot
wallet: a block scanned to the end, the old meaning, is the position before the next block.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_settlement_transfers"
down_revision: str | None = "0006_exchange"

_REGISTRY_EVENTS = ("InvestorSet", "InvestorFrozen", "WalletAdded", "WalletRemoved")
_FEED_EVENTS = ("NewRound", "AnswerUpdated", "MarketStatusChanged")


def upgrade() -> None:
    with op.batch_alter_table("index_events") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="token"))
        batch.add_column(sa.Column("receiver", sa.String(length=42), nullable=True))
    events = sa.table(
        "index_events",
        sa.column("id", sa.Integer()),
        sa.column("chain_id", sa.BigInteger()),
        sa.column("contract", sa.String()),
        sa.column("ticker", sa.String()),
        sa.column("name", sa.String()),
        sa.column("source", sa.String()),
        sa.column("receiver", sa.String()),
        sa.column("args", sa.Text()),
    )
    rounds = sa.table(
        "index_feed_rounds", sa.column("chain_id", sa.BigInteger()), sa.column("feed"), sa.column("kind")
    )
    bind = op.get_bind()
    # Until now the journal held stock tokens, the registry and feeds; a feed's kind is on its rounds.
    bind.execute(
        events.update()
        .where(events.c.ticker.is_(None), events.c.name.in_(_REGISTRY_EVENTS))
        .values(source="registry")
    )
    feed_kind = (
        sa.select(rounds.c.kind)
        .where(rounds.c.chain_id == events.c.chain_id, rounds.c.feed == events.c.contract)
        .limit(1)
        .scalar_subquery()
    )
    bind.execute(
        events.update()
        .where(events.c.ticker.is_not(None), events.c.name.in_(_FEED_EVENTS))
        .values(source=sa.func.coalesce(feed_kind, "price"))
    )
    transfers = bind.execute(sa.select(events.c.id, events.c.args).where(events.c.name == "Transfer")).all()
    for event_id, args in transfers:
        receiver = json.loads(args)["receiver"]
        bind.execute(events.update().where(events.c.id == event_id).values(receiver=receiver))
    with op.batch_alter_table("index_events") as batch:
        batch.alter_column("source", server_default=None)
        batch.create_index(
            "ix_index_events_receiver", ["chain_id", "receiver", "block_number", "log_index"], unique=False
        )

    with op.batch_alter_table("exchange_deposit_cursors") as batch:
        batch.add_column(sa.Column("log_index", sa.Integer(), nullable=False, server_default="-1"))
    cursors = sa.table(
        "exchange_deposit_cursors", sa.column("block_number", sa.BigInteger()), sa.column("log_index")
    )
    bind.execute(cursors.update().values(block_number=cursors.c.block_number + 1))
    with op.batch_alter_table("exchange_deposit_cursors") as batch:
        batch.alter_column("log_index", server_default=None)


def downgrade() -> None:
    cursors = sa.table("exchange_deposit_cursors", sa.column("block_number", sa.BigInteger()))
    bind = op.get_bind()
    # The old cursor is the last block scanned to the end: rescanning the block of the position is
    # safe, since a deposit is recorded once per log.
    bind.execute(cursors.update().values(block_number=cursors.c.block_number - 1))
    with op.batch_alter_table("exchange_deposit_cursors") as batch:
        batch.drop_column("log_index")
    events = sa.table("index_events", sa.column("source", sa.String()))
    # The old projection would take a settlement-token Transfer for a stock holding.
    bind.execute(events.delete().where(events.c.source == "settlement"))
    with op.batch_alter_table("index_events") as batch:
        batch.drop_index("ix_index_events_receiver")
        batch.drop_column("receiver")
        batch.drop_column("source")
