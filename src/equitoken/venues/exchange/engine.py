"""The exchange engine: one journaled book per instrument, with accounts that pay for every order.

Glossary and invariants:
- hold: what an open order keeps locked. A SELL holds its open quantity of tokens. A BUY holds,
  per open lot, one lot's price plus the highest fee one lot can pay at that price, rounded up:
  `per_lot = p*u + ceil(p*u*bps/10^4)` USDC units, where p is the price in ticks, u the USDC units
  of one tick times one lot, and bps the larger of the maker and taker fee (0 if both are rebates).
  Fees round up per fill, and a fill of k lots at a price at or below p never costs more than
  k*per_lot, so the hold always covers it.
- a MARKET BUY (which never rests) holds at a protective bound: the price of the deepest ask
  level it could reach, walking the book's asks past the account's own orders until its quantity
  is covered (or the whole side if it is not). Its fills are at or below that price.
- locked balances equal exactly what the open orders hold: a fill releases its lots' hold and
  pays from it, returning the rest; a cancellation releases the order's whole hold; an amendment
  moves the hold to the new price and quantity.
- every command goes through the instrument's `JournaledBook`; deposits and withdrawals go
  through the accounts' ledger journal. Settlement is derived from the journaled events only,
  so reopening the directory replays both journals to the same balances and books.

The oracle's market status is read for each command: a HALTED instrument refuses new orders and
amendments (cancels still go through), and every trade carries the status it was made under and
its time. Both are journaled with the command that traded, so each instrument's latest
`RECENT_TRADES` trades are rebuilt on replay (`recent_trades`) as they were before a restart.

Trades go on the venue tape in shares (`VenueTrade.of_tokens`): the book trades raw token units at
prices per whole raw token, and `multipliers(ticker, time)` gives the token's UI multiplier in force
when the trade was made (1.0 for every token when the exchange is opened without it).

Ledger stock books (`AAPL.L`, see `ledger_assets`) trade shares held only in the accounts, in
10^-9 share units: they trade under the underlying instrument's market status and eligibility, and
go on the tape under their own symbol with a multiplier of one (they are shares, not tokens).

Client order ids: each instrument remembers the order id of the last `CLIENT_ORDER_ID_WINDOW`
orders it accepted with a non-empty client order id, keyed by (account, client order id), rebuilt
from the journal's `Accepted` events on replay. `submit(..., unique=True)` refuses an order whose
key is in that memory with `DuplicateOrderError` naming the order already placed: a retry of a call
that journaled its order but crashed before answering places nothing. The window bounds memory
(about 200 bytes a key) and covers any retry made before that many more orders were accepted on
the instrument. Uniqueness is asked for per call, because some callers (the market maker) name
their quotes by side and price and reuse those names on purpose.
"""

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Self

from equitoken.model.bps import fee_on
from equitoken.model.errors import EquitokenError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Price, Shares
from equitoken.model.time import Clock, require_aware
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.trades import MultiplierAt, VenueTrade, VenueTradeBook
from equitoken.venues.exchange.accounts import FEES_ACCOUNT, USDC, Accounts
from equitoken.venues.exchange.book import Book
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
from equitoken.venues.exchange.journal import (
    FsyncPolicy,
    Journal,
    JournaledBook,
    JournalError,
    TradeContext,
    decode_record,
    read_journal,
    replay_record,
)
from equitoken.venues.exchange.ledger_assets import is_ledger_asset, underlying
from equitoken.venues.exchange.orders import Amend, Cancel, Command, OrderType, Side, Submit
from equitoken.venues.exchange.rules import BookRules

VENUE = "exchange"
# A symbol names its journal file: letters and digits, a share class after one dot, and the `.L` of a
# ledger stock asset.
_SYMBOL = re.compile(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)?(\.L)?")
LEDGER_FILE = "ledger.journal"
CLIENT_ORDER_ID_WINDOW = 65_536
RECENT_TRADES = 1_000


class ExchangeError(EquitokenError, ValueError):
    """A command the engine refused before the book saw it; nothing changed."""

    code = "exchange_error"


class MarketHaltedError(ExchangeError):
    """The oracle reports the instrument's market halted: no new orders or amendments."""

    code = "market_halted"


class DuplicateOrderError(ExchangeError):
    """The account already placed an order with this client order id; `order_id` is that order."""

    code = "duplicate_order"

    def __init__(self, ticker: str, account: int, client_order_id: str, order_id: int) -> None:
        super().__init__(
            f"account {account} already placed order {order_id} on {ticker} "
            f"with client order id {client_order_id!r}"
        )
        self.ticker = ticker
        self.account = account
        self.client_order_id = client_order_id
        self.order_id = order_id


class NotEligibleError(ExchangeError):
    """Compliance refuses the account this order (a freeze, expired KYC, a permissioned token)."""

    code = "not_eligible"


Eligibility = Callable[[int, str, Side], str | None]
"""(account, ticker, side) -> why the account may not place or amend that order, or None if it may."""


class Trade(NamedTuple):
    """One fill on the exchange with the market status it was made under, and when (None: no clock)."""

    ticker: str
    trade_id: str
    fill: Filled
    status: MarketStatus
    at: datetime | None = None


class Outcome(NamedTuple):
    """What a command did: the book's events and the trades among them."""

    events: list[Event]
    trades: list[Trade]


@dataclass(slots=True)
class _Hold:
    account: int
    side: Side
    per_lot: int
    lots: int


class _Instrument:
    __slots__ = ("book", "fee_bps", "holds", "journaled", "lot", "placed", "recent", "usdc_per_tick_lot")

    def __init__(self, book: Book) -> None:
        rules = book.rules
        self.book = book
        self.journaled: JournaledBook | None = None
        self.holds: dict[int, _Hold] = {}
        # (account, client order id) -> order id of the latest such order, oldest first.
        self.placed: dict[tuple[int, str], int] = {}
        self.recent = deque[Trade](maxlen=RECENT_TRADES)
        self.lot = rules.instrument.lot
        self.usdc_per_tick_lot = rules.instrument.usdc_per_tick_lot
        self.fee_bps = max(rules.maker_fee_bps, rules.taker_fee_bps, 0)

    def remember(self, account: int, client_order_id: str, order_id: int) -> None:
        if not client_order_id:
            return
        key = (account, client_order_id)
        placed = self.placed
        placed.pop(key, None)  # a reused id moves to the newest end
        placed[key] = order_id
        if len(placed) > CLIENT_ORDER_ID_WINDOW:
            del placed[next(iter(placed))]

    def per_lot(self, side: Side, price: int) -> int:
        if side == Side.SELL:
            return self.lot
        lot_value = price * self.usdc_per_tick_lot
        return lot_value + fee_on(lot_value, self.fee_bps)

    def apply(self, command: Command, context: TradeContext | None) -> list[Event]:
        if self.journaled is None:
            raise RuntimeError(f"{self.book.rules.instrument.symbol}'s journal is not open")
        return self.journaled.apply(command, context)

    def hold_for(self, command: Submit) -> int:
        """Return the per-lot hold a new order needs, or 0 when the book will refuse its fields."""
        account, _, side, _, price, quantity, _, _ = command
        if not (type(account) is int and type(price) is int and type(quantity) is int and side in Side):
            return 0
        if quantity <= 0 or quantity % self.lot:
            return 0
        if command.side == Side.SELL:
            return self.lot
        if command.order_type == OrderType.LIMIT:
            return self.per_lot(Side.BUY, command.price) if command.price > 0 else 0
        return self.per_lot(Side.BUY, self._market_bound(command.account, command.quantity))

    def _market_bound(self, account: int, quantity: int) -> int:
        bound = 0
        covered = 0
        for order in self.book.open_orders():
            if order.side != Side.SELL or order.account == account:
                continue
            bound = order.price
            covered += order.quantity
            if covered >= quantity:
                break
        return bound


class Exchange:
    """Trade every instrument's book against accounts that must pay for each order."""

    def __init__(
        self,
        instruments: dict[str, _Instrument],
        accounts: Accounts,
        market_status: Callable[[str], MarketStatus],
        tape: VenueTradeBook | None,
        clock: Clock | None,
        eligibility: Eligibility | None = None,
        multipliers: MultiplierAt | None = None,
    ) -> None:
        self.accounts = accounts
        self._eligibility = eligibility
        self._instruments = instruments
        self._market_status = market_status
        self._tape = tape
        self._clock = clock
        self._multipliers = multipliers

    @classmethod
    def open(
        cls,
        directory: Path,
        rules: Sequence[BookRules],
        market_status: Callable[[str], MarketStatus],
        *,
        tape: VenueTradeBook | None = None,
        clock: Clock | None = None,
        fsync: FsyncPolicy = FsyncPolicy.PER_RECORD,
        eligibility: Eligibility | None = None,
        multipliers: MultiplierAt | None = None,
    ) -> Self:
        """Open (or create) the exchange kept in `directory`, replaying its ledger and book journals.

        `market_status(ticker)` gives the oracle's status; trades are recorded on `tape` (which
        needs `clock` for their times) when one is given, in shares under `multipliers(ticker, time)`
        (1.0 when None). `eligibility` is asked before each new order or amendment; replaying the
        journals never asks it, so history replays as it happened.
        """
        tickers = [r.instrument.symbol for r in rules]
        if len(set(tickers)) != len(tickers) or not all(_SYMBOL.fullmatch(t) for t in tickers):
            raise ValueError(
                f"instrument symbols {tickers!r} must be distinct, letters and digits with an optional "
                "dotted share class (BRK.B) and ledger suffix (AAPL.L)"
            )
        unbacked = [t for t in tickers if is_ledger_asset(t) and underlying(t) not in tickers]
        if unbacked:
            raise ValueError(f"ledger books {unbacked!r} need their instrument's book on the exchange too")
        if tape is not None and clock is None:
            raise ValueError("recording trades on a tape needs a clock for their times")
        directory.mkdir(parents=True, exist_ok=True)
        accounts = Accounts.open(
            directory / LEDGER_FILE, [USDC, *tickers], fsync=fsync is FsyncPolicy.PER_RECORD
        )
        exchange = cls({}, accounts, market_status, tape, clock, eligibility, multipliers)
        for book_rules in rules:
            ticker = book_rules.instrument.symbol
            exchange._instruments[ticker] = exchange._replay(
                directory / f"{ticker}.journal", book_rules, fsync
            )
        negative = {key: b for key, b in accounts.balances().items() if b.available < 0 or b.locked < 0}
        if negative:
            raise JournalError(f"{directory}: the journals replay to negative balances {negative}")
        return exchange

    # Commands

    def submit(
        self, ticker: str, command: Submit, *, unique: bool = False, at: datetime | None = None
    ) -> Outcome:
        """Send a new order after locking what it may cost; raise ExchangeError if it cannot pay.

        With `unique`, refuse it with DuplicateOrderError when the account placed an order with the
        same non-empty client order id within the window (see the module's docstring). `at` is the
        time of its trades (the exchange's clock when None).
        """
        instrument = self._instrument(ticker)
        if unique:
            self._check_unique(ticker, instrument, command)
        status = self._open_status(ticker)
        self._check_eligible(command.account, ticker, command.side)
        per_lot = instrument.hold_for(command)
        if per_lot:
            asset = ticker if command.side == Side.SELL else USDC
            self.accounts.require_available(
                command.account, asset, command.quantity // instrument.lot * per_lot
            )
        if at is not None:
            at = require_aware(at, "trade time")
        elif self._clock is not None:
            at = self._clock.now()
        return self._apply(ticker, instrument, command, per_lot, TradeContext(status, at))

    def cancel(self, ticker: str, command: Cancel) -> Outcome:
        """Cancel an open order and release its hold (allowed while the market is halted)."""
        instrument = self._instrument(ticker)
        # Read for every command (see the module), though a cancel never trades.
        self._market_status(underlying(ticker))
        return self._apply(ticker, instrument, command, 0, None)

    def amend(self, ticker: str, command: Amend) -> Outcome:
        """Change an open order's price or quantity, locking more first if the new order needs it."""
        instrument = self._instrument(ticker)
        self._open_status(ticker)
        hold = instrument.holds.get(command.order_id)
        if hold is not None and hold.account == command.account:
            self._check_eligible(command.account, ticker, hold.side)
        if (
            hold is not None
            and hold.account == command.account
            and type(command.price) is int
            and type(command.quantity) is int
            and command.price > 0
            and command.quantity > 0
        ):
            needed = command.quantity // instrument.lot * instrument.per_lot(hold.side, command.price)
            extra = needed - hold.lots * hold.per_lot
            if extra > 0:
                asset = ticker if hold.side == Side.SELL else USDC
                self.accounts.require_available(command.account, asset, extra)
        return self._apply(ticker, instrument, command, 0, None)

    def sync(self) -> None:
        """End a batch: make every journaled command durable (FsyncPolicy.PER_BATCH)."""
        for instrument in self._instruments.values():
            if instrument.journaled is not None:
                instrument.journaled.sync()

    def close(self) -> None:
        """Sync and close every journal."""
        for instrument in self._instruments.values():
            if instrument.journaled is not None:
                instrument.journaled.close()
        self.accounts.close()

    # Queries

    def status(self, ticker: str) -> MarketStatus:
        """Return the oracle's market status for `ticker`."""
        self._instrument(ticker)
        return self._market_status(underlying(ticker))

    def book(self, ticker: str) -> Book:
        """Return `ticker`'s book (read it; send commands through the exchange)."""
        return self._instrument(ticker).book

    def tickers(self) -> list[str]:
        """Return the traded instruments' symbols."""
        return list(self._instruments)

    def recent_trades(self, ticker: str) -> list[Trade]:
        """Return `ticker`'s latest `RECENT_TRADES` trades, oldest first, replayed ones included."""
        return list(self._instrument(ticker).recent)

    def held(self, account: int, asset: str) -> int:
        """Return what `account`'s open orders hold of `asset`, computed from the books."""
        total = 0
        for ticker, instrument in self._instruments.items():
            for order in instrument.book.open_orders():
                if order.account != account:
                    continue
                hold = instrument.holds[order.order_id]
                if (USDC if order.side == Side.BUY else ticker) == asset:
                    total += order.quantity // instrument.lot * hold.per_lot
        return total

    def snapshot(self) -> bytes:
        """Return the balances and every book as bytes: equal exchanges give equal bytes."""
        books = b",".join(self._instruments[t].book.snapshot() for t in sorted(self._instruments))
        return b'{"accounts":' + self.accounts.snapshot() + b',"books":[' + books + b"]}"

    # Engine

    def _apply(
        self,
        ticker: str,
        instrument: _Instrument,
        command: Command,
        per_lot: int,
        context: TradeContext | None,
    ) -> Outcome:
        events = instrument.apply(command, context)
        self._settle(ticker, instrument, events, per_lot)
        trades = _trades(ticker, events, context)
        if trades:
            instrument.recent.extend(trades)
            self._record(instrument, trades)
        return Outcome(events, trades)

    def _settle(self, ticker: str, instrument: _Instrument, events: list[Event], per_lot: int) -> None:
        accounts = self.accounts
        lot = instrument.lot
        holds = instrument.holds
        for event in events:
            if isinstance(event, Accepted):
                lots = event.quantity // lot
                holds[event.order_id] = _Hold(event.account, event.side, per_lot, lots)
                instrument.remember(event.account, event.client_order_id, event.order_id)
                asset = ticker if event.side == Side.SELL else USDC
                accounts.move(event.account, asset, -lots * per_lot, lots * per_lot)
            elif isinstance(event, Filled):
                lots = event.quantity // lot
                if event.taker_side == Side.BUY:
                    buyer, seller = event.taker_order_id, event.maker_order_id
                    buyer_fee, seller_fee = event.taker_fee, event.maker_fee
                else:
                    buyer, seller = event.maker_order_id, event.taker_order_id
                    buyer_fee, seller_fee = event.maker_fee, event.taker_fee
                buy_hold, sell_hold = holds[buyer], holds[seller]
                released = lots * buy_hold.per_lot
                accounts.move(buy_hold.account, USDC, released - event.notional - buyer_fee, -released)
                accounts.move(buy_hold.account, ticker, event.quantity, 0)
                accounts.move(sell_hold.account, ticker, 0, -event.quantity)
                accounts.move(sell_hold.account, USDC, event.notional - seller_fee, 0)
                accounts.move(FEES_ACCOUNT, USDC, event.maker_fee + event.taker_fee, 0)
                _shrink(holds, buyer, lots)
                _shrink(holds, seller, lots)
            elif isinstance(event, Cancelled):
                hold = holds[event.order_id]
                lots = event.quantity // lot
                _release(accounts, ticker, hold, lots * hold.per_lot)
                _shrink(holds, event.order_id, lots)
            elif isinstance(event, Amended):
                hold = holds[event.order_id]
                old = hold.lots * hold.per_lot
                hold.per_lot = instrument.per_lot(hold.side, event.price)
                hold.lots = event.quantity // lot
                _release(accounts, ticker, hold, old - hold.lots * hold.per_lot)
            else:
                assert isinstance(event, Rejected)

    def _record(self, instrument: _Instrument, trades: list[Trade]) -> None:
        at = trades[0].at  # every trade of one command has its time
        if self._tape is None or at is None:
            return
        rules = instrument.book.rules.instrument
        step = Shares.token_step(rules.token_decimals)
        ledger = is_ledger_asset(rules.symbol)
        multiplier = (
            Multiplier.one() if self._multipliers is None or ledger else self._multipliers(rules.symbol, at)
        )
        for trade in trades:
            self._tape.record(
                VenueTrade.of_tokens(
                    VENUE,
                    trade.trade_id,
                    trade.ticker,
                    Price(trade.fill.price * rules.tick.units),
                    Shares(trade.fill.quantity * step),
                    multiplier,
                    at,
                )
            )

    def _replay(self, path: Path, rules: BookRules, fsync: FsyncPolicy) -> _Instrument:
        if not path.exists():
            instrument = _Instrument(Book(rules))
            instrument.journaled = JournaledBook(instrument.book, Journal.create(path, rules, fsync))
            return instrument
        contents = read_journal(path)
        if contents.rules != rules:
            raise JournalError(f"{path} journals a book with other rules: {contents.rules}, not {rules}")
        book = Book(rules)
        instrument = _Instrument(book)
        ticker = rules.instrument.symbol
        for number, payload in enumerate(contents.payloads, start=1):
            record = decode_record(payload, number)
            command = record.command
            per_lot = instrument.hold_for(command) if isinstance(command, Submit) else 0
            events = replay_record(book, record, payload, number, path)
            self._settle(ticker, instrument, events, per_lot)
            # A record from before trade contexts were journaled gives no recent trades: its
            # trades' status is unknown.
            instrument.recent.extend(_trades(ticker, events, record.context))
        instrument.journaled = JournaledBook(book, Journal.reopen(path, contents, fsync))
        return instrument

    def _instrument(self, ticker: str) -> _Instrument:
        instrument = self._instruments.get(ticker)
        if instrument is None:
            raise UnknownInstrumentError(
                f"the exchange trades {', '.join(self._instruments)}, not {ticker!r}"
            )
        return instrument

    @staticmethod
    def _check_unique(ticker: str, instrument: _Instrument, command: Submit) -> None:
        client_order_id = command.client_order_id
        if not isinstance(client_order_id, str) or not client_order_id:
            raise ExchangeError("an order placed once only needs a non-empty client order id")
        order_id = instrument.placed.get((command.account, client_order_id))
        if order_id is not None:
            raise DuplicateOrderError(ticker, command.account, client_order_id, order_id)

    def _check_eligible(self, account: int, ticker: str, side: Side) -> None:
        if self._eligibility is None or not isinstance(side, Side):
            return  # a malformed order is the book's to reject
        reason = self._eligibility(account, underlying(ticker), side)
        if reason is not None:
            raise NotEligibleError(f"account {account} may not {side.name} {ticker}: {reason}")

    def _open_status(self, ticker: str) -> MarketStatus:
        status = self._market_status(underlying(ticker))
        if status == MarketStatus.HALTED:
            raise MarketHaltedError(f"{ticker} is halted: new orders and amendments wait until it reopens")
        return status


def _trades(ticker: str, events: list[Event], context: TradeContext | None) -> list[Trade]:
    """Return the trades among a command's events: only a new order (`Accepted` first) trades."""
    if context is None or not events or not isinstance(events[0], Accepted):
        return []
    return [
        Trade(ticker, f"{ticker}-{e.maker_order_id}-{e.taker_order_id}", e, context.status, context.at)
        for e in events
        if isinstance(e, Filled)
    ]


def _shrink(holds: dict[int, _Hold], order_id: int, lots: int) -> None:
    hold = holds[order_id]
    hold.lots -= lots
    if not hold.lots:
        del holds[order_id]


def _release(accounts: Accounts, ticker: str, hold: _Hold, amount: int) -> None:
    accounts.move(hold.account, ticker if hold.side == Side.SELL else USDC, amount, -amount)
