"""The order book benchmark runs a small stream and prints one JSON object of positive figures."""

import json

import pytest
from bench.book import check_baseline_agrees, main, order_stream

from equitoken.venues.exchange.orders import Cancel


def test_a_small_run_prints_throughput_p99_and_the_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ops", "3000", "--repeat", "1", "--json"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert set(figures) == {"ops_per_s", "p99_us", "baseline_ops_per_s"}
    assert all(isinstance(value, float) and value > 0 for value in figures.values())


def test_the_table_names_both_books(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ops", "500", "--repeat", "1"]) == 0

    out = capsys.readouterr().out
    assert "baseline" in out
    assert "Book" in out


def test_the_stream_is_seeded_and_mixes_orders_cancels_and_amendments() -> None:
    stream = order_stream(2_000, seed=3)

    assert stream == order_stream(2_000, seed=3)
    assert stream != order_stream(2_000, seed=4)
    kinds = {type(command).__name__ for command in stream}
    assert kinds == {"Submit", "Cancel", "Amend"}
    assert 0.3 < sum(isinstance(c, Cancel) for c in stream) / len(stream) < 0.4


def test_the_baseline_agrees_with_the_book_on_a_stream_that_trades() -> None:
    assert check_baseline_agrees(order_stream(2_000, seed=3)) > 100


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--ops", "0"])

    assert refused.value.code == 2
    assert "--ops must be at least 1, not 0" in capsys.readouterr().err
