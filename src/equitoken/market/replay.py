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
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources

from equitoken.market.calendar import MarketCalendar, Session
from equitoken.market.prices import NoPriceError, Quote
from equitoken.model.quantities import PRICE_DECIMALS, Price
from equitoken.model.time import require_aware

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
class _Series:
    days: list[date]
    bars: list[Bar]


_DAILY_COLUMNS = ["ticker", "date", "open", "high", "low", "close", "volume", "source"]
_MINUTE_COLUMNS = ["ticker", "timestamp_bar_end", "open", "high", "low", "close", "volume"]


def _rows(name: str, columns: list[str] | None = None) -> Iterator[list[str]]:
    raw = resources.files("equitoken.market").joinpath("data", name).read_bytes()
    with io.TextIOWrapper(io.BytesIO(gzip.decompress(raw)), encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader)
        if columns is not None and header != columns:
            raise ValueError(f"{name} has columns {header}, expected {columns}")
        yield from reader


def _divide_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _ratio(text: str) -> tuple[int, int]:
    # Exact value of a plain decimal string as a fraction; str/int is several times faster than Decimal.
    whole, _, fraction = text.partition(".")
    if not (whole + fraction).isdigit():
        return Decimal(text).as_integer_ratio()
    return int(whole + fraction), 10 ** len(fraction)


def _price(text: str, new: int = 1, old: int = 1) -> Price:
    # Exact: the CSV's decimal string times the split factor, rounded once (half-even) to 1e-8.
    numerator, denominator = _ratio(text)
    return Price(_divide_half_even(numerator * new * 10**PRICE_DECIMALS, denominator * old))


def _splits() -> dict[str, list[_Split]]:
    splits: dict[str, list[_Split]] = defaultdict(list)
    unknown_dates: set[str] = set()
    for symbol, _name, _date, began, new, old, *_ in _rows(SPLITS_FILE):
        if began:
            splits[symbol].append(_Split(date.fromisoformat(began), int(new), int(old)))
        else:
            unknown_dates.add(symbol)
    for symbol in unknown_dates:
        # Without the first post-split day the adjustment boundary is unknown (`date` means different
        # things across the catalogue); `_Dataset.series` refuses to price such a symbol.
        splits[symbol].append(_Split(date.max, 0, 0))
    return splits


class _Dataset:
    """The packaged files, read once; each ticker's bars are parsed on first use."""

    def __init__(self) -> None:
        self._splits = _splits()
        self._daily_rows: dict[str, list[list[str]]] = defaultdict(list)
        for row in _rows(DAILY_FILE, _DAILY_COLUMNS):
            self._daily_rows[row[0]].append(row)
        self._minute_rows: dict[str, list[list[str]]] = defaultdict(list)
        for row in _rows(MINUTE_FILE, _MINUTE_COLUMNS):
            self._minute_rows[row[0]].append(row)
        self.tickers = frozenset(self._daily_rows)
        self._series: dict[str, _Series] = {}
        self._minutes: dict[str, dict[date, _Minutes]] = {}
        # Reporters observe in threads: a ticker is parsed once, not once per thread asking first
        # (four parses at once held the first round of a feed past the transmitter's deadline).
        self._parsing = threading.Lock()

    def series(self, ticker: str) -> _Series:
        series = self._series.get(ticker)
        if series is None:
            with self._parsing:
                series = self._series.get(ticker)
                if series is None:
                    series = self._series[ticker] = self._parse_daily(ticker)
        return series

    def minutes(self, ticker: str, day: date) -> _Minutes | None:
        by_day = self._minutes.get(ticker)
        if by_day is None:
            with self._parsing:
                by_day = self._minutes.get(ticker)
                if by_day is None:
                    by_day = self._minutes[ticker] = self._parse_minutes(ticker)
        return by_day.get(day)

    def _parse_daily(self, ticker: str) -> _Series:
        splits = self._splits.get(ticker, [])
        if any(split.new == 0 for split in splits):
            raise ValueError(f"a split of {ticker} in {SPLITS_FILE} has no first post-split trading day")
        days: list[date] = []
        bars: list[Bar] = []
        for _, day_text, open_, high, low, close, volume, _source in self._daily_rows[ticker]:
            day = date.fromisoformat(day_text)
            # Undo the source's split adjustment: multiply by every split that took effect after `day`.
            new = old = 1
            for split in splits:
                if split.first_day > day:
                    new *= split.new
                    old *= split.old
            volume_num, volume_den = _ratio(volume)
            days.append(day)
            bars.append(
                Bar(
                    open=_price(open_, new, old),
                    high=_price(high, new, old),
                    low=_price(low, new, old),
                    close=_price(close, new, old),
                    volume=_divide_half_even(volume_num * old, volume_den * new),
                )
            )
        if days != sorted(set(days)):
            raise ValueError(f"daily bars of {ticker} in {DAILY_FILE} are not in strict date order")
        return _Series(days, bars)

    def _parse_minutes(self, ticker: str) -> dict[date, _Minutes]:
        # The 1-minute file is as traded already: no split conversion.
        grouped: dict[date, list[tuple[datetime, str, str]]] = defaultdict(list)
        for _, end_text, open_, _high, _low, close, _volume in self._minute_rows.get(ticker, []):
            end = datetime.fromisoformat(end_text)
            grouped[end.date()].append((end.astimezone(UTC), open_, close))
        minutes: dict[date, _Minutes] = {}
        for day, rows in grouped.items():
            rows.sort()
            minutes[day] = _Minutes(
                ends=[end for end, _, _ in rows],
                closes=[_price(close) for _, _, close in rows],
                first_open=_price(rows[0][1]),
            )
        return minutes


@functools.cache
def _load() -> _Dataset:
    # Module-level cache: every source in the process shares one parsed copy of the files.
    return _Dataset()


def daily_bar(ticker: str, day: date) -> Bar | None:
    """Return the packaged daily bar of `ticker` on `day` as traded, or None if there is none."""
    data = _load()
    if ticker not in data.tickers:
        return None
    series = data.series(ticker)
    i = bisect.bisect_left(series.days, day)
    return series.bars[i] if i < len(series.days) and series.days[i] == day else None


def split_events(ticker: str) -> list[tuple[date, int, int]]:
    """Return the packaged splits of `ticker` whose first post-split day is known: (that day, new, old)."""
    return [(s.first_day, s.new, s.old) for s in _load()._splits.get(ticker, []) if s.new]


_MICROSECOND = datetime.resolution


def _interpolate(t: datetime, t0: datetime, p0: Price, t1: datetime, p1: Price) -> Price:
    # Integer microseconds and units: the same instant always gives the same price, on any machine.
    elapsed = (t - t0) // _MICROSECOND
    span = (t1 - t0) // _MICROSECOND
    return Price(p0.units + _divide_half_even((p1.units - p0.units) * elapsed, span))


class ReplayPriceSource:
    """A PriceSource replaying the packaged real bars, as traded, on a market calendar."""

    SOURCE = "replay"

    def __init__(self, calendar: MarketCalendar) -> None:
        self._calendar = calendar
        self._data = _load()
        self._tickers = self._data.tickers
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
            first = sessions[0]
            reason = f"before the data starts (first session {first.date}, opens {first.open.isoformat()})"
            raise NoPriceError(ticker, at, reason)
        session = sessions[i]
        bar = self._data.series(ticker).bars[i]
        if i == len(sessions) - 1:
            self._check_not_stale(ticker, at, session)
        if at >= session.close:
            return Quote(ticker, bar.close, session.close, f"{self.SOURCE}:daily-close")
        minutes = self._data.minutes(ticker, session.date)
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
            sessions = [self._session(ticker, day) for day in self._data.series(ticker).days]
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
