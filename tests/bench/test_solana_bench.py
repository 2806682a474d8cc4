"""The Solana benchmark measures every operation on all three mints in one LiteSVM, the issuer's
settlement rate on Solana against EVM's, and repeats its compute units exactly."""

import json
from typing import Any

import pytest
from bench.solana import MINTS, OPERATIONS, main, measure, render


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    """One run of `python bench/solana.py --json`, as a user runs it."""
    with pytest.MonkeyPatch.context() as patch:
        printed: list[str] = []
        patch.setattr("builtins.print", lambda text: printed.append(text))
        assert main(["--json"]) == 0
    [line] = printed
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_one_run_prints_every_figure_and_the_extensions_cost_compute(figures: dict[str, Any]) -> None:
    assert set(figures) == {*OPERATIONS, "mints_per_s", "evm_mints_per_s"}
    for operation in OPERATIONS:
        row = figures[operation]
        assert set(row) == set(MINTS)
        assert all(isinstance(units, int) and units > 0 for units in row.values())
        # Each extension the program must check (pause, scaled amount, default state...) costs units.
        assert row["ours"] > row["plain_token2022"]
    assert figures["mints_per_s"] > 0
    assert figures["evm_mints_per_s"] > 0


def test_compute_units_are_the_same_on_every_run() -> None:
    assert measure() == measure()


def test_the_table_names_each_operation_and_the_settlement_rates(figures: dict[str, Any]) -> None:
    table = render(figures)

    assert all(operation in table for operation in OPERATIONS)
    assert "ours / plain 2022" in table
    assert "mint requests settled per second" in table
    assert "Solana / EVM" in table
