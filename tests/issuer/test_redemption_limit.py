"""A redemption can carry a limit price: the broker sells no lower, and what is unsold comes back."""

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from tests.support.platform import USDC, Platform

from equitoken.issuer.errors import IdempotencyConflictError, InvalidRequestError
from equitoken.issuer.workflow.states import RequestState
from equitoken.model.quantities import Price, Shares
from equitoken.store.schema import RequestRow

TICKER = "AAPL"
TOKEN_UNIT = 10**8
CENT = 10**6  # in Price units


@pytest.fixture
def holder(platform: Platform) -> Platform:
    """The participant holds 2 AAPL tokens and has approved the burner for them."""
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, TICKER, "2", "mint")
    platform.run()
    platform.approve_redeem(TICKER, 2 * TOKEN_UNIT)
    return platform


def _redeem(platform: Platform, key: str, limit: str | None) -> str:
    participant, wallet = platform.participant.id, platform.wallet
    return platform.issuer.request_redeem(participant, wallet, TICKER, "1", key, limit_price=limit).id


def _mint_quote(platform: Platform) -> Price:
    with platform.issuer.db.transaction() as session:
        return Price(session.scalars(select(RequestRow.quote_price)).one())


def test_a_reachable_limit_sells_no_lower_than_it(holder: Platform) -> None:
    floor = Price(_mint_quote(holder).units * 99 // 100 // CENT * CENT)  # a whole cent, 1% under

    request_id = _redeem(holder, "with-limit", str(floor))
    holder.run()

    view = holder.issuer.request(request_id)
    assert view.state is RequestState.COMPLETED
    assert view.limit_price == floor
    assert view.filled_quantity == Shares.parse("1")
    assert view.filled_notional.units >= floor.notional(Shares.parse("1"), round_up=False).units
    assert int(holder.token(TICKER).balanceOf(holder.wallet)) == TOKEN_UNIT


def test_an_unreached_limit_expires_and_returns_the_tokens(holder: Platform) -> None:
    request_id = _redeem(holder, "too-high", "100000")
    holder.issuer.process()
    assert holder.issuer.request(request_id).state is RequestState.ORDERED
    assert int(holder.token(TICKER).balanceOf(holder.wallet)) == TOKEN_UNIT  # burned while it rests

    holder.clock.advance(holder.issuer.config.request_ttl)
    holder.run()

    view = holder.issuer.request(request_id)
    assert view.state is RequestState.EXPIRED
    assert view.filled_quantity == Shares.zero()
    assert int(holder.token(TICKER).balanceOf(holder.wallet)) == 2 * TOKEN_UNIT
    assert holder.issuer.reconcile().ok


def _count(platform: Platform) -> int:
    with platform.issuer.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(RequestRow)) or 0


@pytest.mark.parametrize(
    ("attempt", "match"),
    [
        (lambda p: _redeem(p, "zero", "0"), "limit price must be positive, got 0"),
        (lambda p: _redeem(p, "negative", "-5"), "limit price must be positive, got -5"),
        (lambda p: _redeem(p, "sub-cent", "100.001"), r"limit price 100.001 is not a whole cent"),
        (lambda p: _redeem(p, "words", "cheap"), "limit price: .*'cheap'"),
    ],
    ids=["zero", "negative", "sub_cent", "not_a_number"],
)
def test_a_bad_limit_is_named_and_changes_nothing(
    holder: Platform, attempt: Callable[[Platform], object], match: str
) -> None:
    before = (_count(holder), int(holder.token(TICKER).balanceOf(holder.wallet)))

    with pytest.raises(InvalidRequestError, match=match):
        attempt(holder)

    assert (_count(holder), int(holder.token(TICKER).balanceOf(holder.wallet))) == before


def test_the_same_key_with_another_limit_is_a_conflict(holder: Platform) -> None:
    first = _redeem(holder, "key", "150")
    assert _redeem(holder, "key", "150") == first
    with pytest.raises(IdempotencyConflictError, match="was used for a different request"):
        _redeem(holder, "key", "151")
    with pytest.raises(IdempotencyConflictError, match="was used for a different request"):
        _redeem(holder, "key", None)
