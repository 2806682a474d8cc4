"""Run a simulated week: build the world, step the clock, let the agents and the keepers act, report.

Each step, in this order: the clock and the chain move to the step's time and the oracle pushes a
round per feed (`World.step_to`: the reporter observes the replayed price and the market's status,
halts included); the exchange reads the feeds' statuses; every agent, in index order, decides from
its own generator whether and how to act; then the keepers tick as the platform runs them (the
arbitrage keeper, the market maker, the perpetuals keeper, the liquidation keeper); the issuer
processes its requests (the authorised participants' mints and redemptions move through the
workflow, filled by the paper broker in session) and attests again each reserve older than half its
heartbeat; the exchange syncs its journals; and the step's
prices are sampled for the report.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.simulation.agents import BOOK_KINDS, CFD_KINDS, Actions, Market, Outcomes, act, population
from equitoken.simulation.report import KeeperCounts, Samples, build_report, venue_state
from equitoken.simulation.week import TICKERS, SimulationParameters, resolve_week
from equitoken.simulation.world import HALT, World, build_world

PERPS_KEEPER_EVERY = 8
"""The perpetuals and liquidation keepers tick at every change of a market's status (the open, the
close, a halt and its end) and after eight steps in session without one (four hours): each tick
reads every position id the markets ever handed out, some 3 ms of py-evm apiece, and while a market
is closed they only log what waits for the reopening."""

Progress = Callable[[int, int], None]
"""Called after each step with the steps done and the steps in the week."""


class Timings:
    """Wall seconds by part of the run (kept out of the report, which depends on the seed only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.actions = 0

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Add the wall time of the block to `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def simulate(
    parameters: SimulationParameters,
    directory: Path | None = None,
    progress: Progress | None = None,
    timings: Timings | None = None,
) -> dict[str, Any]:
    """Run the week `parameters` asks for in `directory` (a temporary one if None); return its report.

    `progress` is told of every step; `timings`, if given, gets the wall time of each part.
    """
    if directory is None:
        with TemporaryDirectory(prefix="equitoken-simulation-") as temporary:
            return simulate(parameters, Path(temporary), progress, timings)
    timings = timings or Timings()
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource(calendar)
    week = resolve_week(parameters.week, prices, calendar, days=parameters.days)
    agents = population(parameters.seed, parameters.agents)
    book_agents = [a.index for a in agents if a.kind in BOOK_KINDS]
    cfd_agents = [a.index for a in agents if a.kind in CFD_KINDS]
    with timings.part("set up"):
        world = build_world(
            directory,
            week.set_up_at,
            book_agents,
            cfd_agents,
            prices,
            calendar,
            TICKERS,
            week.start + HALT[0],
        )
    try:
        outcomes = Outcomes()
        actions = Actions(world, outcomes)
        samples = Samples()
        keepers = KeeperCounts()
        before = venue_state(world)
        world.maker.tick()
        previous: Market | None = None
        for done, at in enumerate(week.steps, start=1):
            with timings.part("oracle"):
                world.step_to(at)
                market = Market.read(world)
            with timings.part("agents"):
                for agent in agents:
                    act(agent, market, actions)
            _keepers(world, keepers, timings, market, previous)
            previous = market
            with timings.part("issuer"):
                keepers.issuer_steps += world.issuer.process()
                # As `up` does: a reserve feed must not outlive its heartbeat between two fills.
                world.issuer.refresh_reserves()
                world.exchange.sync()
            with timings.part("samples"):
                samples.take(world, at)
            if progress is not None:
                progress(done, len(week.steps))
        timings.actions = sum(outcomes.done.values()) + sum(outcomes.refused.values())
        requests = Counter(f"{r.kind.value}:{r.state.value}" for r in world.issuer.requests())
        venues = (before, venue_state(world))
        return build_report(parameters, week, agents, outcomes, samples, keepers, requests, venues)
    finally:
        world.close()


def _keepers(
    world: World, counts: KeeperCounts, timings: Timings, market: Market, previous: Market | None
) -> None:
    with timings.part("arbitrage keeper"):
        counts.arbitrage_trades += len(world.arbitrage.tick())
    with timings.part("market maker"):
        counts.maker_commands += world.maker.tick().commands
    changed = previous is None or previous.statuses != market.statuses
    counts.waited += 1 if market.open else 0
    if not changed and counts.waited < PERPS_KEEPER_EVERY:
        return
    counts.waited = 0
    with timings.part("perps keeper"):
        perps = world.perps_keeper.tick()
    counts.perp_orders_executed += sum(1 for e in perps.executions if e.filled)
    counts.perp_orders_cancelled += sum(1 for e in perps.executions if not e.filled)
    counts.perp_triggers += len(perps.triggers)
    counts.perp_liquidations += len(perps.liquidations)
    with timings.part("liquidation keeper"):
        lending = world.liquidation.tick()
    counts.lending_liquidations += len(lending.liquidations)
    counts.collateral_sales += len(lending.sales)
