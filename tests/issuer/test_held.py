"""An operator resolves a held request: retry once the cause is gone, or refund a held mint; once."""

import pytest
from sqlalchemy import func, select
from tests.support.platform import USDC, Platform

from equitoken.issuer.custody import CustodyLedger, surplus_account
from equitoken.issuer.errors import InvalidRequestError, RequestNotHeldError, UnknownRequestError
from equitoken.issuer.workflow.states import HeldResolution, RequestState
from equitoken.model.quantities import Shares
from equitoken.store.schema import ChainTransactionRow, LedgerEntryRow, RequestEventRow

TICKER = "MSTR"  # permissioned: a frozen investor's wallet receives nothing
TOKEN_UNIT = 10**8


def _held_mint(platform: Platform, key: str) -> str:
    """Accept a mint, then freeze the investor before the tokens go out: the mint is refused, held."""
    platform.approve_mint(10**6 * USDC)
    request_id = platform.issuer.request_mint(platform.participant.id, platform.wallet, TICKER, "2", key).id
    platform.issuer.investors.set_frozen(platform.participant.id, True)
    platform.run()
    view = platform.issuer.request(request_id)
    assert view.state is RequestState.HELD
    assert view.reason is not None
    assert "mint refused, shares kept in custody" in view.reason
    return request_id


def _snapshot(platform: Platform) -> tuple[int, int, int, int]:
    with platform.issuer.db.transaction() as session:
        events = session.scalar(select(func.count()).select_from(RequestEventRow)) or 0
        transactions = session.scalar(select(func.count()).select_from(ChainTransactionRow)) or 0
    supply = int(platform.token(TICKER).totalSupply())
    return events, transactions, supply, int(platform.usdc.balanceOf(platform.wallet))


def test_a_retry_after_the_cause_is_gone_delivers_the_tokens_once(platform: Platform) -> None:
    request_id = _held_mint(platform, "held-retry")
    platform.issuer.investors.set_frozen(platform.participant.id, False)

    view = platform.issuer.resolve_held(request_id, "retry", "unfrozen after review (ops ticket 42)")
    assert view.state is RequestState.ORDERED  # the state it was held in
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.COMPLETED
    assert int(platform.token(TICKER).balanceOf(platform.wallet)) == 2 * TOKEN_UNIT
    assert view.tokens_settled == 2 * TOKEN_UNIT
    assert platform.issuer.reconcile().ok
    trail = [(e.from_state, e.to_state) for e in view.events if e.from_state != e.to_state]
    assert ("ordered", "held") in trail
    assert ("held", "ordered") in trail
    assert any(
        "retry by the operator: unfrozen after review (ops ticket 42)" in e.reason for e in view.events
    )


def test_a_retry_while_the_cause_remains_holds_it_again(platform: Platform) -> None:
    request_id = _held_mint(platform, "held-again")

    platform.issuer.resolve_held(request_id, HeldResolution.RETRY, "try again")
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.HELD
    assert int(platform.token(TICKER).totalSupply()) == 0
    assert [e.to_state for e in view.events].count("held") == 2


def test_a_refund_returns_the_escrow_and_keeps_the_shares_as_surplus(platform: Platform) -> None:
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))
    request_id = _held_mint(platform, "held-refund")

    platform.issuer.resolve_held(request_id, "refund", "investor asked for the money back")
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.CANCELLED
    # Nothing was delivered: the whole escrow comes back and no fee is taken.
    assert view.fee.units == 0
    assert view.settled == view.escrow
    assert int(platform.usdc.balanceOf(platform.wallet)) == wallet_before
    assert int(platform.token(TICKER).totalSupply()) == 0
    # The shares bought stay in custody, now the issuer's: backing only grew.
    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == TICKER)
    # The refund cancelled the broker order: what had filled by then stays.
    assert Shares.zero() < view.filled_quantity <= Shares.parse("2")
    assert holding.custody == view.filled_quantity
    assert holding.outstanding_total == Shares.zero()
    with platform.issuer.db.transaction() as session:
        ledger = CustodyLedger()
        assert ledger.balance(session, surplus_account(TICKER), TICKER) == -view.filled_quantity.units
        assert ledger.balance(session, surplus_account(TICKER), "USD") == view.filled_notional.units
        entries = session.scalar(
            select(func.count()).select_from(LedgerEntryRow).where(LedgerEntryRow.request_id == request_id)
        )
    assert reconciliation.ok
    assert entries is not None
    assert entries > 0


def test_a_second_resolution_is_refused_and_changes_nothing(platform: Platform) -> None:
    request_id = _held_mint(platform, "held-twice")
    platform.issuer.resolve_held(request_id, "refund", "first")
    before = _snapshot(platform)

    with pytest.raises(RequestNotHeldError, match=f"request {request_id} is refunding, not held"):
        platform.issuer.resolve_held(request_id, "refund", "second")
    with pytest.raises(RequestNotHeldError, match="is refunding, not held"):
        platform.issuer.resolve_held(request_id, "retry", "third")

    assert _snapshot(platform) == before


@pytest.mark.parametrize(
    ("request_id", "resolution", "note", "error", "match"),
    [
        ("req-nope", "retry", "x", UnknownRequestError, "no request 'req-nope'"),
        (
            None,
            "forgive",
            "x",
            InvalidRequestError,
            "unknown resolution 'forgive'; choose one of: retry, refund",
        ),
        (None, "retry", "  ", InvalidRequestError, "a resolution needs a note of 1 to 1000 characters"),
        (None, "refund", "x" * 1001, InvalidRequestError, "a note of 1 to 1000 characters"),
    ],
    ids=["unknown_request", "unknown_resolution", "blank_note", "long_note"],
)
def test_bad_resolutions_are_named_and_change_nothing(
    platform: Platform,
    request_id: str | None,
    resolution: str,
    note: str,
    error: type[Exception],
    match: str,
) -> None:
    held = _held_mint(platform, "held-bad-input")
    before = _snapshot(platform)

    with pytest.raises(error, match=match):
        platform.issuer.resolve_held(request_id or held, resolution, note)

    assert _snapshot(platform) == before
    assert platform.issuer.request(held).state is RequestState.HELD


def test_a_request_that_is_not_held_cannot_be_resolved(platform: Platform) -> None:
    platform.approve_mint(10**6 * USDC)
    request_id = platform.issuer.request_mint(
        platform.participant.id, platform.wallet, "AAPL", "1", "done"
    ).id
    platform.run()
    before = _snapshot(platform)

    with pytest.raises(RequestNotHeldError, match=f"request {request_id} is completed, not held"):
        platform.issuer.resolve_held(request_id, "retry", "why not")

    assert _snapshot(platform) == before


def test_a_held_redemption_can_be_retried_but_not_refunded(platform: Platform) -> None:
    """A limit no sale reaches: at expiry the unsold tokens go back, refused while the investor is
    frozen; the burned tokens cannot be 'refunded', and a retry after the unfreeze returns them."""
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, TICKER, "2", "mint-first")
    platform.run()
    platform.approve_redeem(TICKER, TOKEN_UNIT)
    request_id = platform.issuer.request_redeem(
        platform.participant.id, platform.wallet, TICKER, "1", "redeem-high", limit_price="1000000"
    ).id
    platform.issuer.process()
    assert platform.issuer.request(request_id).state is RequestState.ORDERED
    platform.issuer.investors.set_frozen(platform.participant.id, True)
    platform.clock.advance(platform.issuer.config.request_ttl)
    platform.run()
    view = platform.issuer.request(request_id)
    assert view.state is RequestState.HELD
    assert view.reason is not None
    assert "unsold tokens could not be returned" in view.reason
    before = _snapshot(platform)

    with pytest.raises(InvalidRequestError, match=r"is a redemption: .* it can only be retried"):
        platform.issuer.resolve_held(request_id, "refund", "give it back")
    assert _snapshot(platform) == before

    platform.issuer.investors.set_frozen(platform.participant.id, False)
    platform.issuer.resolve_held(request_id, "retry", "unfrozen")
    platform.run()
    view = platform.issuer.request(request_id)
    assert view.state is RequestState.EXPIRED
    assert view.filled_quantity == Shares.zero()
    assert int(platform.token(TICKER).balanceOf(platform.wallet)) == 2 * TOKEN_UNIT
    assert platform.issuer.reconcile().ok
