"""The figures of a finished run: prices, volumes, spreads, peg deviations, liquidations and actions.

Prices are in 1e-8 dollars (the oracle's unit) and money in USDC units (6 decimals), as integers;
basis points are ratios, rounded to two decimals. Each step, after the agents and the keepers,
`Samples.take` reads every ticker's underlying price (the replayed trade price, the last close
outside the session), the oracle's answer, the AMM's price and the book's best bid and ask:

- prices: open, high, low and close of each series over the week's steps (the book's from its
  trades, when it had any);
- spreads: the book's best ask less its best bid, in bps of their mid, over the steps it had both;
- peg: how far the AMM's price and the book's mid are from the underlying, in bps of it: mean,
  95th percentile and max (the feed's own distance from the underlying is beside them);
- actions: what each agent kind sent, by action, and how many of those the venues refused, with the
  refusals' reasons;
- venues: what each venue holds per ticker before the first step and after the last, read from the
  contracts and the engines (the AMM's reserves, lending's collateral and its supplied and borrowed
  USDC, the perpetual's open interest, the book's trades, the CFDs open).

The report holds nothing that depends on the wall clock, so a seed gives the same report.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table

from equitoken.model.bps import BPS
from equitoken.simulation.agents import Agent, Outcomes
from equitoken.simulation.week import SimulationParameters, Week
from equitoken.simulation.world import World

REPORT_VERSION = 1


@dataclass
class Series:
    """One price series over the steps."""

    values: list[int] = field(default_factory=list)

    def ohlc(self) -> dict[str, int] | None:
        """Return the open, high, low and close, or None for an empty series."""
        if not self.values:
            return None
        return {
            "open": self.values[0],
            "high": max(self.values),
            "low": min(self.values),
            "close": self.values[-1],
        }


def distribution(values: Sequence[float]) -> dict[str, float | int]:
    """Return the mean, 95th percentile (nearest rank) and max of `values`, and how many there were."""
    if not values:
        return {"samples": 0, "mean_bps": 0.0, "p95_bps": 0.0, "max_bps": 0.0}
    ordered = sorted(values)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "samples": len(ordered),
        "mean_bps": round(sum(ordered) / len(ordered), 2),
        "p95_bps": round(ordered[rank - 1], 2),
        "max_bps": round(ordered[-1], 2),
    }


def deviation_bps(price: float, reference: int) -> float:
    """Return |price - reference| in basis points of `reference`."""
    return abs(price - reference) * BPS / reference


@dataclass
class TickerSamples:
    """One ticker's readings, one per step."""

    underlying: Series = field(default_factory=Series)
    oracle: Series = field(default_factory=Series)
    amm: Series = field(default_factory=Series)
    spreads: list[float] = field(default_factory=list)
    amm_peg: list[float] = field(default_factory=list)
    book_peg: list[float] = field(default_factory=list)
    oracle_peg: list[float] = field(default_factory=list)


@dataclass
class Samples:
    """Every ticker's readings, and how many steps the market was open, closed or halted."""

    tickers: dict[str, TickerSamples] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    def take(self, world: World, at: datetime) -> None:
        """Read every ticker's prices after a step."""
        for ticker in world.tickers:
            samples = self.tickers.setdefault(ticker, TickerSamples())
            underlying = world.prices.quote(ticker, at).price.units
            oracle, status = world.oracle(ticker)
            self.statuses[f"{ticker}:{status.name.lower()}"] += 1
            stock, usdc = (int(v) for v in world.pools[ticker].reserves())
            amm = usdc * world.scale(ticker) // stock
            samples.underlying.values.append(underlying)
            samples.oracle.values.append(oracle)
            samples.amm.values.append(amm)
            samples.amm_peg.append(deviation_bps(amm, underlying))
            samples.oracle_peg.append(deviation_bps(oracle, underlying))
            bid, ask = world.venue.best(ticker)
            if bid is not None and ask is not None:
                tick = world.venue.rules(ticker).instrument.tick.units
                mid = (bid + ask) * tick / 2
                samples.spreads.append((ask - bid) * tick * BPS / mid)
                samples.book_peg.append(deviation_bps(mid, underlying))


def venue_state(world: World) -> dict[str, dict[str, int]]:
    """Read what each venue holds per ticker, from the contracts and the engines: the AMM's reserves,
    lending's collateral and its supplied and borrowed USDC, the perpetual's open interest, the book's
    trades and the CFDs open."""
    state: dict[str, dict[str, int]] = {}
    contract = world.lending_market
    for ticker in world.tickers:
        stock, usdc = (int(v) for v in world.pools[ticker].reserves())
        totals = contract.expected_market(world.lending.market(ticker).id_bytes)
        long_size, short_size = (int(v) for v in world.perp_markets[ticker].open_interest())
        state[ticker] = {
            "amm_stock_reserve": stock,
            "amm_usdc_reserve": usdc,
            "lending_collateral": int(world.tokens[ticker].balanceOf(contract.address)),
            "lending_supplied_usdc": int(totals[0]),
            "lending_borrowed_usdc": int(totals[2]),
            "perp_long_size": long_size,
            "perp_short_size": short_size,
            "book_recent_trades": len(world.venue.recent_trades(ticker, limit=1_000_000)),
            "cfd_open_positions": sum(1 for p in world.cfd.positions() if p.symbol == ticker),
        }
    return state


@dataclass
class KeeperCounts:
    """What the platform's keepers did through the week."""

    arbitrage_trades: int = 0
    maker_commands: int = 0
    perp_orders_executed: int = 0
    perp_orders_cancelled: int = 0
    perp_triggers: int = 0
    perp_liquidations: int = 0
    lending_liquidations: int = 0
    collateral_sales: int = 0
    issuer_steps: int = 0
    waited: int = 0  # steps in session since the perpetuals and liquidation keepers last ticked


def build_report(
    parameters: SimulationParameters,
    week: Week,
    agents: Sequence[Agent],
    outcomes: Outcomes,
    samples: Samples,
    keepers: KeeperCounts,
    requests: Counter[str],
    venues: tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]],
) -> dict[str, Any]:
    """Return the run's report as one JSON-ready object."""
    tickers = list(samples.tickers)
    actions: dict[str, dict[str, dict[str, int]]] = {}
    for kind, action in sorted(set(outcomes.done) | set(outcomes.refused)):
        done, refused = outcomes.done[(kind, action)], outcomes.refused[(kind, action)]
        actions.setdefault(kind, {})[action] = {"done": done, "refused": refused}
    total_done, total_refused = sum(outcomes.done.values()), sum(outcomes.refused.values())
    prices: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    spreads: dict[str, Any] = {}
    peg: dict[str, Any] = {}
    for ticker in tickers:
        s = samples.tickers[ticker]
        book_prices = outcomes.book_prices.get(ticker, [])
        prices[ticker] = {
            "underlying": s.underlying.ohlc(),
            "oracle": s.oracle.ohlc(),
            "amm": s.amm.ohlc(),
            "book": Series(book_prices).ohlc(),
        }
        volumes[ticker] = {
            "amm_usdc": outcomes.amm_volume[ticker],
            "book_usdc": outcomes.book_volume[ticker],
            "book_trades": outcomes.book_trades[ticker],
            "perp_notional_usdc": outcomes.perp_volume[ticker],
            "borrowed_usdc": outcomes.borrowed[ticker],
            "repaid_usdc": outcomes.repaid[ticker],
            "minted_shares": outcomes.minted[ticker],
            "redeemed_shares": outcomes.redeemed[ticker],
            "cfd_notional_usdc": outcomes.cfd_volume[ticker],
        }
        spreads[ticker] = distribution(s.spreads)
        peg[ticker] = {
            "amm": distribution(s.amm_peg),
            "book": distribution(s.book_peg),
            "oracle": distribution(s.oracle_peg),
        }
    return {
        "version": REPORT_VERSION,
        "parameters": parameters.to_json(),
        "week": {
            "start": week.start.isoformat(),
            "end": week.end.isoformat(),
            "steps": len(week.steps),
            "sessions": [s.date.isoformat() for s in week.sessions],
            "minute_bars": week.minute_bars,
            "statuses": dict(sorted(samples.statuses.items())),
        },
        "agents": dict(sorted(Counter(a.kind.value for a in agents).items())),
        "prices": prices,
        "volumes": volumes,
        "spreads": spreads,
        "peg": peg,
        "venues": {"before": venues[0], "after": venues[1]},
        "liquidations": {
            "lending": keepers.lending_liquidations,
            "perps": keepers.perp_liquidations + sum(outcomes.perp_liquidations.values()),
            "perps_by_keeper": keepers.perp_liquidations,
            "perps_by_agents": sum(outcomes.perp_liquidations.values()),
            "collateral_sales": keepers.collateral_sales,
        },
        "keepers": {
            "arbitrage_trades": keepers.arbitrage_trades,
            "maker_commands": keepers.maker_commands,
            "perp_orders_executed": keepers.perp_orders_executed,
            "perp_orders_cancelled": keepers.perp_orders_cancelled,
            "perp_triggers": keepers.perp_triggers,
        },
        "issuer_requests": dict(sorted(requests.items())),
        "actions": actions,
        "totals": {"actions": total_done + total_refused, "done": total_done, "refused": total_refused},
        "refusals": dict(outcomes.reasons.most_common()),
    }


def _dollars(units: int | None, decimals: int) -> str:
    if units is None:
        return "-"
    return f"{units / 10**decimals:,.2f}"


def render(report: dict[str, Any], console: Console) -> None:
    """Print `report` as readable tables."""
    console.print(_tables(report))


def _tables(report: dict[str, Any]) -> Group:
    parameters, week = report["parameters"], report["week"]
    span = "week" if parameters["days"] == 7 else f"{parameters['days']} day(s) of the week"
    title = (
        f"Simulated {span} of {parameters['week']}: {parameters['agents']:,} agents, "
        f"seed {parameters['seed']}, "
        f"{week['steps']} steps ({'1-minute' if week['minute_bars'] else 'daily'} bars)"
    )
    prices = Table(title="Prices (open / high / low / close, $)")
    for column in ("ticker", "series", "open", "high", "low", "close"):
        prices.add_column(column, justify="left" if column in ("ticker", "series") else "right")
    for ticker, series in report["prices"].items():
        for name, ohlc in series.items():
            values = [
                _dollars(None if ohlc is None else ohlc[k], 8) for k in ("open", "high", "low", "close")
            ]
            prices.add_row(ticker, name, *values)
    markets = Table(title="Volumes, spreads and peg deviation from the underlying")
    for column in (
        "ticker",
        "AMM $",
        "book $",
        "trades",
        "perp $",
        "borrowed $",
        "spread mean/p95 bps",
        "AMM peg mean/p95/max bps",
        "book peg mean/p95/max bps",
    ):
        markets.add_column(column, justify="left" if column == "ticker" else "right")
    for ticker, v in report["volumes"].items():
        spread, amm, book = (
            report["spreads"][ticker],
            report["peg"][ticker]["amm"],
            report["peg"][ticker]["book"],
        )
        markets.add_row(
            ticker,
            _dollars(v["amm_usdc"], 6),
            _dollars(v["book_usdc"], 6),
            str(v["book_trades"]),
            _dollars(v["perp_notional_usdc"], 6),
            _dollars(v["borrowed_usdc"], 6),
            f"{spread['mean_bps']:.1f} / {spread['p95_bps']:.1f}",
            f"{amm['mean_bps']:.1f} / {amm['p95_bps']:.1f} / {amm['max_bps']:.1f}",
            f"{book['mean_bps']:.1f} / {book['p95_bps']:.1f} / {book['max_bps']:.1f}",
        )
    actions = Table(title="Actions by agent kind")
    for column in ("kind", "action", "done", "refused"):
        actions.add_column(column, justify="left" if column in ("kind", "action") else "right")
    for kind, by_action in report["actions"].items():
        for action, counts in by_action.items():
            actions.add_row(kind, action, f"{counts['done']:,}", f"{counts['refused']:,}")
    liquidations = report["liquidations"]
    totals = report["totals"]
    summary = Table(title="Liquidations, keepers and totals")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for name, value in (
        ("lending liquidations", liquidations["lending"]),
        (
            "perp liquidations (keeper / agents)",
            f"{liquidations['perps_by_keeper']} / {liquidations['perps_by_agents']}",
        ),
        *report["keepers"].items(),
        ("actions (done / refused)", f"{totals['done']:,} / {totals['refused']:,}"),
    ):
        summary.add_row(str(name).replace("_", " "), str(value))
    return Group(title, prices, markets, actions, summary)
