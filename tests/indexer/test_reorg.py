"""Reorganisations and restarted nodes: the indexer finds the common ancestor, undoes what came after it,
and ends equal to the chain the node now serves, never counting anything twice."""

from pathlib import Path

import pytest
from tests.support.indexer import TOKEN_UNIT, assert_matches_chain, mint, platform_on
from tests.support.platform import ACCOUNTS, GENESIS, Platform

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.indexer import ChainReplacedError, IndexedChain, Indexer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.store.database import Database


def test_a_reorganised_chain_is_undone_to_the_common_ancestor_and_followed(
    platform: Platform, database: Database
) -> None:
    chain, token = platform.chain, platform.token("AAPL")
    mint(platform, "AAPL", "4", "mint")
    indexer = Indexer(database, [IndexedChain(chain, platform.onchain.deployment, confirmations=0)])
    indexer.poll()
    fork_point = chain.block_number()
    supply_before = indexer.supply_history("AAPL")
    snapshot = chain.snapshot()
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    token.setUIMultiplier(
        2 * MULTIPLIER_ONE, chain.timestamp() + 5, sender=platform.onchain.roles.multiplier_updater
    )
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    indexer.poll()
    dropped = indexer.cursor(chain.chain_id)
    assert dropped is not None
    assert {b.holder: b.raw for b in indexer.holders("AAPL")}[platform.other_wallet] == 2 * TOKEN_UNIT

    # The same heights now hold other transactions: the node switched to another branch.
    chain.revert_to(snapshot)
    token.transfer(platform.other_wallet, 3 * TOKEN_UNIT, sender=platform.wallet)
    chain.mine(3)
    assert chain.block_header(dropped.block_number).hash != dropped.block_hash
    report = indexer.poll()

    [reorg] = report.chains[0].reorgs
    assert reorg.common_ancestor == fork_point
    assert reorg.events_undone == 3
    assert_matches_chain(indexer, platform, chain.accounts)
    assert {b.holder: b.raw for b in indexer.holders("AAPL")}[platform.other_wallet] == 3 * TOKEN_UNIT
    assert [m.multiplier for m in indexer.multiplier_history("AAPL")] == [MULTIPLIER_ONE]
    assert indexer.supply_history("AAPL") == supply_before
    cursor = indexer.cursor(chain.chain_id)
    assert cursor is not None
    assert cursor.block_hash == chain.block_header(chain.block_number()).hash


def test_a_reorg_below_the_confirmation_depth_never_reaches_the_store(
    platform: Platform, database: Database
) -> None:
    chain, token = platform.chain, platform.token("AAPL")
    mint(platform, "AAPL", "4", "mint")
    indexer = Indexer(database, [IndexedChain(chain, platform.onchain.deployment, confirmations=2)])
    chain.mine(2)
    indexer.poll()
    snapshot = chain.snapshot()
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    indexer.poll()  # the transfer is the head: unconfirmed, not indexed

    chain.revert_to(snapshot)
    token.transfer(platform.other_wallet, 2 * TOKEN_UNIT, sender=platform.wallet)
    chain.mine(2)
    report = indexer.poll()

    assert report.chains[0].reorgs == ()
    assert_matches_chain(indexer, platform, chain.accounts)


def _token(chain: JsonRpcChain, platform: Platform, ticker: str) -> Contract:
    address = platform.onchain.deployment.instrument(ticker).token
    return chain.at(address, compile_contract("token/StockToken.vy"))


@pytest.mark.anvil
def test_a_node_restarted_from_its_state_file_resumes_and_one_that_lost_blocks_is_rolled_back(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> None:
    node = AnvilNode(
        chain_id=31_338, accounts=ACCOUNTS, state_file=tmp_path / "state.json", state_interval=None,
        log_file=tmp_path / "anvil.log", timestamp=GENESIS,
    )  # fmt: skip
    with node:
        first = node.chain()
        platform = platform_on(first, prices, calendar, tmp_path / "issuer")
        mint(platform, "AAPL", "4", "mint")
        Indexer(database, [IndexedChain(first, platform.onchain.deployment, confirmations=0)]).poll()
        first.close()
        node.stop()  # a clean stop dumps the whole chain into the state file

        # Restarted from its state: the same blocks, the same hashes; nothing to undo or count again.
        node.start()
        second = node.chain()
        indexer = Indexer(database, [IndexedChain(second, platform.onchain.deployment, confirmations=0)])
        resumed = indexer.poll()
        assert resumed.chains[0].reorgs == ()
        assert resumed.events == 0
        assert {b.holder: b.raw for b in indexer.holders("AAPL")} == {platform.wallet: 4 * TOKEN_UNIT}
        _token(second, platform, "AAPL").transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
        indexer.poll()
        assert indexer.holders("AAPL")[0].raw + indexer.holders("AAPL")[1].raw == 4 * TOKEN_UNIT
        second.close()
        node.kill()  # a crash: the transfer's block was never dumped

        node.start()
        third = node.chain()
        indexer = Indexer(database, [IndexedChain(third, platform.onchain.deployment, confirmations=0)])
        token = _token(third, platform, "AAPL")
        assert int(token.balanceOf(platform.other_wallet)) == 0
        token.transfer(platform.other_wallet, 3 * TOKEN_UNIT, sender=platform.wallet)
        rolled_back = indexer.poll()

        assert len(rolled_back.chains[0].reorgs) == 1
        indexed = {b.holder: b.raw for b in indexer.holders("AAPL")}
        assert indexed == {platform.wallet: TOKEN_UNIT, platform.other_wallet: 3 * TOKEN_UNIT}
        assert [s.raw for s in indexer.supply("AAPL")] == [int(token.totalSupply())]
        third.close()
        cursor = indexer.cursor(31_338)
        node.stop()

        # Started without its state: a new genesis block, another chain. Refused; nothing changes.
        (tmp_path / "state.json").unlink()
        node.timestamp = GENESIS + 3_600  # started later, as a new chain would be
        node.start()
        fresh = node.chain()
        indexer = Indexer(database, [IndexedChain(fresh, platform.onchain.deployment, confirmations=0)])
        with pytest.raises(ChainReplacedError, match=r"another chain .* reset\(31338\)"):
            indexer.poll()
        assert indexer.cursor(31_338) == cursor
        assert {b.holder: b.raw for b in indexer.holders("AAPL")} == indexed
        indexer.reset(31_338)
        indexer.poll()
        assert indexer.holders("AAPL") == []
        fresh.close()
