"""The CFD venue's durable journal, in the exchange journal's record format, and its replay.

File format: the magic `EQCFDJOURNAL v1`, then records framed as the exchange's (`length: u32`,
`crc32: u32`, payload; `equitoken.venues.exchange.journal.frame`). Payloads are canonical JSON:
record 0 is `{"instruments": [...], "settings": {...}}`; every later record is
`[[command name, *fields], [[event name, *fields], ...]]`. An open or a close without a client
order id is written without its last field, `order_id`, as journals from before order ids hold it;
a repeated order id is answered from the engine and not journaled again (it changed nothing).

A record is written after the engine applied its command, and the caller is answered once it is
durable under the `FsyncPolicy` (the exchange's). A refused command is not journaled: it changed
nothing. After a crash the file may end in a torn record: reopening logs and truncates it. Replay
re-applies each command to a new engine and checks it gives byte for byte the journaled events.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from equitoken.market.calendar import MarketCalendar
from equitoken.venues.cfd.commands import COMMANDS, ORDERS, Command
from equitoken.venues.cfd.engine import CfdEngine
from equitoken.venues.cfd.errors import CfdError
from equitoken.venues.cfd.events import EVENTS, Event
from equitoken.venues.cfd.instruments import (
    CfdInstrument,
    CfdSettings,
    instrument_from_state,
    settings_from_state,
)
from equitoken.venues.exchange.journal import FsyncPolicy, JournalError, frame, read_frames

MAGIC = b"EQCFDJOURNAL v1"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CfdJournalContents:
    """A CFD journal file's terms, its whole records, where they end and the torn bytes after."""

    instruments: tuple[CfdInstrument, ...]
    settings: CfdSettings
    payloads: tuple[bytes, ...]
    end: int
    torn_bytes: int


def encode_record(command: Command, events: list[Event]) -> bytes:
    """Return the canonical payload of a command and its events."""
    fields = list(command)
    if isinstance(command, ORDERS) and command.order_id == "":
        fields.pop()
    return canonical([[type(command).__name__, *fields], [[type(e).__name__, *e] for e in events]])


def decode_command(payload: bytes, number: int = 0) -> Command:
    """Return the command of a payload written by `encode_record`."""
    try:
        match json.loads(payload):
            case [[str(name), *fields], list()] if name in COMMANDS:
                kind = COMMANDS[name]
                # An order's order_id may be absent: written without one, or before order ids.
                sizes = (len(kind._fields), len(kind._fields) - 1) if kind in ORDERS else (len(kind._fields),)
                if len(fields) not in sizes or not all(type(f) in (int, str) for f in fields):
                    raise ValueError(f"{name} fields {fields!r} do not match {kind._fields}")
                return kind(*fields)
        raise ValueError("not [command, events]")
    except (ValueError, TypeError) as error:
        raise JournalError(f"CFD journal record {number} is not a command and its events: {error}") from None


def decode_events(payload: bytes) -> list[Event]:
    """Return the events of a payload written by `encode_record`."""
    return [EVENTS[name](*fields) for name, *fields in json.loads(payload)[1]]


def read_cfd_journal(path: Path) -> CfdJournalContents:
    """Read a CFD journal, stopping at a torn tail (reported, not removed)."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise JournalError(f"{path} is not a CFD journal (it does not start with {MAGIC!r})")
    payloads, end = read_frames(data, len(MAGIC))
    if not payloads:
        raise JournalError(f"{path} has no complete header record")
    try:
        header = json.loads(payloads[0])
        instruments = tuple(instrument_from_state(i) for i in header["instruments"])
        settings = settings_from_state(header["settings"])
    except (ValueError, KeyError, TypeError) as error:
        raise JournalError(f"{path}: the header holds no valid CFD terms: {error}") from None
    return CfdJournalContents(instruments, settings, tuple(payloads[1:]), end, len(data) - end)


def replay(contents: CfdJournalContents, path: Path, calendar: MarketCalendar | None = None) -> CfdEngine:
    """Rebuild the engine a journal describes, checking each command gives its journaled events."""
    engine = CfdEngine(contents.instruments, contents.settings, calendar)
    for number, payload in enumerate(contents.payloads, start=1):
        command = decode_command(payload, number)
        try:
            events = engine.apply(command)
        except CfdError as error:
            raise JournalError(f"{path}: record {number} is refused on replay: {error}") from None
        if encode_record(command, events) != payload:
            raise JournalError(f"{path}: record {number} replays to other events than it recorded")
    return engine


class CfdJournal:
    """Append CFD records to a file under an fsync policy."""

    def __init__(self, path: Path, file: BinaryIO, fsync: FsyncPolicy) -> None:
        self.path = path
        self.fsync = fsync
        self._file = file

    @classmethod
    def create(
        cls,
        path: Path,
        instruments: tuple[CfdInstrument, ...],
        settings: CfdSettings,
        fsync: FsyncPolicy = FsyncPolicy.PER_RECORD,
    ) -> Self:
        """Start a journal for a venue with these terms; refuse to overwrite a file."""
        try:
            file = path.open("xb")
        except FileExistsError:
            raise JournalError(f"{path} already exists; open it to continue it") from None
        journal = cls(path, file, fsync)
        file.write(MAGIC)
        file.write(frame(header(instruments, settings)))
        journal.sync()
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return journal

    @classmethod
    def reopen(cls, path: Path, contents: CfdJournalContents, fsync: FsyncPolicy) -> Self:
        """Continue a journal read by `read_cfd_journal`, truncating a torn tail with a log line."""
        file = path.open("r+b")
        if contents.torn_bytes:
            log.warning(
                "CFD journal %s: torn tail of %d bytes after byte %d (a write cut short by a crash); "
                "truncated",
                path,
                contents.torn_bytes,
                contents.end,
            )
            file.truncate(contents.end)
            os.fsync(file.fileno())
        file.seek(contents.end)
        return cls(path, file, fsync)

    def append(self, command: Command, events: list[Event]) -> None:
        """Append one command and its events; durable now under PER_RECORD, at `sync` under PER_BATCH."""
        self._file.write(frame(encode_record(command, events)))
        if self.fsync is FsyncPolicy.PER_RECORD:
            self.sync()

    def sync(self) -> None:
        """Make every appended record durable."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Sync and close the file."""
        if not self._file.closed:
            self.sync()
            self._file.close()


def header(instruments: tuple[CfdInstrument, ...], settings: CfdSettings) -> bytes:
    """Return the header record's payload for these terms."""
    return canonical({"instruments": [i.state() for i in instruments], "settings": settings.state()})


def canonical(value: object) -> bytes:
    """Return `value` as canonical JSON (no spaces, keys sorted, ASCII), as the exchange journals it."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()
