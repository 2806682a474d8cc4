"""The CFD venue's command API: one lock around the engine, every accepted command journaled.

`CfdVenue.start(path, instruments, ...)` creates the journal at `path`, or replays it (checking
every record) and continues it; `CfdVenue.in_memory(...)` keeps no journal (tests, simulations).
Each command is stamped with the venue clock's time (a price with its own observation time),
applied to the engine, journaled, and only then answered with its events. A refused command raises
its `CfdError` and is neither applied nor journaled.

An open or a close given a client `order_id` trades once: a repeat of the same order id (after a
crash, say, between the fill and the caller's record of it) is answered with the first fill's
events and is not journaled; the same order id on another order raises `ConflictingOrderError`.
"""

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Self

from equitoken.market.calendar import MarketCalendar
from equitoken.model.time import Clock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.commands import (
    ORDERS,
    Close,
    Command,
    Deposit,
    Dividend,
    MarkPrice,
    Open,
    SessionClose,
    Split,
    Withdraw,
    to_micros,
)
from equitoken.venues.cfd.engine import CfdEngine
from equitoken.venues.cfd.events import Event
from equitoken.venues.cfd.instruments import CfdInstrument, CfdSettings
from equitoken.venues.cfd.journal import CfdJournal, canonical, read_cfd_journal, replay
from equitoken.venues.cfd.margin import AccountMargin
from equitoken.venues.cfd.positions import CfdSide, Position
from equitoken.venues.cfd.pricing import Quote
from equitoken.venues.exchange.journal import FsyncPolicy, JournalError


class CfdVenue:
    """Contracts for difference on USDC accounts, priced off the oracle."""

    def __init__(self, engine: CfdEngine, clock: Clock, journal: CfdJournal | None = None) -> None:
        self.engine = engine
        self.journal = journal
        self._clock = clock
        self._lock = threading.Lock()

    @classmethod
    def in_memory(
        cls,
        instruments: Sequence[CfdInstrument],
        clock: Clock,
        settings: CfdSettings | None = None,
        calendar: MarketCalendar | None = None,
    ) -> Self:
        """Return a venue that journals nothing."""
        return cls(CfdEngine(instruments, settings or CfdSettings(), calendar), clock)

    @classmethod
    def start(
        cls,
        path: Path,
        instruments: Sequence[CfdInstrument],
        clock: Clock,
        settings: CfdSettings | None = None,
        *,
        fsync: FsyncPolicy = FsyncPolicy.PER_RECORD,
        calendar: MarketCalendar | None = None,
    ) -> Self:
        """Create the journal at `path`, or replay it and continue; refuse a journal of other terms."""
        terms = tuple(instruments)
        settings = settings or CfdSettings()
        if not path.exists():
            engine = CfdEngine(terms, settings, calendar)
            return cls(engine, clock, CfdJournal.create(path, terms, settings, fsync))
        contents = read_cfd_journal(path)
        if contents.instruments != terms or contents.settings != settings:
            raise JournalError(
                f"{path} journals a CFD venue with other terms: {contents.instruments} {contents.settings}"
            )
        engine = replay(contents, path, calendar)
        return cls(engine, clock, CfdJournal.reopen(path, contents, fsync))

    # Commands

    def deposit(self, account: int, amount: int, deposit_id: str) -> list[Event]:
        """Credit `amount` USDC units to `account` (no-op, [] , for a `deposit_id` already credited)."""
        return self._run(Deposit(account, amount, deposit_id, self._now()))

    def withdraw(self, account: int, amount: int, withdrawal_id: str) -> list[Event]:
        """Debit `amount` USDC units, at most the balance and the free margin."""
        return self._run(Withdraw(account, amount, withdrawal_id, self._now()))

    def open_position(
        self,
        account: int,
        symbol: str,
        side: CfdSide,
        size: int,
        leverage: int | None = None,
        *,
        order_id: str = "",
    ) -> list[Event]:
        """Open a position at market: `size` in 10^-18 share, leverage 1:N (None: the maximum); once per
        `order_id` if one is given (a repeat answers the first fill's events)."""
        if leverage is None:
            leverage = (
                self.engine.instruments[symbol].max_leverage if symbol in self.engine.instruments else 1
            )
        return self._run(Open(account, symbol, int(side), size, leverage, self._now(), order_id))

    def close_position(
        self, account: int, position_id: int, size: int | None = None, *, order_id: str = ""
    ) -> list[Event]:
        """Close `size` of a position at market (all of it if None); once per `order_id` if one is given."""
        return self._run(Close(account, position_id, 0 if size is None else size, self._now(), order_id))

    def on_price(self, symbol: str, price: int, status: MarketStatus, time: datetime) -> list[Event]:
        """Take the oracle's price (10^-8 USD per share) and status at `time`; stop out who must be."""
        return self._run(MarkPrice(symbol, price, int(status), to_micros(time)))

    def on_session_close(self, time: datetime | None = None) -> list[Event]:
        """Charge overnight financing for the last session closed by `time` (the clock's now if None)."""
        return self._run(SessionClose(to_micros(time) if time is not None else self._now()))

    def on_split(self, symbol: str, numerator: int, denominator: int) -> list[Event]:
        """Adjust `symbol`'s positions for a split of `numerator` new shares per `denominator` old."""
        return self._run(Split(symbol, numerator, denominator, self._now()))

    def on_dividend(self, symbol: str, amount_per_share: int) -> list[Event]:
        """Record a dividend on the underlying; CFDs carry no shareholder rights, so nothing is paid."""
        return self._run(Dividend(symbol, amount_per_share, self._now()))

    def sync(self) -> None:
        """End a batch: make every journaled command durable (PER_BATCH)."""
        if self.journal is not None:
            self.journal.sync()

    def close(self) -> None:
        """Sync and close the journal."""
        if self.journal is not None:
            self.journal.close()

    # Queries

    def margin(self, account: int) -> AccountMargin:
        """Return `account`'s balance, equity, used and free margin, and margin level."""
        with self._lock:
            return self.engine.margin(account)

    def positions(self, account: int | None = None) -> list[Position]:
        """Return copies of the open positions (of `account`, or all)."""
        with self._lock:
            return [replace(p) for p in self.engine.positions(account)]

    def quote(self, symbol: str) -> Quote | None:
        """Return `symbol`'s bid, mid and ask, or None before its first price."""
        with self._lock:
            return self.engine.quote(symbol)

    def snapshot(self) -> bytes:
        """Return the whole state as canonical bytes: equal venues give equal bytes."""
        with self._lock:
            return canonical(self.engine.state())

    def _now(self) -> int:
        return to_micros(self._clock.now())

    def _run(self, command: Command) -> list[Event]:
        with self._lock:
            repeat = (
                isinstance(command, ORDERS)
                and type(command.order_id) is str
                and self.engine.order(command.order_id) is not None
            )
            events = self.engine.apply(command)
            if self.journal is not None and not repeat:
                self.journal.append(command, events)
            return events
