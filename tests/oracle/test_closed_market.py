"""Closed-market pricing: FROZEN is the close exactly; INTERNAL's moving average stays in the band."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.model.quantities import Price, Shares
from equitoken.oracle.closed_market import (
    ONE,
    ClosedPolicy,
    ClosedPricing,
    ClosedTerms,
    decay,
    moving_average,
)
from equitoken.oracle.trades import VenueTrade

CLOSE_AT = datetime(2025, 12, 1, 21, 0, tzinfo=UTC)
CLOSE = Price(20_000_000_000)
HOUR = timedelta(hours=1)


class ListTape:
    """The trade tape's contract over a list (the database-backed tape is tested in test_trades)."""

    def __init__(self, trades: list[VenueTrade]) -> None:
        self._trades = trades

    def trades(self, ticker: str, since: datetime, until: datetime) -> list[VenueTrade]:
        return [t for t in self._trades if t.ticker == ticker and since < t.traded_at <= until]


def trade(n: int, price: int, after: timedelta) -> VenueTrade:
    return VenueTrade("our-ats", f"t{n}", "AAPL", Price(price), Shares(10**9), CLOSE_AT + after)


def test_decay_halves_per_half_life() -> None:
    assert decay(timedelta(0), HOUR) == ONE
    assert abs(decay(HOUR, HOUR) - ONE // 2) <= 1
    assert abs(decay(2 * HOUR, HOUR) - ONE // 4) <= 1
    assert abs(decay(HOUR / 2, HOUR) - 707_106_781_186_547_524) <= 60  # 2^-0.5
    assert decay(70 * HOUR, HOUR) == 0


@given(
    a=st.integers(min_value=0, max_value=10**7),
    b=st.integers(min_value=0, max_value=10**7),
)
def test_decay_over_two_gaps_is_decay_over_their_sum(a: int, b: int) -> None:
    one_step = decay(timedelta(seconds=a + b), HOUR)
    two_steps = decay(timedelta(seconds=a), HOUR) * decay(timedelta(seconds=b), HOUR) // ONE

    assert abs(one_step - two_steps) <= 200  # a few units in 1e18 from integer rounding


def test_one_trade_after_one_half_life_moves_the_average_half_way() -> None:
    average = moving_average(CLOSE, CLOSE_AT, [trade(1, 21_000_000_000, HOUR)], HOUR)

    assert abs(average.units - 20_500_000_000) <= 1


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="half-life must be positive"):
        decay(HOUR, timedelta(0))
    with pytest.raises(ValueError, match="must not be negative"):
        decay(-HOUR, HOUR)
    with pytest.raises(ValueError, match="out of order"):
        moving_average(CLOSE, CLOSE_AT, [trade(2, 1, 2 * HOUR), trade(1, 1, HOUR)], HOUR)
    with pytest.raises(ValueError, match="band must be 0 to 10000"):
        ClosedTerms(ClosedPolicy.INTERNAL, 10_001)
    with pytest.raises(ValueError, match="is not a valid ClosedPolicy"):
        ClosedTerms(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="half-life must be positive"):
        ClosedPricing(half_life=timedelta(0))


def test_frozen_is_the_close_whatever_trades() -> None:
    pricing = ClosedPricing(ListTape([trade(1, 30_000_000_000, HOUR)]))

    price = pricing.price("AAPL", ClosedTerms(ClosedPolicy.FROZEN), CLOSE, CLOSE_AT, CLOSE_AT + 2 * HOUR)

    assert price == CLOSE


def test_internal_follows_our_trades_and_ignores_those_of_other_tickers_and_later_ones() -> None:
    tape = ListTape(
        [
            trade(1, 20_400_000_000, HOUR),
            VenueTrade("our-ats", "x", "MSFT", Price(1), Shares(1), CLOSE_AT + HOUR),
            trade(3, 10_000_000_000, 5 * HOUR),
        ]
    )
    terms = ClosedTerms(ClosedPolicy.INTERNAL, 1_000)

    price = ClosedPricing(tape, half_life=HOUR).price("AAPL", terms, CLOSE, CLOSE_AT, CLOSE_AT + 2 * HOUR)

    assert abs(price.units - 20_200_000_000) <= 1


def test_internal_without_trades_is_the_close() -> None:
    terms = ClosedTerms(ClosedPolicy.INTERNAL, 500)

    assert ClosedPricing().price("AAPL", terms, CLOSE, CLOSE_AT, CLOSE_AT + HOUR) == CLOSE


def test_internal_is_clamped_to_the_band_of_the_close_and_of_the_feeds_last_close() -> None:
    tape = ListTape([trade(1, 40_000_000_000, timedelta(days=1))])
    pricing = ClosedPricing(tape, half_life=HOUR)
    at = CLOSE_AT + timedelta(days=2)

    own = pricing.price("AAPL", ClosedTerms(ClosedPolicy.INTERNAL, 1_000), CLOSE, CLOSE_AT, at)
    stated = ClosedTerms(ClosedPolicy.INTERNAL, 1_000, last_close=Price(19_000_000_000))
    both = pricing.price("AAPL", stated, CLOSE, CLOSE_AT, at)

    assert own == Price(22_000_000_000)
    assert both == Price(20_900_000_000)


prices = st.integers(min_value=1, max_value=10**13)


@given(
    close=prices,
    band=st.integers(min_value=0, max_value=10_000),
    half_life=st.integers(min_value=1, max_value=10**6),
    steps=st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), prices), max_size=12),
)
def test_the_internal_price_always_lies_within_the_band(
    close: int, band: int, half_life: int, steps: list[tuple[int, int]]
) -> None:
    trades, at = [], CLOSE_AT
    for n, (gap, price) in enumerate(steps):
        at += timedelta(seconds=gap)
        trades.append(VenueTrade("our-ats", str(n), "AAPL", Price(price), Shares(1), at))
    terms = ClosedTerms(ClosedPolicy.INTERNAL, band)

    result = ClosedPricing(ListTape(trades), timedelta(seconds=half_life)).price(
        "AAPL", terms, Price(close), CLOSE_AT, at
    )

    assert abs(result.units - close) * 10_000 <= close * band
    low = min([close] + [p for _, p in steps])
    high = max([close] + [p for _, p in steps])
    assert low <= result.units <= high  # an average of the close and the trades, then nearer the close
