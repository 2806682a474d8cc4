"""Run every probe over the period in one world and collect what each venue did.

Time moves only through `World.advance`, over every hour of the period plus the moments the figures
need: each session's open (a minute before and five after), the round trips' moment, the orders'
moments. After each step every probe acts (`tick`); on the hour every probe's price is sampled.
A probe that fails is reported with the step and the error, never with figures it did not produce.
"""

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from equitoken.comparison.period import Period, PeriodError, build_period
from equitoken.comparison.probes import default_probes
from equitoken.comparison.probes.base import Delivery, Holding, Probe, RoundTrip, refusal
from equitoken.comparison.world import World, open_world
from equitoken.issuer.catalogue import load_catalogue
from equitoken.market.calendar import NEW_YORK, MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.instrument import ComplianceProfile
from equitoken.model.quantities import Price

DEFAULT_TICKERS = ("NFLX", "MSFT")
SIZES = (1_000, 100_000)
ORDER_USD = 1_000
DEFAULT_GAS_PRICE_WEI = 1_000_000_000  # 1 gwei
DEFAULT_ETH_PRICE = Price.parse("3000")
ROUND_TRIP_AT = time(11, 0)  # New York, on the period's second session
WEEKDAY_ORDER_AT = time(11, 0)
WEEKEND_ORDER_AT = time(12, 0)  # New York, on the period's first Saturday
ORACLE_STEP = timedelta(minutes=10)
ERRORS = (Exception,)

Progress = Callable[[str, int, int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Parameters:
    """What a comparison runs over and how its gas is priced."""

    start: date
    end: date
    tickers: tuple[str, ...] = DEFAULT_TICKERS
    gas_price_wei: int = DEFAULT_GAS_PRICE_WEI
    eth_price: Price = DEFAULT_ETH_PRICE

    def __post_init__(self) -> None:
        if not self.tickers or len(set(self.tickers)) != len(self.tickers):
            raise PeriodError(f"tickers must be given once each, not {self.tickers}")
        if self.gas_price_wei < 0:
            raise PeriodError(f"the gas price must not be negative, not {self.gas_price_wei} wei")
        if self.eth_price.units <= 0:
            raise PeriodError(f"the ETH price must be positive, not {self.eth_price}")


@dataclass
class Sample:
    at: datetime
    ticker: str
    model: Price | None
    underlying: Price


@dataclass
class ModelRun:
    """What one probe produced (or why it produced nothing)."""

    model: str
    title: str
    status: str = "run"  # run | failed
    reason: str = ""
    samples: list[Sample] = field(default_factory=list)
    round_trips: list[tuple[str, RoundTrip]] = field(default_factory=list)
    orders: list[tuple[str, str, datetime, Delivery | None]] = field(default_factory=list)
    holdings: dict[str, dict[str, Holding]] = field(default_factory=dict)
    marks: dict[str, dict[str, Price | None]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class Run:
    """The period, the parameters and every model's run."""

    parameters: Parameters
    world: World
    models: list[ModelRun]
    round_trip_at: datetime
    order_times: dict[str, datetime]
    checkpoints: dict[str, datetime]
    underlying: dict[str, dict[str, Price]] = field(default_factory=dict)
    multipliers: dict[str, dict[str, int]] = field(default_factory=dict)


def _ny(day: date, at: time) -> datetime:
    return datetime.combine(day, at, NEW_YORK).astimezone(UTC)


def run_comparison(
    parameters: Parameters,
    *,
    probes: Sequence[Probe] | None = None,
    directory: Path | None = None,
    progress: Progress | None = None,
    prices: ReplayPriceSource | None = None,
    calendar: MarketCalendar | None = None,
) -> Run:
    """Replay the period through every probe; raise `PeriodError` before anything runs if it cannot."""
    calendar = calendar or MarketCalendar("XNYS")
    prices = prices or ReplayPriceSource.default(calendar)
    catalogue = {i.ticker: i for i in load_catalogue()}
    for ticker in parameters.tickers:
        if ticker not in catalogue:
            raise PeriodError(f"{ticker} is not in the issuer's catalogue; it has no token to compare")
        if catalogue[ticker].profile is ComplianceProfile.RESTRICTED:
            raise PeriodError(f"{ticker} is a restricted token: no venue may hold it, so no model runs on it")
    period = build_period(parameters.start, parameters.end, parameters.tickers, prices, calendar)
    if len(period.sessions) < 2:
        raise PeriodError("a comparison needs at least two sessions (round trips run on the second)")
    chosen = list(probes) if probes is not None else default_probes()
    report = progress or (lambda _what, _done, _total: None)
    scratch = directory or Path(tempfile.mkdtemp(prefix="equitoken-compare-"))
    try:
        return _run(parameters, period, chosen, prices, calendar, scratch, report)
    finally:
        if directory is None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(
    parameters: Parameters,
    period: Period,
    chosen: Sequence[Probe],
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    scratch: Path,
    report: Progress,
) -> Run:
    world = open_world(period, parameters.tickers, prices, calendar, scratch)
    try:
        return _replay(parameters, period, chosen, world, calendar, report)
    finally:
        world.close()


def _replay(
    parameters: Parameters,
    period: Period,
    chosen: Sequence[Probe],
    world: World,
    calendar: MarketCalendar,
    report: Progress,
) -> Run:
    runs: list[ModelRun] = []
    live: list[tuple[Probe, ModelRun]] = []
    for index, probe in enumerate(chosen):
        run = ModelRun(probe.model, probe.title)
        runs.append(run)
        report(f"setting up {probe.title}", index, len(chosen))
        try:
            probe.setup(world)
        except ERRORS as error:
            run.status, run.reason = "failed", f"setup: {refusal(error)}"
            continue
        live.append((probe, run))

    second = period.sessions[1]
    round_trip_at = _ny(second.date, ROUND_TRIP_AT)
    saturday = next(
        (d for w in period.weekends for d in w.closed_days if d.weekday() == 5 and d >= period.start), None
    )
    order_times = {"in session": _ny(second.date, WEEKDAY_ORDER_AT) + timedelta(minutes=30)}
    if saturday is not None:
        order_times["Saturday"] = _ny(saturday, WEEKEND_ORDER_AT)
    checkpoints: dict[str, datetime] = {}
    for split in period.splits:
        opens = calendar.session_on(split.first_day)
        if opens is not None:
            checkpoints[f"split {split.ticker} before"] = max(
                opens.open - timedelta(minutes=1), period.begins
            )
            checkpoints[f"split {split.ticker} after"] = opens.open + timedelta(minutes=5)
    for dividend in period.dividends:
        opens = calendar.session_on(dividend.ex_date)
        if opens is not None:
            checkpoints[f"dividend {dividend.ticker} before"] = opens.open - timedelta(minutes=1)
            checkpoints[f"dividend {dividend.ticker} after"] = opens.open + timedelta(hours=2)
    for weekend in period.weekends:
        if weekend.monday.date > period.end or weekend.friday.date < period.start:
            continue
        label = weekend.friday.date.isoformat()
        checkpoints[f"weekend {label} friday"] = weekend.friday.close - timedelta(minutes=1)
        checkpoints[f"weekend {label} saturday"] = _ny(weekend.closed_days[0], time(12, 0))
        checkpoints[f"weekend {label} monday"] = weekend.monday.open + timedelta(minutes=5)

    hours = period.hours()
    moments = set(hours) | {round_trip_at} | set(order_times.values()) | set(checkpoints.values())
    for session in period.sessions:
        moments |= {session.open - timedelta(minutes=1), session.open + timedelta(minutes=5)}
        # In a session the oracle's reporters observe every few minutes; the feed takes what its
        # interval and deviation bounds let through.
        at = session.open
        while at < session.close:
            moments.add(at)
            at += ORACLE_STEP
    timeline = sorted(t for t in moments if period.begins <= t < period.ends)
    on_hour = set(hours)
    result = Run(parameters, world, runs, round_trip_at, order_times, checkpoints)
    pending: list[_Pending] = []
    for index, t in enumerate(timeline):
        if index % 24 == 0:
            report(f"replaying {t:%Y-%m-%d %H:%M} UTC", index, len(timeline))
        _step(world, live, t)
        if t in on_hour:
            for probe, run in live:
                for ticker in parameters.tickers:
                    mark = _guard(run, "mark", partial(probe.mark, world, ticker))
                    run.samples.append(Sample(t, ticker, mark, world.share_price(ticker)))
        for name, at in checkpoints.items():
            if at == t:
                _checkpoint(result, live, name)
        if t == round_trip_at:
            for probe, run in live:
                report(f"round trips: {probe.title}", index, len(timeline))
                for ticker in parameters.tickers:
                    for usd in SIZES:
                        trip = _guard(run, "round trip", partial(probe.round_trip, world, ticker, usd))
                        run.round_trips.append((ticker, trip or RoundTrip(usd, refused="the probe failed")))
        for label, at in order_times.items():
            if at == t:
                for probe, run in live:
                    ticker = parameters.tickers[0]
                    handle = _guard(run, "order", partial(probe.place, world, ticker, ORDER_USD))
                    pending.append(_Pending(probe, run, label, ticker, t, handle))
        pending = _poll(world, pending)
        # An order in flight during a session is followed minute by minute, so its delivery time is
        # the minute it happened, not the next hour.
        following = timeline[index + 1] if index + 1 < len(timeline) else period.ends
        while pending:
            minute = world.clock.now() + timedelta(minutes=1)
            if not (calendar.is_open(world.clock.now()) or calendar.is_open(minute)):
                break
            if minute >= following:
                break
            _step(world, live, minute)
            pending = _poll(world, pending)
    for left in pending:
        left.run.orders.append((left.label, left.ticker, left.placed, None))
    report("done", len(timeline), len(timeline))
    return result


@dataclass
class _Pending:
    probe: Probe
    run: ModelRun
    label: str
    ticker: str
    placed: datetime
    handle: object


def _step(world: World, live: list[tuple[Probe, ModelRun]], t: datetime) -> None:
    world.advance(t)
    for probe, run in live:
        _guard(run, f"tick {t:%Y-%m-%d %H:%M}", partial(probe.tick, world))


def _checkpoint(result: Run, live: list[tuple[Probe, ModelRun]], name: str) -> None:
    world = result.world
    result.underlying[name] = {k: world.share_price(k) for k in world.tickers}
    result.multipliers[name] = {k: world.multiplier(k) for k in world.tickers}
    for probe, run in live:
        for ticker in world.tickers:
            held = _guard(run, name, partial(probe.holding, world, ticker))
            run.holdings.setdefault(name, {})[ticker] = held or Holding(0, 0, "not measured")
            run.marks.setdefault(name, {})[ticker] = _guard(run, name, partial(probe.mark, world, ticker))


def _poll(world: World, pending: list[_Pending]) -> list[_Pending]:
    still: list[_Pending] = []
    for item in pending:
        handle = item.handle
        outcome: Delivery | None
        if handle is None:
            outcome = Delivery(None, "the probe failed")
        elif isinstance(handle, Delivery):
            outcome = handle
        else:
            outcome = _guard(item.run, "order", partial(item.probe.poll, world, handle))
        if outcome is None:
            still.append(item)
        else:
            item.run.orders.append((item.label, item.ticker, item.placed, outcome))
    return still


def _guard(run: ModelRun, step: str, action: Callable[[], _T]) -> _T | None:
    try:
        return action()
    except ERRORS as error:
        if len(run.errors) < 20:
            run.errors.append(f"{step}: {refusal(error)}")
        return None
