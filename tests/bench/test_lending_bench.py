"""The lending benchmark runs the same scenario on our market and Morpho Blue and prints one JSON object."""

import json

import pytest
from bench.lending import OPERATIONS, Report, headline, irm_adjusted, main, render


@pytest.mark.anvil
def test_one_run_reports_each_operation_on_both_venues(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == [*OPERATIONS, "morpho"]
    assert report["morpho"] is not None, "Morpho Blue was not measured: is the npm registry reachable?"
    assert list(report["morpho"]) == list(OPERATIONS)
    for figures in (report, report["morpho"]):
        for operation in OPERATIONS:
            gas = figures[operation]
            assert isinstance(gas, int)
            assert gas > 21_000  # a transaction's intrinsic cost, plus the operation's work


def _report() -> Report:
    gas = {
        "ours": {"supply": 100_000, "borrow": 130_000, "repay": 80_000, "liquidate": 150_000},
        "morpho": {"supply": 95_000, "borrow": 100_000, "repay": 80_000, "liquidate": 140_000},
    }
    inside = {
        name: {operation: {"IRM": irm, "USDC": 15_000} for operation in OPERATIONS}
        for name, irm in (("ours", 11_000), ("morpho", 1_000))
    }
    return Report(gas, inside)


def test_the_table_shows_each_ratio_and_the_operations_over_the_target() -> None:
    report = _report()

    table = render(report)

    assert headline(report) == {
        "supply": 100_000,
        "borrow": 130_000,
        "repay": 80_000,
        "liquidate": 150_000,
        "morpho": {"supply": 95_000, "borrow": 100_000, "repay": 80_000, "liquidate": 140_000},
    }
    rows = table.splitlines()[1:5]
    assert [row.split()[0] for row in rows] == list(OPERATIONS)
    assert rows[1].endswith("1.300x")
    assert rows[2].endswith("1.000x")
    assert "misses (borrow)" in table


def test_the_like_for_like_estimate_prices_morpho_s_irm_call_as_ours() -> None:
    ratios = irm_adjusted(_report())

    assert ratios["borrow"] == pytest.approx(130_000 / 110_000)
    assert ratios["repay"] == pytest.approx(80_000 / 90_000)


def test_without_morpho_the_json_says_null_and_the_table_says_why() -> None:
    report = Report({"ours": _report().gas["ours"]}, {"ours": _report().inside["ours"]}, "npm failed")

    assert headline(report)["morpho"] is None
    assert "Morpho Blue not measured: npm failed" in render(report)
