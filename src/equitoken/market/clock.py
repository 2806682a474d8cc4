"""Clocks: the current time as a timezone-aware UTC datetime, real or driven by hand."""

from datetime import UTC, datetime, timedelta
from typing import Protocol


class NaiveDatetimeError(ValueError):
    """A datetime without a timezone, whose instant is ambiguous."""


def require_aware(t: datetime, what: str = "time") -> datetime:
    """Return `t` converted to UTC; raise NaiveDatetimeError if it has no timezone."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{what} {t.isoformat()} has no timezone; pass an aware datetime such as "
            f"datetime(..., tzinfo=UTC)"
        )
    return t.astimezone(UTC)


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware in UTC."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to, and never backwards (tests and replays)."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "clock start")

    def now(self) -> datetime:
        """Return the time last set."""
        return self._now

    def set(self, t: datetime) -> None:
        """Move the clock to `t`; raise ValueError if `t` is earlier than now."""
        t = require_aware(t, "clock time")
        if t < self._now:
            raise ValueError(f"clock cannot go back from {self._now.isoformat()} to {t.isoformat()}")
        self._now = t

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` and return the new time; raise ValueError if negative."""
        if delta < timedelta(0):
            raise ValueError(f"clock cannot advance by a negative duration {delta}")
        self._now += delta
        return self._now
