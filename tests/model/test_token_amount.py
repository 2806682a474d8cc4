"""Shares against raw token units under a UI multiplier: what is created never exceeds what backs it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import InvalidAmountError, Shares
from equitoken.model.token_amount import TokenAmount

DECIMALS = 8
STEP = 10  # a token step of an 8-decimal token, in 10^-9 shares

steps = st.integers(min_value=0, max_value=10**15)
multipliers = st.integers(min_value=1, max_value=10**24)


def test_a_four_for_one_split_quarters_the_raw_units_for_the_same_shares() -> None:
    eight = Shares.parse("8")
    assert TokenAmount.for_shares(eight, DECIMALS, MULTIPLIER_ONE).raw == 8 * 10**8
    assert TokenAmount.for_shares(eight, DECIMALS, 4 * MULTIPLIER_ONE).raw == 2 * 10**8
    assert TokenAmount(2 * 10**8, DECIMALS).shares(4 * MULTIPLIER_ONE) == eight


def test_a_multiplier_that_divides_unevenly_rounds_each_way_as_asked() -> None:
    one = Shares.from_token_units(1, DECIMALS)
    three = 3 * MULTIPLIER_ONE
    assert TokenAmount.for_shares(one, DECIMALS, three).raw == 0
    assert TokenAmount.for_shares(one, DECIMALS, three, round_up=True).raw == 1


@given(steps, multipliers)
def test_created_units_never_stand_for_more_than_the_shares(count: int, multiplier: int) -> None:
    shares = Shares(count * STEP)
    created = TokenAmount.for_shares(shares, DECIMALS, multiplier)
    assert created.raw * multiplier <= count * MULTIPLIER_ONE
    assert created.shares(multiplier).units <= shares.units


@given(steps, multipliers)
def test_units_taken_back_always_stand_for_at_least_the_shares(count: int, multiplier: int) -> None:
    taken = TokenAmount.for_shares(Shares(count * STEP), DECIMALS, multiplier, round_up=True).raw
    assert taken * multiplier >= count * MULTIPLIER_ONE
    assert (taken - 1) * multiplier < count * MULTIPLIER_ONE or taken == 0


@given(st.integers(min_value=0, max_value=10**18), multipliers)
def test_what_custody_backs_is_never_more_than_the_custody(units: int, multiplier: int) -> None:
    custody = Shares(units)
    backed = TokenAmount.backed_by(custody, DECIMALS, multiplier)
    assert backed.shares(multiplier).units <= custody.units
    assert backed.raw * multiplier <= custody.floor_to_token_units(DECIMALS) * MULTIPLIER_ONE


@pytest.mark.parametrize("multiplier", [0, -1, 1.5, True])
def test_a_multiplier_that_is_not_a_positive_integer_is_refused(multiplier: object) -> None:
    with pytest.raises(InvalidAmountError, match="UI multiplier"):
        TokenAmount.for_shares(Shares.parse("1"), DECIMALS, multiplier)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError, match="UI multiplier"):
        TokenAmount(1, DECIMALS).shares(multiplier)  # type: ignore[arg-type]


def test_shares_finer_than_a_token_step_are_refused() -> None:
    with pytest.raises(InvalidAmountError, match="more than 8 decimals"):
        TokenAmount.for_shares(Shares(1), DECIMALS, MULTIPLIER_ONE)


@pytest.mark.parametrize(
    ("raw", "decimals", "problem"),
    [
        (-1, 8, "non-negative integer"),
        (1.0, 8, "non-negative integer"),
        (1, 10, "token decimals must be 0 to 9"),
    ],
)
def test_an_amount_that_no_token_can_hold_is_refused(raw: object, decimals: int, problem: str) -> None:
    with pytest.raises(InvalidAmountError, match=problem):
        TokenAmount(raw, decimals)  # type: ignore[arg-type]


def test_an_amount_shows_in_whole_tokens() -> None:
    assert str(TokenAmount(150_000_000, 8)) == "1.5"
    assert str(TokenAmount(7, 0)) == "7"
    assert str(TokenAmount(0, 8)) == "0"
