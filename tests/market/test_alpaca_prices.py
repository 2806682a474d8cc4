"""The Alpaca adapter against a local stand-in serving Alpaca's JSON built from the replay data."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from tests.market.alpaca_standin import KEY_ID, SECRET_KEY, StandInState, alpaca_standin

from equitoken.market.alpaca import AlpacaPriceSource, MissingCredentialsError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.market.replay import ReplayPriceSource

NY = ZoneInfo("America/New_York")
CREDENTIALS = {"APCA_API_KEY_ID": KEY_ID, "APCA_API_SECRET_KEY": SECRET_KEY}
TICKERS = ("AAPL", "SPY", "NVDA")


def ny(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NY)


@pytest.fixture(scope="module")
def replay(calendar: MarketCalendar) -> ReplayPriceSource:
    return ReplayPriceSource.default(calendar)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(ny(date(2019, 2, 13), 11, 0, 45))


@pytest.fixture
def standin(
    replay: ReplayPriceSource, calendar: MarketCalendar, clock: ManualClock
) -> Iterator[StandInState]:
    state = StandInState(replay, calendar, clock)
    with alpaca_standin(state):
        yield state


@pytest.fixture
def alpaca(standin: StandInState, calendar: MarketCalendar, clock: ManualClock) -> AlpacaPriceSource:
    return AlpacaPriceSource.from_environment(
        calendar, TICKERS, clock=clock, url_override=standin.url, environ=CREDENTIALS
    )


def test_alpaca_source_is_a_price_source(alpaca: AlpacaPriceSource) -> None:
    source: PriceSource = alpaca

    assert source.tickers() == frozenset(TICKERS)


def test_now_in_session_uses_the_latest_trade(
    alpaca: AlpacaPriceSource, replay: ReplayPriceSource, standin: StandInState, clock: ManualClock
) -> None:
    quote = alpaca.quote("AAPL", clock.now())

    expected = replay.quote("AAPL", clock.now())
    assert (quote.price, quote.at, quote.source) == (expected.price, expected.at, "alpaca:latest-trade")
    path, params = standin.requests[-1]
    assert path == "/v2/stocks/trades/latest"
    assert params["symbols"] == "AAPL"
    assert params["feed"] == "iex"


def test_an_earlier_time_in_session_uses_the_last_finished_minute_bar(
    alpaca: AlpacaPriceSource, replay: ReplayPriceSource, standin: StandInState
) -> None:
    at = ny(date(2019, 2, 12), 10, 15, 30)

    quote = alpaca.quote("AAPL", at)

    expected = replay.quote("AAPL", at)
    assert (quote.price, quote.at, quote.source) == (
        expected.price,
        ny(date(2019, 2, 12), 10, 15),
        "alpaca:1min",
    )
    path, params = standin.requests[-1]
    assert (path, params["timeframe"], params["adjustment"]) == ("/v2/stocks/bars", "1Min", "raw")


def test_at_the_open_the_price_is_the_first_bar_open(
    alpaca: AlpacaPriceSource, replay: ReplayPriceSource
) -> None:
    at = ny(date(2019, 2, 12), 9, 30, 20)

    assert alpaca.quote("AAPL", at).price == replay.quote("AAPL", ny(date(2019, 2, 12), 9, 30)).price


@pytest.mark.parametrize(
    ("at", "session"),
    [
        (ny(date(2019, 2, 12), 17), date(2019, 2, 12)),  # post-market
        (ny(date(2019, 2, 13), 8), date(2019, 2, 12)),  # pre-market
        (ny(date(2019, 2, 9), 12), date(2019, 2, 8)),  # Saturday
    ],
)
def test_outside_the_session_the_price_is_the_last_daily_close(
    alpaca: AlpacaPriceSource, replay: ReplayPriceSource, at: datetime, session: date
) -> None:
    quote = alpaca.quote("SPY", at)

    expected = replay.quote("SPY", at)
    assert (quote.price, quote.at, quote.source) == (expected.price, expected.at, "alpaca:daily-close")
    assert quote.at.astimezone(NY).date() == session


def test_prices_are_as_traded_like_the_replay(
    alpaca: AlpacaPriceSource, replay: ReplayPriceSource, clock: ManualClock
) -> None:
    clock.set(datetime(2024, 6, 10, tzinfo=UTC))
    at = ny(date(2024, 6, 7), 18)  # NVDA's last close before its 10:1 split

    assert alpaca.quote("NVDA", at).price == replay.quote("NVDA", at).price


def test_unknown_tickers_and_future_times_have_no_price(
    alpaca: AlpacaPriceSource, clock: ManualClock
) -> None:
    with pytest.raises(NoPriceError, match=r"no price for COIN.*unknown ticker"):
        alpaca.quote("COIN", clock.now())
    with pytest.raises(NoPriceError, match="in the future"):
        alpaca.quote("AAPL", ny(date(2019, 2, 14), 10))


def test_a_ticker_alpaca_does_not_know_has_no_price(
    standin: StandInState, calendar: MarketCalendar, clock: ManualClock
) -> None:
    source = AlpacaPriceSource.from_environment(
        calendar, ["ZZZZ"], clock=clock, url_override=standin.url, environ=CREDENTIALS
    )

    with pytest.raises(NoPriceError, match=r"ZZZZ.*no latest trade"):
        source.quote("ZZZZ", clock.now())
    with pytest.raises(NoPriceError, match=r"ZZZZ.*no daily bar"):
        source.quote("ZZZZ", ny(date(2019, 2, 12), 17))


def test_wrong_credentials_are_refused_as_a_clear_error(
    standin: StandInState, calendar: MarketCalendar, clock: ManualClock
) -> None:
    source = AlpacaPriceSource.from_environment(
        calendar,
        TICKERS,
        clock=clock,
        url_override=standin.url,
        environ={"APCA_API_KEY_ID": KEY_ID, "APCA_API_SECRET_KEY": "wrong"},
    )

    with pytest.raises(NoPriceError, match=r"Alpaca refused the request.*not authorized"):
        source.quote("AAPL", clock.now())


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, "APCA_API_KEY_ID and APCA_API_SECRET_KEY"),
        ({"APCA_API_KEY_ID": KEY_ID}, "set APCA_API_SECRET_KEY"),
        ({"APCA_API_KEY_ID": "", "APCA_API_SECRET_KEY": SECRET_KEY}, "set APCA_API_KEY_ID"),
    ],
)
def test_missing_credentials_name_the_variables(
    calendar: MarketCalendar, environ: dict[str, str], missing: str
) -> None:
    with pytest.raises(MissingCredentialsError, match=missing):
        AlpacaPriceSource.from_environment(calendar, TICKERS, environ=environ)
