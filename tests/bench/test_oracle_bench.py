"""The oracle gas benchmark measures real receipts on anvil: the guarded read meets its target."""

import json

import pytest
from bench.oracle import GUARDED_READ_TARGET, main, quorum_for, render


@pytest.mark.anvil
def test_figures_are_positive_updates_grow_with_reporters_and_the_guarded_read_meets_the_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--json", "--reporters", "1", "4", "7"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert set(figures) == {"update_gas", "guarded_read_gas", "plain_read_gas"}
    update_gas = [figures["update_gas"][n] for n in ("1", "4", "7")]
    assert all(gas > 21_000 for gas in update_gas)
    assert update_gas == sorted(set(update_gas))
    assert figures["plain_read_gas"] > 21_000
    assert figures["plain_read_gas"] < figures["guarded_read_gas"] < GUARDED_READ_TARGET


def test_the_table_shows_every_figure_and_the_verdict() -> None:
    table = render(
        {"update_gas": {"1": 60_000, "4": 90_000}, "guarded_read_gas": 29_000, "plain_read_gas": 26_500}
    )

    assert "update_gas[n=4]" in table
    assert "90,000" in table
    assert "+2,500 gas over a plain read (meets the 30,000 target)" in table


def test_quorum_is_the_smallest_majority() -> None:
    assert [quorum_for(n) for n in (1, 4, 7, 10)] == [1, 3, 4, 6]


def test_reporter_counts_outside_the_feed_limit_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--reporters", "0", "4"])

    assert exit_info.value.code == 2
    assert "reporter counts must be between 1 and 16" in capsys.readouterr().err
