"""The AMM benchmark swaps on our pool and the real Uniswap v2 in one run and prints one JSON object."""

import json

import pytest
from bench.amm import headline, main, render


@pytest.mark.anvil
def test_one_run_reports_both_venues_swap_gas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == ["swap_gas", "uniswap_v2_swap_gas"]
    for gas in report.values():
        assert isinstance(gas, int)
        assert gas > 21_000  # a transaction's intrinsic cost, plus the swap's work


def test_the_table_shows_both_directions_and_the_verdict_on_the_buy() -> None:
    figures = {"ours": {"buy": 120_000, "sell": 90_000}, "uniswap_v2": {"buy": 110_000, "sell": 115_000}}

    table = render(figures, {"buy": 491_123_436, "sell": 1_001_811_906})

    assert headline(figures) == {"swap_gas": 120_000, "uniswap_v2_swap_gas": 110_000}
    buy, sell = table.splitlines()[1:3]
    assert buy.split()[:2] == ["buy", "1,000"]
    assert buy.endswith("1.091x")
    assert sell.split()[:2] == ["sell", "5"]
    assert sell.endswith("0.783x")
    assert table.endswith("(misses the target: ours <= Uniswap's)")
