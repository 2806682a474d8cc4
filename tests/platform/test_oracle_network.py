"""The local oracle network's lifecycle with real reporter processes: they start together and outlive
the threads that started them, a reporter that cannot start takes the others down with it, and
`stop` leaves none behind; and what the `oracle` loop task logs."""

import time
from pathlib import Path

import pytest

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.oracle.keys import ReporterKeyError, key_path
from equitoken.oracle.policy import PushReason
from equitoken.oracle.reporter_client import ReporterClient, ReporterUnavailableError
from equitoken.oracle.transmitter import TransmitOutcome, TransmitResult
from equitoken.platform.oracle_network import REPORTER_COUNT, OracleNetwork, RoundLog, oracle_members
from equitoken.store.database import sqlite_url

NO_ADDRESS = "0x" + "00" * 20


def reporter_processes(data_dir: Path) -> list[int]:
    """Return the ids of the reporter processes running on `data_dir`'s keys."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended in between
            continue
        if b"equitoken.oracle.reporter_server" in argv and any(str(data_dir).encode() in a for a in argv):
            pids.append(int(cmdline.parent.name))
    return pids


def network(data_dir: Path) -> OracleNetwork:
    chain = InProcessChain(SignerRegistry.anvil(10))
    no_feeds = IssuanceDeployment(chain.chain_id, NO_ADDRESS, NO_ADDRESS, ())
    url = sqlite_url(data_dir / "equitoken.sqlite")
    return OracleNetwork(data_dir, url, chain, chain.accounts[9], no_feeds)


def test_the_reporters_start_together_and_stay_until_stopped(tmp_path: Path) -> None:
    members = oracle_members(tmp_path)
    oracle = network(tmp_path).start()
    try:
        time.sleep(1)  # the threads that started them have long returned to waiting
        assert sorted(oracle.pids) == sorted(reporter_processes(tmp_path))
        assert len(oracle.pids) == REPORTER_COUNT
        addresses = []
        for url in oracle.urls:
            with ReporterClient(url) as client:
                addresses.append(client.health())
        assert tuple(addresses) == members.reporters
        assert (tmp_path / "logs" / "reporter-1.log").is_file()
    finally:
        oracle.stop()
    assert reporter_processes(tmp_path) == []
    assert oracle.pids == []


def test_a_reporter_that_cannot_start_stops_the_others(tmp_path: Path) -> None:
    oracle_members(tmp_path)
    (tmp_path / "logs" / "reporter-3.log").mkdir(parents=True)  # where its log should be written
    oracle = network(tmp_path)

    with pytest.raises(IsADirectoryError, match=r"reporter-3\.log"):
        oracle.start()

    assert reporter_processes(tmp_path) == []  # the three that started are stopped
    assert oracle.pids == []
    with pytest.raises(RuntimeError, match="not running"):
        oracle.tick()


def test_a_reporter_whose_process_fails_names_its_log(tmp_path: Path) -> None:
    oracle_members(tmp_path)
    chain = InProcessChain(SignerRegistry.anvil(10))
    no_feeds = IssuanceDeployment(chain.chain_id, NO_ADDRESS, NO_ADDRESS, ())
    url = sqlite_url(tmp_path / "equitoken.sqlite")
    # Alpaca prices without tickers: every reporter refuses its command line and exits.
    oracle = OracleNetwork(
        tmp_path, url, chain, chain.accounts[9], no_feeds, reporter_args=("--prices", "alpaca")
    )

    with pytest.raises(
        ReporterUnavailableError, match=r"exited with 2 before serving; see .*reporter-\d\.log"
    ):
        oracle.start()

    assert reporter_processes(tmp_path) == []
    assert "--prices alpaca needs --tickers" in (tmp_path / "logs" / "reporter-1.log").read_text()


def test_a_key_that_is_not_a_key_is_refused_before_any_reporter_starts(tmp_path: Path) -> None:
    oracle_members(tmp_path)
    key_path(tmp_path, 3).write_text("not a key\n")

    with pytest.raises(ReporterKeyError, match=r"reporter-3\.key does not hold a 0x-hex private key"):
        network(tmp_path).start()

    assert reporter_processes(tmp_path) == []


def result(ticker: str, outcome: TransmitOutcome, reason: PushReason | None = None) -> TransmitResult:
    return TransmitResult(
        ticker, 7, outcome, reason, detail="2 acceptable observations, the feed's quorum is 3"
    )


def test_the_round_log_counts_rounds_and_says_a_feeds_trouble_once() -> None:
    log = RoundLog(lambda: "Mon 2025-12-01 14:31")
    sent = TransmitOutcome.SENT
    below = TransmitOutcome.BELOW_QUORUM

    assert log.summary([result("AAPL", TransmitOutcome.NOT_DUE)]) is None
    assert log.summary(
        [result("AAPL", sent, PushReason.HEARTBEAT), result("MSFT", sent, PushReason.DEVIATION)]
    ) == ("oracle: 2 rounds sent (deviation, heartbeat) at Mon 2025-12-01 14:31 market time")
    assert log.summary([result("AAPL", below)]) == (
        "oracle: AAPL round 7 below_quorum: 2 acceptable observations, the feed's quorum is 3"
    )
    assert log.summary([result("AAPL", below)]) is None  # the same trouble every second: said once
    assert log.summary([result("AAPL", sent, PushReason.STATUS_CHANGE)]) == (
        "oracle: 1 round sent (status_change) at Mon 2025-12-01 14:31 market time"
    )
    assert log.summary([result("AAPL", below)]) is not None  # back again after a round: said again
