"""The bridge benchmark measures a pool's send and receive as transactions on anvil, a Solana
bridge-out's and the issuer's mint's compute units, and the latency from a burn to its mint on every
route through attester processes and the relayer, and prints one JSON object of the figures."""

import json

import pytest
from bench.bridge import ATTESTER_COUNTS, ROUTES, Report, headline, main, render


@pytest.mark.anvil
def test_one_run_reports_gas_compute_units_and_latency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0

    report = json.loads(capsys.readouterr().out)

    assert list(report) == ["send_gas", "receive_gas", "solana_cu", "latency_ms"]
    assert list(report["receive_gas"]) == ["1", "4", "7"]
    assert list(report["solana_cu"]) == ["burn", "mint"]
    assert list(report["latency_ms"]) == ["evm_evm", "evm_solana", "solana_evm"]
    # A transaction's intrinsic cost plus a burn through the token and a Sent event.
    assert isinstance(report["send_gas"], int)
    assert 40_000 < report["send_gas"] < 200_000
    receive = [report["receive_gas"][n] for n in ("1", "4", "7")]
    assert all(isinstance(gas, int) and 60_000 < gas < 400_000 for gas in receive)
    # Every attester more is one more ecrecover (3,000) plus its calldata and loop.
    assert receive[0] < receive[1] < receive[2]
    assert (receive[2] - receive[1]) / 3 > 3_000
    for units in report["solana_cu"].values():
        assert isinstance(units, int)
        assert 0 < units < 200_000  # within one instruction's default budget
    for milliseconds in report["latency_ms"].values():
        assert isinstance(milliseconds, float)
        assert 0 < milliseconds < 30_000


def test_the_table_shows_every_figure_and_the_median_of_each_route() -> None:
    report = Report(
        88_388,
        {1: 131_375, 4: 154_577, 7: 177_893},
        {"burn": 3_158, "mint": 2_311},
        {"evm_evm": [60.0, 50.0, 52.0], "evm_solana": [70.0, 80.0, 75.0], "solana_evm": [40.0, 45.0, 90.0]},
    )

    table = render(report)

    assert headline(report) == {
        "send_gas": 88_388,
        "receive_gas": {"1": 131_375, "4": 154_577, "7": 177_893},
        "solana_cu": {"burn": 3_158, "mint": 2_311},
        "latency_ms": {"evm_evm": 52.0, "evm_solana": 75.0, "solana_evm": 45.0},
    }
    assert list(ATTESTER_COUNTS) == [1, 4, 7]
    assert list(ROUTES) == list(headline(report)["latency_ms"])
    assert "send                                        88,388" in table
    assert "receive, 7 of 7 attesters                  177,893" in table
    assert "each attester signature more                 7,753" in table
    assert "bridge-out (memo + BurnChecked)              3,158" in table
    assert "ethereum -> base                    52.0      50.0      60.0" in table
    assert "real transactions on anvil" in table
