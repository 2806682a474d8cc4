"""Kill the workflow process for real at every step, restart it, and check that nothing happened twice
and nothing was lost: tokens x multiplier == custody, each request ended once, USDC conserved."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.platform import ACCOUNTS, SLIPPAGE_BPS, USDC, Platform, build_platform

from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.durable.crashpoints import CRASH_ENV, MINT_AND_REDEEM
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow, RequestEventRow

pytestmark = [pytest.mark.crash, pytest.mark.anvil]

ROOT = Path(__file__).resolve().parents[2]
REDEEM_POINTS = ("tokens_burned", "payout_sent")
MINT_POINTS = tuple(p for p in MINT_AND_REDEEM if p not in REDEEM_POINTS)
FILL_PARTS = 2
TOKEN_UNIT = 10**8


@pytest.fixture
def anvil_platform(
    evm_chain: JsonRpcChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    return build_platform(evm_chain, database, prices, calendar, tmp_path, fill_parts=FILL_PARTS)


def _worker(platform: Platform, tmp_path: Path, crash_at: str | None) -> int:
    chain = platform.chain
    assert isinstance(chain, JsonRpcChain)
    config = {
        "rpc_url": chain.url,
        "accounts": ACCOUNTS,
        "deployment": platform.onchain.deployment.to_json(),
        "usdc": platform.usdc.address,
        "database_url": platform.issuer.db.url,
        "broker_url": f"sqlite:///{tmp_path / 'paper-broker.sqlite'}",
        "start": platform.clock.now().isoformat(),
        "slippage_bps": SLIPPAGE_BPS,
        "fill_parts": FILL_PARTS,
    }
    path = tmp_path / "worker.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "tests.issuer.crash_worker", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.returncode


def _crash_then_recover(platform: Platform, tmp_path: Path, point: str) -> None:
    assert _worker(platform, tmp_path, point) == -signal.SIGKILL, f"the worker never reached {point}"
    assert platform.issuer.requests(open_only=True), "the crash left nothing to recover"
    assert _worker(platform, tmp_path, None) == 0


def _assert_each_request_ended_once(platform: Platform) -> None:
    with platform.issuer.db.transaction() as session:
        endings = session.execute(
            select(RequestEventRow.request_id, func.count())
            .where(
                RequestEventRow.to_state == RequestState.COMPLETED,
                RequestEventRow.from_state != RequestState.COMPLETED,
            )
            .group_by(RequestEventRow.request_id)
        ).all()
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
    requests = platform.issuer.requests()
    assert all(r.state is RequestState.COMPLETED for r in requests), [
        (r.id, r.state, r.reason) for r in requests
    ]
    assert sorted(count for _, count in endings) == [1] * len(requests)
    assert len(purposes) == len(set(purposes))


def _assert_backed_exactly(platform: Platform, ticker: str, shares: str) -> None:
    reconciliation = platform.issuer.reconcile()
    assert reconciliation.ok
    holding = next(h for h in reconciliation.holdings if h.ticker == ticker)
    assert holding.custody == holding.outstanding_total == Shares.parse(shares)


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
@pytest.mark.parametrize("point", MINT_POINTS)
def test_mint_survives_a_kill(anvil_platform: Platform, tmp_path: Path, point: str) -> None:
    platform = anvil_platform
    usdc_before = platform.usdc_total()
    platform.approve_mint(10**6 * USDC)
    request = platform.issuer.request_mint(
        platform.participant.id, platform.wallet, "MSTR", "3", "crash-mint"
    )

    _crash_then_recover(platform, tmp_path, point)

    _assert_each_request_ended_once(platform)
    _assert_backed_exactly(platform, "MSTR", "3")
    assert int(platform.token("MSTR").balanceOf(platform.wallet)) == 3 * TOKEN_UNIT
    assert platform.usdc_total() == usdc_before
    view = platform.issuer.request(request.id)
    assert view.settled == view.escrow - view.filled_notional - view.fee


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
@pytest.mark.parametrize("point", REDEEM_POINTS)
def test_redeem_survives_a_kill(anvil_platform: Platform, tmp_path: Path, point: str) -> None:
    platform = anvil_platform
    usdc_before = platform.usdc_total()
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "4", "mint-first")
    platform.run()
    platform.approve_redeem("AAPL", 4 * TOKEN_UNIT)
    wallet_usdc = int(platform.usdc.balanceOf(platform.wallet))
    request = platform.issuer.request_redeem(
        platform.participant.id, platform.wallet, "AAPL", "1.5", "crash-redeem"
    )

    _crash_then_recover(platform, tmp_path, point)

    _assert_each_request_ended_once(platform)
    _assert_backed_exactly(platform, "AAPL", "2.5")
    view = platform.issuer.request(request.id)
    assert int(platform.usdc.balanceOf(platform.wallet)) - wallet_usdc == view.settled.units > 0
    assert platform.usdc_total() == usdc_before
