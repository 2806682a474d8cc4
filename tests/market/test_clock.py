"""Clocks hand out aware UTC times, and a manual clock only moves forward."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from equitoken.market.clock import ManualClock, SystemClock
from equitoken.model.time import Clock, NaiveDatetimeError

START = datetime(2025, 11, 28, 14, 30, tzinfo=UTC)


def test_system_clock_is_aware_utc_and_current() -> None:
    clock: Clock = SystemClock()

    now = clock.now()

    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_manual_clock_starts_where_told_and_converts_to_utc() -> None:
    new_york_winter = timezone(timedelta(hours=-5))

    clock = ManualClock(datetime(2025, 11, 28, 9, 30, tzinfo=new_york_winter))

    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_manual_clock_advances_and_sets_forward() -> None:
    clock = ManualClock(START)

    assert clock.advance(timedelta(minutes=5)) == START + timedelta(minutes=5)
    clock.set(START + timedelta(hours=1))
    clock.set(START + timedelta(hours=1))  # standing still is allowed

    assert clock.now() == START + timedelta(hours=1)


def test_manual_clock_never_goes_back() -> None:
    clock = ManualClock(START)

    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(START - timedelta(microseconds=1))
    with pytest.raises(ValueError, match="negative"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START


def test_naive_datetimes_are_rejected_with_a_hint() -> None:
    naive = datetime(2025, 11, 28, 14, 30)

    with pytest.raises(NaiveDatetimeError, match="has no timezone"):
        ManualClock(naive)
    with pytest.raises(NaiveDatetimeError, match="tzinfo=UTC"):
        ManualClock(START).set(naive)
