"""Market data speed: loading the packaged bars, quoting replayed prices, finding session phases.

Every figure is measured in this process against a reference run of the same work done the slow
way, so the ratios mean something on any machine:

- load_s: seconds to read and convert the packaged daily bars and splits (`ReplayPriceSource`'s
  dataset, once per process); the best of --repeat loads.
- quotes_per_s: replayed quotes per second, a week of NVDA minute by minute (10,080 quotes).
- phase_at_per_s: `MarketCalendar.phase_at` calls per second over a fortnight in 7-minute steps,
  against `exchange_calendars`' own minute lookup per call (reference_phase_per_s), which is what
  `phase_at` avoids by precomputing the sessions. Run::

    python bench/market.py          # a table
    python bench/market.py --json   # one JSON object
"""

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import exchange_calendars
import pandas as pd
from rich.console import Console
from rich.table import Table

from equitoken.market import replay
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource

WEEK_START = datetime(2025, 11, 24, 5, 0, tzinfo=UTC)
QUOTES = 7 * 24 * 60
PHASES = 20_000
REFERENCE_PHASES = 500


def _best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def measure(repeat: int = 3) -> dict[str, float]:
    """Return the figures (see the module notes)."""
    load_s = _best(repeat, lambda: replay._Dataset().series("AAPL"))
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource(calendar)
    minutes = [WEEK_START + timedelta(minutes=i) for i in range(QUOTES)]
    quotes_s = _best(repeat, lambda: [prices.quote("NVDA", t) for t in minutes])
    steps = [WEEK_START + timedelta(minutes=7 * i) for i in range(PHASES)]
    phases_s = _best(repeat, lambda: [calendar.phase_at(t) for t in steps])
    exchange = exchange_calendars.get_calendar(calendar.exchange)
    reference = [pd.Timestamp(t) for t in steps[:REFERENCE_PHASES]]
    reference_s = _best(repeat, lambda: [exchange.is_open_on_minute(t) for t in reference])
    return {
        "load_s": round(load_s, 3),
        "quotes_per_s": round(QUOTES / quotes_s),
        "phase_at_per_s": round(PHASES / phases_s),
        "reference_phase_per_s": round(REFERENCE_PHASES / reference_s),
    }


def render(figures: dict[str, float]) -> Table:
    """Return the figures as a table."""
    table = Table(title="market data")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, f"{value:,}")
    ratio = figures["phase_at_per_s"] / figures["reference_phase_per_s"]
    table.add_row("phase_at / exchange_calendars", f"{ratio:,.0f}x")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print a table, or one JSON object with `--json`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the best counts)")
    arguments = parser.parse_args(argv)
    figures = measure(arguments.repeat)
    if arguments.json:
        print(json.dumps(figures))
    else:
        Console().print(render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
