"""The settlement token (the test USDC) followed next to the stock tokens: its Transfers are journaled
as their own source, change no stock holding, are undone by a reorg, and are read back with the stock
tokens' Transfers into one address, in chain order and never past the indexer's cursor."""

import pytest
from sqlalchemy import select
from tests.support.indexer import TOKEN_UNIT, assert_matches_chain, mint
from tests.support.platform import USDC, Platform

from equitoken.indexer import IndexedChain, Indexer, IndexerConfigError, UnknownChainError
from equitoken.indexer.sources import Source
from equitoken.store.database import Database
from equitoken.store.schema import IndexEventRow


def _indexer(platform: Platform, database: Database, confirmations: int = 0) -> Indexer:
    indexed = IndexedChain(
        platform.chain,
        platform.onchain.deployment,
        settlement_tokens={"USDC": platform.usdc.address},
        confirmations=confirmations,
    )
    return Indexer(database, [indexed])


def test_a_usdc_transfer_is_journaled_as_settlement_and_changes_no_stock_holding(
    platform: Platform, database: Database
) -> None:
    mint(platform, "AAPL", "2", "mint")
    indexer = _indexer(platform, database)
    indexer.poll()
    holders_before = indexer.holders("AAPL")
    supply_before = indexer.supply("AAPL")

    platform.usdc.transfer(platform.other_wallet, 7 * USDC, sender=platform.wallet)
    indexer.poll()

    with database.transaction() as session:
        rows = session.scalars(
            select(IndexEventRow)
            .where(IndexEventRow.source == Source.SETTLEMENT)
            .where(IndexEventRow.receiver == platform.other_wallet)
            .order_by(IndexEventRow.block_number)
        ).all()
        # The setup minted USDC to the wallet first; then the transfer.
        assert [(r.ticker, r.name, r.contract) for r in rows] == [
            ("USDC", "Transfer", platform.usdc.address)
        ] * 2
    assert indexer.holders("AAPL") == holders_before
    assert indexer.supply("AAPL") == supply_before
    assert indexer.balances_of([platform.other_wallet]) == []
    assert_matches_chain(indexer, platform, platform.chain.accounts)
    *_, received = indexer.transfers_to(platform.chain.chain_id, platform.other_wallet)
    assert (received.asset, received.sender, received.amount) == ("USDC", platform.wallet, 7 * USDC)


def test_a_reorg_undoes_a_usdc_transfer_and_leaves_stock_holdings_as_the_chain_has_them(
    platform: Platform, database: Database
) -> None:
    chain = platform.chain
    mint(platform, "AAPL", "3", "mint")
    indexer = _indexer(platform, database)
    indexer.poll()
    snapshot = chain.snapshot()
    platform.usdc.transfer(platform.other_wallet, 5 * USDC, sender=platform.wallet)
    platform.token("AAPL").transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    indexer.poll()
    assert len(indexer.transfers_to(chain.chain_id, platform.other_wallet)) == 3  # the setup's mint first

    chain.revert_to(snapshot)
    chain.mine(3)  # another branch, longer than the dropped one, without the transfers
    [progress] = indexer.poll().chains

    assert [r.events_undone for r in progress.reorgs] == [2]
    assert [t.asset for t in indexer.transfers_to(chain.chain_id, platform.other_wallet)] == ["USDC"]
    assert_matches_chain(indexer, platform, chain.accounts)


def test_transfers_to_come_in_chain_order_after_a_position_and_never_past_the_cursor(
    platform: Platform, database: Database
) -> None:
    chain, receiver = platform.chain, platform.other_wallet
    mint(platform, "AAPL", "2", "mint")
    indexer = _indexer(platform, database, confirmations=1)
    chain.mine(1)
    indexer.poll()
    *_, setup = indexer.transfers_to(chain.chain_id, receiver)  # the setup's USDC mint
    platform.usdc.transfer(receiver, 1 * USDC, sender=platform.wallet)
    platform.token("AAPL").transfer(receiver, TOKEN_UNIT, sender=platform.wallet)
    platform.usdc.transfer(platform.wallet, 3 * USDC, sender=receiver)  # out of it: not a transfer to it
    platform.usdc.transfer(receiver, 2 * USDC, sender=platform.wallet)
    indexer.poll()

    # The last block is one confirmation short: the indexer has not reached it.
    indexed = indexer.transfers_to(chain.chain_id, receiver, after=setup.position)
    assert [(t.asset, t.amount) for t in indexed] == [("USDC", 1 * USDC), ("AAPL", TOKEN_UNIT)]
    chain.mine(1)
    indexer.poll()
    every = indexer.transfers_to(chain.chain_id, receiver, after=setup.position)
    assert [(t.asset, t.amount) for t in every] == [
        ("USDC", 1 * USDC),
        ("AAPL", TOKEN_UNIT),
        ("USDC", 2 * USDC),
    ]
    assert [t.position for t in every] == sorted(t.position for t in every)
    assert all(t.receiver == receiver and t.sender == platform.wallet for t in every)
    assert every[1].token == platform.token("AAPL").address
    assert indexer.transfers_to(chain.chain_id, receiver, after=every[0].position, limit=1) == [every[1]]
    assert indexer.transfers_to(chain.chain_id, receiver, after=every[-1].position) == []
    assert indexer.transfers_to(chain.chain_id, receiver.lower(), after=(every[1].block_number, -1)) == [
        every[1],
        every[2],
    ]


def test_bad_settlement_tokens_and_bad_reads_are_refused_by_name(
    platform: Platform, database: Database
) -> None:
    chain, deployment = platform.chain, platform.onchain.deployment
    usdc = platform.usdc.address
    with pytest.raises(IndexerConfigError, match="not an EVM address"):
        IndexedChain(chain, deployment, settlement_tokens={"USDC": "0x1234"})
    with pytest.raises(IndexerConfigError, match="ticker of a stock token"):
        IndexedChain(chain, deployment, settlement_tokens={"AAPL": usdc})
    with pytest.raises(IndexerConfigError, match="1 to 10 printable"):
        IndexedChain(chain, deployment, settlement_tokens={"": usdc})
    with pytest.raises(IndexerConfigError, match="map a symbol"):
        IndexedChain(chain, deployment, settlement_tokens=[usdc])  # type: ignore[arg-type]
    with pytest.raises(IndexerConfigError, match="listed twice"):
        Indexer(database, [IndexedChain(chain, deployment, settlement_tokens={"USDC": usdc, "USDT": usdc})])
    aapl = deployment.instrument("AAPL").token
    with pytest.raises(IndexerConfigError, match="listed twice"):
        Indexer(database, [IndexedChain(chain, deployment, settlement_tokens={"USDC": aapl})])

    indexer = _indexer(platform, database)
    with pytest.raises(UnknownChainError):
        indexer.transfers_to(999, platform.wallet)
    with pytest.raises(ValueError, match="not an EVM address"):
        indexer.transfers_to(chain.chain_id, "nobody")
    with pytest.raises(ValueError, match="limit"):
        indexer.transfers_to(chain.chain_id, platform.wallet, limit=0)
    with pytest.raises(ValueError, match="position"):
        indexer.transfers_to(chain.chain_id, platform.wallet, after=(-1, 0))
    assert indexer.follows_transfers_of(chain.chain_id, usdc.lower())
    assert not indexer.follows_transfers_of(chain.chain_id, platform.wallet)
    assert not indexer.follows_transfers_of(999, usdc)
