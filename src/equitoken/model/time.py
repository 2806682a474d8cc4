"""Instants: aware UTC datetimes, and the `Clock` every layer reads the current one from."""

from datetime import UTC, datetime
from typing import Protocol

from equitoken.model.errors import EquitokenError


class NaiveDatetimeError(EquitokenError, ValueError):
    """A datetime without a timezone, whose instant is ambiguous."""

    code = "naive_datetime"


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
