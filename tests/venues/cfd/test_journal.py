"""The CFD journal on disk: a restart replays to the same state, a torn tail is dropped."""

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.errors import InsufficientMarginError
from equitoken.venues.cfd.instruments import CfdInstrument, CfdSettings
from equitoken.venues.cfd.journal import MAGIC, read_cfd_journal
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.journal import FsyncPolicy, JournalError, frame, read_frames

from .builders import (
    FRIDAY_AFTER_CLOSE,
    FRIDAY_OPEN,
    OTHER_SYMBOL,
    OTHER_TRADER,
    SYMBOL,
    TRADER,
    instruments,
    price,
    shares,
    usdc,
)


def busy_venue(path: Path, clock: ManualClock) -> CfdVenue:
    """Return a journaled venue after deposits, trades, a refusal, a stop-out, a split and financing."""
    venue = CfdVenue.start(path, instruments(), clock)
    venue.deposit(TRADER, usdc(1_000), "d1")
    venue.deposit(OTHER_TRADER, usdc(5_000), "d2")
    venue.on_price(SYMBOL, price(200), MarketStatus.OPEN, clock.now())
    venue.on_price(OTHER_SYMBOL, price(100), MarketStatus.OPEN, clock.now())
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(20))
    venue.open_position(OTHER_TRADER, OTHER_SYMBOL, CfdSide.SHORT, shares(30), 3)
    venue.open_position(OTHER_TRADER, SYMBOL, CfdSide.SHORT, shares(5))
    with pytest.raises(InsufficientMarginError):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(100))
    clock.advance(timedelta(minutes=5))
    venue.on_price(SYMBOL, price(150), MarketStatus.OPEN, clock.now())  # stops TRADER out
    venue.on_price(OTHER_SYMBOL, price(95), MarketStatus.OPEN, clock.now())
    venue.close_position(OTHER_TRADER, 2, shares(10))
    venue.withdraw(OTHER_TRADER, usdc(100), "w1")
    venue.on_split(SYMBOL, 3, 2)
    venue.on_dividend(OTHER_SYMBOL, usdc(1))
    clock.set(FRIDAY_AFTER_CLOSE)
    venue.on_session_close()
    return venue


def test_a_restart_replays_the_journal_to_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    venue = busy_venue(path, ManualClock(FRIDAY_OPEN))
    state = venue.snapshot()
    venue.close()

    restarted = CfdVenue.start(path, instruments(), ManualClock(FRIDAY_AFTER_CLOSE))

    assert restarted.snapshot() == state
    assert restarted.margin(TRADER).balance == 0
    restarted.deposit(TRADER, usdc(10), "d3")
    restarted.close()
    again = CfdVenue.start(path, instruments(), ManualClock(FRIDAY_AFTER_CLOSE))
    assert again.margin(TRADER).balance == usdc(10)
    again.close()


def test_a_refused_command_is_not_journaled(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = CfdVenue.start(path, instruments(), clock)
    venue.deposit(TRADER, usdc(10), "d")
    size = path.stat().st_size

    with pytest.raises(InsufficientMarginError):
        venue.withdraw(TRADER, usdc(11), "w")

    assert path.stat().st_size == size
    venue.close()


def test_a_torn_last_record_is_dropped_and_the_journal_continues(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = busy_venue(path, clock)
    state = venue.snapshot()
    venue.deposit(TRADER, usdc(7), "lost")
    venue.close()
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # the last deposit's record cut short by a crash

    with caplog.at_level(logging.WARNING):
        restarted = CfdVenue.start(path, instruments(), clock)

    assert restarted.snapshot() == state
    assert "torn tail" in caplog.text
    restarted.deposit(TRADER, usdc(7), "lost")
    restarted.close()
    assert read_cfd_journal(path).torn_bytes == 0


def test_per_batch_journals_every_command_by_the_sync(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = CfdVenue.start(path, instruments(), clock, fsync=FsyncPolicy.PER_BATCH)
    venue.deposit(TRADER, usdc(10), "a")
    venue.deposit(TRADER, usdc(10), "b")
    venue.sync()

    assert len(read_cfd_journal(path).payloads) == 2
    venue.close()


def test_a_journal_of_other_terms_or_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    CfdVenue.start(path, instruments(), clock).close()
    foreign = tmp_path / "other"
    foreign.write_bytes(b"not a journal")

    with pytest.raises(JournalError, match="other terms"):
        CfdVenue.start(path, [CfdInstrument(SYMBOL)], clock)
    with pytest.raises(JournalError, match="other terms"):
        CfdVenue.start(path, instruments(), clock, CfdSettings(extended_hours=True))
    with pytest.raises(JournalError, match="not a CFD journal"):
        CfdVenue.start(foreign, instruments(), clock)


def test_a_record_that_replays_to_other_events_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = CfdVenue.start(path, instruments(), clock)
    venue.deposit(TRADER, usdc(10), "d")
    venue.close()
    contents = read_cfd_journal(path)
    # Rewrite the deposit's record with a balance it never had, under a valid checksum.
    forged = contents.payloads[0].replace(b"10000000]]]", b"99000000]]]")
    header = path.read_bytes()[: len(MAGIC) + 8 + len(read_header(path))]
    path.write_bytes(header + frame(forged))

    with pytest.raises(JournalError, match="record 1 replays to other events"):
        CfdVenue.start(path, instruments(), clock)


def read_header(path: Path) -> bytes:
    payloads, _ = read_frames(path.read_bytes(), len(MAGIC))
    return payloads[0]
