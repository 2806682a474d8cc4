"""The proof-of-liabilities benchmark runs at small sizes and prints one JSON object of positive figures."""

import json

import pytest
from bench.pol import holder_balances, main, size_label


def test_small_sizes_print_build_time_proof_time_and_size_per_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--sizes", "10", "1000", "--proofs", "20", "--repeat", "1", "--json"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert list(figures) == ["1e1", "1e3"]
    for size in figures.values():
        assert set(size) == {"build_s", "proof_ms", "proof_bytes"}
        assert isinstance(size["build_s"], float)
        assert size["build_s"] > 0
        assert size["proof_ms"] > 0
        assert isinstance(size["proof_bytes"], int)
    # A proof holds one sibling per level: ten more levels make it clearly larger.
    assert figures["1e3"]["proof_bytes"] > figures["1e1"]["proof_bytes"] + 5 * 100


def test_the_table_names_every_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "30", "--proofs", "5", "--repeat", "1"]) == 0

    out = capsys.readouterr().out
    assert "holders" in out
    assert "30" in out


def test_sizes_are_labelled_by_power_of_ten_and_holders_are_distinct() -> None:
    balances = holder_balances(500)

    assert [size_label(n) for n in (10**4, 10**6, 1, 1500)] == ["1e4", "1e6", "1e0", "1500"]
    assert len({(b.chain_id, b.holder) for b in balances}) == 500
    assert all(b.raw > 0 for b in balances)


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--sizes", "0"])

    assert refused.value.code == 2
    assert "--sizes must all be at least 1, not 0" in capsys.readouterr().err
