"""The journal: record format, torn tails, restarts, tampering, and a real process killed mid-stream."""

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bench.book import RULES, order_stream

from equitoken.venues.exchange.book import Book
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
from equitoken.venues.exchange.journal import (
    MAGIC,
    FsyncPolicy,
    Journal,
    JournaledBook,
    JournalError,
    decode_record,
    encode_record,
    read_journal,
    replay,
)
from equitoken.venues.exchange.orders import (
    Amend,
    Cancel,
    CancelReason,
    Command,
    OrderType,
    RejectReason,
    Side,
    Submit,
    TimeInForce,
)

from .builders import rules

REPO = Path(__file__).resolve().parents[3]
STREAM = order_stream(2_000, seed=7)


def fed(commands: list[Command]) -> Book:
    """Return a fresh book that was given `commands`."""
    book = Book(RULES)
    for command in commands:
        book.apply(command)
    return book


def journal_of(path: Path, commands: list[Command], fsync: FsyncPolicy = FsyncPolicy.PER_BATCH) -> None:
    book = JournaledBook.open(path, RULES, fsync)
    for command in commands:
        book.apply(command)
    book.close()


def test_a_record_of_every_command_and_event_kind_decodes_to_itself() -> None:
    command = Submit(3, "client é", Side.SELL, OrderType.LIMIT, 10_000, 10**9, TimeInForce.IOC, True)
    events: list[Event] = [
        Accepted(1, 3, "client é", Side.SELL, OrderType.LIMIT, 10_000, 10**9, TimeInForce.IOC, True),
        Filled(7, 1, 2, 3, Side.SELL, 10_000, 10**8, 10_000_000, -2_000, 5_000),
        Cancelled(1, 3, 9 * 10**8, CancelReason.UNFILLED),
        Rejected(3, "", 9, RejectReason.UNKNOWN_ORDER),
        Amended(7, 2, 10_001, 10**8, False),
    ]
    for each in (command, Cancel(3, 9), Amend(2, 7, 10_001, 10**8)):
        record = decode_record(encode_record(each, events))

        assert record.command == each
        assert list(record.events) == events
        assert [type(e) for e in record.events] == [type(e) for e in events]
    assert encode_record(command, events).isascii()


def test_replay_rebuilds_the_book_and_restart_continues_it(tmp_path: Path) -> None:
    path = tmp_path / "book.journal"
    journal_of(path, STREAM[:1_200], FsyncPolicy.PER_RECORD)

    assert replay(path).snapshot() == fed(STREAM[:1_200]).snapshot()

    journal_of(path, STREAM[1_200:])  # reopened: replays, then appends

    assert replay(path).snapshot() == fed(STREAM).snapshot()
    assert [r.command for r in read_journal(path).records()] == STREAM


@pytest.mark.parametrize("cut", [1, 7, 8, 20])
def test_a_torn_tail_is_logged_and_truncated_on_reopening(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, cut: int
) -> None:
    path = tmp_path / "book.journal"
    journal_of(path, STREAM[:300])
    whole = path.read_bytes()
    journal_of(path, STREAM[300:301])
    path.write_bytes(path.read_bytes()[: len(whole) + cut])  # the 301st record cut short

    with caplog.at_level(logging.WARNING):
        reopened = JournaledBook.open(path, RULES)
    reopened.close()

    assert f"torn tail of {cut} bytes after byte {len(whole)}" in caplog.text
    assert path.read_bytes() == whole
    assert reopened.book.snapshot() == fed(STREAM[:300]).snapshot()


def test_a_last_record_failing_its_checksum_is_a_torn_tail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "book.journal"
    journal_of(path, STREAM[:50])
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING):
        book = replay(path)

    assert "ignoring a torn tail" in caplog.text
    assert book.snapshot() == fed(STREAM[:49]).snapshot()


def test_a_record_whose_events_do_not_replay_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.journal"
    journal = Journal.create(path, RULES)
    command = STREAM[0]
    journal.append(command, [Rejected(1, "", 0, RejectReason.NO_LIQUIDITY)])  # not what the book answers
    journal.close()

    with pytest.raises(JournalError, match="record 1 replays to other events than it recorded"):
        replay(path)


def test_files_that_are_not_journals_or_of_other_rules_are_refused(tmp_path: Path) -> None:
    stranger, journal, headless = tmp_path / "stranger", tmp_path / "book.journal", tmp_path / "headless"
    stranger.write_bytes(b"hello")
    headless.write_bytes(MAGIC + b"\x00\x00")
    journal_of(journal, STREAM[:5])
    before = journal.read_bytes()

    with pytest.raises(JournalError, match="is not an order book journal"):
        replay(stranger)
    with pytest.raises(JournalError, match="has no complete header record"):
        replay(headless)
    with pytest.raises(JournalError, match="journals a book with other rules"):
        JournaledBook.open(journal, rules())
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(journal, RULES)
    assert journal.read_bytes() == before


def test_a_garbled_record_with_a_valid_checksum_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "book.journal"
    journal = Journal.create(path, RULES)
    journal._write(b'[["Submit",1],[]]')
    journal.close()

    with pytest.raises(JournalError, match="journal record 1 is not a valid command and events"):
        replay(path)


@pytest.mark.crash
def test_a_process_killed_mid_stream_replays_to_the_book_of_its_journaled_commands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "book.journal"
    count, batch = 40_000, 50
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.venues.exchange.journal_worker", str(path), str(count), str(batch)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert worker.stdout is not None
    synced = 0
    while synced < 1_000:
        line = worker.stdout.readline()
        assert line, "the worker ended before it was killed"
        synced = int(line.split()[1])
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    stream = order_stream(count)

    contents = read_journal(path)
    journaled = len(contents.payloads)

    assert worker.returncode == -signal.SIGKILL
    assert synced <= journaled < count
    assert [r.command for r in contents.records()] == stream[:journaled]
    assert replay(path).snapshot() == fed(stream[:journaled]).snapshot()

    with caplog.at_level(logging.WARNING):
        restarted = JournaledBook.open(path, RULES)
    for command in stream[journaled : journaled + 500]:
        restarted.apply(command)
    restarted.close()

    if contents.torn_bytes:
        assert "torn tail" in caplog.text
    assert replay(path).snapshot() == fed(stream[: journaled + 500]).snapshot()
