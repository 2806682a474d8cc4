"""The committed gas snapshot holds: CI fails when a figure grows by more than 1%."""

import json

import pytest
from bench.gas import OPERATIONS, PROFILES, SNAPSHOT, measure, regressions


@pytest.mark.anvil
def test_no_figure_grew_over_the_snapshot() -> None:
    table = measure()
    assert regressions(table, json.loads(SNAPSHOT.read_text())) == []
    assert set(table) == {"plain", *PROFILES}
    for figures in table.values():
        assert set(figures) == set(OPERATIONS)


def test_regressions_flags_growth_over_one_percent_and_missing_figures() -> None:
    snapshot = {"open": {"transfer_new": 10_000, "mint": 20_000}}
    table = {"open": {"transfer_new": 10_101}}
    assert regressions(table, snapshot) == [
        "open.transfer_new: 10101 gas, +1.01% over snapshot 10000",
        "open.mint: missing (snapshot 20000)",
    ]
    assert regressions({"open": {"transfer_new": 10_100, "mint": 19_000}}, snapshot) == []
