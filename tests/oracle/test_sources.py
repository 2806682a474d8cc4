"""What a reporter observes on the real replayed history: the status flips exactly at the regular
session's bounds (a half day and a holiday included) and the price outside it is the official close."""

from datetime import UTC, date, datetime, timedelta

import pytest

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource, daily_bar
from equitoken.model.quantities import Price, Shares
from equitoken.oracle.closed_market import ClosedPolicy, ClosedPricing, ClosedTerms
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTrade, VenueTradeBook
from equitoken.store.database import Database

FROZEN = ClosedTerms(ClosedPolicy.FROZEN)
SECOND = timedelta(seconds=1)
# Wednesday 2025-11-26 is a full day, Thursday 11-27 Thanksgiving, Friday 11-28 closes at 13:00 New York.
WEDNESDAY_CLOSE = datetime(2025, 11, 26, 21, 0, tzinfo=UTC)
FRIDAY_OPEN = datetime(2025, 11, 28, 14, 30, tzinfo=UTC)
FRIDAY_CLOSE = datetime(2025, 11, 28, 18, 0, tzinfo=UTC)


def close_of(day: date, ticker: str = "AAPL") -> Price:
    bar = daily_bar(ticker, day)
    assert bar is not None
    return bar.close


@pytest.fixture
def source(prices: ReplayPriceSource, calendar: MarketCalendar) -> MarketObservationSource:
    return MarketObservationSource(prices, calendar)


def test_the_half_day_is_open_from_09_30_to_13_00_new_york(source: MarketObservationSource) -> None:
    assert source.observe("AAPL", FRIDAY_OPEN - SECOND, FROZEN)[1] is MarketStatus.CLOSED
    assert source.observe("AAPL", FRIDAY_OPEN, FROZEN)[1] is MarketStatus.OPEN
    assert source.observe("AAPL", FRIDAY_CLOSE - SECOND, FROZEN)[1] is MarketStatus.OPEN
    assert source.observe("AAPL", FRIDAY_CLOSE, FROZEN) == (close_of(date(2025, 11, 28)), MarketStatus.CLOSED)


def test_thanksgiving_is_closed_all_day_at_wednesdays_official_close(source: MarketObservationSource) -> None:
    wednesday = (close_of(date(2025, 11, 26)), MarketStatus.CLOSED)

    assert source.observe("AAPL", WEDNESDAY_CLOSE - SECOND, FROZEN)[1] is MarketStatus.OPEN
    assert source.observe("AAPL", WEDNESDAY_CLOSE, FROZEN) == wednesday
    # 11:00 New York on Thanksgiving, when a normal day would be in session.
    assert source.observe("AAPL", datetime(2025, 11, 27, 16, 0, tzinfo=UTC), FROZEN) == wednesday
    assert source.observe("AAPL", FRIDAY_OPEN - SECOND, FROZEN) == wednesday


def test_the_price_moves_while_open_and_differs_from_the_close(source: MarketObservationSource) -> None:
    morning, status = source.observe("AAPL", FRIDAY_OPEN + timedelta(hours=1), FROZEN)
    bar = daily_bar("AAPL", date(2025, 11, 28))
    assert bar is not None

    assert status is MarketStatus.OPEN
    assert bar.low <= morning <= bar.high
    assert morning != bar.open


def test_pre_and_post_market_count_as_closed(source: MarketObservationSource) -> None:
    pre_market = datetime(2025, 12, 1, 13, 0, tzinfo=UTC)  # 08:00 New York
    post_market = datetime(2025, 12, 1, 22, 0, tzinfo=UTC)  # 17:00 New York

    assert source.observe("AAPL", pre_market, FROZEN) == (close_of(date(2025, 11, 28)), MarketStatus.CLOSED)
    assert source.observe("AAPL", post_market, FROZEN) == (close_of(date(2025, 12, 1)), MarketStatus.CLOSED)


def test_a_halt_in_the_session_holds_the_price_before_it_and_ends_with_the_session(
    prices: ReplayPriceSource, calendar: MarketCalendar, database: Database
) -> None:
    halts = HaltBook(database, prices.tickers())
    start = FRIDAY_OPEN + timedelta(hours=1)
    halts.declare("AAPL", start, None, "news pending")
    source = MarketObservationSource(prices, calendar, halts)
    before = prices.quote("AAPL", start).price

    assert source.observe("AAPL", start - SECOND, FROZEN)[1] is MarketStatus.OPEN
    assert source.observe("AAPL", start, FROZEN) == (before, MarketStatus.HALTED)
    assert source.observe("AAPL", FRIDAY_CLOSE - SECOND, FROZEN) == (before, MarketStatus.HALTED)
    assert source.observe("AAPL", FRIDAY_CLOSE, FROZEN) == (close_of(date(2025, 11, 28)), MarketStatus.CLOSED)
    assert source.observe("MSFT", start, FROZEN)[1] is MarketStatus.OPEN


def test_internal_pricing_follows_our_venues_after_the_close_within_the_band(
    prices: ReplayPriceSource, calendar: MarketCalendar, database: Database
) -> None:
    tape = VenueTradeBook(database)
    close = close_of(date(2025, 11, 28))
    tape.record(
        VenueTrade(
            "our-ats", "1", "AAPL", close.scaled_bps(5_000), Shares(10**9), FRIDAY_CLOSE + timedelta(hours=2)
        )
    )
    source = MarketObservationSource(prices, calendar, closed=ClosedPricing(tape, timedelta(minutes=30)))
    internal = ClosedTerms(ClosedPolicy.INTERNAL, 200)

    before_trade = source.observe("AAPL", FRIDAY_CLOSE + timedelta(hours=1), internal)
    after_trade = source.observe("AAPL", FRIDAY_CLOSE + timedelta(hours=3), internal)

    assert before_trade == (close, MarketStatus.CLOSED)
    assert after_trade == (Price(close.units * 10_200 // 10_000), MarketStatus.CLOSED)  # the band's edge
