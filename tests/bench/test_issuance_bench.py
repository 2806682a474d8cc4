"""The issuance benchmark settles every request and prints one JSON object of positive rates."""

import json

import pytest
from bench.issuance import main


def _rates(capsys: pytest.CaptureFixture[str], *configurations: str) -> dict[str, float]:
    argv = ["--requests", "3", "--json"]
    for configuration in configurations:
        argv += ["--only", configuration]

    assert main(argv) == 0

    rates: dict[str, float] = json.loads(capsys.readouterr().out)
    return rates


def test_in_process_sqlite_settles_and_reports_a_positive_rate(capsys: pytest.CaptureFixture[str]) -> None:
    rates = _rates(capsys, "inproc_sqlite")

    assert list(rates) == ["inproc_sqlite"]
    assert isinstance(rates["inproc_sqlite"], float)
    assert rates["inproc_sqlite"] > 0


@pytest.mark.anvil
def test_anvil_sqlite_settles_and_reports_a_positive_rate(capsys: pytest.CaptureFixture[str]) -> None:
    rates = _rates(capsys, "anvil_sqlite")

    assert list(rates) == ["anvil_sqlite"]
    assert isinstance(rates["anvil_sqlite"], float)
    assert rates["anvil_sqlite"] > 0
