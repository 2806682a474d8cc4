"""Shares against raw token units under a UI multiplier: what is created never exceeds what backs it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import InvalidAmountError, Shares

DECIMALS = 8
STEP = 10  # a token step of an 8-decimal token, in 10^-9 shares

steps = st.integers(min_value=0, max_value=10**15)
multipliers = st.integers(min_value=1, max_value=10**24)


def test_a_four_for_one_split_quarters_the_raw_units_for_the_same_shares() -> None:
    eight = Shares.parse("8")
    assert eight.to_raw_units(DECIMALS, MULTIPLIER_ONE) == 8 * 10**8
    assert eight.to_raw_units(DECIMALS, 4 * MULTIPLIER_ONE) == 2 * 10**8
    assert Shares.from_raw_units(2 * 10**8, DECIMALS, 4 * MULTIPLIER_ONE) == eight


def test_a_multiplier_that_divides_unevenly_rounds_each_way_as_asked() -> None:
    one = Shares.from_token_units(1, DECIMALS)
    three = 3 * MULTIPLIER_ONE
    assert one.to_raw_units(DECIMALS, three) == 0
    assert one.to_raw_units(DECIMALS, three, round_up=True) == 1


@given(steps, multipliers)
def test_created_units_never_stand_for_more_than_the_shares(count: int, multiplier: int) -> None:
    shares = Shares(count * STEP)
    created = shares.to_raw_units(DECIMALS, multiplier)
    assert created * multiplier <= count * MULTIPLIER_ONE
    assert Shares.from_raw_units(created, DECIMALS, multiplier).units <= shares.units


@given(steps, multipliers)
def test_units_taken_back_always_stand_for_at_least_the_shares(count: int, multiplier: int) -> None:
    taken = Shares(count * STEP).to_raw_units(DECIMALS, multiplier, round_up=True)
    assert taken * multiplier >= count * MULTIPLIER_ONE
    assert (taken - 1) * multiplier < count * MULTIPLIER_ONE or taken == 0


@pytest.mark.parametrize("multiplier", [0, -1, 1.5, True])
def test_a_multiplier_that_is_not_a_positive_integer_is_refused(multiplier: object) -> None:
    with pytest.raises(InvalidAmountError, match="UI multiplier"):
        Shares.parse("1").to_raw_units(DECIMALS, multiplier)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError, match="UI multiplier"):
        Shares.from_raw_units(1, DECIMALS, multiplier)  # type: ignore[arg-type]


def test_shares_finer_than_a_token_step_are_refused() -> None:
    with pytest.raises(InvalidAmountError, match="more than 8 decimals"):
        Shares(1).to_raw_units(DECIMALS, MULTIPLIER_ONE)
