"""The market-data benchmark prints one JSON object of positive figures, and a table."""

import json

import pytest
from bench.market import main


def test_one_run_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat", "1", "--json"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert set(figures) == {"load_s", "quotes_per_s", "phase_at_per_s", "reference_phase_per_s"}
    assert all(value > 0 for value in figures.values())


def test_the_table_shows_the_ratio_to_exchange_calendars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat", "1"]) == 0

    assert "phase_at / exchange_calendars" in capsys.readouterr().out
