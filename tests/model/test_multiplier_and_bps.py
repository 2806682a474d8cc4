"""The UI multiplier and basis points: one definition each, rounding on the issuer's and the venue's side."""

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.model.bps import BPS, fee_on, share_of
from equitoken.model.multiplier import MULTIPLIER_ONE, InvalidMultiplierError, Multiplier


def test_a_multiplier_shows_raw_units_rounded_down_and_takes_them_back_rounded_up() -> None:
    split = Multiplier.one().scaled(3, 1)

    assert split.value == 3 * MULTIPLIER_ONE
    assert split.ui(10) == 30
    assert Multiplier(MULTIPLIER_ONE * 2 // 3).ui(10) == 6  # 6.67 shows as 6
    assert Multiplier(3 * MULTIPLIER_ONE).raw(10) == 3  # 10 UI units need 3.33 raw: create 3
    assert Multiplier(3 * MULTIPLIER_ONE).raw(10, round_up=True) == 4  # take back 4
    assert str(Multiplier(MULTIPLIER_ONE * 3 // 2)) == "1.5"
    assert str(Multiplier.one()) == "1"


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_a_multiplier_is_a_positive_whole_number_of_steps(value: object) -> None:
    with pytest.raises(InvalidMultiplierError, match="must be a positive integer"):
        Multiplier(value)  # type: ignore[arg-type]


def test_a_fee_rounds_up_and_a_share_rounds_down() -> None:
    assert fee_on(1, 1) == 1  # any positive fee on any positive amount is at least a unit
    assert fee_on(10_000, 10) == 10
    assert fee_on(10_001, 10) == 11
    assert fee_on(-10_001, 10) == -10  # a rebate rounds towards zero: the venue never overpays it
    assert share_of(10_001, 10) == 10
    assert fee_on(123, BPS) == 123


# From a millionth of a millionth (a reverse split of 10^12 for 1) to a million.
@given(st.integers(min_value=10**6, max_value=10**24))
def test_the_solana_double_never_stands_for_more_than_the_multiplier(value: int) -> None:
    multiplier = Multiplier(value)
    double = multiplier.to_double()

    assert Fraction(double) <= Fraction(value, MULTIPLIER_ONE)
    assert Fraction(math.nextafter(double, math.inf)) > Fraction(value, MULTIPLIER_ONE)
    assert Multiplier.from_double(double) <= multiplier


def test_splits_are_exact_doubles() -> None:
    four = Multiplier.one().scaled(4, 1)
    assert four.to_double() == 4.0
    assert Multiplier.from_double(4.0) == four
    assert Multiplier.from_double(0.25) == Multiplier.one().scaled(1, 4)


@pytest.mark.parametrize("double", [0.0, -1.0, math.inf, math.nan])
def test_a_double_that_is_no_multiplier_is_refused(double: float) -> None:
    with pytest.raises(InvalidMultiplierError, match="positive number"):
        Multiplier.from_double(double)
