"""An indexer killed with SIGKILL at any moment and restarted loses and doubles nothing; several chains
are indexed side by side, each with its own cursor."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.indexer import TOKEN_UNIT, assert_matches_chain, mint, platform_on
from tests.support.platform import ACCOUNTS, GENESIS, Platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.indexer import IndexedChain, Indexer
from equitoken.indexer.sources import WatchedContracts
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database
from equitoken.store.schema import IndexCursorRow, IndexEventRow

REPO = Path(__file__).resolve().parents[2]
KILLS = 4


def _cursor(database: Database, chain_id: int) -> int:
    with database.transaction() as session:
        row = session.get(IndexCursorRow, chain_id)
        return -1 if row is None else row.block_number


@pytest.mark.anvil
@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
def test_an_indexer_killed_mid_run_and_restarted_loses_and_doubles_nothing(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    assert isinstance(evm_chain, JsonRpcChain)
    platform = platform_on(evm_chain, prices, calendar, tmp_path / "issuer")
    mint(platform, "AAPL", "6", "mint-aapl")
    mint(platform, "HOOD", "2", "mint-hood")
    for _ in range(3):
        platform.token("AAPL").transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    deployment_file = tmp_path / "deployment.json"
    deployment_file.write_text(platform.onchain.deployment.to_json())
    command = [
        sys.executable,
        "-m",
        "tests.indexer.index_worker",
        evm_chain.url,
        database.url,
        str(deployment_file),
    ]
    chain_id = evm_chain.chain_id

    kills = 0
    while kills < KILLS:
        before = _cursor(database, chain_id)
        worker = subprocess.Popen(command, cwd=REPO, env=dict(os.environ))
        # Kill it as soon as it has committed one more batch: mid-run, between or inside transactions.
        while worker.poll() is None and _cursor(database, chain_id) <= before:
            time.sleep(0.005)
        if worker.poll() is not None:
            break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    finished = subprocess.run(command, cwd=REPO, env=dict(os.environ), timeout=300, check=False)

    assert kills == KILLS, "the worker finished before it could be killed enough times"
    assert finished.returncode == 0
    indexer = Indexer(database, [IndexedChain(evm_chain, platform.onchain.deployment, confirmations=0)])
    assert_matches_chain(indexer, platform, evm_chain.accounts)
    watched = WatchedContracts(platform.onchain.deployment)
    on_chain = watched.decode(evm_chain.get_raw_logs(watched.addresses, (), 0, _cursor(database, chain_id)))
    with database.transaction() as session:
        journal = session.scalar(select(func.count()).select_from(IndexEventRow))
    assert journal == len(on_chain)


def test_two_chains_are_indexed_side_by_side(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    other_chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), chain_id=1_337, genesis_timestamp=GENESIS)
    platforms: list[Platform] = [
        platform_on(evm_chain, prices, calendar, tmp_path / "first"),
        platform_on(other_chain, prices, calendar, tmp_path / "second"),
    ]
    mint(platforms[0], "AAPL", "3", "mint-first")
    mint(platforms[1], "AAPL", "5", "mint-second")
    platforms[1].token("AAPL").transfer(platforms[1].other_wallet, TOKEN_UNIT, sender=platforms[1].wallet)
    indexer = Indexer(
        database, [IndexedChain(p.chain, p.onchain.deployment, confirmations=0) for p in platforms]
    )

    report = indexer.poll()

    assert [c.chain_id for c in report.chains] == [evm_chain.chain_id, 1_337]
    for platform in platforms:
        assert_matches_chain(indexer, platform, platform.chain.accounts)
        cursor = indexer.cursor(platform.chain.chain_id)
        assert cursor is not None
        assert cursor.block_number == platform.chain.block_number()
    supply = {s.chain_id: s.raw for s in indexer.supply("AAPL")}
    assert supply == {evm_chain.chain_id: 3 * TOKEN_UNIT, 1_337: 5 * TOKEN_UNIT}
    assert indexer.supply_history("AAPL")[-1].total == 8 * TOKEN_UNIT
    assert {(b.chain_id, b.raw) for b in indexer.holders("AAPL", 1_337)} == {
        (1_337, 4 * TOKEN_UNIT),
        (1_337, TOKEN_UNIT),
    }
