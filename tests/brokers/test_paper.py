"""PaperBroker against replayed real prices on the NYSE calendar, in SQLite files under tmp_path."""

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.brokers.support import new_york

from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import (
    DuplicateClientOrderIdError,
    InvalidOrderError,
    OrderRejectedError,
    UnknownOrderError,
)
from equitoken.brokers.orders import OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from equitoken.brokers.paper import DEFAULT_INITIAL_CASH, PaperBroker, part_quantities, slipped_price
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price, Shares, Usd

WEDNESDAY_10AM = new_york(2025, 11, 26, 10, 0)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)

MakeBroker = Callable[..., PaperBroker]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'paper-broker.sqlite'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10AM)


@pytest.fixture
def make_broker(
    prices: ReplayPriceSource, calendar: MarketCalendar, clock: ManualClock, database_url: str
) -> Iterator[MakeBroker]:
    """Build brokers on the test's database; each one is closed at the end of the test."""
    made: list[PaperBroker] = []

    def make(**options: Any) -> PaperBroker:
        options.setdefault("clock", clock)
        broker = PaperBroker(prices, calendar, options.pop("clock"), database_url, **options)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def broker(make_broker: MakeBroker) -> PaperBroker:
    return make_broker()


def buy(client_order_id: str, shares: str, ticker: str = "AAPL", **terms: Any) -> OrderRequest:
    return OrderRequest(client_order_id, ticker, OrderSide.BUY, Shares.parse(shares), **terms)


def sell(client_order_id: str, shares: str, ticker: str = "AAPL", **terms: Any) -> OrderRequest:
    return OrderRequest(client_order_id, ticker, OrderSide.SELL, Shares.parse(shares), **terms)


def replay_price(prices: ReplayPriceSource, at: datetime, ticker: str = "AAPL") -> Price:
    return prices.quote(ticker, at).price


# -- fills inside a session -----------------------------------------------------------------------


def test_the_paper_broker_is_a_broker(broker: PaperBroker) -> None:
    assert isinstance(broker, Broker)


def test_market_buy_fills_after_the_latency_at_the_replay_price_slipped_up(
    broker: PaperBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    placed = broker.submit(buy("mint-1", "2"))
    clock.advance(SECOND)
    order = broker.order("mint-1")

    assert placed.status is OrderStatus.NEW
    assert placed.fills == ()
    assert placed.submitted_at == WEDNESDAY_10AM
    assert order is not None
    assert order.status is OrderStatus.FILLED
    (fill,) = order.fills
    at = WEDNESDAY_10AM + SECOND
    expected = replay_price(prices, at).scaled_bps(5)
    assert (fill.fill_id, fill.at, fill.quantity, fill.price) == (
        f"{order.order_id}-1",
        at,
        Shares.parse("2"),
        expected,
    )
    assert fill.price > replay_price(prices, at)
    assert broker.positions() == {"AAPL": Shares.parse("2")}
    assert broker.cash() == DEFAULT_INITIAL_CASH - expected.notional(Shares.parse("2"), round_up=True)


def test_market_sell_fills_at_the_replay_price_slipped_down(
    make_broker: MakeBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    broker = make_broker(latency=timedelta(0))
    bought = broker.submit(buy("mint-1", "3"))
    cash_after_buy = broker.cash()
    clock.advance(MINUTE)

    sold = broker.submit(sell("redeem-1", "1.25"))

    assert bought.status is OrderStatus.FILLED
    assert sold.status is OrderStatus.FILLED
    (fill,) = sold.fills
    expected = slipped_price(replay_price(prices, fill.at), OrderSide.SELL, 5)
    assert fill.at == WEDNESDAY_10AM + MINUTE
    assert fill.price == expected
    assert fill.price < replay_price(prices, fill.at)
    assert broker.positions() == {"AAPL": Shares.parse("1.75")}
    assert broker.cash() == cash_after_buy + expected.notional(Shares.parse("1.25"), round_up=False)


def test_slippage_rounds_against_the_taker() -> None:
    price = Price(10_001)

    assert slipped_price(price, OrderSide.BUY, 5) == Price(10_007)  # 10,006.0005 rounded up
    assert slipped_price(price, OrderSide.SELL, 5) == Price(9_995)  # 9,995.9995 rounded down
    assert slipped_price(price, OrderSide.BUY, 0) == price


# -- orders outside the regular session queue for the next open -------------------------------------


@pytest.mark.parametrize(
    ("placed_at", "session_day"),
    [
        pytest.param(new_york(2025, 11, 29, 12, 0), new_york(2025, 12, 1, 9, 30), id="saturday"),
        pytest.param(new_york(2025, 11, 27, 11, 0), new_york(2025, 11, 28, 9, 30), id="thanksgiving"),
        pytest.param(new_york(2025, 11, 28, 13, 30), new_york(2025, 12, 1, 9, 30), id="after-half-day-close"),
        pytest.param(new_york(2025, 11, 25, 21, 0), new_york(2025, 11, 26, 9, 30), id="overnight"),
        pytest.param(new_york(2025, 11, 26, 8, 0), new_york(2025, 11, 26, 9, 30), id="pre-market"),
    ],
)
def test_orders_outside_the_session_fill_at_the_next_open_at_that_sessions_prices(
    make_broker: MakeBroker,
    prices: ReplayPriceSource,
    placed_at: datetime,
    session_day: datetime,
) -> None:
    clock = ManualClock(placed_at)
    broker = make_broker(clock=clock)

    placed = broker.submit(buy("mint-1", "1"))
    clock.set(session_day - SECOND)
    still_queued = broker.order("mint-1")
    clock.set(session_day)
    filled = broker.order("mint-1")

    assert placed.status is OrderStatus.NEW
    assert still_queued is not None
    assert still_queued.status is OrderStatus.NEW
    assert filled is not None
    assert filled.status is OrderStatus.FILLED
    (fill,) = filled.fills
    bar = prices.daily_bar("AAPL", session_day.date())
    assert bar is not None
    assert fill.at == session_day
    assert fill.price == bar.open.scaled_bps(5)


def test_a_limit_order_queued_over_the_weekend_fills_at_monday_open_when_within_the_limit(
    make_broker: MakeBroker, prices: ReplayPriceSource
) -> None:
    clock = ManualClock(new_york(2025, 11, 29, 12, 0))
    broker = make_broker(clock=clock)
    monday_open = new_york(2025, 12, 1, 9, 30)
    bar = prices.daily_bar("AAPL", monday_open.date())
    assert bar is not None

    broker.submit(buy("mint-1", "1", type=OrderType.LIMIT, limit_price=bar.open.scaled_bps(5)))
    clock.set(monday_open)
    order = broker.order("mint-1")

    assert order is not None
    assert [(f.at, f.price) for f in order.fills] == [(monday_open, bar.open.scaled_bps(5))]


# -- partial fills ----------------------------------------------------------------------------------


def test_a_market_order_fills_in_parts_one_interval_apart_splitting_the_quantity_exactly(
    make_broker: MakeBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    broker = make_broker(fill_parts=3)
    broker.submit(buy("mint-1", "10"))
    first = WEDNESDAY_10AM + SECOND

    clock.set(first + MINUTE)
    partial = broker.order("mint-1")
    clock.set(first + 5 * MINUTE)
    done = broker.order("mint-1")

    assert partial is not None
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.filled_quantity == Shares(6_666_666_666)
    assert done is not None
    assert done.status is OrderStatus.FILLED
    assert [(f.fill_id, f.at, f.quantity.units) for f in done.fills] == [
        (f"{done.order_id}-1", first, 3_333_333_333),
        (f"{done.order_id}-2", first + MINUTE, 3_333_333_333),
        (f"{done.order_id}-3", first + 2 * MINUTE, 3_333_333_334),
    ]
    assert [f.price for f in done.fills] == [replay_price(prices, f.at).scaled_bps(5) for f in done.fills]
    assert done.filled_quantity == Shares.parse("10")
    assert broker.cash() == DEFAULT_INITIAL_CASH - done.filled_notional(round_up=True)


def test_a_gtc_part_that_would_fall_after_the_close_fills_at_the_next_open(
    make_broker: MakeBroker, prices: ReplayPriceSource
) -> None:
    clock = ManualClock(new_york(2025, 11, 26, 15, 58, 30))
    broker = make_broker(clock=clock, fill_parts=3)

    broker.submit(buy("mint-1", "3", time_in_force=TimeInForce.GTC))
    clock.set(new_york(2025, 11, 27, 12, 0))  # Thanksgiving: two parts in, the third waits
    waiting = broker.order("mint-1")
    clock.set(new_york(2025, 11, 28, 9, 30))
    done = broker.order("mint-1")

    assert waiting is not None
    assert waiting.status is OrderStatus.PARTIALLY_FILLED
    assert [f.at for f in waiting.fills] == [
        new_york(2025, 11, 26, 15, 58, 31),
        new_york(2025, 11, 26, 15, 59, 31),
    ]
    assert done is not None
    assert done.status is OrderStatus.FILLED
    bar = prices.daily_bar("AAPL", new_york(2025, 11, 28, 9, 30).date())
    assert bar is not None
    assert (done.fills[2].at, done.fills[2].price) == (new_york(2025, 11, 28, 9, 30), bar.open.scaled_bps(5))


def test_a_day_order_expires_at_the_close_with_the_parts_already_filled(make_broker: MakeBroker) -> None:
    clock = ManualClock(new_york(2025, 11, 28, 12, 58, 30))  # half day: closes at 13:00
    broker = make_broker(clock=clock, fill_parts=3)

    broker.submit(buy("mint-1", "3"))
    clock.set(new_york(2025, 11, 28, 12, 59, 59))
    before_close = broker.order("mint-1")
    clock.set(new_york(2025, 11, 28, 13, 0))
    expired = broker.order("mint-1")

    assert before_close is not None
    assert before_close.status is OrderStatus.PARTIALLY_FILLED
    assert expired is not None
    assert expired.status is OrderStatus.EXPIRED
    assert expired.reason is not None
    assert "expired" in expired.reason
    assert expired.filled_quantity == Shares.parse("2")
    assert broker.positions() == {"AAPL": Shares.parse("2")}
    assert broker.open_orders() == []


def test_parts_never_outnumber_the_share_units() -> None:
    assert part_quantities(Shares(2), 3) == [Shares(0), Shares(0), Shares(2)]
    assert sum(p.units for p in part_quantities(Shares(1_000_000_007), 7)) == 1_000_000_007


def test_an_order_smaller_than_its_parts_fills_in_as_many_parts_as_it_has_units(
    make_broker: MakeBroker, clock: ManualClock
) -> None:
    broker = make_broker(fill_parts=5, latency=timedelta(0))

    order = broker.submit(buy("mint-1", "0.000000002"))
    clock.advance(MINUTE)
    done = broker.order("mint-1")

    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert done is not None
    assert [f.quantity for f in done.fills] == [Shares(1), Shares(1)]


# -- limit orders -----------------------------------------------------------------------------------


def test_a_limit_never_reached_fills_nothing_and_the_day_order_expires_at_the_close(
    broker: PaperBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    bar = prices.daily_bar("AAPL", WEDNESDAY_10AM.date())
    assert bar is not None
    below_the_low = bar.low.scaled_bps(-100)

    broker.submit(buy("mint-1", "1", type=OrderType.LIMIT, limit_price=below_the_low))
    clock.set(new_york(2025, 11, 26, 15, 59))
    open_before_close = broker.order("mint-1")
    clock.set(new_york(2025, 11, 26, 16, 0))
    expired = broker.order("mint-1")

    assert open_before_close is not None
    assert open_before_close.status is OrderStatus.NEW
    assert expired is not None
    assert expired.status is OrderStatus.EXPIRED
    assert expired.fills == ()
    assert broker.cash() == DEFAULT_INITIAL_CASH
    assert broker.positions() == {}


def test_a_limit_buy_fills_at_the_first_instant_the_slipped_price_is_within_the_limit(
    make_broker: MakeBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    # 2025-11-26 is an up day for AAPL: the replay path runs from the open down to the low first.
    bar = prices.daily_bar("AAPL", WEDNESDAY_10AM.date())
    assert bar is not None
    assert bar.close >= bar.open
    limit = Price((bar.open.units + bar.low.units) // 2)
    broker = make_broker(slippage_bps=0)

    broker.submit(buy("mint-1", "1", type=OrderType.LIMIT, limit_price=limit))
    clock.set(new_york(2025, 11, 26, 16, 0))
    order = broker.order("mint-1")

    assert order is not None
    assert order.status is OrderStatus.FILLED
    (fill,) = order.fills
    assert fill.price <= limit
    assert replay_price(prices, fill.at - MINUTE) > limit
    assert (fill.at - (WEDNESDAY_10AM + SECOND)) % MINUTE == timedelta(0)


def test_a_limit_sell_fills_only_at_or_above_its_limit(
    make_broker: MakeBroker, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    broker = make_broker(latency=timedelta(0))
    broker.submit(buy("mint-1", "1"))
    above_the_market = replay_price(prices, WEDNESDAY_10AM).scaled_bps(500)

    placed = broker.submit(sell("redeem-1", "1", type=OrderType.LIMIT, limit_price=above_the_market))
    clock.set(new_york(2025, 11, 26, 16, 0))
    order = broker.order("redeem-1")

    assert placed.status is OrderStatus.NEW
    assert order is not None
    assert order.status is OrderStatus.EXPIRED
    assert broker.positions() == {"AAPL": Shares.parse("1")}


# -- cancel -----------------------------------------------------------------------------------------


def test_cancel_before_the_fill_stops_the_order_for_good(make_broker: MakeBroker) -> None:
    clock = ManualClock(new_york(2025, 11, 29, 12, 0))
    broker = make_broker(clock=clock)
    broker.submit(buy("mint-1", "1"))

    canceled = broker.cancel("mint-1")
    clock.set(new_york(2025, 12, 1, 12, 0))
    later = broker.order("mint-1")
    again = broker.cancel("mint-1")

    assert canceled.status is OrderStatus.CANCELED
    assert canceled.fills == ()
    assert later == canceled
    assert again == canceled
    assert broker.positions() == {}
    assert broker.open_orders() == []


def test_cancel_after_a_partial_fill_keeps_the_fill(make_broker: MakeBroker, clock: ManualClock) -> None:
    broker = make_broker(fill_parts=4)
    broker.submit(buy("mint-1", "4"))
    clock.advance(SECOND)

    canceled = broker.cancel("mint-1")
    clock.advance(10 * MINUTE)
    later = broker.order("mint-1")

    assert canceled.status is OrderStatus.CANCELED
    assert canceled.filled_quantity == Shares.parse("1")
    assert later == canceled
    assert broker.positions() == {"AAPL": Shares.parse("1")}
    assert broker.cash() == DEFAULT_INITIAL_CASH - canceled.filled_notional(round_up=True)


def test_cancelling_a_filled_order_returns_it_unchanged(broker: PaperBroker, clock: ManualClock) -> None:
    broker.submit(buy("mint-1", "1"))
    clock.advance(SECOND)
    filled = broker.order("mint-1")

    assert broker.cancel("mint-1") == filled


def test_cancelling_an_unknown_order_names_the_id(broker: PaperBroker) -> None:
    with pytest.raises(UnknownOrderError, match="'nope'"):
        broker.cancel("nope")


# -- idempotency and bad input ----------------------------------------------------------------------


def test_submitting_the_same_request_again_returns_the_same_order(
    broker: PaperBroker, clock: ManualClock
) -> None:
    first = broker.submit(buy("mint-1", "1"))
    again = broker.submit(buy("mint-1", "1"))
    clock.advance(MINUTE)
    after_fill = broker.submit(buy("mint-1", "1"))

    assert again == first
    assert after_fill.order_id == first.order_id
    assert after_fill.status is OrderStatus.FILLED
    assert len(after_fill.fills) == 1
    assert broker.positions() == {"AAPL": Shares.parse("1")}


def test_a_different_request_under_a_used_id_is_refused_and_the_order_is_untouched(
    broker: PaperBroker,
) -> None:
    first = broker.submit(buy("mint-1", "1"))

    with pytest.raises(DuplicateClientOrderIdError, match="'mint-1' already names order paper-00000001"):
        broker.submit(buy("mint-1", "2"))
    with pytest.raises(DuplicateClientOrderIdError):
        broker.submit(sell("mint-1", "1"))

    assert broker.order("mint-1") == first
    assert broker.open_orders() == [first]


def test_an_unknown_ticker_is_rejected_and_nothing_is_stored(broker: PaperBroker) -> None:
    with pytest.raises(OrderRejectedError, match="unknown ticker 'ZZZZ'"):
        broker.submit(buy("mint-1", "1", ticker="ZZZZ"))

    assert broker.order("mint-1") is None
    assert broker.open_orders() == []
    # The id is still free for a good order.
    assert broker.submit(buy("mint-1", "1")).status is OrderStatus.NEW


def test_selling_more_than_is_held_and_not_already_being_sold_is_rejected(
    make_broker: MakeBroker,
) -> None:
    broker = make_broker(latency=timedelta(0))
    broker.submit(buy("mint-1", "2"))
    broker.submit(sell("redeem-1", "1.5", type=OrderType.LIMIT, limit_price=Price.parse("100000")))

    with pytest.raises(OrderRejectedError, match=r"only 0\.5"):
        broker.submit(sell("redeem-2", "1"))

    assert broker.order("redeem-2") is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: buy("mint-1", "0"),
        lambda: buy("mint-1", "-1"),
        lambda: buy("mint-1", "1", type=OrderType.LIMIT),
        lambda: buy("m" * 49, "1"),
    ],
    ids=["zero", "negative", "limit-without-price", "long-id"],
)
def test_bad_requests_never_reach_the_broker(build: Callable[[], OrderRequest]) -> None:
    with pytest.raises(InvalidOrderError):
        build()


def test_the_broker_refuses_nonsense_settings(
    prices: ReplayPriceSource, calendar: MarketCalendar, clock: ManualClock, database_url: str
) -> None:
    with pytest.raises(ValueError, match="fill_parts"):
        PaperBroker(prices, calendar, clock, database_url, fill_parts=0)
    with pytest.raises(ValueError, match="database file"):
        PaperBroker(prices, calendar, clock, "sqlite://")


# -- state outside the process ----------------------------------------------------------------------


def test_a_new_broker_on_the_same_database_finds_every_order_and_fill(
    prices: ReplayPriceSource, calendar: MarketCalendar, database_url: str
) -> None:
    clock = ManualClock(new_york(2025, 11, 29, 12, 0))
    before = PaperBroker(prices, calendar, clock, database_url, fill_parts=2, initial_cash=Usd.parse("1000"))
    placed = before.submit(buy("mint-1", "2"))
    before.close()  # the process dies here

    # A restarted process may use other settings; the order keeps the terms it was accepted under,
    # and the account keeps its cash.
    clock.set(new_york(2025, 12, 1, 9, 31))
    after = PaperBroker(prices, calendar, clock, database_url, fill_parts=5, initial_cash=Usd.parse("5"))
    order = after.order("mint-1")
    resubmitted = after.submit(buy("mint-1", "2"))

    assert order is not None
    assert order.order_id == placed.order_id
    assert order.status is OrderStatus.FILLED
    assert len(order.fills) == 2
    assert resubmitted == order
    assert after.positions() == {"AAPL": Shares.parse("2")}
    assert after.cash() == Usd.parse("1000") - order.filled_notional(round_up=True)
    after.close()


def test_two_brokers_on_one_database_never_fill_an_instant_twice(
    make_broker: MakeBroker, clock: ManualClock
) -> None:
    brokers = [make_broker(fill_parts=20), make_broker(fill_parts=20)]
    for n in range(5):
        brokers[n % 2].submit(buy(f"mint-{n}", "20"))
    clock.advance(30 * MINUTE)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def ask(broker: PaperBroker) -> None:
        try:
            start.wait()
            for _ in range(5):
                broker.open_orders()
                broker.order("mint-0")
        except BaseException as error:  # surfaced below; a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(brokers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    orders = [brokers[0].order(f"mint-{n}") for n in range(5)]
    assert all(o is not None and o.status is OrderStatus.FILLED and len(o.fills) == 20 for o in orders)
    assert brokers[1].positions() == {"AAPL": Shares.parse("100")}
    spent = sum(o.filled_notional(round_up=True).units for o in orders if o is not None)
    assert brokers[1].cash() == DEFAULT_INITIAL_CASH - Usd(spent)


_KILLED_PROCESS = """
import os, signal, sys
from datetime import datetime
from equitoken.brokers.orders import OrderRequest, OrderSide
from equitoken.brokers.paper import PaperBroker
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares

calendar = MarketCalendar()
clock = ManualClock(datetime.fromisoformat(sys.argv[2]))
broker = PaperBroker(ReplayPriceSource.default(calendar), calendar, clock, sys.argv[1])
broker.submit(OrderRequest("mint-1", "AAPL", OrderSide.BUY, Shares.parse("1")))
os.kill(os.getpid(), signal.SIGKILL)  # no close, no cleanup: the process just dies
"""


@pytest.mark.crash
def test_an_order_placed_by_a_killed_process_is_found_by_the_next_one(
    prices: ReplayPriceSource, calendar: MarketCalendar, database_url: str
) -> None:
    placed_at = new_york(2025, 11, 29, 12, 0)
    died = subprocess.run(
        [sys.executable, "-c", _KILLED_PROCESS, database_url, placed_at.isoformat()], check=False, timeout=120
    )
    clock = ManualClock(new_york(2025, 12, 1, 9, 30))

    with PaperBroker(prices, calendar, clock, database_url) as broker:
        found = broker.order("mint-1")
        resubmitted = broker.submit(buy("mint-1", "1"))

    assert died.returncode == -signal.SIGKILL
    assert found is not None
    assert found.submitted_at == placed_at
    assert found.status is OrderStatus.FILLED
    assert resubmitted == found
