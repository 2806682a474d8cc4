"""The lending benchmark runs the same scenario on our market and on Morpho Blue, priced by its mock and by a
real oracle, and prints one JSON object."""

import json

import pytest
from bench.lending import OPERATIONS, Report, headline, irm_adjusted, main, render


@pytest.mark.anvil
def test_one_run_reports_each_operation_on_every_venue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == [*OPERATIONS, "morpho", "morpho_real_oracle"]
    for peer in ("morpho", "morpho_real_oracle"):
        assert report[peer] is not None, "Morpho Blue was not measured: is the npm registry reachable?"
        assert list(report[peer]) == list(OPERATIONS)
    for figures in (report, report["morpho"], report["morpho_real_oracle"]):
        for operation in OPERATIONS:
            gas = figures[operation]
            assert isinstance(gas, int)
            assert gas > 21_000  # a transaction's intrinsic cost, plus the operation's work
    # The two Morpho markets differ only in their oracle, which Morpho reads in a borrow and a
    # liquidation: a real read costs more there than the mock's storage slot, and nothing elsewhere.
    for operation in ("borrow", "liquidate"):
        assert report["morpho_real_oracle"][operation] > report["morpho"][operation]
    for operation in ("supply", "repay"):
        assert report["morpho_real_oracle"][operation] == report["morpho"][operation]


def _report() -> Report:
    gas = {
        "ours": {"supply": 100_000, "borrow": 130_000, "repay": 80_000, "liquidate": 150_000},
        "morpho": {"supply": 95_000, "borrow": 100_000, "repay": 80_000, "liquidate": 140_000},
        "morpho_real_oracle": {"supply": 95_000, "borrow": 125_000, "repay": 80_000, "liquidate": 146_000},
    }
    inside = {
        name: {operation: {"IRM": irm, "USDC": 15_000} for operation in OPERATIONS}
        for name, irm in (("ours", 11_000), ("morpho", 1_000), ("morpho_real_oracle", 1_000))
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
        "morpho_real_oracle": {"supply": 95_000, "borrow": 125_000, "repay": 80_000, "liquidate": 146_000},
    }
    rows = table.splitlines()[1:5]
    assert [row.split()[0] for row in rows] == list(OPERATIONS)
    assert rows[1].split()[-4:] == ["100,000", "1.300x", "125,000", "1.040x"]
    assert rows[2].split()[-4:] == ["80,000", "1.000x", "80,000", "1.000x"]
    assert "against its OracleMock: misses (borrow)" in table
    assert "with a real oracle: meets" in table


def test_the_like_for_like_estimate_prices_morpho_s_irm_call_as_ours() -> None:
    ratios = irm_adjusted(_report())
    with_real_oracle = irm_adjusted(_report(), "morpho_real_oracle")

    assert ratios["borrow"] == pytest.approx(130_000 / 110_000)
    assert ratios["repay"] == pytest.approx(80_000 / 90_000)
    assert with_real_oracle["borrow"] == pytest.approx(130_000 / 135_000)
    assert "estimate (not measured)" in render(_report())


def test_without_morpho_the_json_says_null_and_the_table_says_why() -> None:
    report = Report({"ours": _report().gas["ours"]}, {"ours": _report().inside["ours"]}, "npm failed")

    assert headline(report)["morpho"] is None
    assert headline(report)["morpho_real_oracle"] is None
    assert "Morpho Blue not measured: npm failed" in render(report)
