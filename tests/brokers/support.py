"""Helpers shared by the broker tests."""

from datetime import UTC, datetime

from equitoken.market.calendar import NEW_YORK


def new_york(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Return the UTC instant of a New York wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK).astimezone(UTC)
