"""The venue: one lock in front of the engine, and a gap-free stream of levels, trades and order events."""

import contextlib
import random
import threading
from pathlib import Path

import pytest

from equitoken.model.errors import InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import FEES_ACCOUNT, USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.orders import Amend, Cancel, Side
from equitoken.venues.exchange.venue import ExchangeVenue, StreamItem, SubscriptionClosedError

from .builders import LOT, SHARE, limit, rules

TICKER = "AAPL"
DOLLARS = 1_000_000
TRADERS = (1, 2, 3, 4)
PRICE = 10_000  # $100.00 in cents


def open_exchange(directory: Path) -> Exchange:
    return Exchange.open(directory, [rules()], lambda _: MarketStatus.OPEN, fsync=FsyncPolicy.PER_BATCH)


@pytest.fixture
def venue(tmp_path: Path) -> ExchangeVenue:
    exchange = open_exchange(tmp_path / "exchange")
    for account in TRADERS:
        exchange.accounts.credit_deposit(account, USDC, 100_000 * DOLLARS, f"usdc-{account}")
        exchange.accounts.credit_deposit(account, TICKER, 100 * SHARE, f"aapl-{account}")
    return ExchangeVenue(exchange, queue_size=100_000)


def test_a_resting_order_shows_in_the_levels_and_the_owners_open_orders(venue: ExchangeVenue) -> None:
    venue.submit(TICKER, limit(1, Side.BUY, PRICE, 300 * LOT))
    venue.submit(TICKER, limit(2, Side.BUY, PRICE, 200 * LOT))
    venue.submit(TICKER, limit(2, Side.SELL, PRICE + 5, LOT * 100))

    bids, asks = venue.levels(TICKER, 5)

    assert [tuple(level) for level in bids] == [(PRICE, 500 * LOT, 2)]
    assert [tuple(level) for level in asks] == [(PRICE + 5, 100 * LOT, 1)]
    assert [o.quantity for o in venue.open_orders(1)[TICKER]] == [300 * LOT]
    assert venue.open_orders(3, TICKER) == {TICKER: []}
    assert venue.best(TICKER) == (PRICE, PRICE + 5)


def test_a_command_publishes_order_events_then_trades_then_levels(venue: ExchangeVenue) -> None:
    venue.submit(TICKER, limit(1, Side.SELL, PRICE, 200 * LOT))
    subscription = venue.subscribe()

    outcome = venue.submit(TICKER, limit(2, Side.BUY, PRICE, 200 * LOT))
    items = [subscription.get(0) for _ in range(4)]

    assert [i.kind if i else None for i in items] == ["order", "order", "trade", "levels"]
    assert {i.account for i in items[:2] if i} == {1, 2}
    trade, levels = items[2], items[3]
    assert trade is not None
    assert levels is not None
    assert trade.payload["price"] == PRICE
    assert trade.payload["trade_id"] == outcome.trades[0].trade_id
    assert levels.payload == {"bids": [], "asks": []}
    assert [i.seq for i in items if i] == [subscription.snapshot.seq + n for n in (1, 2, 3, 4)]
    assert subscription.get(0) is None
    assert venue.recent_trades(TICKER, 5)[0].trade == outcome.trades[0]


def test_a_subscriber_for_one_account_gets_only_that_accounts_order_events(venue: ExchangeVenue) -> None:
    mine = venue.subscribe([3])

    venue.submit(TICKER, limit(1, Side.BUY, PRICE, 200 * LOT))
    venue.submit(TICKER, limit(3, Side.BUY, PRICE - 1, 200 * LOT))

    kinds = []
    while (item := mine.get(0)) is not None:
        kinds.append((item.kind, item.account))
    assert kinds == [("levels", None), ("order", 3), ("levels", None)]


def test_the_snapshot_holds_the_subscribers_own_orders_and_the_levels(venue: ExchangeVenue) -> None:
    venue.submit(TICKER, limit(1, Side.BUY, PRICE, 200 * LOT))
    venue.submit(TICKER, limit(2, Side.SELL, PRICE + 1, 200 * LOT))

    snapshot = venue.subscribe([2]).snapshot

    assert snapshot.seq == 4
    assert [o.account for o in snapshot.open_orders[TICKER]] == [2]
    bids, asks = snapshot.levels[TICKER]
    assert (bids[0].price, asks[0].price) == (PRICE, PRICE + 1)


def test_a_slow_subscriber_is_dropped_with_a_reason_and_trading_goes_on(tmp_path: Path) -> None:
    exchange = open_exchange(tmp_path)
    exchange.accounts.credit_deposit(1, USDC, 100_000 * DOLLARS, "usdc")
    venue = ExchangeVenue(exchange, queue_size=3)
    slow = venue.subscribe()
    fast = venue.subscribe()

    for n in range(4):
        venue.submit(TICKER, limit(1, Side.BUY, PRICE - n, 200 * LOT))
        while fast.get(0) is not None:
            pass

    with pytest.raises(SubscriptionClosedError, match="fell 3 items behind"):
        slow.get(0)
    assert slow.closed_reason is not None
    assert venue.subscribers == 1
    assert len(venue.levels(TICKER)[0]) == 4


def test_a_closed_subscription_stops_receiving(venue: ExchangeVenue) -> None:
    subscription = venue.subscribe()

    subscription.close()
    venue.submit(TICKER, limit(1, Side.BUY, PRICE, 200 * LOT))

    with pytest.raises(SubscriptionClosedError, match="closed by the subscriber"):
        subscription.get(0)
    assert venue.subscribers == 0


def test_refusals_raise_and_publish_nothing(venue: ExchangeVenue) -> None:
    subscription = venue.subscribe()
    before = venue.exchange.snapshot()

    with pytest.raises(InsufficientFundsError):
        venue.submit(TICKER, limit(1, Side.SELL, PRICE, 1_000 * SHARE))
    with pytest.raises(UnknownInstrumentError):
        venue.submit("TSLA", limit(1, Side.SELL, PRICE, LOT * 100))
    with pytest.raises(ValueError, match="depth 0 must be positive"):
        venue.levels(TICKER, 0)
    with pytest.raises(ValueError, match="limit 0 must be positive"):
        venue.recent_trades(TICKER, 0)
    with pytest.raises(ValueError, match="must be positive"):
        ExchangeVenue(venue.exchange, queue_size=0)

    assert subscription.get(0) is None
    assert venue.exchange.snapshot() == before


def test_threads_hammering_the_venue_keep_ledger_books_and_stream_consistent(
    venue: ExchangeVenue, tmp_path: Path
) -> None:
    subscription = venue.subscribe()
    received: list[StreamItem] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        while True:
            item = subscription.get(0.05)
            if item is not None:
                received.append(item)
            elif stop.is_set():
                return

    def trade(account: int) -> None:
        try:
            trade_randomly(account)
        except BaseException as error:
            failures.append(error)

    def trade_randomly(account: int) -> None:
        rng = random.Random(account)
        for n in range(300):
            side = rng.choice((Side.BUY, Side.SELL))
            price = PRICE + rng.randint(-5, 5)
            try:
                outcome = venue.submit(TICKER, limit(account, side, price, rng.randint(100, 300) * LOT))
            except InsufficientFundsError:
                continue
            mine = venue.open_orders(account, TICKER)[TICKER]
            if mine and n % 3 == 0:
                order = rng.choice(mine)
                if n % 2:
                    venue.cancel(TICKER, Cancel(account, order.order_id))
                else:
                    with contextlib.suppress(InsufficientFundsError):
                        venue.amend(TICKER, Amend(account, order.order_id, order.price, order.quantity + LOT))
            assert outcome.events

    reader = threading.Thread(target=read)
    reader.start()
    traders = [threading.Thread(target=trade, args=(a,)) for a in TRADERS]
    for thread in traders:
        thread.start()
    for thread in traders:
        thread.join()
    stop.set()
    reader.join()

    exchange = venue.exchange
    assert failures == []
    assert [item.seq for item in received] == list(range(1, len(received) + 1))
    assert len(received) > 1_000
    fills = [e for item in received if item.kind == "order" for e in item.payload["events"]]
    assert any(e["type"] == "filled" for e in fills)
    for asset in (USDC, TICKER):
        assert exchange.accounts.total(asset) == exchange.accounts.deposited(asset)
        for account in TRADERS:
            assert exchange.accounts.balance(account, asset).locked == exchange.held(account, asset)
    assert all(b.available >= 0 and b.locked >= 0 for b in exchange.accounts.balances().values())
    assert exchange.accounts.balance(FEES_ACCOUNT, USDC).available > 0
    trades = [item for item in received if item.kind == "trade"]
    # Each fill is reported to its maker and its taker (self-trades are prevented).
    assert len(trades) * 2 == sum(1 for e in fills if e["type"] == "filled")
    last_levels = next(item for item in reversed(received) if item.kind == "levels")
    bids, asks = venue.levels(TICKER)
    assert last_levels.payload == {"bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    exchange.sync()
    reopened = open_exchange(tmp_path / "exchange")
    assert reopened.snapshot() == exchange.snapshot()
