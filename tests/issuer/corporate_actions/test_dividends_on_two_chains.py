"""AAPL's real dividend of 2025-11-10 with holders on EVM and on Solana: reinvested, it counts the
shares of both chains and raises the multiplier of both; paid out, it is refused with its reason,
since a payout cannot reach Solana holders yet."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.corporate_actions import ONE, TOKEN_UNIT, ActionsPlatform
from tests.support.platform import build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.corporate_actions import (
    ActionState,
    CorporateActions,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
)
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database

FRIDAY = datetime(2025, 11, 7, 15, 0, tzinfo=UTC)
EX_OPEN = datetime(2025, 11, 10, 14, 30, tzinfo=UTC)
ACTION = "AAPL:cash_dividend:2025-11-10"


@pytest.fixture
def two_chains(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> tuple[ActionsPlatform, ActionsPlatform]:
    """The same issuer twice over: one reinvesting AAPL's dividends (the default), one paying them out."""
    platform = build_platform(evm_chain, database, prices, calendar, tmp_path, start=FRIDAY, solana=True)
    issuer = platform.issuer
    platform.approve_mint(10**6 * 10**6)
    evm = issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "6", "evm")
    solana = platform.on_solana(RequestKind.MINT, "AAPL", "4", "solana")
    platform.run()
    assert {issuer.request(r).state for r in (evm.id, solana)} == {RequestState.COMPLETED}
    payout = CorporateActionsConfig(instruments={"AAPL": InstrumentPolicy(dividends=DividendPolicy.PAYOUT)})
    reinvesting = CorporateActions(issuer, platform.broker, prices, calendar)
    paying = CorporateActions(issuer, platform.broker, prices, calendar, payout)
    return (
        ActionsPlatform(platform, reinvesting, calendar, prices),
        ActionsPlatform(platform, paying, calendar, prices),
    )


def test_a_reinvested_dividend_counts_and_raises_both_chains(
    two_chains: tuple[ActionsPlatform, ActionsPlatform],
) -> None:
    ap, _ = two_chains
    ap.actions.load_history("AAPL", date(2025, 11, 8), date(2025, 11, 30))
    ap.at(EX_OPEN + timedelta(minutes=5))
    for _ in range(30):
        ap.process()
        if ap.actions.action(ACTION).state.is_final:
            break
        ap.at(ap.platform.clock.now() + timedelta(minutes=1))

    action = ap.actions.action(ACTION)
    assert action.state is ActionState.COMPLETED, action.reason
    assert action.record_shares == Shares.parse("10")  # 6 on EVM, 4 on Solana
    assert action.cash_received == Usd.parse("1.82")
    multiplier = int(ap.platform.token("AAPL").uiMultiplier())
    assert multiplier > ONE
    solana = ap.platform.solana
    assert solana is not None
    # Solana holds the largest double not above it: the same raw units never stand for more there.
    assert solana.multiplier("AAPL") == Multiplier.from_double(Multiplier(multiplier).to_double()).value
    assert solana.multiplier("AAPL") <= multiplier
    custody, outstanding = ap.backed_exactly("AAPL")
    assert custody == Shares.parse("10") + action.shares_bought
    assert custody.units - outstanding.units < Shares.token_step(8) * 4
    assert solana.balance("AAPL", ap.platform.solana_wallet) == 4 * TOKEN_UNIT  # raw units never move


def test_a_payout_with_holders_on_solana_is_refused_with_its_reason(
    two_chains: tuple[ActionsPlatform, ActionsPlatform],
) -> None:
    _, ap = two_chains
    ap.actions.load_history("AAPL", date(2025, 11, 8), date(2025, 11, 30))
    wallet_usdc = int(ap.platform.usdc.balanceOf(ap.platform.wallet))
    ap.at(EX_OPEN + timedelta(minutes=5))
    ap.process()

    action = ap.actions.action(ACTION)
    assert action.state is ActionState.FAILED
    assert action.reason is not None
    assert "4 AAPL shares are held on other chains: reinvest this dividend instead" in action.reason
    assert ap.actions.payments(ACTION) == []
    assert int(ap.platform.usdc.balanceOf(ap.platform.wallet)) == wallet_usdc
    assert ap.backed_exactly("AAPL") == (Shares.parse("10"), Shares.parse("10"))
