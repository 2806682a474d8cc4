"""Trading sessions of US equity exchanges, from the `exchange_calendars` package.

Times of a session, all US/Eastern (the session's dates are New York dates):

| phase         | full day      | half day (e.g. day after Thanksgiving, Christmas Eve, July 3) |
|---------------|---------------|----------------------------------------------------------------|
| `PRE_MARKET`  | 04:00 - 09:30 | 04:00 - 09:30                                                  |
| `REGULAR`     | 09:30 - 16:00 | 09:30 - 13:00                                                  |
| `POST_MARKET` | 16:00 - 20:00 | 13:00 - 17:00                                                  |
| `CLOSED`      | otherwise, and all day on weekends and holidays                                |

Each interval includes its start and excludes its end. The regular open and close come from
`exchange_calendars` (so they follow its holiday and early-close rules); the extended-hours bounds are
the ones US brokers publish (Alpaca, and the exchanges' own extended sessions).

NYSE (XNYS) and Nasdaq (XNAS) observe the same holidays and early closes; NYSE Arca (ARCX, where most
ETFs list) and Cboe BZX (BATS) follow the NYSE schedule.

All sessions of the calendar's range are built once per exchange (pandas is slow per call); queries
are a dictionary lookup or a binary search.
"""

import bisect
import functools
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import exchange_calendars

from equitoken.model.errors import EquitokenError
from equitoken.model.time import require_aware

NEW_YORK = ZoneInfo("America/New_York")

PRE_MARKET_OPEN = time(4, 0)
REGULAR_CLOSE = time(16, 0)
POST_MARKET_CLOSE = time(20, 0)
# On a half day the extended session still lasts four hours after the (13:00) close.
POST_MARKET_LENGTH = timedelta(hours=4)

# Our MIC -> the exchange_calendars calendar whose schedule it keeps.
_SCHEDULES = {"XNYS": "XNYS", "XNAS": "XNAS", "ARCX": "XNYS", "BATS": "XNYS"}
# exchange_calendars only knows ~20 years back and a year ahead by default; our data starts in 2019.
_FIRST_DAY = date(2015, 1, 1)


class SessionPhase(StrEnum):
    """Which part of the trading day a moment falls in."""

    PRE_MARKET = "pre_market"
    REGULAR = "regular"
    POST_MARKET = "post_market"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day: its New York date and the bounds of its phases (aware UTC datetimes)."""

    date: date
    pre_open: datetime
    open: datetime
    close: datetime
    post_close: datetime
    early_close: bool


class UnknownExchangeError(EquitokenError, ValueError):
    """An exchange MIC the calendar does not support."""


class OutsideCalendarError(EquitokenError, ValueError):
    """A date or time outside the range of sessions the calendar knows."""


class MarketCalendar:
    """Sessions and phases of one US exchange (a MIC: XNYS, XNAS, ARCX or BATS)."""

    def __init__(self, exchange: str = "XNYS") -> None:
        if exchange not in _SCHEDULES:
            raise UnknownExchangeError(
                f"unknown exchange {exchange!r}; supported MICs: {', '.join(sorted(_SCHEDULES))}"
            )
        self.exchange = exchange
        self._sessions, self._by_date = _build(_SCHEDULES[exchange])
        self._dates = [s.date for s in self._sessions]
        self._opens = [s.open for s in self._sessions]
        self._closes = [s.close for s in self._sessions]
        self.first_day = self._dates[0]
        self.last_day = self._dates[-1]

    def session_on(self, day: date) -> Session | None:
        """Return the session held on New York date `day`, or None on weekends and holidays."""
        self._check_day(day)
        return self._by_date.get(day)

    def phase_at(self, t: datetime) -> SessionPhase:
        """Return the phase of the trading day at instant `t`."""
        t = require_aware(t)
        day = t.astimezone(NEW_YORK).date()
        self._check_day(day)
        session = self._by_date.get(day)
        if session is None or t < session.pre_open or t >= session.post_close:
            return SessionPhase.CLOSED
        if t < session.open:
            return SessionPhase.PRE_MARKET
        if t < session.close:
            return SessionPhase.REGULAR
        return SessionPhase.POST_MARKET

    def is_open(self, t: datetime) -> bool:
        """Return whether the regular session is open at `t`."""
        return self.phase_at(t) is SessionPhase.REGULAR

    def next_open(self, t: datetime) -> datetime:
        """Return `t` if the regular session is open then, else the next regular open after `t`."""
        t = require_aware(t)
        if self.is_open(t):
            return t
        return self._sessions[self._next_index(t)].open

    def next_session(self, t: datetime) -> Session:
        """Return the session whose regular open is `next_open(t)` (the current one while it is open)."""
        t = require_aware(t)
        if self.is_open(t):
            return self._by_date[t.astimezone(NEW_YORK).date()]
        return self._sessions[self._next_index(t)]

    def previous_session(self, t: datetime) -> Session | None:
        """Return the last session whose regular close is at or before `t`, or None before the range."""
        t = require_aware(t)
        i = bisect.bisect_right(self._closes, t) - 1
        return self._sessions[i] if i >= 0 else None

    def sessions_between(self, start: date, end: date) -> list[Session]:
        """Return the sessions from `start` to `end`, both included, in order."""
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self._check_day(start)
        self._check_day(end)
        lo = bisect.bisect_left(self._dates, start)
        hi = bisect.bisect_right(self._dates, end)
        return self._sessions[lo:hi]

    def _next_index(self, t: datetime) -> int:
        i = bisect.bisect_right(self._opens, t)
        if i == len(self._sessions):
            raise OutsideCalendarError(
                f"no {self.exchange} session known after {t.isoformat()} (calendar ends {self.last_day})"
            )
        return i

    def _check_day(self, day: date) -> None:
        if not self.first_day <= day <= self.last_day:
            raise OutsideCalendarError(
                f"{day} is outside the {self.exchange} calendar ({self.first_day} to {self.last_day})"
            )


def _at(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, NEW_YORK).astimezone(UTC)


@functools.cache
def _build(name: str) -> tuple[list[Session], dict[date, Session]]:
    with warnings.catch_warnings():
        # exchange_calendars 4.13 uses a pandas API that pandas 3.1 deprecates; nothing for us to change.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = exchange_calendars.get_calendar(name, start=_FIRST_DAY.isoformat())
    schedule = calendar.schedule
    sessions: list[Session] = []
    for label, open_, close in zip(schedule.index, schedule["open"], schedule["close"], strict=True):
        day = label.date()
        # pandas hands out zoneinfo's UTC; use datetime.UTC like every other time in the package.
        open_utc = open_.to_pydatetime().astimezone(UTC)
        close_utc = close.to_pydatetime().astimezone(UTC)
        early = close_utc.astimezone(NEW_YORK).time() < REGULAR_CLOSE
        sessions.append(
            Session(
                date=day,
                pre_open=_at(day, PRE_MARKET_OPEN),
                open=open_utc,
                close=close_utc,
                post_close=close_utc + POST_MARKET_LENGTH if early else _at(day, POST_MARKET_CLOSE),
                early_close=early,
            )
        )
    return sessions, {s.date: s for s in sessions}
