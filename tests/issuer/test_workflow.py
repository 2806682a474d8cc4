"""The mint and redeem workflow end to end, on each chain and each database."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.platform import IN_SESSION, USDC, Platform, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.custody import BROKER_CASH, FEES, TREASURY, USD, CustodyLedger, custody_account
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database
from equitoken.store.schema import AttestationRow

TOKEN_UNIT = 10**8  # the catalogue's tokens have 8 decimals


def _mint(platform: Platform, ticker: str, quantity: str, key: str) -> str:
    platform.approve_mint(10**6 * USDC)
    return platform.issuer.request_mint(platform.participant.id, platform.wallet, ticker, quantity, key).id


@pytest.mark.parametrize("ticker", ["AAPL", "MSTR", "HOOD"])
def test_mint_settles_tokens_custody_and_payment(platform: Platform, ticker: str) -> None:
    usdc_before = platform.usdc_total()
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))

    request_id = _mint(platform, ticker, "3", f"mint-{ticker}")
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.COMPLETED
    assert view.filled_quantity == Shares.parse("3")
    assert int(platform.token(ticker).balanceOf(platform.wallet)) == 3 * TOKEN_UNIT
    # The participant paid exactly the fills plus the fee; the rest of the escrow came back.
    paid = wallet_before - int(platform.usdc.balanceOf(platform.wallet))
    assert paid == view.filled_notional.units + view.fee.units
    assert view.fee == platform.issuer.config.fees.fee(view.filled_notional)
    assert view.settled == view.escrow - view.filled_notional - view.fee
    assert platform.usdc_total() == usdc_before
    # Custody holds the shares, the reserve feed says so, and everything reconciles.
    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == ticker)
    assert holding.custody == Shares.parse("3") == holding.outstanding_total
    assert reconciliation.ok
    assert platform.onchain.reserve_feed(ticker).latestRoundData()[1] == 3 * TOKEN_UNIT
    with platform.issuer.db.transaction() as session:
        attested = [(a.custody_shares, a.reserve_amount) for a in session.scalars(select(AttestationRow))]
    # One attestation per fill (the broker fills in two parts), each showing custody at that moment.
    assert attested == [(Shares.parse("1.5").units, 150_000_000), (Shares.parse("3").units, 3 * TOKEN_UNIT)]
    states = [e.to_state for e in view.events if e.from_state != e.to_state]
    assert states == ["accepted", "paid", "ordered", "settling", "completed"]


def test_redeem_burns_first_then_pays_the_proceeds(platform: Platform) -> None:
    _mint(platform, "AAPL", "5", "mint")
    platform.run()
    platform.approve_redeem("AAPL", 2 * TOKEN_UNIT)
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))

    view = platform.issuer.request_redeem(platform.participant.id, platform.wallet, "AAPL", "2", "redeem")
    platform.run()

    view = platform.issuer.request(view.id)
    assert view.kind is RequestKind.REDEEM
    assert view.state is RequestState.COMPLETED
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == 3 * TOKEN_UNIT
    received = int(platform.usdc.balanceOf(platform.wallet)) - wallet_before
    assert received == view.settled.units == view.filled_notional.units - view.fee.units > 0
    holding = platform.issuer.reconcile().holdings[0]
    assert holding.custody == Shares.parse("3") == holding.outstanding_total
    assert platform.onchain.reserve_feed("AAPL").latestRoundData()[1] == 3 * TOKEN_UNIT


def test_ledger_balances_and_every_escrow_closes(platform: Platform) -> None:
    _mint(platform, "AAPL", "2", "a")
    _mint(platform, "MSTR", "1.5", "b")
    platform.run()

    ledger = CustodyLedger()
    with platform.issuer.db.transaction() as session:
        assert all(total == 0 for total in ledger.trial_balance(session).values())
        assert not any(ledger.balances(session, "escrow:").values())
        treasury = ledger.balance(session, TREASURY, USD)
        fees = -ledger.balance(session, FEES, USD)
        broker = -ledger.balance(session, BROKER_CASH, USD)
        assert ledger.balance(session, custody_account("MSTR"), "MSTR") == Shares.parse("1.5").units
    assert treasury == fees + broker > 0


def test_same_idempotency_key_returns_the_same_request(platform: Platform) -> None:
    first = _mint(platform, "AAPL", "1", "same-key")
    again = _mint(platform, "AAPL", "1", "same-key")
    platform.run()

    assert first == again
    assert len(platform.issuer.requests()) == 1
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == TOKEN_UNIT


def test_cancel_before_fill_refunds_everything(platform: Platform) -> None:
    # Saturday: the buy order is queued until Monday, so it can be cancelled before any fill.
    platform.clock.set(platform.clock.now() + timedelta(days=5))
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))
    request_id = _mint(platform, "AAPL", "1", "cancel-me")
    platform.issuer.process()
    assert platform.issuer.request(request_id).state is RequestState.ORDERED

    platform.issuer.cancel(request_id)
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.CANCELLED
    assert view.filled_quantity == Shares.zero()
    assert int(platform.usdc.balanceOf(platform.wallet)) == wallet_before
    assert int(platform.token("AAPL").totalSupply()) == 0


def test_queued_order_expires_and_refunds(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    # Friday 2025-12-05 after the close: queued until Monday, but the request lives only 1 hour.
    friday_evening = IN_SESSION + timedelta(days=4, hours=8)
    config = IssuerConfig(request_ttl=timedelta(hours=1))
    platform = build_platform(
        evm_chain, database, prices, calendar, tmp_path, start=friday_evening, config=config
    )
    issuer = platform.issuer
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))
    request_id = _mint(platform, "AAPL", "1", "expires")
    issuer.process()

    platform.clock.advance(timedelta(hours=2))
    platform.run()

    view = issuer.request(request_id)
    assert view.state is RequestState.EXPIRED
    assert int(platform.usdc.balanceOf(platform.wallet)) == wallet_before
    assert any("expired" in e.reason for e in view.events)


def test_cancel_of_a_finished_request_changes_nothing(platform: Platform) -> None:
    request_id = _mint(platform, "AAPL", "1", "done")
    platform.run()

    view = platform.issuer.cancel(request_id)

    assert view.state is RequestState.COMPLETED
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == TOKEN_UNIT


def test_fee_schedule_is_flat_plus_bps_of_the_filled_notional(platform: Platform) -> None:
    request_id = _mint(platform, "AAPL", "10", "fee")
    platform.run()

    view = platform.issuer.request(request_id)
    expected = Usd.parse("1") + view.filled_notional.bps(10)
    assert view.fee == expected
