"""The simulated week: its parameters, checked, and the times the scheduler steps through.

A week starts on a Monday at 00:00 New York and ends seven days later, so it holds the sessions,
the nights and the weekend. The scheduler steps every `STEP` while the market is open (and in the
step before it opens) and every `CLOSED_STEP` outside it, never stepping over an open; the world is
set up in the last hour of the session before the week, so the issuer's broker can fill the first
inventory's mints.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from equitoken.market.calendar import MarketCalendar, Session
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.errors import EquitokenError

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_WEEK = date(2019, 2, 11)  # the week the repo's 1-minute bars cover
DEFAULT_SEED = 20190211
DEFAULT_AGENTS = 100
MAX_AGENTS = 10_000
TICKERS = ("AAPL", "TSLA")  # 1-minute bars that week, and a market on every venue
STEP = timedelta(minutes=30)
CLOSED_STEP = timedelta(hours=3)  # past the feed's one-hour heartbeat: every step brings a round
SET_UP_BEFORE_CLOSE = timedelta(hours=1)


class SimulationError(EquitokenError, ValueError):
    """The simulation cannot run with the arguments given; nothing was built."""

    code = "simulation_invalid"


@dataclass(frozen=True)
class SimulationParameters:
    """What a run is asked for: the seed, the population and the week's Monday."""

    seed: int = DEFAULT_SEED
    agents: int = DEFAULT_AGENTS
    week: date = DEFAULT_WEEK
    days: int = 7  # how much of the week to run, from its Monday: a day's run for a quick look

    def __post_init__(self) -> None:
        if type(self.seed) is not int or self.seed < 0:
            raise SimulationError(f"the seed must be a non-negative integer, not {self.seed!r}")
        if type(self.agents) is not int or not 1 <= self.agents <= MAX_AGENTS:
            raise SimulationError(f"agents must be an integer from 1 to {MAX_AGENTS:,}, not {self.agents!r}")
        if not isinstance(self.week, date) or isinstance(self.week, datetime):
            raise SimulationError(f"the week is a date (its Monday), not {self.week!r}")
        if type(self.days) is not int or not 1 <= self.days <= 7:
            raise SimulationError(f"days must be an integer from 1 to 7, not {self.days!r}")
        if self.week.weekday() != 0:
            raise SimulationError(f"the week starts on a Monday: {self.week.isoformat()} is a {self.week:%A}")

    def to_json(self) -> dict[str, object]:
        """Return the parameters as JSON-ready values."""
        return {"seed": self.seed, "agents": self.agents, "week": self.week.isoformat(), "days": self.days}


def parse_week(text: str) -> date:
    """Return the Monday `text` names (YYYY-MM-DD), or raise `SimulationError` saying what is wrong."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SimulationError(f"the week is a date as YYYY-MM-DD (its Monday), not {text!r}") from None


@dataclass(frozen=True)
class Week:
    """The resolved week: its bounds, its sessions, when the world is set up, and every step."""

    start: datetime
    end: datetime
    sessions: tuple[Session, ...]
    set_up_at: datetime
    steps: tuple[datetime, ...]
    minute_bars: bool  # every session of the week has the repo's 1-minute bars for every ticker


def resolve_week(
    monday: date,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tickers: tuple[str, ...] = TICKERS,
    days: int = 7,
) -> Week:
    """Return the first `days` of the week starting on `monday`, or raise `SimulationError` when the data
    does not cover them."""
    start = datetime.combine(monday, time(0, 0), NEW_YORK)
    end = start + timedelta(days=days)
    try:
        sessions = tuple(calendar.sessions_between(monday, monday + timedelta(days=days - 1)))
        before = calendar.previous_session(start)
    except (ValueError, LookupError) as error:
        raise SimulationError(f"the calendar has no sessions for the week of {monday}: {error}") from None
    if not sessions or before is None:
        raise SimulationError(f"the market has no session in the week of {monday} (or before it)")
    for ticker in tickers:
        missing = [
            s.date.isoformat() for s in (before, *sessions) if prices.daily_bar(ticker, s.date) is None
        ]
        if missing:
            raise SimulationError(
                f"the repo's market data has no {ticker} bars for {', '.join(missing)}: pick a week "
                f"it covers (the default, {DEFAULT_WEEK}, has 1-minute bars)"
            )
    minute_bars = all(
        prices.quote(t, s.open + timedelta(hours=1)).source.endswith(":1min")
        for t in tickers
        for s in sessions
    )
    set_up_at = before.close.astimezone(NEW_YORK) - SET_UP_BEFORE_CLOSE
    return Week(start, end, sessions, set_up_at, tuple(_steps(start, end, calendar)), minute_bars)


def _steps(start: datetime, end: datetime, calendar: MarketCalendar) -> list[datetime]:
    at, steps = start, []
    while at < end:
        steps.append(at)
        if calendar.is_open(at) or calendar.is_open(at + STEP):
            at += STEP
        else:
            following = at + CLOSED_STEP
            opens = calendar.next_open(at)
            at = min(following, opens) if opens > at else following
    return steps
