"""A durable, append-only journal of a book's commands and events, and the replay that rebuilds the book.

File format (all integers big-endian):
- the 12-byte magic `EQJOURNAL v1`, then records;
- a record is `length: u32`, `crc32(payload): u32`, then `length` bytes of payload;
- a payload is canonical JSON (no spaces, keys sorted, ASCII): record 0 is `{"rules": {...}}`, every
  later record is `[command, [event, ...]]`, each a list whose first element names its type, and a
  command that traded adds what its trades were made under: `[command, [event, ...], {"at": t,
  "status": s}]`, t the time in Unix microseconds (null when the exchange keeps no clock) and s the
  oracle's `MarketStatus`. Records written before this third element existed stay valid.

A record is written after the book has applied its command; the command's caller is answered only
once the record is durable under the fsync policy. After a crash the file may end in a torn record
(short, or failing its checksum): opening the journal for writing logs it and truncates it, so the
journal holds exactly the commands whose answers may have been seen. Replay re-applies each
command to a fresh book and checks that it gives byte for byte the journaled events.
"""

import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import BinaryIO, NamedTuple, Self

from equitoken.model.errors import EquitokenError
from equitoken.model.time import require_aware
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.book import Book
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
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
from equitoken.venues.exchange.rules import BookRules, InvalidRulesError, rules_from_state, rules_state

MAGIC = b"EQJOURNAL v1"
_HEADER = struct.Struct(">II")
_MAX_RECORD = 1 << 24

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

log = logging.getLogger(__name__)


def frame(payload: bytes) -> bytes:
    """Return a record as stored: its length and CRC-32, then the payload."""
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes, offset: int, max_record: int = _MAX_RECORD) -> tuple[list[bytes], int]:
    """Return the whole records of `data` from `offset` and the byte where they end.

    Reading stops at the first record that is cut short, too long or fails its checksum: the torn
    tail a crash in the middle of an append leaves.
    """
    payloads: list[bytes] = []
    while offset + _HEADER.size <= len(data):
        length, checksum = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if length > max_record or len(payload) < length or zlib.crc32(payload) != checksum:
            break
        payloads.append(payload)
        offset = start + length
    return payloads, offset


class JournalError(EquitokenError, RuntimeError):
    """A journal that cannot be read or does not replay to the events it recorded."""


class FsyncPolicy(Enum):
    """When appended records reach the disk: after each record, or when the caller ends a batch."""

    PER_RECORD = "per-record"
    PER_BATCH = "per-batch"


class TradeContext(NamedTuple):
    """What a command's trades were made under: the oracle's market status, and the time (if known)."""

    status: MarketStatus
    at: datetime | None


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One command, the events the book answered it with, and what its trades were made under.

    `context` is None for a command that did not trade (and for any record written before trade
    contexts were journaled).
    """

    command: Command
    events: tuple[Event, ...]
    context: TradeContext | None = None


@dataclass(frozen=True, slots=True)
class JournalContents:
    """What a journal file holds: its rules, its whole records, and where the whole records end."""

    rules: BookRules
    payloads: tuple[bytes, ...]
    end: int
    torn_bytes: int

    def records(self) -> Iterator[JournalRecord]:
        """Decode every record."""
        for number, payload in enumerate(self.payloads, start=1):
            yield decode_record(payload, number)


def encode_record(command: Command, events: list[Event], context: TradeContext | None = None) -> bytes:
    """Return the canonical payload of one command, its events and, if given, its trades' context."""
    record: list[object] = [[type(command).__name__, *command], [[type(e).__name__, *e] for e in events]]
    if context is not None:
        at = context.at
        micros = None if at is None else (require_aware(at, "trade time") - _EPOCH) // _MICROSECOND
        record.append({"at": micros, "status": int(context.status)})
    return _canonical(record)


def decode_record(payload: bytes, number: int = 0) -> JournalRecord:
    """Decode a payload written by `encode_record`; raise JournalError naming the record if it is wrong."""
    try:
        match json.loads(payload):
            case [command_fields, event_fields]:
                context = None
            case [command_fields, event_fields, {"at": at, "status": status}]:
                context = TradeContext(
                    MarketStatus(_int(status)), None if at is None else _EPOCH + _int(at) * _MICROSECOND
                )
            case other:
                raise ValueError(f"{other!r} is not [command, events] or [command, events, context]")
        return JournalRecord(
            _decode_command(command_fields), tuple(_decode_event(e) for e in event_fields), context
        )
    except (ValueError, TypeError, KeyError) as error:
        raise JournalError(f"journal record {number} is not a valid command and events: {error}") from None


def read_journal(path: Path) -> JournalContents:
    """Read a journal file, stopping at a torn tail (which is reported, not removed)."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise JournalError(f"{path} is not an order book journal (it does not start with {MAGIC!r})")
    payloads, offset = read_frames(data, len(MAGIC))
    if not payloads:
        raise JournalError(f"{path} has no complete header record")
    try:
        rules = rules_from_state(json.loads(payloads[0])["rules"])
    except (ValueError, KeyError, TypeError, InvalidRulesError) as error:
        raise JournalError(f"{path}: the header record holds no valid book rules: {error}") from None
    return JournalContents(rules, tuple(payloads[1:]), offset, len(data) - offset)


def replay(path: Path) -> Book:
    """Rebuild the book a journal describes, checking every command gives its journaled events."""
    contents = read_journal(path)
    if contents.torn_bytes:
        log.warning(
            "journal %s: ignoring a torn tail of %d bytes after byte %d",
            path,
            contents.torn_bytes,
            contents.end,
        )
    return _replay(contents, path)


class Journal:
    """Append records to a journal file under an fsync policy."""

    def __init__(self, path: Path, file: BinaryIO, fsync: FsyncPolicy) -> None:
        self.path = path
        self.fsync = fsync
        self._file = file

    @classmethod
    def create(cls, path: Path, rules: BookRules, fsync: FsyncPolicy = FsyncPolicy.PER_RECORD) -> Self:
        """Start a new journal for a book with `rules`; refuse to overwrite an existing file."""
        try:
            file = path.open("xb")
        except FileExistsError:
            raise JournalError(f"{path} already exists; open it to continue it") from None
        journal = cls(path, file, fsync)
        file.write(MAGIC)
        journal._write(_canonical({"rules": rules_state(rules)}))
        journal.sync()
        _fsync_directory(path)
        return journal

    @classmethod
    def reopen(cls, path: Path, contents: JournalContents, fsync: FsyncPolicy) -> Self:
        """Continue a journal read by `read_journal`, truncating its torn tail with a log line."""
        file = path.open("r+b")
        if contents.torn_bytes:
            log.warning(
                "journal %s: torn tail of %d bytes after byte %d (a write cut short by a crash); truncated",
                path,
                contents.torn_bytes,
                contents.end,
            )
            file.truncate(contents.end)
            os.fsync(file.fileno())
        file.seek(contents.end)
        return cls(path, file, fsync)

    def append(self, command: Command, events: list[Event], context: TradeContext | None = None) -> None:
        """Append one command and its events; durable now under PER_RECORD, at `sync` under PER_BATCH."""
        self._write(encode_record(command, events, context))
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

    def _write(self, payload: bytes) -> None:
        self._file.write(frame(payload))


class JournaledBook:
    """A book whose every command is journaled before it is answered; reopening replays the journal."""

    def __init__(self, book: Book, journal: Journal) -> None:
        self.book = book
        self.journal = journal

    @classmethod
    def open(cls, path: Path, rules: BookRules, fsync: FsyncPolicy = FsyncPolicy.PER_RECORD) -> Self:
        """Create the journal at `path`, or replay it and continue; refuse a journal of other rules."""
        if not path.exists():
            return cls(Book(rules), Journal.create(path, rules, fsync))
        contents = read_journal(path)
        if contents.rules != rules:
            raise JournalError(f"{path} journals a book with other rules: {contents.rules}, not {rules}")
        book = _replay(contents, path)
        return cls(book, Journal.reopen(path, contents, fsync))

    def apply(self, command: Command, context: TradeContext | None = None) -> list[Event]:
        """Apply a command to the book and journal it with its events, and with `context` if it traded."""
        events = self.book.apply(command)
        # Only a command that traded needs its context back on replay: the others' records stay short.
        traded = context is not None and any(type(event) is Filled for event in events)
        self.journal.append(command, events, context if traded else None)
        return events

    def sync(self) -> None:
        """End a batch: make every journaled command durable (PER_BATCH)."""
        self.journal.sync()

    def close(self) -> None:
        """Sync and close the journal."""
        self.journal.close()


def replay_record(book: Book, record: JournalRecord, payload: bytes, number: int, path: Path) -> list[Event]:
    """Apply record `number`'s command to `book`; raise unless it gives the events the record holds."""
    events = book.apply(record.command)
    if encode_record(record.command, events, record.context) != payload:
        raise JournalError(f"{path}: record {number} replays to other events than it recorded")
    return events


def _replay(contents: JournalContents, path: Path) -> Book:
    book = Book(contents.rules)
    for number, payload in enumerate(contents.payloads, start=1):
        replay_record(book, decode_record(payload, number), payload, number, path)
    return book


def _canonical(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()


def _fsync_directory(path: Path) -> None:
    # A new file's directory entry is durable only once its directory is synced.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"{value!r} is not an integer")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"{value!r} is not a string")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"{value!r} is not a boolean")
    return value


def _decode_command(fields: list[object]) -> Command:
    match fields:
        case ["Submit", account, client_order_id, side, order_type, price, quantity, tif, post_only]:
            return Submit(
                _int(account),
                _str(client_order_id),
                Side(_int(side)),
                OrderType(_int(order_type)),
                _int(price),
                _int(quantity),
                TimeInForce(_int(tif)),
                _bool(post_only),
            )
        case ["Cancel", account, order_id]:
            return Cancel(_int(account), _int(order_id))
        case ["Amend", account, order_id, price, quantity]:
            return Amend(_int(account), _int(order_id), _int(price), _int(quantity))
    raise ValueError(f"{fields!r} is not a command")


def _decode_event(fields: list[object]) -> Event:
    match fields:
        case [
            "Accepted",
            order_id,
            account,
            client_order_id,
            side,
            order_type,
            price,
            quantity,
            tif,
            post_only,
        ]:
            return Accepted(
                _int(order_id),
                _int(account),
                _str(client_order_id),
                Side(_int(side)),
                OrderType(_int(order_type)),
                _int(price),
                _int(quantity),
                TimeInForce(_int(tif)),
                _bool(post_only),
            )
        case ["Rejected", account, client_order_id, order_id, reason]:
            return Rejected(_int(account), _str(client_order_id), _int(order_id), RejectReason(_int(reason)))
        case ["Filled", maker, taker, maker_account, taker_account, side, *amounts]:
            price, quantity, notional, maker_fee, taker_fee = (_int(a) for a in amounts)
            return Filled(
                _int(maker),
                _int(taker),
                _int(maker_account),
                _int(taker_account),
                Side(_int(side)),
                price,
                quantity,
                notional,
                maker_fee,
                taker_fee,
            )
        case ["Cancelled", order_id, account, quantity, reason]:
            return Cancelled(_int(order_id), _int(account), _int(quantity), CancelReason(_int(reason)))
        case ["Amended", order_id, account, price, quantity, kept_priority]:
            return Amended(_int(order_id), _int(account), _int(price), _int(quantity), _bool(kept_priority))
    raise ValueError(f"{fields!r} is not an event")
