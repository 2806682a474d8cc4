"""Simulated agent actions per second, and the wall time of a 1,000-agent week (`equitoken simulate`).

One run of `equitoken.simulation.run.simulate` with the default seed and week (2019-02-11, the week
the repo's 1-minute bars cover): the whole platform built on an in-process py-evm chain, then 112
steps of the week with every agent acting on the real venues and the keepers, the oracle and the
issuer running as the platform runs them. Run from the repository's root (as a module: this
directory's `solana.py` would shadow the Solana package the platform imports)::

    python -m bench.simulate                  # a table: the figures and where the time went
    python -m bench.simulate --json           # {"actions_per_s": x, "week_1000_agents_s": t}
    python -m bench.simulate --agents 100 --days 1   # a smaller run (the JSON key keeps its name)

- week_1000_agents_s: wall seconds of the whole run, building the world included (the target is
  under 60 s);
- actions_per_s: the agents' actions (those the venues took and those they refused) per wall second
  of the stepping, the world's setup left out: the rate at which the simulated market moves.

Where the time goes is printed per part (setup, oracle rounds, agents, each keeper, the issuer's
workflow, sampling): a py-evm transaction through the venues' guards costs some 10-20 ms and a read
1-3 ms, a book command a fraction of a millisecond. The machine's other load counts: the run is one
process on one core, so compare figures taken on an idle machine.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass

from equitoken.simulation.run import Timings, simulate
from equitoken.simulation.week import SimulationParameters

AGENTS = 1_000


@dataclass
class Result:
    """One run's figures."""

    agents: int
    days: int
    wall_s: float
    actions: int
    parts: dict[str, float]

    @property
    def stepping_s(self) -> float:
        """Return the wall seconds of the steps, the world's setup left out."""
        return self.wall_s - self.parts.get("set up", 0.0)

    @property
    def actions_per_s(self) -> float:
        """Return the agents' actions per wall second of the steps."""
        return self.actions / self.stepping_s if self.stepping_s > 0 else 0.0


def measure(agents: int = AGENTS, days: int = 7) -> Result:
    """Run the default week with `agents` agents for `days` days; return its figures."""
    timings = Timings()
    started = time.perf_counter()
    simulate(SimulationParameters(agents=agents, days=days), timings=timings)
    wall = time.perf_counter() - started
    return Result(agents, days, wall, timings.actions, dict(timings.seconds))


def headline(result: Result) -> dict[str, float]:
    """Return the two figures the issue names."""
    return {"actions_per_s": round(result.actions_per_s, 1), "week_1000_agents_s": round(result.wall_s, 1)}


def render(result: Result) -> str:
    """Return the figures and where the time went as a readable table."""
    span = "week" if result.days == 7 else f"{result.days}-day run"
    lines = [
        f"{result.agents:,}-agent {span}: {result.wall_s:.1f} s wall "
        "(target for 1,000 agents a week: < 60 s)",
        f"agent actions: {result.actions:,}, {result.actions_per_s:,.1f} per second of stepping",
        "",
        f"{'part':<22}{'seconds':>10}{'share':>8}",
    ]
    for part, seconds in sorted(result.parts.items(), key=lambda item: -item[1]):
        lines.append(f"{part:<22}{seconds:>10.1f}{seconds / result.wall_s:>8.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    parser.add_argument("--agents", type=int, default=AGENTS, help="the population (default 1,000)")
    parser.add_argument("--days", type=int, default=7, help="days of the week to run (default 7)")
    args = parser.parse_args(argv)
    result = measure(args.agents, args.days)
    print(json.dumps(headline(result)) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
