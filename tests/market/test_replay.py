"""Replayed prices are real bars as traded: split conversion, intraday paths, closes and errors."""

import gzip
from datetime import UTC, date, datetime
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.market import replay
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.market.replay import Bar, ReplayPriceSource, daily_bar
from equitoken.model.quantities import Price
from equitoken.model.time import NaiveDatetimeError

NY = ZoneInfo("America/New_York")


def ny(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NY)


def bar(ticker: str, day: date) -> Bar:
    found = daily_bar(ticker, day)
    assert found is not None, f"no packaged bar for {ticker} on {day}"
    return found


def test_replay_source_is_a_price_source(prices: ReplayPriceSource) -> None:
    source: PriceSource = prices

    assert source.tickers() >= {"AAPL", "NVDA", "NFLX", "SPY", "QQQ", "CRCL", "HOOD", "PLTR"}
    assert "COIN" not in source.tickers()  # its only source has no licence, so it is not packaged


@pytest.mark.parametrize(
    ("ticker", "day", "close"),
    [
        # CSV close (split-adjusted to 2026) times the splits that came later, rounded half-even.
        ("AAPL", date(2019, 2, 11), "169.42999268"),  # 42.35749816894531 x 4
        ("AAPL", date(2020, 8, 28), "499.23001099"),  # 124.80750274658203 x 4, last day before 4:1
        ("AAPL", date(2020, 8, 31), "129.03999329"),  # first day after the split: as in the CSV
        ("NVDA", date(2021, 7, 19), "751.19003296"),  # 18.77975082397461 x 4 x 10
        ("NVDA", date(2021, 7, 20), "186.11999512"),  # 18.61199951171875 x 10
        ("NVDA", date(2024, 6, 7), "1208.88000488"),  # 120.88800048828125 x 10
        ("NVDA", date(2024, 6, 10), "121.79000092"),
        ("NFLX", date(2025, 11, 14), "1112.17002869"),  # 111.21700286865234 x 10
        ("NFLX", date(2025, 11, 17), "110.29000092"),
        ("SPY", date(2025, 11, 28), "683.39001465"),  # never split
    ],
)
def test_daily_closes_are_as_traded(ticker: str, day: date, close: str) -> None:
    assert bar(ticker, day).close == Price.parse(close)


def test_volumes_are_as_traded_shares() -> None:
    assert bar("AAPL", date(2019, 2, 11)).volume == 83_973_600 // 4
    assert bar("NVDA", date(2021, 7, 19)).volume == 749_060_000 // 40


def test_daily_bar_is_none_off_session_or_for_unknown_tickers() -> None:
    assert daily_bar("AAPL", date(2025, 11, 27)) is None  # Thanksgiving
    assert daily_bar("COIN", date(2025, 11, 26)) is None
    assert daily_bar("CRCL", date(2025, 6, 4)) is None  # the day before the IPO


def test_as_traded_daily_bars_agree_with_the_as_traded_minute_bars(prices: ReplayPriceSource) -> None:
    # The 1-minute file was never split-adjusted: AAPL traded at ~$170 in Feb 2019, not ~$42.
    for day in (date(2019, 2, 11), date(2019, 2, 15)):
        daily = bar("AAPL", day)
        last_minute = prices.quote("AAPL", ny(day, 15, 59, 59))
        first_minute = prices.quote("AAPL", ny(day, 9, 30))

        assert last_minute.source == "replay:1min"
        assert abs(last_minute.price.units - daily.close.units) < daily.close.units // 200  # 0.5%
        assert abs(first_minute.price.units - daily.open.units) < daily.open.units // 200
        assert daily.low <= last_minute.price <= daily.high


def test_minute_bars_price_by_the_close_of_the_last_finished_bar(prices: ReplayPriceSource) -> None:
    day = date(2019, 2, 11)

    at_open = prices.quote("AAPL", ny(day, 9, 30))
    in_first_bar = prices.quote("AAPL", ny(day, 9, 30, 59))
    first_bar_done = prices.quote("AAPL", ny(day, 9, 31))
    later = prices.quote("AAPL", ny(day, 9, 32, 30))

    assert (at_open.price, at_open.at) == (Price.parse("171.14"), ny(day, 9, 30))  # first bar's open
    assert in_first_bar.price == Price.parse("171.14")
    assert (first_bar_done.price, first_bar_done.at) == (Price.parse("170.97"), ny(day, 9, 31))
    assert (later.price, later.at) == (Price.parse("170.7701"), ny(day, 9, 32))


def test_a_minute_without_trades_keeps_the_previous_close(prices: ReplayPriceSource) -> None:
    # AAPL has no 14:32 bar on 2019-02-14.
    quote = prices.quote("AAPL", ny(date(2019, 2, 14), 14, 32, 30))

    assert (quote.price, quote.at) == (Price.parse("171.06"), ny(date(2019, 2, 14), 14, 31))


def test_the_session_open_price_is_the_daily_open(prices: ReplayPriceSource) -> None:
    for ticker, day in [("NVDA", date(2024, 6, 10)), ("MSFT", date(2025, 3, 7)), ("CRCL", date(2025, 6, 5))]:
        quote = prices.quote(ticker, ny(day, 9, 30))

        assert quote.price == bar(ticker, day).open
        assert quote.source == "replay:daily-path"


def test_an_up_day_goes_open_low_high_close(prices: ReplayPriceSource) -> None:
    day = date(2025, 3, 7)  # MSFT: open 392.32 < close 393.31, a 6.5-hour session
    daily = bar("MSFT", day)

    assert daily.close > daily.open
    assert prices.quote("MSFT", ny(day, 11, 40)).price == daily.low  # 1/3 of the session
    assert prices.quote("MSFT", ny(day, 13, 50)).price == daily.high  # 2/3
    assert prices.quote("MSFT", ny(day, 15, 59, 59)).price < daily.high
    assert prices.quote("MSFT", ny(day, 16)).price == daily.close


def test_a_down_day_goes_open_high_low_close(prices: ReplayPriceSource) -> None:
    day = date(2025, 11, 14)  # NFLX: open 1142.73 > close 1112.17
    daily = bar("NFLX", day)

    assert daily.close < daily.open
    assert prices.quote("NFLX", ny(day, 11, 40)).price == daily.high
    assert prices.quote("NFLX", ny(day, 13, 50)).price == daily.low


def test_the_path_is_linear_between_its_points(prices: ReplayPriceSource) -> None:
    day = date(2025, 3, 7)
    daily = bar("MSFT", day)

    halfway_to_low = prices.quote("MSFT", ny(day, 10, 35))

    exact_twice = daily.open.units + daily.low.units
    assert halfway_to_low.price.units in (exact_twice // 2, (exact_twice + 1) // 2)
    assert halfway_to_low.at == ny(day, 10, 35)


def test_a_half_day_path_ends_at_13_00(prices: ReplayPriceSource) -> None:
    day = date(2025, 11, 28)  # SPY up day, closes 13:00
    daily = bar("SPY", day)

    assert prices.quote("SPY", ny(day, 10, 40)).price == daily.low  # 1/3 of 3.5 hours
    assert prices.quote("SPY", ny(day, 11, 50)).price == daily.high
    closed = prices.quote("SPY", ny(day, 13))
    assert (closed.price, closed.at, closed.source) == (daily.close, ny(day, 13), "replay:daily-close")


@pytest.mark.parametrize(
    ("when", "last_session"),
    [
        (ny(date(2025, 11, 26), 16), date(2025, 11, 26)),  # post-market
        (ny(date(2025, 11, 27), 12), date(2025, 11, 26)),  # Thanksgiving
        (ny(date(2025, 11, 28), 9, 29), date(2025, 11, 26)),  # pre-market uses the previous close
        (ny(date(2025, 11, 29), 12), date(2025, 11, 28)),  # Saturday
        (ny(date(2019, 2, 18), 12), date(2019, 2, 15)),  # Presidents' Day
        (ny(date(2019, 2, 19), 3), date(2019, 2, 15)),  # night before the next session
    ],
)
def test_outside_the_session_the_price_is_the_last_close(
    prices: ReplayPriceSource, calendar: MarketCalendar, when: datetime, last_session: date
) -> None:
    quote = prices.quote("SPY", when)

    session = calendar.session_on(last_session)
    assert session is not None
    assert (quote.price, quote.at) == (bar("SPY", last_session).close, session.close)
    assert quote.at <= when


def test_quotes_are_integer_prices_with_aware_times(prices: ReplayPriceSource) -> None:
    quote = prices.quote("TSLA", ny(date(2023, 5, 17), 12, 34, 56))

    assert type(quote.price.units) is int
    assert quote.at.tzinfo is UTC
    assert quote.ticker == "TSLA"


def test_an_unknown_ticker_is_named_in_the_error(prices: ReplayPriceSource) -> None:
    with pytest.raises(
        NoPriceError, match=r"no price for COIN at 2025-11-26T15:00:00\+00:00: unknown ticker"
    ):
        prices.quote("COIN", datetime(2025, 11, 26, 15, tzinfo=UTC))


def test_before_the_data_starts_there_is_no_price(prices: ReplayPriceSource) -> None:
    with pytest.raises(NoPriceError, match=r"AAPL.*before the data starts") as raised:
        prices.quote("AAPL", ny(date(2019, 1, 2), 9, 29))
    assert raised.value.ticker == "AAPL"
    with pytest.raises(NoPriceError, match=r"CRCL.*first session 2025-06-05"):
        prices.quote("CRCL", ny(date(2025, 6, 4), 12))


def test_the_last_close_stays_valid_for_one_more_session(prices: ReplayPriceSource) -> None:
    last_day = date(2026, 5, 29)  # Friday; the data ends here

    stale = prices.quote("AAPL", ny(date(2026, 6, 1), 15))

    assert stale.price == bar("AAPL", last_day).close
    assert prices.quote("AAPL", ny(date(2026, 6, 2), 9, 29)).price == stale.price
    with pytest.raises(NoPriceError, match=r"AAPL.*after the data ends"):
        prices.quote("AAPL", ny(date(2026, 6, 2), 9, 30))


def test_naive_times_are_rejected(prices: ReplayPriceSource) -> None:
    with pytest.raises(NaiveDatetimeError):
        prices.quote("AAPL", datetime(2025, 11, 26, 15))


def test_the_packaged_data_carries_its_attribution_and_no_unlicensed_rows() -> None:
    folder = resources.files("equitoken.market").joinpath("data")
    readme = folder.joinpath("README.md").read_text()
    licences = {entry.name for entry in folder.joinpath("LICENSES").iterdir()}
    daily = gzip.decompress(folder.joinpath(replay.DAILY_FILE).read_bytes()).decode()

    for name in (replay.DAILY_FILE, replay.SPLITS_FILE, replay.MINUTE_FILE, *licences):
        assert name in readme
    assert len(licences) == 3
    assert "\nCOIN," not in daily
    assert "5min" not in {entry.name[:5] for entry in folder.iterdir()}


@given(moment=st.datetimes(min_value=datetime(2019, 1, 3), max_value=datetime(2026, 5, 29, 23)))
def test_every_quote_is_within_its_session_range_and_not_from_the_future(
    prices: ReplayPriceSource, calendar: MarketCalendar, moment: datetime
) -> None:
    at = moment.replace(tzinfo=UTC)

    quote = prices.quote("NVDA", at)

    assert quote.at <= at
    session = calendar.next_session(at) if calendar.is_open(at) else calendar.previous_session(at)
    assert session is not None
    daily = bar("NVDA", session.date)
    assert daily.low <= quote.price <= daily.high
