"""The indexer against the real issuer on each chain and each database: balances, supply, multipliers,
registry and feeds equal what the contracts say; confirmations are respected; bad input is refused."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from tests.support.indexer import TOKEN_UNIT, assert_matches_chain, mint
from tests.support.platform import Platform

from equitoken.indexer import (
    IndexedChain,
    Indexer,
    IndexerConfigError,
    UnindexedTickerError,
    UnknownChainError,
)
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.store.database import Database
from equitoken.store.schema import IndexCursorRow, IndexEventRow


def test_mints_transfers_redeems_and_a_split_are_indexed_as_the_chain_has_them(
    platform: Platform, database: Database
) -> None:
    chain = platform.chain
    mint(platform, "AAPL", "5", "mint-aapl")
    mint(platform, "MSTR", "2", "mint-mstr")
    platform.token("AAPL").transfer(platform.other_wallet, 2 * TOKEN_UNIT, sender=platform.wallet)
    platform.approve_redeem("AAPL", TOKEN_UNIT)
    platform.issuer.request_redeem(platform.participant.id, platform.wallet, "AAPL", "1", "redeem-aapl")
    platform.run()
    # A 3-for-1 split of AAPL, in force ten seconds from now.
    effective = chain.timestamp() + 10
    platform.token("AAPL").setUIMultiplier(
        3 * MULTIPLIER_ONE, effective, sender=platform.onchain.roles.multiplier_updater
    )
    platform.clock.advance(timedelta(seconds=20))  # the chain follows the clock
    chain.mine()
    indexer = Indexer(database, [IndexedChain(chain, platform.onchain.deployment, confirmations=0)])

    report = indexer.poll()

    assert report.caught_up
    assert report.events > 0
    assert_matches_chain(indexer, platform, chain.accounts)
    aapl = {b.holder: b for b in indexer.holders("AAPL")}
    assert aapl[platform.wallet].raw == 2 * TOKEN_UNIT
    assert aapl[platform.wallet].ui == 6 * TOKEN_UNIT
    assert aapl[platform.other_wallet].raw == 2 * TOKEN_UNIT
    assert [(m.multiplier, m.effective_at) for m in indexer.multiplier_history("AAPL")] == [
        (MULTIPLIER_ONE, 0),
        (3 * MULTIPLIER_ONE, effective),
    ]
    history = indexer.supply_history("AAPL")
    # The mint filled in two parts, then a redeem; anvil may mine several of them in the same second,
    # and a second has one point: the supply after its last block.
    steps = [int(TOKEN_UNIT * 2.5), 5 * TOKEN_UNIT, 4 * TOKEN_UNIT]
    totals = [p.total for p in history]
    assert totals[-1] == 4 * TOKEN_UNIT
    assert totals == [t for t in steps if t in totals]
    assert [p.at for p in history] == sorted({p.at for p in history})
    assert [b.ticker for b in indexer.balances_of([platform.wallet])] == ["AAPL", "MSTR"]
    # The registry binds the wallet to the participant's on-chain id; the reserve feed's rounds are kept.
    wallets = {w.wallet: w for w in indexer.wallets(chain.chain_id)}
    assert wallets[platform.wallet].investor_id == platform.participant.onchain_id
    assert not wallets[platform.wallet].frozen
    reserve = platform.onchain.reserve_feed("AAPL").latestRoundData()
    last_round = indexer.feed_rounds("AAPL", "reserve")[-1]
    assert (last_round.round_id, last_round.answer, last_round.updated_at) == (
        reserve[0],
        reserve[1],
        reserve[3],
    )
    cursor = indexer.cursor(chain.chain_id)
    assert cursor is not None
    assert cursor.block_number == chain.block_number()
    assert cursor.block_hash == chain.block_header(cursor.block_number).hash


def test_a_second_poll_finds_nothing_new_and_changes_nothing(platform: Platform, database: Database) -> None:
    mint(platform, "AAPL", "1", "mint")
    indexer = Indexer(database, [IndexedChain(platform.chain, platform.onchain.deployment, confirmations=0)])
    first = indexer.poll()

    second = indexer.poll()

    assert first.events > 0
    assert second.events == 0
    assert second.chains[0].batches == 0
    assert_matches_chain(indexer, platform, platform.chain.accounts)


def test_blocks_are_indexed_only_under_the_confirmation_depth(platform: Platform, database: Database) -> None:
    chain = platform.chain
    indexer = Indexer(
        database, [IndexedChain(chain, platform.onchain.deployment, confirmations=3, batch_blocks=7)]
    )
    indexer.poll()
    token = platform.token("AAPL")
    mint(platform, "AAPL", "2", "mint")
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)

    report = indexer.poll()

    head = chain.block_number()
    assert report.chains[0].indexed_to == head - 3
    assert report.chains[0].batches >= 1
    # The transfer's block is the head: not yet confirmed, not yet indexed.
    assert {b.holder for b in indexer.holders("AAPL")} == {platform.wallet}
    chain.mine(3)
    indexer.poll()
    assert_matches_chain(indexer, platform, chain.accounts)


def test_a_failure_inside_a_batch_writes_nothing_and_the_next_poll_indexes_it(
    platform: Platform, database: Database
) -> None:
    mint(platform, "AAPL", "3", "mint")
    indexer = Indexer(database, [IndexedChain(platform.chain, platform.onchain.deployment, confirmations=0)])

    def power_cut(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # The batch's last statement: the cursor, journal and balances are written but not committed.
        if statement.startswith("DELETE FROM index_blocks"):
            raise RuntimeError("power cut")

    event.listen(database.engine, "before_cursor_execute", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        indexer.poll()
    event.remove(database.engine, "before_cursor_execute", power_cut)

    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IndexEventRow)) == 0
        assert session.get(IndexCursorRow, platform.chain.chain_id) is None
    assert indexer.holders("AAPL") == []
    indexer.poll()
    assert_matches_chain(indexer, platform, platform.chain.accounts)


def test_bad_configuration_and_questions_are_refused_by_name(
    platform: Platform, database: Database, tmp_path: Path
) -> None:
    deployment = platform.onchain.deployment
    chain = platform.chain
    with pytest.raises(IndexerConfigError, match="given twice"):
        Indexer(database, [IndexedChain(chain, deployment), IndexedChain(chain, deployment)])
    with pytest.raises(IndexerConfigError, match="confirmations must be 0 or more"):
        IndexedChain(chain, deployment, confirmations=-1)
    with pytest.raises(IndexerConfigError, match="batch_blocks must be at least 1"):
        IndexedChain(chain, deployment, batch_blocks=0)
    elsewhere = Indexer(database, [IndexedChain(chain, replace(deployment, chain_id=999))])
    with pytest.raises(IndexerConfigError, match=r"serves chain \d+, but the deployment is on chain 999"):
        elsewhere.poll()
    indexer = Indexer(database, [IndexedChain(chain, deployment)])
    with pytest.raises(UnindexedTickerError, match="no indexed chain has a token for 'ZZZZ'"):
        indexer.holders("ZZZZ")
    with pytest.raises(UnknownChainError, match="chain 999 is not indexed"):
        indexer.cursor(999)
    with pytest.raises(ValueError, match="not an EVM address"):
        indexer.balances_of(["0x1234"])
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IndexCursorRow)) == 0
