"""The API benchmark serves a real issuer, drives it from a second process and prints one JSON object."""

import json

import pytest
from bench.api import main


def test_a_quick_run_reports_positive_rates_and_latencies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--json", "--threads", "2"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == ["quotes", "mint_requests"]
    for figures in report.values():
        assert set(figures) == {"rps", "p99_ms"}
        assert figures["rps"] > 0
        assert figures["p99_ms"] > 0
