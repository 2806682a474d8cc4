"""Kill a real corporate-actions process at every step of a dividend, restart it, and check that every
holder was paid exactly once, custody moved once, and everything reconciles."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.issuer.corporate_actions.test_dividends import ACTION, EX_OPEN, FRIDAY, _holders_of_record
from tests.support.corporate_actions import ActionsPlatform, Build
from tests.support.platform import ACCOUNTS, SLIPPAGE_BPS

from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.durable.crashpoints import CRASH_ENV
from equitoken.issuer.corporate_actions import (
    ActionState,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
    PaymentState,
)
from equitoken.model.quantities import Shares
from equitoken.store.schema import ChainTransactionRow, LedgerEntryRow

pytestmark = [pytest.mark.crash, pytest.mark.anvil]

ROOT = Path(__file__).resolve().parents[3]
CASES = [
    (DividendPolicy.PAYOUT, "ca_recorded"),
    (DividendPolicy.PAYOUT, "ca_payment_sent"),
    (DividendPolicy.PAYOUT, "ca_payment_mined"),
    (DividendPolicy.REINVEST, "ca_fill"),
    (DividendPolicy.REINVEST, "ca_multiplier_sent"),
    (DividendPolicy.REINVEST, "ca_payment_mined"),
]


def _worker(ap: ActionsPlatform, tmp_path: Path, policy: DividendPolicy, crash_at: str | None) -> int:
    chain = ap.platform.chain
    assert isinstance(chain, JsonRpcChain)
    config = {
        "rpc_url": chain.url,
        "accounts": ACCOUNTS,
        "deployment": ap.platform.onchain.deployment.to_json(),
        "usdc": ap.platform.usdc.address,
        "database_url": ap.platform.issuer.db.url,
        "broker_url": f"sqlite:///{tmp_path / 'paper-broker.sqlite'}",
        "start": ap.platform.clock.now().isoformat(),
        "slippage_bps": SLIPPAGE_BPS,
        "policies": {"AAPL": policy.value},
    }
    path = tmp_path / "worker.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "tests.issuer.corporate_actions.crash_worker", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.returncode


@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
@pytest.mark.parametrize(("policy", "point"), CASES)
def test_dividend_survives_a_kill(build: Build, tmp_path: Path, policy: DividendPolicy, point: str) -> None:
    config = CorporateActionsConfig(instruments={"AAPL": InstrumentPolicy(dividends=policy)})
    ap = build(FRIDAY, config)
    _holders_of_record(ap)
    ap.at(EX_OPEN + timedelta(minutes=5))
    wallets = (ap.platform.wallet, ap.platform.other_wallet)
    before = {w: int(ap.platform.usdc.balanceOf(w)) for w in wallets}

    assert _worker(ap, tmp_path, policy, point) == -signal.SIGKILL, f"the worker never reached {point}"
    assert not ap.actions.action(ACTION).state.is_final, "the crash left nothing to recover"
    assert _worker(ap, tmp_path, policy, None) == 0

    action = ap.actions.action(ACTION)
    assert action.state is ActionState.COMPLETED, action.reason
    payments = ap.actions.payments(ACTION)
    assert all(p.state is PaymentState.PAID for p in payments)
    # Every holder got exactly what it was owed, once.
    for wallet in wallets:
        owed = sum(p.amount.units for p in payments if p.holder == wallet)
        assert int(ap.platform.usdc.balanceOf(wallet)) - before[wallet] == owed
    expected = {"payout": {1_326_000, 728_000}, "reinvest": {234_000}}[policy.value]
    assert {p.amount.units for p in payments} == expected
    with ap.platform.issuer.db.transaction() as session:
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
        causes = list(session.scalars(select(LedgerEntryRow.cause)))
    assert len(purposes) == len(set(purposes))
    assert len(causes) == len(set(causes))
    custody, outstanding = ap.backed_exactly("AAPL")
    assert custody == Shares.parse("10") + action.shares_bought
    assert outstanding <= custody
