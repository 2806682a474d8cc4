"""A day of the simulated week on the real venues, the in-process chain, the issuer and the keepers.

One run (seed 1, 120 agents, Monday 2019-02-11) is shared by the module: every agent kind acts, each
venue's state moved, refusals are counted in the report. The CLI then runs the same parameters end to
end and stores the run: its report must be the shared run's, figure for figure (the same seed gives the
same week), and a run with another seed must differ.
"""

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from equitoken.cli.simulate import simulate as simulate_command
from equitoken.platform.local import DATABASE_URL_ENV
from equitoken.simulation.agents import AgentKind, population
from equitoken.simulation.run import simulate
from equitoken.simulation.week import SimulationError, SimulationParameters
from equitoken.store.database import Database, sqlite_url
from equitoken.store.simulation_runs import SimulationRuns

SEED, AGENTS, WEEK, DAYS = 1, 120, date(2019, 2, 11), 1


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return simulate(SimulationParameters(SEED, AGENTS, WEEK, DAYS), tmp_path_factory.mktemp("simulation"))


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("simulate")(simulate_command)
    app.command("noop")(lambda: None)  # keeps Typer from collapsing the app into its one command
    return app


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "platform.sqlite")
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    return url


def test_every_agent_kind_acts_on_the_real_venues(report: dict[str, Any]) -> None:
    assert set(report["actions"]) == {kind.value for kind in AgentKind}
    for kind, by_action in report["actions"].items():
        assert sum(c["done"] for c in by_action.values()) > 0, kind
    before, after = report["venues"]["before"], report["venues"]["after"]
    for ticker in ("AAPL", "TSLA"):
        assert after[ticker]["amm_usdc_reserve"] != before[ticker]["amm_usdc_reserve"]
        assert after[ticker]["book_recent_trades"] > before[ticker]["book_recent_trades"] == 0
    assert (
        sum(after[t]["lending_collateral"] for t in after)
        > 0
        == sum(before[t]["lending_collateral"] for t in before)
    )
    assert sum(after[t]["perp_long_size"] + after[t]["perp_short_size"] for t in after) > 0
    assert (
        sum(after[t]["cfd_open_positions"] for t in after)
        + sum(report["volumes"][t]["cfd_notional_usdc"] for t in after)
        > 0
    )
    assert report["issuer_requests"], "the authorised participants' requests reached the issuer"
    assert sum(report["volumes"][t]["book_trades"] for t in ("AAPL", "TSLA")) > 0


def test_the_report_covers_the_day_and_counts_refusals_without_raising(report: dict[str, Any]) -> None:
    week = report["week"]
    assert week["sessions"] == ["2019-02-11"]
    assert week["minute_bars"] is True
    assert {"AAPL:open", "AAPL:closed"} <= set(week["statuses"])
    totals = report["totals"]
    refused = sum(c["refused"] for by_action in report["actions"].values() for c in by_action.values())
    assert totals["refused"] == refused == sum(report["refusals"].values())
    assert totals["actions"] == totals["done"] + totals["refused"]
    assert refused > 0, "a day of agents meets at least one venue that says no"
    for ticker in ("AAPL", "TSLA"):
        underlying = report["prices"][ticker]["underlying"]
        assert underlying["low"] <= underlying["open"] <= underlying["high"]
        peg = report["peg"][ticker]["amm"]
        assert 0 <= peg["mean_bps"] <= peg["p95_bps"] <= peg["max_bps"] < 500
        assert report["spreads"][ticker]["samples"] > 0


def test_the_cli_runs_the_same_seed_to_the_same_report_and_stores_it(
    report: dict[str, Any], cli: typer.Typer, database_url: str, tmp_path: Path
) -> None:
    written = tmp_path / "report.json"
    args = ["simulate", "--seed", str(SEED), "--agents", str(AGENTS), "--week", WEEK.isoformat()]
    result = CliRunner().invoke(
        cli, [*args, "--days", str(DAYS), "--json", str(written), "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 0, result.output
    assert "Actions by agent kind" in result.output
    assert json.loads(written.read_text()) == report
    runs = SimulationRuns(Database(database_url)).list()
    assert [(r.seed, r.agents, r.week, r.report) for r in runs] == [(SEED, AGENTS, WEEK, report)]
    assert runs[0].finished_at >= runs[0].started_at


def test_another_seed_gives_another_week(report: dict[str, Any], tmp_path: Path) -> None:
    other = simulate(SimulationParameters(SEED + 1, AGENTS, WEEK, DAYS), tmp_path)

    assert other["parameters"]["seed"] == SEED + 1
    assert other["actions"] != report["actions"]
    assert other["prices"]["AAPL"]["underlying"] == report["prices"]["AAPL"]["underlying"]  # the same market


def test_the_population_is_drawn_from_the_seed() -> None:
    kinds = [a.kind for a in population(7, 200)]

    assert kinds == [a.kind for a in population(7, 200)]
    assert kinds != [a.kind for a in population(8, 200)]
    assert set(kinds[: len(AgentKind)]) == set(AgentKind)  # a small run has every kind


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--agents", "0"], "agents must be an integer from 1 to 10,000, not 0"),
        (["--agents", "-3"], "agents must be an integer from 1 to 10,000, not -3"),
        (["--week", "2019-02-12"], "the week starts on a Monday: 2019-02-12 is a Tuesday"),
        (["--week", "next week"], "the week is a date as YYYY-MM-DD (its Monday), not 'next week'"),
        (["--week", "2018-06-04"], "the repo's market data has no AAPL bars for 2018-06-01"),
        (["--week", "1990-01-01"], "1990-01-01 is outside the XNYS calendar"),
        (["--days", "8"], "days must be an integer from 1 to 7, not 8"),
        (["--seed", "-1"], "the seed must be a non-negative integer, not -1"),
    ],
)
def test_bad_arguments_are_refused_naming_the_problem_and_store_nothing(
    cli: typer.Typer, database_url: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["simulate", *arguments, "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert "error[simulation_invalid]" in result.output
    assert message in result.output
    database = Database(database_url)
    database.migrate()
    assert SimulationRuns(database).list() == []


def test_parameters_are_checked_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="agents must be an integer from 1 to 10,000, not 0"):
        simulate(SimulationParameters(SEED, 0, WEEK), tmp_path)
    with pytest.raises(SimulationError, match="the week starts on a Monday: 2019-02-16 is a Saturday"):
        SimulationParameters(SEED, AGENTS, date(2019, 2, 16))
    assert list(tmp_path.iterdir()) == []
