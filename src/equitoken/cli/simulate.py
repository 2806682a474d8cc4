"""`equitoken simulate`: replay a market week with a population of agents across the venues.

The run builds its own platform on an in-process chain in a temporary directory (nothing of the
platform `up` runs is touched), then stores the finished run, with its report, in the platform's
database (`$EQUITOKEN_DATABASE_URL`, else the one `up` recorded in the data directory, else SQLite
there), where the dashboard's Simulation page shows it.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from equitoken.cli.options import DataDir, console, fail
from equitoken.model.errors import EquitokenError
from equitoken.platform.local import DEFAULT_DATA_DIR, local_database_url
from equitoken.simulation.report import render
from equitoken.simulation.run import simulate as run_simulation
from equitoken.simulation.week import (
    DEFAULT_AGENTS,
    DEFAULT_SEED,
    DEFAULT_WEEK,
    SimulationParameters,
    parse_week,
)
from equitoken.store.database import Database
from equitoken.store.simulation_runs import SimulationRuns


def simulate(
    seed: Annotated[
        int, typer.Option("--seed", help="The run's seed: the same seed gives the same report.")
    ] = DEFAULT_SEED,
    agents: Annotated[int, typer.Option("--agents", help="How many agents trade.")] = DEFAULT_AGENTS,
    week: Annotated[
        str,
        typer.Option("--week", help="The week's Monday, YYYY-MM-DD (the repo's market data must cover it)."),
    ] = DEFAULT_WEEK.isoformat(),
    days: Annotated[
        int, typer.Option("--days", help="How much of the week to run, 1 to 7 days from its Monday.")
    ] = 7,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Replay a market week with seeded agents across the AMM, the book, lending, perpetuals, CFDs and
    the issuer, then print and store the report."""
    try:
        parameters = SimulationParameters(seed, agents, parse_week(week), days)
    except EquitokenError as error:
        fail(error.code, error.message)
    if json_path is not None and not json_path.parent.is_dir():
        fail(
            "invalid_request",
            f"cannot write the report to {json_path}: {json_path.parent} is not a directory",
        )
    database = Database(local_database_url(data_dir))
    started = datetime.now(UTC)
    try:
        with Progress(
            TextColumn("simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("week", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = run_simulation(parameters, progress=advance)
    except EquitokenError as error:
        fail(error.code, error.message)
    finished = datetime.now(UTC)
    database.migrate()
    run = SimulationRuns(database).record(
        seed=parameters.seed,
        agents=parameters.agents,
        week=parameters.week,
        parameters=parameters.to_json(),
        started_at=started,
        finished_at=finished,
        report=report,
    )
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n")
    render(report, console)
    console.print(
        f"run {run.id} stored in the platform's database after {(finished - started).total_seconds():.1f} s"
        + (f"; report written to {json_path}" if json_path is not None else "")
    )
