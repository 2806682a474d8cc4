"""Prices replayed from real historical bars shipped with the package, as traded on the day.

Data (see `data/README.md` for sources and licences):
- daily OHLCV for 15 US stocks and ETFs, 2019-01-02 to 2026-05-29, split-adjusted by its source to
  the retrieval date; converted back to as-traded prices with the split catalogue;
- 1-minute bars for AAPL, AMZN, MSFT, QQQ, SPY and TSLA, 2019-02-11 to 2019-02-15, as traded.

Price at an instant `t` (the last trade at or before `t`):
- during a regular session with 1-minute bars: the close of the last bar that ended by `t` (a bar is
  labelled by its end minute), or the first bar's open before the first bar ends;
- during a regular session with only a daily bar: a deterministic path through the bar, open at the
  open, then the low and the high (up day, close >= open) or the high and the low (down day) at one
  third and two thirds of the session, close at the close, linear in between;
- outside the regular session (pre-market, post-market, nights, weekends, holidays): the official
  close of the last session.
Data end: the last close stays valid through the next session (as a stale price); from the open of
the session after that, and before the first session's open, there is no price.
"""

import bisect
import csv
import functools
import gzip
import io
import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources

from equitoken.market.calendar import MarketCalendar, Session
from equitoken.market.clock import require_aware
from equitoken.market.prices import NoPriceError, Quote
from equitoken.model.quantities import PRICE_DECIMALS, Price

DAILY_FILE = "daily_ohlcv.csv.gz"
SPLITS_FILE = "splits.csv.gz"
MINUTE_FILE = "intraday_1min_2019-02-11_to_2019-02-15.csv.gz"

# Where the path through a daily bar reaches its first and second extreme, as fractions of the session.
_FIRST_EXTREME = (1, 3)
_SECOND_EXTREME = (2, 3)


@dataclass(frozen=True, slots=True)
class Bar:
    """One session's open, high, low and close as traded, and the shares traded."""

    open: Price
    high: Price
    low: Price
    close: Price
    volume: int


@dataclass(frozen=True, slots=True)
class _Split:
    first_day: date  # first trading day on the post-split basis (the price ex-date)
    new: int
    old: int


@dataclass(frozen=True, slots=True)
class _Minutes:
    ends: list[datetime]
    closes: list[Price]
    first_open: Price


@dataclass(frozen=True, slots=True)
class _Dataset:
    days: dict[str, list[date]]
    bars: dict[str, list[Bar]]
    minutes: dict[tuple[str, date], _Minutes]


def _rows(name: str) -> Iterator[dict[str, str]]:
    raw = resources.files("equitoken.market").joinpath("data", name).read_bytes()
    with io.TextIOWrapper(io.BytesIO(gzip.decompress(raw)), encoding="utf-8", newline="") as text:
        yield from csv.DictReader(text)


def _divide_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _price(text: str, new: int = 1, old: int = 1) -> Price:
    # Exact: the CSV's decimal string as a fraction, times the split factor, rounded once to 1e-8.
    numerator, denominator = Decimal(text).as_integer_ratio()
    return Price(_divide_half_even(numerator * new * 10**PRICE_DECIMALS, denominator * old))


def _splits() -> dict[str, list[_Split]]:
    splits: dict[str, list[_Split]] = defaultdict(list)
    for row in _rows(SPLITS_FILE):
        began = row["split_adjusted_trading_began_parsed"]
        if began:
            splits[row["symbol"]].append(
                _Split(date.fromisoformat(began), int(row["ratio_new"]), int(row["ratio_old"]))
            )
        else:
            # Without the ex-date the adjustment boundary is unknown; no ticker of ours is affected
            # (checked at load: every daily ticker with a split needs its ex-date).
            splits["?" + row["symbol"]].append(_Split(date.fromisoformat(row["date"]), 0, 0))
    return splits


@functools.cache
def _load() -> _Dataset:
    splits = _splits()
    days: dict[str, list[date]] = defaultdict(list)
    bars: dict[str, list[Bar]] = defaultdict(list)
    for row in _rows(DAILY_FILE):
        ticker = row["ticker"]
        if "?" + ticker in splits:
            raise ValueError(f"split of {ticker} without an ex-date in {SPLITS_FILE}")
        day = date.fromisoformat(row["date"])
        # Undo the source's split adjustment: multiply by every split that took effect after `day`.
        new = old = 1
        for split in splits.get(ticker, ()):
            if split.first_day > day:
                new *= split.new
                old *= split.old
        volume_num, volume_den = Decimal(row["volume"]).as_integer_ratio()
        days[ticker].append(day)
        bars[ticker].append(
            Bar(
                open=_price(row["open"], new, old),
                high=_price(row["high"], new, old),
                low=_price(row["low"], new, old),
                close=_price(row["close"], new, old),
                volume=_divide_half_even(volume_num * old, volume_den * new),
            )
        )
    for ticker, ticker_days in days.items():
        if ticker_days != sorted(ticker_days):
            raise ValueError(f"daily bars of {ticker} in {DAILY_FILE} are not in date order")
    minutes: dict[tuple[str, date], _Minutes] = {}
    grouped: dict[tuple[str, date], list[tuple[datetime, str, str]]] = defaultdict(list)
    for row in _rows(MINUTE_FILE):
        end = datetime.fromisoformat(row["timestamp_bar_end"])
        grouped[row["ticker"], end.date()].append((end.astimezone(UTC), row["open"], row["close"]))
    for key, minute_rows in grouped.items():
        # The 1-minute file is as traded already: no split conversion.
        minute_rows.sort()
        minutes[key] = _Minutes(
            ends=[end for end, _, _ in minute_rows],
            closes=[_price(close) for _, _, close in minute_rows],
            first_open=_price(minute_rows[0][1]),
        )
    return _Dataset(days=dict(days), bars=dict(bars), minutes=minutes)


def daily_bar(ticker: str, day: date) -> Bar | None:
    """Return the packaged daily bar of `ticker` on `day` as traded, or None if there is none."""
    data = _load()
    days = data.days.get(ticker)
    if days is None:
        return None
    i = bisect.bisect_left(days, day)
    return data.bars[ticker][i] if i < len(days) and days[i] == day else None


def _interpolate(t: datetime, t0: datetime, p0: Price, t1: datetime, p1: Price) -> Price:
    elapsed = (t - t0) // _MICROSECOND
    span = (t1 - t0) // _MICROSECOND
    return Price(p0.units + _divide_half_even((p1.units - p0.units) * elapsed, span))


_MICROSECOND = datetime.resolution


class ReplayPriceSource:
    """A PriceSource replaying the packaged real bars, as traded, on a market calendar."""

    SOURCE = "replay"

    def __init__(self, calendar: MarketCalendar) -> None:
        self._calendar = calendar
        self._data = _load()
        self._tickers = frozenset(self._data.days)
        # Per ticker: the calendar session of each bar and their regular opens (for bisect).
        self._sessions: dict[str, tuple[list[Session], list[datetime]]] = {}

    @classmethod
    def default(cls, calendar: MarketCalendar | None = None) -> "ReplayPriceSource":
        """Return a source over the packaged data, on `calendar` (NYSE by default)."""
        return cls(calendar if calendar is not None else MarketCalendar("XNYS"))

    def tickers(self) -> frozenset[str]:
        """Return the tickers with packaged data."""
        return self._tickers

    def daily_bar(self, ticker: str, day: date) -> Bar | None:
        """Return the daily bar of `ticker` on `day` as traded, or None if there is none."""
        return daily_bar(ticker, day)

    def quote(self, ticker: str, at: datetime) -> Quote:
        """Return the last trade price of `ticker` at or before `at` (see the module notes)."""
        at = require_aware(at)
        if ticker not in self._tickers:
            raise NoPriceError(ticker, at, f"unknown ticker; known: {', '.join(sorted(self._tickers))}")
        sessions, opens = self._timeline(ticker)
        i = bisect.bisect_right(opens, at) - 1
        if i < 0:
            raise NoPriceError(
                ticker, at, f"before the data starts (first session {sessions[0].date}, opens {opens[0]})"
            )
        session = sessions[i]
        bar = self._data.bars[ticker][i]
        if i == len(sessions) - 1:
            self._check_not_stale(ticker, at, session)
        if at >= session.close:
            return Quote(ticker, bar.close, session.close, f"{self.SOURCE}:daily-close")
        minutes = self._data.minutes.get((ticker, session.date))
        if minutes is not None:
            j = bisect.bisect_right(minutes.ends, at) - 1
            if j < 0:
                return Quote(ticker, minutes.first_open, session.open, f"{self.SOURCE}:1min")
            return Quote(ticker, minutes.closes[j], minutes.ends[j], f"{self.SOURCE}:1min")
        return Quote(ticker, self._on_path(bar, session, at), at, f"{self.SOURCE}:daily-path")

    def _check_not_stale(self, ticker: str, at: datetime, last: Session) -> None:
        following = self._calendar.next_session(last.close)
        limit = self._calendar.next_session(following.close).open
        if at >= limit:
            raise NoPriceError(
                ticker, at, f"after the data ends (last session {last.date}, stale from {limit.isoformat()})"
            )

    def _timeline(self, ticker: str) -> tuple[list[Session], list[datetime]]:
        cached = self._sessions.get(ticker)
        if cached is None:
            sessions = [self._session(ticker, day) for day in self._data.days[ticker]]
            cached = self._sessions[ticker] = (sessions, [s.open for s in sessions])
        return cached

    def _session(self, ticker: str, day: date) -> Session:
        session = self._calendar.session_on(day)
        if session is None:
            raise ValueError(f"{ticker} has a bar on {day}, which is no {self._calendar.exchange} session")
        return session

    @staticmethod
    def _on_path(bar: Bar, session: Session, at: datetime) -> Price:
        length = session.close - session.open
        first_at = session.open + length * _FIRST_EXTREME[0] / _FIRST_EXTREME[1]
        second_at = session.open + length * _SECOND_EXTREME[0] / _SECOND_EXTREME[1]
        first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
        points: Sequence[tuple[datetime, Price]] = (
            (session.open, bar.open),
            (first_at, first),
            (second_at, second),
            (session.close, bar.close),
        )
        for (t0, p0), (t1, p1) in itertools.pairwise(points):
            if at < t1:
                return _interpolate(at, t0, p0, t1, p1)
        return bar.close
