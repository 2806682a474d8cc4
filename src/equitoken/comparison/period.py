"""The replayed period a comparison covers and the events inside it, all read from the packaged data.

A period is a range of New York dates. Its events come from the market calendar (weekends, holidays,
half days) and from the packaged corporate actions (splits in `splits.csv.gz`, the first day on the
new basis; cash dividends in `dividends.csv.gz`, the ex-date). Nothing here is typed in by hand: a
period over other dates finds other events.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from equitoken.market.calendar import NEW_YORK, MarketCalendar, OutsideCalendarError, Session
from equitoken.market.dividends import cash_dividends
from equitoken.market.prices import NoPriceError
from equitoken.market.replay import ReplayPriceSource, split_events
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price

DEFAULT_START = date(2025, 11, 17)
DEFAULT_END = date(2025, 11, 28)


class PeriodError(EquitokenError, ValueError):
    """A period or an instrument the comparison cannot replay; the message names the problem."""

    code = "invalid_period"


@dataclass(frozen=True, slots=True)
class Split:
    """`new` shares for `old` from the open of `first_day` (the first session on the new basis)."""

    ticker: str
    first_day: date
    new: int
    old: int


@dataclass(frozen=True, slots=True)
class Dividend:
    """A cash dividend of `amount` dollars per share, ex on `ex_date`."""

    ticker: str
    ex_date: date
    amount: Price


@dataclass(frozen=True, slots=True)
class Weekend:
    """The last session before a run of closed days and the first after it."""

    friday: Session
    monday: Session
    closed_days: tuple[date, ...]


@dataclass(frozen=True)
class Period:
    """The replayed dates, their sessions and the corporate actions of the chosen instruments."""

    start: date
    end: date
    sessions: tuple[Session, ...]
    setup_session: Session  # the session before `start`: where every model opens its holding
    holidays: tuple[date, ...]
    half_days: tuple[date, ...]
    weekends: tuple[Weekend, ...]
    splits: tuple[Split, ...]
    dividends: tuple[Dividend, ...]

    @property
    def begins(self) -> datetime:
        """Return the first instant of the period (midnight New York on `start`)."""
        return datetime.combine(self.start, time(0), NEW_YORK).astimezone(UTC)

    @property
    def ends(self) -> datetime:
        """Return the instant after the period (midnight New York after `end`)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), NEW_YORK).astimezone(UTC)

    def hours(self) -> list[datetime]:
        """Return every whole hour of the period, weekends and holidays included."""
        first = self.begins
        count = int((self.ends - first) / timedelta(hours=1))
        return [first + timedelta(hours=i) for i in range(count)]


def build_period(
    start: date, end: date, tickers: tuple[str, ...], prices: ReplayPriceSource, calendar: MarketCalendar
) -> Period:
    """Return the period from `start` to `end` for `tickers`; raise `PeriodError` naming what is wrong."""
    if end < start:
        raise PeriodError(f"the end {end} is before the start {start}")
    unknown = sorted(set(tickers) - prices.tickers())
    if unknown:
        raise PeriodError(
            f"no replayed prices for {', '.join(unknown)}; known: {', '.join(sorted(prices.tickers()))}"
        )
    try:
        sessions = tuple(calendar.sessions_between(start, end))
        before = calendar.previous_session(datetime.combine(start, time(0), NEW_YORK).astimezone(UTC))
    except OutsideCalendarError as error:
        raise PeriodError(str(error)) from None
    if not sessions or before is None:
        raise PeriodError(f"no trading session from {start} to {end}")
    for ticker in tickers:
        for session in (before, *sessions):
            if prices.daily_bar(ticker, session.date) is None:
                raise PeriodError(
                    f"no replayed bar of {ticker} on {session.date}: the data does not cover it"
                )
        try:
            prices.quote(ticker, datetime.combine(end, time(23, 59), NEW_YORK).astimezone(UTC))
        except NoPriceError as error:
            raise PeriodError(str(error)) from None
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    session_days = {s.date for s in sessions}
    holidays = tuple(d for d in days if d.weekday() < 5 and d not in session_days)
    half_days = tuple(s.date for s in sessions if s.early_close)
    weekends = []
    for previous, following in zip((before, *sessions), sessions, strict=False):
        gap = (following.date - previous.date).days
        if gap > 1:
            closed = tuple(previous.date + timedelta(days=i) for i in range(1, gap))
            if any(d.weekday() >= 5 for d in closed):
                weekends.append(Weekend(previous, following, closed))
    splits = tuple(
        Split(ticker, first_day, new, old)
        for ticker in tickers
        for first_day, new, old in split_events(ticker)
        if start <= first_day <= end
    )
    dividends = tuple(
        Dividend(ticker, d.ex_date, d.amount)
        for ticker in tickers
        for d in cash_dividends(ticker, start, end)
    )
    return Period(start, end, sessions, before, holidays, half_days, tuple(weekends), splits, dividends)
