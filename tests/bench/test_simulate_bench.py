"""The simulation benchmark prints exactly the two figures the issue names, and a table of where the time
went; a small run (8 agents, one day) keeps it inside the CI budget."""

import json

import pytest
from bench.simulate import Result, headline, main, render


def test_a_small_run_prints_the_two_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--agents", "8", "--days", "1"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert list(figures) == ["actions_per_s", "week_1000_agents_s"]
    assert figures["actions_per_s"] > 0
    assert figures["week_1000_agents_s"] > 0


def test_the_table_shows_the_rate_and_each_part() -> None:
    result = Result(1_000, 7, 80.0, 6_000, {"set up": 5.0, "agents": 40.0, "perps keeper": 20.0})

    table = render(result)

    assert headline(result) == {"actions_per_s": 80.0, "week_1000_agents_s": 80.0}
    assert "1,000-agent week: 80.0 s wall" in table
    assert "agents                      40.0     50%" in table
