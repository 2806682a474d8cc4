"""Quotes around the oracle price, financing by calendar nights, and split arithmetic."""

from datetime import date

import pytest

from equitoken.market.calendar import MarketCalendar
from equitoken.venues.cfd.corporate import split_entry, split_size
from equitoken.venues.cfd.financing import financing, nights_after
from equitoken.venues.cfd.instruments import CfdInstrument, CfdSettings
from equitoken.venues.cfd.positions import CfdSide, Position
from equitoken.venues.cfd.pricing import notional, quote

from .builders import price, shares, usdc


def test_quote_puts_half_the_spread_on_each_side_rounded_against_the_trader() -> None:
    assert quote(price(200), 10) == (19_990_000_000, 20_000_000_000, 20_010_000_000)
    assert quote(3, 10) == (2, 3, 4)
    assert quote(price(1), 0) == (price(1), price(1), price(1))


def test_notional_is_size_times_price_in_usdc_units() -> None:
    assert notional(shares(10), price(200)) == usdc(2_000)
    assert notional(1, 1) == 0


@pytest.mark.parametrize(
    ("day", "nights"),
    [
        (date(2025, 6, 4), 1),  # Wednesday -> Thursday
        (date(2025, 6, 6), 3),  # Friday -> Monday
        (date(2025, 7, 3), 4),  # half day before Independence Day (Friday) -> Monday
        (date(2025, 12, 24), 2),  # Christmas Eve -> 26th
    ],
)
def test_nights_run_to_the_next_session_of_the_real_calendar(day: date, nights: int) -> None:
    calendar = MarketCalendar()
    session = calendar.session_on(day)
    assert session is not None

    assert nights_after(calendar, session) == nights


def test_a_long_pays_benchmark_plus_markup_and_a_short_receives_benchmark_minus_markup() -> None:
    instrument = CfdInstrument("AAPL", benchmark_bps=430, markup_bps=250)
    # $36,500 for one night at 6.8% a year: $6.80 paid by the long.
    assert financing(instrument, CfdSide.LONG, usdc(36_500), 1) == -usdc(68) // 10
    # The short receives 1.8% a year: $1.80 a night, $5.40 over a weekend.
    assert financing(instrument, CfdSide.SHORT, usdc(36_500), 3) == usdc(54) // 10


def test_a_short_pays_when_the_markup_exceeds_the_benchmark_and_charges_round_up() -> None:
    instrument = CfdInstrument("AAPL", benchmark_bps=100, markup_bps=250)
    assert financing(instrument, CfdSide.SHORT, usdc(36_500), 1) == -usdc(15) // 10
    assert financing(instrument, CfdSide.LONG, 1, 1) == -1  # a sub-unit charge rounds up
    assert financing(CfdInstrument("X", benchmark_bps=400, markup_bps=0), CfdSide.SHORT, 1, 1) == 0


def test_a_split_scales_size_up_and_entry_down_against_the_trader() -> None:
    long = Position(1, 1, "AAPL", CfdSide.LONG, shares(3), 100, 5, 0)
    short = Position(2, 1, "AAPL", CfdSide.SHORT, shares(3), 100, 5, 0)

    assert split_size(shares(3), 2, 1) == shares(6)
    assert split_size(shares(3), 1, 2) == shares(3) // 2
    assert split_entry(long, 3, 1) == 34
    assert split_entry(short, 3, 1) == 33


@pytest.mark.parametrize(
    "terms",
    [
        {"max_leverage": 0},
        {"max_leverage": 101},
        {"spread_bps": -1},
        {"spread_bps": 10_000},
        {"markup_bps": -1},
        {"min_size": 0},
        {"max_price_age_s": 0},
        {"symbol": "A B"},
    ],
)
def test_bad_instrument_terms_are_refused(terms: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        CfdInstrument(**{"symbol": "AAPL", **terms})  # type: ignore[arg-type]


def test_a_stop_out_level_above_the_margin_call_level_is_refused() -> None:
    with pytest.raises(ValueError, match="stop-out"):
        CfdSettings(margin_call_bps=5_000, stop_out_bps=6_000)
