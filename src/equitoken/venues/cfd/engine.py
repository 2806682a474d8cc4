"""The CFD engine: applies one command at a time to accounts, positions and prices; no I/O.

Every command is checked in full before anything changes: a refused command raises a `CfdError`
and leaves the state as it was. An accepted command returns its events. The same commands applied
in the same order to a new engine give the same events and state, which is what the journal's
replay relies on (`journal.py`).

Balances live in the exchange's `Accounts` (asset USDC), with the venue itself as the other side
of every profit, loss and financing charge: account `HOUSE_ACCOUNT`, whose balance may go negative
(the venue paid out more than it took). Per asset the sum of every balance, the house's included,
equals deposits minus withdrawals.

Trading (open and close) needs: a known instrument with a price, not HALTED, no older than the
instrument's `max_price_age_s`, at a time in the regular session of the real calendar (or in the
pre- and post-market when `extended_hours` is on; the oracle may then report CLOSED). Stop-outs
and financing happen whatever the session.

An open or a close with a client `order_id` is applied once: the engine keeps each applied order
id with the order's parameters and its events, answers a repeat with those events and changes
nothing, and refuses the id on an order with other parameters (`ConflictingOrderError`). A refused
order is not remembered: it changed nothing, so its id may be tried again.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

from equitoken.market.calendar import MarketCalendar, SessionPhase
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd import events as ev
from equitoken.venues.cfd.commands import (
    Close,
    Command,
    Deposit,
    Dividend,
    MarkPrice,
    Open,
    SessionClose,
    Split,
    Withdraw,
    from_micros,
)
from equitoken.venues.cfd.corporate import split_entry, split_price, split_size
from equitoken.venues.cfd.errors import (
    CloseTooLargeError,
    ConflictingOrderError,
    FinancingAlreadyChargedError,
    InsufficientMarginError,
    InvalidCommandError,
    InvalidSizeError,
    LeverageTooHighError,
    MarketClosedError,
    MarketHaltedError,
    OutOfOrderPriceError,
    StalePriceError,
    UnknownCfdAccountError,
    UnknownCfdInstrumentError,
    UnknownPositionError,
)
from equitoken.venues.cfd.financing import financing, nights_after
from equitoken.venues.cfd.instruments import CfdInstrument, CfdSettings
from equitoken.venues.cfd.margin import AccountMargin, account_margin, largest_loss, position_margin
from equitoken.venues.cfd.positions import CfdSide, CloseReason, Position
from equitoken.venues.cfd.pricing import Quote, notional, quote
from equitoken.venues.exchange.accounts import USDC, Accounts

HOUSE_ACCOUNT = -2
"""The venue's own account: the other side of every CFD profit, loss and financing charge."""

_MICROS = 1_000_000
MAX_ORDER_ID = 128
"""The longest client order id, in characters."""


class OrderOutcome(NamedTuple):
    """What an order id was applied to (command name and fields, time and id left out) and its events."""

    order: tuple[object, ...]
    events: tuple[ev.Event, ...]


class Mark:
    """An instrument's last oracle price, status and time, with the venue's quote around it."""

    __slots__ = ("at_us", "quote", "status")

    def __init__(self, q: Quote, status: MarketStatus, at_us: int) -> None:
        self.quote = q
        self.status = status
        self.at_us = at_us


class CfdEngine:
    """Accounts, positions and prices of the CFD venue."""

    def __init__(
        self,
        instruments: Sequence[CfdInstrument],
        settings: CfdSettings,
        calendar: MarketCalendar | None = None,
    ) -> None:
        symbols = [i.symbol for i in instruments]
        if not symbols or len(set(symbols)) != len(symbols):
            raise ValueError(f"instruments {symbols!r} must be at least one, without repeats")
        self.instruments = {i.symbol: i for i in instruments}
        self.settings = settings
        self.calendar = calendar if calendar is not None else MarketCalendar(settings.exchange)
        self.accounts = Accounts([USDC])
        self._known: dict[int, dict[int, Position]] = {}
        self._by_symbol: dict[str, dict[int, Position]] = {s: {} for s in symbols}
        self._positions: dict[int, Position] = {}
        self._marks: dict[str, Mark] = {}
        self._quotes: dict[str, Quote] = {}
        self._withdrawals: set[str] = set()
        self._orders: dict[str, OrderOutcome] = {}
        self._margin_called: set[int] = set()
        self._last_session: str | None = None
        self._next_id = 1
        # Each symbol's splits so far, as one ratio (new, old) in lowest terms.
        self._splits: dict[str, tuple[int, int]] = dict.fromkeys(symbols, (1, 1))

    # Commands

    def apply(self, command: Command) -> list[ev.Event]:
        """Apply one command; raise a `CfdError` (changing nothing) if it is refused."""
        match command:
            case Open() | Close():
                return self._order(command)
            case MarkPrice():
                return self._mark(command)
            case Deposit():
                return self._deposit(command)
            case Withdraw():
                return self._withdraw(command)
            case SessionClose():
                return self._session_close(command)
            case Split():
                return self._split(command)
            case Dividend():
                self._instrument(command.symbol)
                _positive(command.amount_per_share, "dividend per share")
                return [ev.DividendIgnored(command.symbol, command.amount_per_share)]
        raise InvalidCommandError(f"{command!r} is not a CFD command")

    # Queries

    def margin(self, account: int) -> AccountMargin:
        """Return `account`'s balance, equity, used and free margin and margin level."""
        positions = self._account(account)
        return account_margin(self.balance(account), positions.values(), self._quotes)

    def balance(self, account: int) -> int:
        """Return `account`'s USDC balance (the house's may be negative)."""
        return self.accounts.balance(account, USDC).available

    def accounts_known(self) -> list[int]:
        """Return every account that deposited, in order."""
        return sorted(self._known)

    def positions(self, account: int | None = None) -> list[Position]:
        """Return the open positions (of `account`, or all), oldest first."""
        if account is None:
            return list(self._positions.values())
        return list(self._account(account).values())

    def position(self, position_id: int) -> Position:
        """Return an open position; raise UnknownPositionError if it is not open."""
        position = self._positions.get(position_id)
        if position is None:
            raise UnknownPositionError(f"position {position_id} is not open")
        return position

    def quote(self, symbol: str) -> Quote | None:
        """Return the venue's bid, mid and ask for `symbol`, or None before its first price."""
        self._instrument(symbol)
        return self._quotes.get(symbol)

    def split_ratio(self, symbol: str) -> tuple[int, int]:
        """Return the splits applied to `symbol` so far as one ratio (new, old) in lowest terms."""
        self._instrument(symbol)
        return self._splits[symbol]

    def order(self, order_id: str) -> OrderOutcome | None:
        """Return what client order id `order_id` was applied to and its events, or None if it was not."""
        return self._orders.get(order_id)

    def state(self) -> dict[str, object]:
        """Return everything the engine holds, JSON-ready: equal engines give equal states."""
        return {
            "balances": [[a, b.available] for (a, _), b in self.accounts.balances().items()],
            "deposited": self.accounts.deposited(USDC),
            "withdrawn": self.accounts.withdrawn(USDC),
            "known": sorted(self._known),
            "positions": [p.state() for p in self._positions.values()],
            "marks": {s: [*m.quote, int(m.status), m.at_us] for s, m in sorted(self._marks.items())},
            "withdrawals": sorted(self._withdrawals),
            "orders": {
                order_id: [list(o.order), [[type(e).__name__, *e] for e in o.events]]
                for order_id, o in sorted(self._orders.items())
            },
            "margin_called": sorted(self._margin_called),
            "last_session": self._last_session,
            "next_id": self._next_id,
            "splits": {s: list(r) for s, r in sorted(self._splits.items())},
        }

    # Trading

    def _order(self, command: Open | Close) -> list[ev.Event]:
        order_id = command.order_id
        if type(order_id) is not str or len(order_id) > MAX_ORDER_ID:
            raise InvalidCommandError(
                f"order id {order_id!r} must be a string of at most {MAX_ORDER_ID} characters"
            )
        if not order_id:
            return self._open(command) if isinstance(command, Open) else self._close(command)
        order = (type(command).__name__, *command[:-2])
        done = self._orders.get(order_id)
        if done is not None:
            if done.order != order:
                raise ConflictingOrderError(
                    f"order id {order_id!r} was already used for {_describe(done.order)}, not "
                    f"{_describe(order)}; give a new order a new order id"
                )
            return list(done.events)
        events = self._open(command) if isinstance(command, Open) else self._close(command)
        self._orders[order_id] = OrderOutcome(order, tuple(events))
        return events

    def _open(self, command: Open) -> list[ev.Event]:
        positions = self._account(command.account)
        instrument = self._instrument(command.symbol)
        side = _side(command.side)
        _positive(command.size, "size")
        if command.size < instrument.min_size:
            raise InvalidSizeError(
                f"size {command.size} is below {command.symbol}'s minimum {instrument.min_size}"
            )
        if type(command.leverage) is not int or not 1 <= command.leverage <= instrument.max_leverage:
            raise LeverageTooHighError(
                f"leverage {command.leverage!r} must be 1 to {command.symbol}'s maximum "
                f"{instrument.max_leverage}"
            )
        q = self._tradable(instrument, command.at_us)
        position = Position(
            self._next_id,
            command.account,
            command.symbol,
            side,
            command.size,
            q.ask if side is CfdSide.LONG else q.bid,
            command.leverage,
            command.at_us,
        )
        before = self.margin(command.account)
        margin = position_margin(command.size, q.mid, command.leverage)
        free = before.free_margin + position.unrealized(q) - margin
        if free < 0:
            raise InsufficientMarginError(
                f"account {command.account} has {before.free_margin} USDC units of free margin; opening "
                f"{command.size} {command.symbol} at 1:{command.leverage} needs {before.free_margin - free}"
            )
        self._next_id += 1
        positions[position.position_id] = position
        self._positions[position.position_id] = position
        self._by_symbol[command.symbol][position.position_id] = position
        events: list[ev.Event] = [
            ev.Opened(
                position.position_id,
                command.account,
                command.symbol,
                int(side),
                command.size,
                position.entry_price,
                command.leverage,
                margin,
            )
        ]
        self._check_margin(command.account, events)
        return events

    def _close(self, command: Close) -> list[ev.Event]:
        positions = self._account(command.account)
        position = positions.get(command.position_id) if type(command.position_id) is int else None
        if position is None:
            raise UnknownPositionError(
                f"position {command.position_id!r} is not an open position of account {command.account}"
            )
        if type(command.size) is not int or command.size < 0:
            raise InvalidSizeError(f"size {command.size!r} must be positive (or 0 to close it all)")
        size = command.size or position.size
        if size > position.size:
            raise CloseTooLargeError(
                f"position {position.position_id} holds {position.size}; cannot close {command.size}"
            )
        q = self._tradable(self.instruments[position.symbol], command.at_us)
        events: list[ev.Event] = [self._realize(position, size, q, CloseReason.TRADER)]
        self._check_margin(command.account, events)
        return events

    def _deposit(self, command: Deposit) -> list[ev.Event]:
        _account_id(command.account)
        _positive(command.amount, "deposit amount")
        if not self.accounts.credit_deposit(command.account, USDC, command.amount, command.deposit_id):
            return []
        self._known.setdefault(command.account, {})
        return [
            ev.Deposited(command.account, command.amount, command.deposit_id, self.balance(command.account))
        ]

    def _withdraw(self, command: Withdraw) -> list[ev.Event]:
        self._account(command.account)
        _positive(command.amount, "withdrawal amount")
        if command.withdrawal_id in self._withdrawals:
            # A retry: the exchange's accounts answer it (no-op, or ConflictingTransferError).
            self.accounts.request_withdrawal(command.account, USDC, command.amount, command.withdrawal_id)
            return []
        figures = self.margin(command.account)
        allowed = max(0, min(figures.free_margin, figures.balance))
        if command.amount > allowed:
            raise InsufficientMarginError(
                f"account {command.account} may withdraw at most {allowed} USDC units (free margin "
                f"{figures.free_margin}, balance {figures.balance}); not {command.amount}"
            )
        self.accounts.request_withdrawal(command.account, USDC, command.amount, command.withdrawal_id)
        self._withdrawals.add(command.withdrawal_id)
        return [
            ev.Withdrew(command.account, command.amount, command.withdrawal_id, self.balance(command.account))
        ]

    # Market data and the calendar

    def _mark(self, command: MarkPrice) -> list[ev.Event]:
        instrument = self._instrument(command.symbol)
        _positive(command.price, "price")
        try:
            status = MarketStatus(command.status)
        except ValueError:
            raise InvalidCommandError(f"market status {command.status!r} is not 1, 2 or 3") from None
        if type(command.at_us) is not int:
            raise InvalidCommandError(f"time {command.at_us!r} must be integer microseconds")
        last = self._marks.get(command.symbol)
        if last is not None and command.at_us < last.at_us:
            raise OutOfOrderPriceError(
                f"{command.symbol}: price at {from_micros(command.at_us).isoformat()} is older than the "
                f"last one, at {from_micros(last.at_us).isoformat()}"
            )
        q = quote(command.price, instrument.spread_bps)
        self._marks[command.symbol] = Mark(q, status, command.at_us)
        self._quotes[command.symbol] = q
        events: list[ev.Event] = []
        for account in sorted({p.account for p in self._by_symbol[command.symbol].values()}):
            self._check_margin(account, events)
        return events

    def _session_close(self, command: SessionClose) -> list[ev.Event]:
        at = from_micros(command.at_us)
        session = self.calendar.previous_session(at)
        if session is None:
            raise FinancingAlreadyChargedError(f"no session has closed by {at.isoformat()}")
        if self._last_session is not None and session.date.isoformat() <= self._last_session:
            raise FinancingAlreadyChargedError(
                f"the financing of the session of {self._last_session} is already charged; the next "
                f"charge is due after the next session closes"
            )
        nights = nights_after(self.calendar, session)
        self._last_session = session.date.isoformat()
        events: list[ev.Event] = []
        for position in list(self._positions.values()):
            instrument = self.instruments[position.symbol]
            size_notional = notional(position.size, self._quotes[position.symbol].mid)
            amount = financing(instrument, position.side, size_notional, nights)
            if amount:
                self._pay(position.account, amount)
            events.append(
                ev.FinancingCharged(position.position_id, position.account, position.symbol, nights, amount)
            )
        for account in sorted({p.account for p in self._positions.values()}):
            self._check_margin(account, events)
        events.append(ev.SessionClosed(self._last_session, nights))
        return events

    def _split(self, command: Split) -> list[ev.Event]:
        self._instrument(command.symbol)
        n, d = command.numerator, command.denominator
        if type(n) is not int or type(d) is not int or n <= 0 or d <= 0 or n == d:
            raise InvalidCommandError(f"split {n!r} for {d!r} must be two different positive integers")
        mark = self._marks.get(command.symbol)
        events: list[ev.Event] = []
        if mark is not None:
            price = split_price(mark.quote.mid, n, d)
            q = quote(price, self.instruments[command.symbol].spread_bps)
            for position in list(self._by_symbol[command.symbol].values()):
                size = split_size(position.size, n, d)
                if size == 0:
                    # Too small to survive a reverse split: closed at the pre-split price.
                    events.append(self._realize(position, position.size, mark.quote, CloseReason.CORPORATE))
                    continue
                position.size = size
                position.entry_price = split_entry(position, n, d)
                events.append(
                    ev.PositionAdjusted(position.position_id, position.account, size, position.entry_price)
                )
            mark.quote = q
            self._quotes[command.symbol] = q
        events.insert(0, ev.SplitApplied(command.symbol, n, d, mark.quote.mid if mark else 0))
        new, old = self._splits[command.symbol]
        common = math.gcd(new * n, old * d)
        self._splits[command.symbol] = (new * n // common, old * d // common)
        for account in sorted({p.account for p in self._by_symbol[command.symbol].values()}):
            self._check_margin(account, events)
        return events

    # Helpers

    def _realize(self, position: Position, size: int, q: Quote, reason: CloseReason) -> ev.Closed:
        exit_price = position.exit_price(q)
        pnl = position.pnl(size, exit_price)
        self._pay(position.account, pnl)
        position.size -= size
        if position.size == 0:
            del self._positions[position.position_id]
            del self._known[position.account][position.position_id]
            del self._by_symbol[position.symbol][position.position_id]
        return ev.Closed(
            position.position_id,
            position.account,
            position.symbol,
            size,
            exit_price,
            pnl,
            int(reason),
            position.size,
        )

    def _pay(self, account: int, amount: int) -> None:
        self.accounts.move(account, USDC, amount, 0)
        self.accounts.move(HOUSE_ACCOUNT, USDC, -amount, 0)

    def _check_margin(self, account: int, events: list[ev.Event]) -> None:
        positions = self._known[account]
        figures = account_margin(self.balance(account), positions.values(), self._quotes)
        level = figures.level_bps
        if level is not None and level < self.settings.stop_out_bps:
            events.append(ev.StopOut(account, level, figures.equity, figures.used_margin))
            while positions and (level is None or level < self.settings.stop_out_bps):
                worst = largest_loss(positions.values(), self._quotes)
                events.append(
                    self._realize(worst, worst.size, self._quotes[worst.symbol], CloseReason.STOP_OUT)
                )
                figures = account_margin(self.balance(account), positions.values(), self._quotes)
                level = figures.level_bps
            if not positions and figures.balance < 0:
                self._pay(account, -figures.balance)
                events.append(ev.BalanceReset(account, -figures.balance))
        if level is not None and level < self.settings.margin_call_bps:
            if account not in self._margin_called:
                self._margin_called.add(account)
                events.append(ev.MarginCall(account, level))
        else:
            self._margin_called.discard(account)

    def _tradable(self, instrument: CfdInstrument, at_us: int) -> Quote:
        mark = self._marks.get(instrument.symbol)
        if mark is None:
            raise StalePriceError(f"{instrument.symbol} has no price yet")
        if mark.status is MarketStatus.HALTED:
            raise MarketHaltedError(
                f"{instrument.symbol} is halted; trading resumes when the oracle reports it open"
            )
        if at_us - mark.at_us > instrument.max_price_age_s * _MICROS:
            raise StalePriceError(
                f"{instrument.symbol}'s last price, at {from_micros(mark.at_us).isoformat()}, is more than "
                f"{instrument.max_price_age_s} s old"
            )
        at = from_micros(at_us)
        phase = self.calendar.phase_at(at)
        regular = phase is SessionPhase.REGULAR and mark.status is MarketStatus.OPEN
        extended = self.settings.extended_hours and phase is not SessionPhase.CLOSED
        if not (regular or extended):
            raise MarketClosedError(
                f"{instrument.symbol} does not trade at {at.isoformat()} ({phase.value}"
                f"{', oracle ' + mark.status.name.lower() if phase is SessionPhase.REGULAR else ''}); "
                f"next regular open {self.calendar.next_open(at).isoformat()}"
            )
        return mark.quote

    def _instrument(self, symbol: str) -> CfdInstrument:
        instrument = self.instruments.get(symbol) if type(symbol) is str else None
        if instrument is None:
            raise UnknownCfdInstrumentError(
                f"{symbol!r} is not a CFD here; instruments: {', '.join(sorted(self.instruments))}"
            )
        return instrument

    def _account(self, account: int) -> dict[int, Position]:
        positions = self._known.get(account) if type(account) is int else None
        if positions is None:
            raise UnknownCfdAccountError(f"account {account!r} has never deposited with the CFD venue")
        return positions


def _describe(order: tuple[object, ...]) -> str:
    name, *fields = order
    kind = Open if name == "Open" else Close
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in zip(kind._fields, fields, strict=False))})"


def _side(side: int) -> CfdSide:
    try:
        return CfdSide(side)
    except ValueError:
        raise InvalidCommandError(
            f"side {side!r} must be {int(CfdSide.LONG)} (long) or {int(CfdSide.SHORT)} (short)"
        ) from None


def _positive(value: int, what: str) -> None:
    if type(value) is not int or value <= 0:
        raise InvalidSizeError(f"{what} {value!r} must be a positive integer")


def _account_id(account: int) -> None:
    if type(account) is not int or account < 0:
        raise InvalidCommandError(f"account {account!r} must be a non-negative integer")
