"""The derivatives benchmark measures the perpetual's and the synthetic's operations as transactions on
anvil and the CFD venue's orders per second, and prints one JSON object of the figures the issue names."""

import json

import pytest
from bench.derivatives import PERP_OPERATIONS, SYNTH_OPERATIONS, Report, headline, main, render


@pytest.mark.anvil
def test_one_run_reports_every_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == ["perp", "synth", "cfd_orders_per_s"]
    assert list(report["perp"]) == list(PERP_OPERATIONS)
    assert list(report["synth"]) == list(SYNTH_OPERATIONS)
    for figures in (report["perp"], report["synth"]):
        for gas in figures.values():
            assert isinstance(gas, int)
            assert 21_000 < gas < 500_000  # a transaction's intrinsic cost plus the operation's work
    # Liquidating a perp settles the whole position and pays a keeper: more than burning a synthetic.
    assert report["perp"]["liquidate"] > report["synth"]["burn"]
    assert isinstance(report["cfd_orders_per_s"], int)
    assert report["cfd_orders_per_s"] > 0


def test_the_table_shows_every_figure_and_what_the_journal_costs() -> None:
    report = Report(
        {"open": 185_000, "close": 112_000, "liquidate": 114_000},
        {"mint": 69_000, "burn": 66_000, "liquidate": 98_000},
        237_000,
        90_000.4,
        150_000.0,
    )

    table = render(report)

    assert headline(report) == {
        "perp": {"open": 185_000, "close": 112_000, "liquidate": 114_000},
        "synth": {"mint": 69_000, "burn": 66_000, "liquidate": 98_000},
        "cfd_orders_per_s": 90_000,
    }
    assert "perp open                185,000" in table
    assert "synth open (lock+mint)   237,000" in table
    assert "journaled / reference: 0.60" in table
