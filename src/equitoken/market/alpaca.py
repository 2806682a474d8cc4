"""Prices from Alpaca's market-data API (https://docs.alpaca.markets/reference/stocklatesttrades-1).

`AlpacaPriceSource` answers the same question as the replay source, the last trade at or before a
time, with the same conventions:
- while the regular session is open and `at` is within `live_window` of the clock, Alpaca's latest
  trade (`GET /v2/stocks/trades/latest`);
- earlier moments of a regular session: the last finished 1-minute bar before `at`
  (`GET /v2/stocks/bars?timeframe=1Min`), its close stamped at the bar's end;
- outside the regular session: the last session's daily bar close (`timeframe=1Day`).
Bars are requested unadjusted (`adjustment=raw`), so prices are as traded, like the replay source.

Alpaca sends prices as JSON numbers; they are read back through their shortest decimal form, which
is the price as published (at most 4 decimals for US equities), then rounded half-even to 1e-8.
"""

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

with warnings.catch_warnings():
    # alpaca.data imports its websocket client, which imports a deprecated websockets module.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="websockets")
    from alpaca.common.exceptions import APIError
    from alpaca.data.enums import Adjustment, DataFeed
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
    from alpaca.data.timeframe import TimeFrame

from equitoken.market.calendar import NEW_YORK, MarketCalendar, Session
from equitoken.market.clock import SystemClock
from equitoken.market.prices import NoPriceError, Quote
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import PRICE_DECIMALS, Price
from equitoken.model.time import Clock, require_aware

KEY_ID_VARIABLE = "APCA_API_KEY_ID"
SECRET_KEY_VARIABLE = "APCA_API_SECRET_KEY"
_ONE_MINUTE = timedelta(minutes=1)
_PRICE_STEP = Decimal(1).scaleb(-PRICE_DECIMALS)


class MissingCredentialsError(EquitokenError, RuntimeError):
    """Alpaca credentials are not configured."""

    code = "alpaca_credentials_missing"


def _price(value: float) -> Price:
    # repr() is the shortest decimal that round-trips: the number as Alpaca wrote it in the JSON.
    return Price(int(Decimal(repr(value)).quantize(_PRICE_STEP, ROUND_HALF_EVEN).scaleb(PRICE_DECIMALS)))


class AlpacaPriceSource:
    """A PriceSource over Alpaca's historical stock data API (alpaca-py)."""

    SOURCE = "alpaca"

    def __init__(
        self,
        client: StockHistoricalDataClient,
        calendar: MarketCalendar,
        tickers: Iterable[str],
        *,
        clock: Clock | None = None,
        feed: DataFeed = DataFeed.IEX,
        live_window: timedelta = timedelta(minutes=1),
    ) -> None:
        self._client = client
        self._calendar = calendar
        self._tickers = frozenset(tickers)
        self._clock = clock if clock is not None else SystemClock()
        self._feed = feed
        self._live_window = live_window

    @classmethod
    def from_environment(
        cls,
        calendar: MarketCalendar,
        tickers: Iterable[str],
        *,
        clock: Clock | None = None,
        feed: DataFeed = DataFeed.IEX,
        url_override: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> "AlpacaPriceSource":
        """Build a source with the API keys in APCA_API_KEY_ID and APCA_API_SECRET_KEY.

        `url_override` points the client at another base URL (a proxy, or a stand-in in tests).
        Raise MissingCredentialsError if either variable is unset or empty.
        """
        missing = [name for name in (KEY_ID_VARIABLE, SECRET_KEY_VARIABLE) if not environ.get(name)]
        if missing:
            raise MissingCredentialsError(
                f"Alpaca credentials missing: set {' and '.join(missing)} "
                "(API keys from https://app.alpaca.markets, paper or live)"
            )
        client = StockHistoricalDataClient(
            api_key=environ[KEY_ID_VARIABLE],
            secret_key=environ[SECRET_KEY_VARIABLE],
            url_override=url_override,
        )
        return cls(client, calendar, tickers, clock=clock, feed=feed)

    def tickers(self) -> frozenset[str]:
        """Return the tickers this source was configured for."""
        return self._tickers

    def quote(self, ticker: str, at: datetime) -> Quote:
        """Return the last trade price of `ticker` at or before `at` (see the module notes)."""
        at = require_aware(at)
        if ticker not in self._tickers:
            raise NoPriceError(ticker, at, f"unknown ticker; known: {', '.join(sorted(self._tickers))}")
        now = self._clock.now()
        if at > now:
            raise NoPriceError(ticker, at, f"in the future (now is {now.isoformat()})")
        if self._calendar.is_open(at):
            session = self._calendar.next_session(at)
            if at >= now - self._live_window:
                latest = self._latest_trade(ticker, at)
                if latest is not None:
                    return latest
            intraday = self._minute_close(ticker, session, at)
            if intraday is not None:
                return intraday
        previous = self._calendar.previous_session(at)
        if previous is None:
            raise NoPriceError(ticker, at, "before the calendar starts")
        return self._session_close(ticker, previous, at)

    def _latest_trade(self, ticker: str, at: datetime) -> Quote | None:
        trades = self._call(
            ticker,
            at,
            lambda: self._client.get_stock_latest_trade(
                StockLatestTradeRequest(symbol_or_symbols=ticker, feed=self._feed)
            ),
        )
        trade = trades.get(ticker)
        if trade is None:
            raise NoPriceError(ticker, at, "Alpaca has no latest trade for it")
        traded_at = require_aware(trade.timestamp, "Alpaca trade time")
        # A trade stamped after `at` (at is a little in the past) is not "at or before": use the bars.
        if traded_at > at:
            return None
        return Quote(ticker, _price(trade.price), traded_at, f"{self.SOURCE}:latest-trade")

    def _minute_close(self, ticker: str, session: Session, at: datetime) -> Quote | None:
        bars = self._bars(ticker, at, TimeFrame.Minute, session.open, at)
        started = [bar for bar in bars if require_aware(bar.timestamp) <= at]
        if not started:
            return None
        last = started[-1]
        end = require_aware(last.timestamp) + _ONE_MINUTE
        if end <= at:
            return Quote(ticker, _price(last.close), end, f"{self.SOURCE}:1min")
        # The bar holding `at` has not finished: its open is the last trade known at its start, unless
        # an earlier bar finished.
        if len(started) > 1:
            before = started[-2]
            return Quote(
                ticker,
                _price(before.close),
                require_aware(before.timestamp) + _ONE_MINUTE,
                f"{self.SOURCE}:1min",
            )
        return Quote(ticker, _price(last.open), require_aware(last.timestamp), f"{self.SOURCE}:1min")

    def _session_close(self, ticker: str, session: Session, at: datetime) -> Quote:
        # Alpaca stamps a daily bar at midnight New York time of its session.
        midnight = datetime.combine(session.date, datetime.min.time(), NEW_YORK).astimezone(UTC)
        bars = self._bars(ticker, at, TimeFrame.Day, midnight, session.close)
        for bar in bars:
            if require_aware(bar.timestamp).astimezone(NEW_YORK).date() == session.date:
                return Quote(ticker, _price(bar.close), session.close, f"{self.SOURCE}:daily-close")
        raise NoPriceError(ticker, at, f"Alpaca has no daily bar for the session of {session.date}")

    def _bars(
        self, ticker: str, at: datetime, timeframe: TimeFrame, start: datetime, end: datetime
    ) -> list[Any]:
        request = StockBarsRequest(
            symbol_or_symbols=ticker,
            timeframe=timeframe,
            start=start,
            end=end,
            adjustment=Adjustment.RAW,
            feed=self._feed,
        )
        bar_set = self._call(ticker, at, lambda: self._client.get_stock_bars(request))
        bars: list[Any] = bar_set.data.get(ticker, [])
        return bars

    @staticmethod
    def _call(ticker: str, at: datetime, request: Callable[[], Any]) -> Any:
        try:
            return request()
        except APIError as error:
            # Alpaca answers 4xx for symbols it does not know ("invalid symbol") and bad ranges.
            if error.status_code is not None and 400 <= error.status_code < 500:
                raise NoPriceError(ticker, at, f"Alpaca refused the request: {error}") from error
            raise
