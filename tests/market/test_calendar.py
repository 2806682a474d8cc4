"""Real NYSE/Nasdaq sessions: holidays, half days, weekends and daylight-saving changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.market.calendar import (
    MarketCalendar,
    OutsideCalendarError,
    Session,
    SessionPhase,
    UnknownExchangeError,
)
from equitoken.model.time import NaiveDatetimeError

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def nyse() -> MarketCalendar:
    return MarketCalendar("XNYS")


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    "holiday",
    [
        date(2025, 11, 27),  # Thanksgiving
        date(2019, 2, 18),  # Presidents' Day
        date(2025, 12, 25),  # Christmas
        date(2025, 4, 18),  # Good Friday
        date(2025, 6, 19),  # Juneteenth
        date(2025, 1, 9),  # National Day of Mourning for President Carter
    ],
)
def test_holidays_have_no_session(nyse: MarketCalendar, holiday: date) -> None:
    assert nyse.session_on(holiday) is None
    assert nyse.phase_at(ny(holiday, 11)) is SessionPhase.CLOSED
    assert not nyse.is_open(ny(holiday, 11))


def test_weekends_have_no_session(nyse: MarketCalendar) -> None:
    assert nyse.session_on(date(2025, 11, 29)) is None
    assert nyse.session_on(date(2025, 11, 30)) is None
    assert nyse.phase_at(ny(date(2025, 11, 29), 12)) is SessionPhase.CLOSED


@pytest.mark.parametrize(
    ("day", "open_utc", "close_utc", "post_close_utc"),
    [
        # Day after Thanksgiving and Christmas Eve: winter time, close 13:00 ET = 18:00 UTC.
        (date(2025, 11, 28), utc(2025, 11, 28, 14, 30), utc(2025, 11, 28, 18), utc(2025, 11, 28, 22)),
        (date(2025, 12, 24), utc(2025, 12, 24, 14, 30), utc(2025, 12, 24, 18), utc(2025, 12, 24, 22)),
        # July 3rd: summer time, close 13:00 ET = 17:00 UTC.
        (date(2025, 7, 3), utc(2025, 7, 3, 13, 30), utc(2025, 7, 3, 17), utc(2025, 7, 3, 21)),
    ],
)
def test_half_days_close_at_13_and_post_market_at_17(
    nyse: MarketCalendar, day: date, open_utc: datetime, close_utc: datetime, post_close_utc: datetime
) -> None:
    session = nyse.session_on(day)

    assert session is not None
    assert session.early_close
    assert (session.open, session.close, session.post_close) == (open_utc, close_utc, post_close_utc)
    assert nyse.phase_at(ny(day, 12, 59)) is SessionPhase.REGULAR
    assert nyse.phase_at(ny(day, 13)) is SessionPhase.POST_MARKET
    assert nyse.phase_at(ny(day, 16, 59)) is SessionPhase.POST_MARKET
    assert nyse.phase_at(ny(day, 17)) is SessionPhase.CLOSED


def test_full_day_phases_and_their_boundaries(nyse: MarketCalendar) -> None:
    day = date(2025, 11, 26)

    assert nyse.phase_at(ny(day, 3, 59)) is SessionPhase.CLOSED
    assert nyse.phase_at(ny(day, 4)) is SessionPhase.PRE_MARKET
    assert nyse.phase_at(ny(day, 9, 29)) is SessionPhase.PRE_MARKET
    assert nyse.phase_at(ny(day, 9, 30)) is SessionPhase.REGULAR
    assert nyse.phase_at(ny(day, 15, 59)) is SessionPhase.REGULAR
    assert nyse.phase_at(ny(day, 16)) is SessionPhase.POST_MARKET
    assert nyse.phase_at(ny(day, 19, 59)) is SessionPhase.POST_MARKET
    assert nyse.phase_at(ny(day, 20)) is SessionPhase.CLOSED
    session = nyse.session_on(day)
    assert session == Session(
        date=day,
        pre_open=utc(2025, 11, 26, 9),
        open=utc(2025, 11, 26, 14, 30),
        close=utc(2025, 11, 26, 21),
        post_close=utc(2025, 11, 27, 1),
        early_close=False,
    )
    assert all(t.tzinfo is UTC for t in (session.pre_open, session.open, session.close, session.post_close))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (date(2025, 3, 7), date(2025, 3, 10)),  # spring forward on Sunday 2025-03-09
        (date(2025, 10, 31), date(2025, 11, 3)),  # fall back on Sunday 2025-11-02
    ],
)
def test_daylight_saving_moves_the_utc_times_but_not_new_york_times(
    nyse: MarketCalendar, before: date, after: date
) -> None:
    first = nyse.session_on(before)
    second = nyse.session_on(after)

    assert first is not None
    assert second is not None
    for session in (first, second):
        assert session.pre_open.astimezone(NY).time().isoformat() == "04:00:00"
        assert session.open.astimezone(NY).time().isoformat() == "09:30:00"
        assert session.close.astimezone(NY).time().isoformat() == "16:00:00"
        assert session.post_close.astimezone(NY).time().isoformat() == "20:00:00"
    assert abs(first.open.hour - second.open.hour) == 1


def test_spring_forward_monday_opens_at_13_30_utc(nyse: MarketCalendar) -> None:
    assert nyse.phase_at(utc(2025, 3, 10, 13, 29)) is SessionPhase.PRE_MARKET
    assert nyse.phase_at(utc(2025, 3, 10, 13, 30)) is SessionPhase.REGULAR
    assert nyse.phase_at(utc(2025, 3, 7, 13, 30)) is SessionPhase.PRE_MARKET


def test_next_open_is_now_while_open_else_the_next_regular_open(nyse: MarketCalendar) -> None:
    during = ny(date(2025, 11, 26), 10)
    premarket = ny(date(2025, 11, 26), 5)
    before_thanksgiving = ny(date(2025, 11, 26), 16)
    friday_after_close = ny(date(2019, 2, 15), 16)  # Monday 2019-02-18 is Presidents' Day

    assert nyse.next_open(during) == during
    assert nyse.next_open(premarket) == utc(2025, 11, 26, 14, 30)
    assert nyse.next_open(before_thanksgiving) == utc(2025, 11, 28, 14, 30)
    assert nyse.next_open(friday_after_close) == utc(2019, 2, 19, 14, 30)


def test_next_session_is_the_one_next_open_opens(nyse: MarketCalendar) -> None:
    during = ny(date(2025, 11, 26), 10)
    before_thanksgiving = ny(date(2025, 11, 26), 16)

    assert nyse.next_session(during).date == date(2025, 11, 26)
    assert nyse.next_session(before_thanksgiving).date == date(2025, 11, 28)
    for t in (during, before_thanksgiving, ny(date(2025, 11, 29), 12)):
        assert nyse.next_session(t).open == nyse.next_open(t) or nyse.is_open(t)


def test_previous_session_is_the_last_one_closed(nyse: MarketCalendar) -> None:
    thanksgiving = ny(date(2025, 11, 27), 12)

    previous = nyse.previous_session(thanksgiving)

    assert previous is not None
    assert previous.date == date(2025, 11, 26)


def test_sessions_between_skips_holidays_and_weekends(nyse: MarketCalendar) -> None:
    week = nyse.sessions_between(date(2025, 11, 24), date(2025, 11, 30))

    assert [s.date.day for s in week] == [24, 25, 26, 28]
    assert [s.early_close for s in week] == [False, False, False, True]
    assert len(nyse.sessions_between(date(2025, 1, 1), date(2025, 12, 31))) == 250
    assert len(nyse.sessions_between(date(2019, 1, 1), date(2019, 12, 31))) == 252
    assert nyse.sessions_between(date(2025, 11, 27), date(2025, 11, 27)) == []
    with pytest.raises(ValueError, match="before start"):
        nyse.sessions_between(date(2025, 11, 30), date(2025, 11, 24))


@pytest.mark.parametrize("mic", ["XNAS", "ARCX", "BATS"])
def test_other_us_venues_keep_the_nyse_schedule(nyse: MarketCalendar, mic: str) -> None:
    other = MarketCalendar(mic)

    assert other.sessions_between(date(2019, 1, 1), date(2026, 12, 31)) == nyse.sessions_between(
        date(2019, 1, 1), date(2026, 12, 31)
    )


def test_unknown_exchange_is_rejected_naming_the_supported_ones() -> None:
    with pytest.raises(UnknownExchangeError, match=r"XLON.*ARCX, BATS, XNAS, XNYS"):
        MarketCalendar("XLON")


def test_times_outside_the_calendar_are_rejected(nyse: MarketCalendar) -> None:
    with pytest.raises(OutsideCalendarError, match="outside the XNYS calendar"):
        nyse.session_on(date(2010, 1, 4))
    with pytest.raises(OutsideCalendarError, match="outside the XNYS calendar"):
        nyse.phase_at(utc(2099, 1, 2, 15))


def test_naive_times_are_rejected(nyse: MarketCalendar) -> None:
    with pytest.raises(NaiveDatetimeError):
        nyse.phase_at(datetime(2025, 11, 26, 15))


def test_phase_at_finds_every_phase_over_a_fortnight(nyse: MarketCalendar) -> None:
    start = utc(2025, 11, 24)
    times = [start + timedelta(minutes=7 * i) for i in range(20_000)]

    phases = [nyse.phase_at(t) for t in times]

    assert set(phases) == set(SessionPhase)


@given(moment=st.datetimes(min_value=datetime(2015, 1, 3), max_value=datetime(2027, 11, 1)))
def test_next_open_is_an_open_moment_not_before_t(nyse: MarketCalendar, moment: datetime) -> None:
    t = moment.replace(tzinfo=UTC)

    opens_at = nyse.next_open(t)

    assert opens_at >= t
    assert nyse.is_open(opens_at)
    assert nyse.next_session(t).open == opens_at or nyse.is_open(t)
    assert (nyse.phase_at(t) is SessionPhase.REGULAR) == (opens_at == t)
