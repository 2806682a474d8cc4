"""The Solana benchmark measures every operation on all three mints in one LiteSVM, and repeats itself."""

import json

import pytest
from bench.solana import MINTS, OPERATIONS, main


def test_one_run_prints_every_figure_and_the_extensions_cost_compute(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--json"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert set(figures) == set(OPERATIONS)
    for operation in OPERATIONS:
        row = figures[operation]
        assert set(row) == set(MINTS)
        assert all(isinstance(units, int) and units > 0 for units in row.values())
        # Each extension the program must check (pause, scaled amount, default state...) costs units.
        assert row["ours"] > row["plain_token2022"]


def test_compute_units_are_the_same_on_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--json"])
    first = capsys.readouterr().out
    main(["--json"])

    assert capsys.readouterr().out == first


def test_the_table_names_each_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0

    table = capsys.readouterr().out
    assert all(operation in table for operation in OPERATIONS)
    assert "ours / plain 2022" in table
