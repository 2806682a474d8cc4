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
from equitoken.issuer.reconcile import reconcile
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.platform.solana import local_solana
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


@pytest.fixture
def two_chain_platform(
    evm_chain: JsonRpcChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    return build_platform(evm_chain, database, prices, calendar, tmp_path, fill_parts=FILL_PARTS, solana=True)


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
    if platform.solana is not None:
        config |= {"solana_dir": str(platform.solana_dir), "solana_tickers": platform.solana.tickers}
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


def _crash_then_recover(platform: Platform, tmp_path: Path, *points: str) -> None:
    for point in points:
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
    if platform.solana is not None:  # the worker moved the Solana on disk: read it afresh
        solana = _restored_solana(platform)
        reconciliation = reconcile(
            platform.issuer.db, [platform.onchain, solana], platform.issuer.instruments
        )
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


def _restored_solana(platform: Platform) -> SolanaIssuerChain:
    """Return the Solana the worker left on disk (the test's own copy is stale)."""
    assert platform.solana is not None
    instruments = [platform.issuer.instruments[t] for t in platform.solana.tickers]
    return local_solana(platform.clock, instruments, platform.solana_dir)


# No reserve feed on Solana, so no reserve push to crash at.
SOLANA_MINT_POINTS = (*(p for p in MINT_POINTS if p != "reserve_push"), "solana_signed")


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
@pytest.mark.parametrize("point", SOLANA_MINT_POINTS)
def test_a_mint_on_solana_survives_a_kill(two_chain_platform: Platform, tmp_path: Path, point: str) -> None:
    platform = two_chain_platform
    usdc_before = platform.usdc_total()
    request = platform.on_solana(RequestKind.MINT, "MSTR", "3", "crash-solana-mint")

    _crash_then_recover(platform, tmp_path, point)

    _assert_each_request_ended_once(platform)
    _assert_backed_exactly(platform, "MSTR", "3")
    assert _restored_solana(platform).balance("MSTR", platform.solana_wallet) == 3 * TOKEN_UNIT
    assert platform.usdc_total() == usdc_before
    view = platform.issuer.request(request)
    assert view.settled == view.escrow - view.filled_notional - view.fee


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
def test_a_solana_transaction_signed_before_a_kill_is_signed_again_once(
    two_chain_platform: Platform, tmp_path: Path
) -> None:
    """Killed with the mint signed and unsent, then killed again with it signed anew: its first
    blockhash has expired by the restart, so the work is signed again and lands once."""
    platform = two_chain_platform
    platform.on_solana(RequestKind.MINT, "AAPL", "2", "crash-resign")

    _crash_then_recover(platform, tmp_path, "solana_signed", "solana_resigned")

    _assert_each_request_ended_once(platform)
    _assert_backed_exactly(platform, "AAPL", "2")
    assert _restored_solana(platform).balance("AAPL", platform.solana_wallet) == 2 * TOKEN_UNIT


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
@pytest.mark.parametrize("point", REDEEM_POINTS)
def test_a_redemption_on_solana_survives_a_kill(
    two_chain_platform: Platform, tmp_path: Path, point: str
) -> None:
    platform = two_chain_platform
    usdc_before = platform.usdc_total()
    platform.on_solana(RequestKind.MINT, "AAPL", "4", "solana-mint-first")
    platform.run()
    wallet_usdc = int(platform.usdc.balanceOf(platform.wallet))
    request = platform.on_solana(RequestKind.REDEEM, "AAPL", "1.5", "crash-solana-redeem")

    _crash_then_recover(platform, tmp_path, point)

    _assert_each_request_ended_once(platform)
    _assert_backed_exactly(platform, "AAPL", "2.5")
    assert _restored_solana(platform).balance("AAPL", platform.solana_wallet) == int(2.5 * TOKEN_UNIT)
    view = platform.issuer.request(request)
    assert int(platform.usdc.balanceOf(platform.wallet)) - wallet_usdc == view.settled.units > 0
    assert platform.usdc_total() == usdc_before
