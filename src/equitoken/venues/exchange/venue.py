"""The exchange's front door: one lock around the engine, and a stream of what each command changed.

Keepers and the API trade through `ExchangeVenue`, never through `Exchange` directly, so commands
from many threads are applied one at a time and every subscriber sees them in the same order.

The stream is a sequence of `StreamItem`s numbered 1, 2, 3, ... without gaps. A command publishes,
in this order: one `order` item per account its events concern (that account's events only), one
`trade` item per trade, and one `levels` item with the touched ticker's levels after the command.
A subscriber sees every `levels` and `trade` item, and the `order` items of the accounts it asked
for (all of them when it asked for none in particular). Each subscriber has a bounded queue: one
that falls `queue_size` items behind is dropped with a reason, so it never slows trading down.

Recent trades survive a restart: the venue starts from the trades the exchange replayed from its
journals (`Exchange.recent_trades`, each with the time and status journaled with it), numbered 0
since they came before this venue's stream.
"""

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from equitoken.model.time import Clock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import FEES_ACCOUNT, Balance
from equitoken.venues.exchange.book import DepthLevel, OpenOrder
from equitoken.venues.exchange.engine import Exchange, Outcome, Trade
from equitoken.venues.exchange.events import Event, Filled
from equitoken.venues.exchange.orders import Amend, Cancel, Submit
from equitoken.venues.exchange.rules import BookRules

DEFAULT_DEPTH = 10
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_TRADE_HISTORY = 1_000


class StreamItem(NamedTuple):
    """One change: `kind` is "levels", "trade" or "order"; `account` is set only for "order"."""

    seq: int
    kind: str
    ticker: str
    account: int | None
    payload: dict[str, Any]


class RecentTrade(NamedTuple):
    """A trade as the venue remembers it: the engine's trade, when it happened, and its stream number.

    `seq` is 0 for a trade made before this venue's stream began (replayed from the journals).
    """

    trade: Trade
    at: datetime | None
    seq: int


class VenueSnapshot(NamedTuple):
    """What a new subscriber starts from: levels, recent trades and its accounts' open orders."""

    seq: int
    levels: dict[str, tuple[list[DepthLevel], list[DepthLevel]]]
    trades: dict[str, list[RecentTrade]]
    open_orders: dict[str, list[OpenOrder]]


class SubscriptionClosedError(Exception):
    """The subscription ended: the subscriber closed it, or it fell too far behind and was dropped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscription:
    """A subscriber's view of the stream: a snapshot, then every later item it may see, in order."""

    def __init__(
        self, venue: "ExchangeVenue", accounts: frozenset[int] | None, snapshot: VenueSnapshot, size: int
    ) -> None:
        self.accounts = accounts
        self.snapshot = snapshot
        self._venue = venue
        self._queue: queue.Queue[StreamItem] = queue.Queue(size)
        self._closed: str | None = None

    @property
    def closed_reason(self) -> str | None:
        """Return why the subscription ended, or None while it is live."""
        return self._closed

    def get(self, timeout: float | None = None) -> StreamItem | None:
        """Return the next item, or None after `timeout` seconds; raise SubscriptionClosedError if closed."""
        if self._closed is not None:
            raise SubscriptionClosedError(self._closed)
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._closed is not None:
                raise SubscriptionClosedError(self._closed) from None
            return None

    def close(self) -> None:
        """Stop receiving items."""
        self._venue._unsubscribe(self, "closed by the subscriber")

    def _wants(self, item: StreamItem) -> bool:
        return item.account is None or self.accounts is None or item.account in self.accounts

    def _offer(self, item: StreamItem) -> bool:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
        return True

    def _end(self, reason: str) -> None:
        self._closed = reason


class ExchangeVenue:
    """Apply commands to an `Exchange` one at a time and publish what each changed."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        clock: Clock | None = None,
        depth: int = DEFAULT_DEPTH,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        trade_history: int = DEFAULT_TRADE_HISTORY,
    ) -> None:
        if depth <= 0 or queue_size <= 0 or trade_history <= 0:
            raise ValueError(
                f"depth {depth}, queue size {queue_size} and trade history {trade_history} must be positive"
            )
        self.exchange = exchange
        self.depth = depth
        self._clock = clock
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._seq = 0
        self._subscribers: list[Subscription] = []
        self._trades = {
            ticker: deque(
                (RecentTrade(trade, trade.at, 0) for trade in exchange.recent_trades(ticker)),
                maxlen=trade_history,
            )
            for ticker in exchange.tickers()
        }

    # Commands

    def submit(self, ticker: str, command: Submit, *, unique: bool = False) -> Outcome:
        """Send a new order (see `Exchange.submit`, and its `unique`); publish its effect."""
        return self._run(ticker, lambda: self.exchange.submit(ticker, command, unique=unique, at=self._now()))

    def cancel(self, ticker: str, command: Cancel) -> Outcome:
        """Cancel an open order (see `Exchange.cancel`); publish its effect."""
        return self._run(ticker, lambda: self.exchange.cancel(ticker, command))

    def amend(self, ticker: str, command: Amend) -> Outcome:
        """Amend an open order (see `Exchange.amend`); publish its effect."""
        return self._run(ticker, lambda: self.exchange.amend(ticker, command))

    def credit_deposit(self, account: int, asset: str, amount: int, deposit_id: str) -> bool:
        """Credit a confirmed deposit (see `Accounts.credit_deposit`) under the venue's lock."""
        with self._lock:
            return self.exchange.accounts.credit_deposit(account, asset, amount, deposit_id)

    def request_withdrawal(self, account: int, asset: str, amount: int, withdrawal_id: str) -> bool:
        """Debit a withdrawal (see `Accounts.request_withdrawal`) under the venue's lock."""
        with self._lock:
            return self.exchange.accounts.request_withdrawal(account, asset, amount, withdrawal_id)

    def credit(self, account: int, asset: str, amount: int, transfer_id: str) -> bool:
        """Credit what the issuer settled (see `Accounts.credit`) under the venue's lock."""
        with self._lock:
            return self.exchange.accounts.credit(account, asset, amount, transfer_id)

    def debit(self, account: int, asset: str, amount: int, transfer_id: str) -> bool:
        """Debit what an account settles with the issuer (see `Accounts.debit`) under the venue's lock."""
        with self._lock:
            return self.exchange.accounts.debit(account, asset, amount, transfer_id)

    # Queries

    def holdings(self, asset: str) -> dict[int, Balance]:
        """Return every account's non-zero balance of `asset` (the fees account included)."""
        with self._lock:
            accounts = self.exchange.accounts
            accounts.balance(FEES_ACCOUNT, asset)  # refuses an unknown asset
            return {account: b for (account, a), b in accounts.balances().items() if a == asset}

    def tickers(self) -> list[str]:
        """Return the traded instruments' symbols."""
        return self.exchange.tickers()

    def rules(self, ticker: str) -> BookRules:
        """Return `ticker`'s book rules; raise UnknownInstrumentError for a ticker not traded here."""
        # Rules never change once the exchange is open, so reading them needs no lock.
        return self.exchange.book(ticker).rules

    def status(self, ticker: str) -> MarketStatus:
        """Return the oracle's market status for `ticker`."""
        with self._lock:
            return self.exchange.status(ticker)

    def best(self, ticker: str) -> tuple[int | None, int | None]:
        """Return `ticker`'s best bid and best ask in ticks (None for an empty side)."""
        with self._lock:
            book = self.exchange.book(ticker)
            return book.best_bid(), book.best_ask()

    def levels(self, ticker: str, depth: int = DEFAULT_DEPTH) -> tuple[list[DepthLevel], list[DepthLevel]]:
        """Return up to `depth` aggregated bid and ask levels of `ticker`, best first."""
        if depth <= 0:
            raise ValueError(f"depth {depth} must be positive")
        with self._lock:
            return self.exchange.book(ticker).depth(depth)

    def recent_trades(self, ticker: str, limit: int = 50) -> list[RecentTrade]:
        """Return up to `limit` of `ticker`'s latest trades, newest first."""
        if limit <= 0:
            raise ValueError(f"limit {limit} must be positive")
        with self._lock:
            self.exchange.book(ticker)
            trades = self._trades[ticker]
            return [trades[-i] for i in range(1, min(limit, len(trades)) + 1)]

    def open_orders(self, account: int, ticker: str | None = None) -> dict[str, list[OpenOrder]]:
        """Return `account`'s open orders per ticker (every ticker, or only `ticker`)."""
        with self._lock:
            return self._open_orders(frozenset((account,)), [ticker] if ticker else self.exchange.tickers())

    def assets(self) -> list[str]:
        """Return the assets the exchange holds: USDC and each traded token."""
        return list(self.exchange.accounts.assets)

    def balance(self, account: int, asset: str) -> Balance:
        """Return `account`'s balance of one asset."""
        with self._lock:
            return self.exchange.accounts.balance(account, asset)

    def balances(self, account: int) -> dict[str, Balance]:
        """Return `account`'s balance of every asset the exchange holds."""
        with self._lock:
            accounts = self.exchange.accounts
            return {asset: accounts.balance(account, asset) for asset in accounts.assets}

    def subscribe(self, accounts: Iterable[int] | None = None) -> Subscription:
        """Start a subscription with a snapshot taken at this point of the stream.

        It sees every "levels" and "trade" item, and the "order" items of `accounts` (of every
        account when None).
        """
        wanted = None if accounts is None else frozenset(accounts)
        with self._lock:
            tickers = self.exchange.tickers()
            snapshot = VenueSnapshot(
                self._seq,
                {t: self.exchange.book(t).depth(self.depth) for t in tickers},
                {t: list(self._trades[t]) for t in tickers},
                self._open_orders(wanted, tickers),
            )
            subscription = Subscription(self, wanted, snapshot, self._queue_size)
            self._subscribers.append(subscription)
            return subscription

    @property
    def subscribers(self) -> int:
        """Return how many subscriptions are live."""
        with self._lock:
            return len(self._subscribers)

    # Publishing

    def _run(self, ticker: str, command: Callable[[], Outcome]) -> Outcome:
        with self._lock:
            outcome = command()
            self._publish_outcome(ticker, outcome)
            return outcome

    def _publish_outcome(self, ticker: str, outcome: Outcome) -> None:
        by_account: dict[int, list[dict[str, Any]]] = {}
        for event in outcome.events:
            for account in _accounts_of(event):
                by_account.setdefault(account, []).append(event_payload(event))
        for account, events in by_account.items():
            self._publish("order", ticker, account, {"events": events})
        for trade in outcome.trades:
            item = self._publish("trade", ticker, None, trade_payload(trade, trade.at))
            self._trades[ticker].append(RecentTrade(trade, trade.at, item.seq))
        bids, asks = self.exchange.book(ticker).depth(self.depth)
        self._publish("levels", ticker, None, levels_payload(bids, asks))

    def _now(self) -> datetime | None:
        # The venue's clock, when it has one, times the trades (the exchange's own otherwise), so the
        # time the stream shows is the one journaled and found again after a restart.
        return self._clock.now() if self._clock is not None else None

    def _publish(self, kind: str, ticker: str, account: int | None, payload: dict[str, Any]) -> StreamItem:
        self._seq += 1
        item = StreamItem(self._seq, kind, ticker, account, payload)
        dropped = [s for s in self._subscribers if s._wants(item) and not s._offer(item)]
        for subscription in dropped:
            self._drop(
                subscription,
                f"dropped: the subscriber fell {self._queue_size} items behind the stream at item {item.seq}",
            )
        return item

    def _drop(self, subscription: Subscription, reason: str) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
            subscription._end(reason)

    def _unsubscribe(self, subscription: Subscription, reason: str) -> None:
        with self._lock:
            self._drop(subscription, reason)

    def _open_orders(self, accounts: frozenset[int] | None, tickers: list[str]) -> dict[str, list[OpenOrder]]:
        return {
            ticker: [
                order
                for order in self.exchange.book(ticker).open_orders()
                if accounts is None or order.account in accounts
            ]
            for ticker in tickers
        }


def _accounts_of(event: Event) -> tuple[int, ...]:
    if isinstance(event, Filled):
        if event.maker_account == event.taker_account:
            return (event.maker_account,)
        return (event.maker_account, event.taker_account)
    return (event.account,)


def event_payload(event: Event) -> dict[str, Any]:
    """Return an event as a JSON-ready dict: its type and fields, enums by name in lower case."""
    fields: dict[str, Any] = {"type": type(event).__name__.lower()}
    for name, value in event._asdict().items():
        fields[name] = value.name.lower() if hasattr(value, "name") and not isinstance(value, bool) else value
    return fields


def trade_payload(trade: Trade, at: datetime | None) -> dict[str, Any]:
    """Return a trade as a JSON-ready dict (no account numbers: trades are public)."""
    fill = trade.fill
    return {
        "trade_id": trade.trade_id,
        "price": fill.price,
        "quantity": fill.quantity,
        "taker_side": fill.taker_side.name.lower(),
        "status": trade.status.name.lower(),
        "at": at.isoformat() if at is not None else None,
    }


def levels_payload(bids: list[DepthLevel], asks: list[DepthLevel]) -> dict[str, Any]:
    """Return aggregated levels as a JSON-ready dict of [price, quantity, orders] rows."""
    return {"bids": [list(level) for level in bids], "asks": [list(level) for level in asks]}
