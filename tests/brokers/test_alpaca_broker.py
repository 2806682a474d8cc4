"""AlpacaBroker through the real alpaca-py client over real HTTP.

By default against the local stand-in (`alpaca_standin.py`), on replayed prices and a manual
clock. With `EQUITOKEN_ALPACA_LIVE_TESTS=1` and `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY` set,
the tests not marked `standin_only` run against Alpaca's paper endpoint instead (see
docs/brokers.md); the ones that move the clock or need a known price are skipped there.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.trading.enums import OrderStatus as AlpacaStatus
from tests.brokers.alpaca_standin import AlpacaStandIn
from tests.brokers.support import new_york

from equitoken.brokers.alpaca import AlpacaBroker, decimal_text, map_status
from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import (
    BrokerError,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    OrderRejectedError,
    UnknownOrderError,
)
from equitoken.brokers.orders import OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price, Shares, Usd

LIVE = os.environ.get("EQUITOKEN_ALPACA_LIVE_TESTS") == "1"
standin_only = pytest.mark.skipif(LIVE, reason="needs the stand-in's manual clock and replayed prices")

WEDNESDAY_10AM = new_york(2025, 11, 26, 10, 0)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
STANDIN_CASH = Decimal("100000")
# Ids differ per run so a live paper account, which keeps every id forever, never sees one twice.
RUN = uuid.uuid4().hex[:8]

MakeStandIn = Callable[..., AlpacaStandIn]


def cid(name: str) -> str:
    return f"{RUN}-{name}"


def buy(name: str, shares: str, ticker: str = "AAPL", **terms: Any) -> OrderRequest:
    return OrderRequest(cid(name), ticker, OrderSide.BUY, Shares.parse(shares), **terms)


def sell(name: str, shares: str, ticker: str = "AAPL", **terms: Any) -> OrderRequest:
    return OrderRequest(cid(name), ticker, OrderSide.SELL, Shares.parse(shares), **terms)


def far_limit_buy(name: str) -> OrderRequest:
    """An order no market fills: one whole share of SPY at $1, good till cancelled."""
    return buy(
        name, "1", "SPY", type=OrderType.LIMIT, limit_price=Price.parse("1"), time_in_force=TimeInForce.GTC
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10AM)


@pytest.fixture
def make_standin(
    prices: ReplayPriceSource, calendar: MarketCalendar, clock: ManualClock
) -> Iterator[MakeStandIn]:
    if LIVE:
        pytest.skip("runs against Alpaca's paper endpoint instead of the stand-in")
    started: list[AlpacaStandIn] = []

    def make(**options: Any) -> AlpacaStandIn:
        standin = AlpacaStandIn(prices, calendar, options.pop("clock", clock), cash=STANDIN_CASH, **options)
        started.append(standin.__enter__())
        return standin

    yield make
    for standin in started:
        standin.__exit__(None, None, None)


def broker_on(standin: AlpacaStandIn) -> AlpacaBroker:
    return AlpacaBroker(standin.api_key, standin.secret_key, url_override=standin.base_url)


@pytest.fixture
def standin(make_standin: MakeStandIn) -> AlpacaStandIn:
    return make_standin()


@pytest.fixture
def broker(request: pytest.FixtureRequest) -> Iterator[AlpacaBroker]:
    """The broker under test: on Alpaca's paper endpoint when live, else on a fresh stand-in."""
    if LIVE:
        live = AlpacaBroker(paper=True)
        yield live
        for order in live.open_orders():
            if order.client_order_id.startswith(RUN):
                live.cancel(order.client_order_id)
        return
    yield broker_on(request.getfixturevalue("standin"))


# -- runs against the stand-in and, when enabled, a real paper account ------------------------------


def test_the_alpaca_broker_is_a_broker(broker: AlpacaBroker) -> None:
    assert isinstance(broker, Broker)


def test_submit_is_idempotent_on_the_client_order_id(broker: AlpacaBroker) -> None:
    first = broker.submit(far_limit_buy("mint-1"))
    again = broker.submit(far_limit_buy("mint-1"))

    assert again.order_id == first.order_id
    assert first.status is OrderStatus.NEW
    assert (first.ticker, first.quantity, first.limit_price) == ("SPY", Shares.parse("1"), Price.parse("1"))
    assert [o.order_id for o in broker.open_orders() if o.client_order_id == cid("mint-1")] == [
        first.order_id
    ]


def test_a_different_request_under_a_used_id_is_refused(broker: AlpacaBroker) -> None:
    first = broker.submit(far_limit_buy("mint-1"))

    with pytest.raises(DuplicateClientOrderIdError, match=f"already names Alpaca order {first.order_id}"):
        broker.submit(buy("mint-1", "2", "SPY", type=OrderType.LIMIT, limit_price=Price.parse("1")))


def test_an_unknown_ticker_is_rejected_with_alpacas_message_and_nothing_is_stored(
    broker: AlpacaBroker,
) -> None:
    with pytest.raises(OrderRejectedError, match="Alpaca rejected order"):
        broker.submit(buy("mint-1", "1", ticker="ZZZZZQ"))

    assert broker.order(cid("mint-1")) is None


def test_an_unknown_client_order_id_has_no_order_and_cannot_be_cancelled(broker: AlpacaBroker) -> None:
    assert broker.order(cid("never-used")) is None
    with pytest.raises(UnknownOrderError, match="never-used"):
        broker.cancel(cid("never-used"))


def test_cancel_an_open_order_then_cancel_again(broker: AlpacaBroker) -> None:
    broker.submit(far_limit_buy("mint-1"))

    canceled = broker.cancel(cid("mint-1"))
    again = broker.cancel(cid("mint-1"))

    assert canceled.status is OrderStatus.CANCELED
    assert canceled.fills == ()
    assert again == canceled
    assert cid("mint-1") not in {o.client_order_id for o in broker.open_orders()}


# -- stand-in only: deterministic time and prices ---------------------------------------------------


@standin_only
def test_market_buy_fills_at_the_replay_price_with_the_activity_as_its_fill(
    standin: AlpacaStandIn, clock: ManualClock, prices: ReplayPriceSource
) -> None:
    broker = broker_on(standin)

    placed = broker.submit(buy("mint-1", "2"))
    clock.advance(SECOND)
    order = broker.order(cid("mint-1"))

    assert placed.status is OrderStatus.NEW
    assert placed.submitted_at == WEDNESDAY_10AM
    assert order is not None
    assert order.status is OrderStatus.FILLED
    (fill,) = order.fills
    at = WEDNESDAY_10AM + SECOND
    assert (fill.at, fill.quantity, fill.price) == (at, Shares.parse("2"), prices.quote("AAPL", at).price)
    assert "::" in fill.fill_id
    assert broker.positions() == {"AAPL": Shares.parse("2")}
    expected_cash = STANDIN_CASH - Decimal(2) * fill.price.to_decimal()
    assert broker.cash() == Usd.parse(expected_cash.quantize(Decimal("0.000001")))


@standin_only
def test_quantities_and_prices_travel_as_exact_decimal_strings(standin: AlpacaStandIn) -> None:
    broker = broker_on(standin)

    order = broker.submit(buy("mint-1", "0.123456789"))
    broker.submit(buy("mint-2", "3", type=OrderType.LIMIT, limit_price=Price.parse("250.10")))

    assert order.quantity == Shares.parse("0.123456789")
    assert [body["qty"] for body in standin.posted] == ["0.123456789", "3"]
    assert standin.posted[1]["limit_price"] == "250.1"
    assert decimal_text(Shares.parse("100")) == "100"


@standin_only
def test_partial_fills_arrive_one_activity_per_part(make_standin: MakeStandIn, clock: ManualClock) -> None:
    broker = broker_on(make_standin(fill_parts=3))
    broker.submit(buy("mint-1", "10"))

    clock.advance(SECOND + MINUTE)
    partial = broker.order(cid("mint-1"))
    clock.advance(10 * MINUTE)
    done = broker.order(cid("mint-1"))

    assert partial is not None
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.filled_quantity == Shares(6_666_666_666)
    assert done is not None
    assert done.status is OrderStatus.FILLED
    assert [f.quantity.units for f in done.fills] == [3_333_333_333, 3_333_333_333, 3_333_333_334]
    assert len({f.fill_id for f in done.fills}) == 3
    assert [f.at for f in done.fills] == [WEDNESDAY_10AM + SECOND + n * MINUTE for n in range(3)]


@standin_only
def test_fills_are_found_across_pages_of_account_activities(
    make_standin: MakeStandIn, clock: ManualClock
) -> None:
    broker = broker_on(make_standin(fill_parts=150, fill_interval=SECOND))
    broker.submit(buy("mint-1", "1.5"))

    clock.advance(5 * MINUTE)
    order = broker.order(cid("mint-1"))

    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert len(order.fills) == 150
    assert order.filled_quantity == Shares.parse("1.5")


@standin_only
def test_a_weekend_order_is_accepted_and_fills_at_mondays_open(
    make_standin: MakeStandIn, prices: ReplayPriceSource
) -> None:
    clock = ManualClock(new_york(2025, 11, 29, 12, 0))
    standin = make_standin(clock=clock)
    broker = broker_on(standin)
    monday_open = new_york(2025, 12, 1, 9, 30)

    placed = broker.submit(buy("mint-1", "1"))
    clock.set(monday_open)
    order = broker.order(cid("mint-1"))

    assert standin.orders()[0]["created_at"] == "2025-11-29T17:00:00Z"
    assert placed.status is OrderStatus.NEW
    assert order is not None
    bar = prices.daily_bar("AAPL", monday_open.date())
    assert bar is not None
    assert [(f.at, f.price) for f in order.fills] == [(monday_open, bar.open)]


@standin_only
def test_a_limit_never_reached_expires_at_the_close_without_fills(
    standin: AlpacaStandIn, clock: ManualClock
) -> None:
    broker = broker_on(standin)
    broker.submit(buy("mint-1", "1", type=OrderType.LIMIT, limit_price=Price.parse("100")))

    clock.set(new_york(2025, 11, 26, 16, 0))
    order = broker.order(cid("mint-1"))

    assert order is not None
    assert order.status is OrderStatus.EXPIRED
    assert order.fills == ()


@standin_only
def test_cancel_after_a_partial_fill_keeps_the_fill(make_standin: MakeStandIn, clock: ManualClock) -> None:
    broker = broker_on(make_standin(fill_parts=2))
    broker.submit(buy("mint-1", "4"))
    clock.advance(SECOND)

    canceled = broker.cancel(cid("mint-1"))
    clock.advance(10 * MINUTE)
    later = broker.order(cid("mint-1"))

    assert canceled.status is OrderStatus.CANCELED
    assert canceled.filled_quantity == Shares.parse("2")
    assert later == canceled
    assert broker.positions() == {"AAPL": Shares.parse("2")}


@standin_only
def test_cancelling_a_filled_order_returns_it_without_asking_alpaca_to_cancel(
    standin: AlpacaStandIn, clock: ManualClock
) -> None:
    broker = broker_on(standin)
    broker.submit(buy("mint-1", "1"))
    clock.advance(SECOND)
    filled = broker.order(cid("mint-1"))

    assert broker.cancel(cid("mint-1")) == filled
    assert standin.deletes == 0


@standin_only
def test_a_lost_response_after_the_order_landed_returns_that_order(standin: AlpacaStandIn) -> None:
    broker = broker_on(standin)
    standin.fail_next_post = True

    placed = broker.submit(buy("mint-1", "1"))
    again = broker.submit(buy("mint-1", "1"))

    assert len(standin.orders()) == 1
    assert placed.order_id == again.order_id == standin.orders()[0]["id"]


@standin_only
@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (buy("sub-penny", "1", type=OrderType.LIMIT, limit_price=Price.parse("200.001")), "sub-penny"),
        (buy("fractional-gtc", "0.5", time_in_force=TimeInForce.GTC), "fractional orders must be DAY orders"),
        (buy("too-big", "100000"), "insufficient buying power"),
        (sell("short", "1"), "insufficient qty available"),
    ],
    ids=["sub-penny", "fractional-gtc", "buying-power", "no-shares"],
)
def test_alpacas_refusals_become_rejections_naming_the_cause(
    standin: AlpacaStandIn, request_: OrderRequest, message: str
) -> None:
    broker = broker_on(standin)

    with pytest.raises(OrderRejectedError, match=message):
        broker.submit(request_)

    assert broker.order(request_.client_order_id) is None


@standin_only
def test_open_orders_lists_only_working_orders_oldest_first(
    standin: AlpacaStandIn, clock: ManualClock
) -> None:
    broker = broker_on(standin)
    broker.submit(far_limit_buy("a"))
    broker.submit(buy("b", "1"))
    clock.advance(SECOND)
    broker.submit(far_limit_buy("c"))

    assert [o.client_order_id for o in broker.open_orders()] == [cid("a"), cid("c")]


@standin_only
def test_wrong_keys_and_no_server_are_broker_errors_not_rejections(standin: AlpacaStandIn) -> None:
    wrong = AlpacaBroker("wrong", "keys", url_override=standin.base_url)
    nobody = AlpacaBroker("k", "s", url_override="http://127.0.0.1:9")

    with pytest.raises(BrokerUnavailableError, match="not authorized"):
        wrong.submit(buy("mint-1", "1"))
    with pytest.raises(BrokerUnavailableError, match="unreachable"):
        nobody.submit(buy("mint-1", "1"))


def test_missing_credentials_name_the_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)

    with pytest.raises(BrokerError, match="APCA_API_KEY_ID and APCA_API_SECRET_KEY"):
        AlpacaBroker()


@standin_only
def test_the_standin_answers_like_alpaca_for_errors(standin: AlpacaStandIn, clock: ManualClock) -> None:
    headers = {"APCA-API-KEY-ID": standin.api_key, "APCA-API-SECRET-KEY": standin.secret_key}
    with httpx.Client(base_url=standin.base_url, headers=headers) as http:
        placed = http.post(
            "/v2/orders",
            json={
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "client_order_id": "x",
            },
        )
        duplicate = http.post(
            "/v2/orders",
            json={
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "client_order_id": "x",
            },
        )
        clock.advance(MINUTE)
        not_cancelable = http.delete(f"/v2/orders/{placed.json()['id']}")
        missing = http.get("/v2/orders:by_client_order_id", params={"client_order_id": "nope"})

    assert placed.status_code == 200
    assert (duplicate.status_code, duplicate.json()["message"]) == (422, "client_order_id must be unique")
    assert (not_cancelable.status_code, not_cancelable.json()["message"]) == (422, "order is not cancelable")
    assert (missing.status_code, missing.json()["code"]) == (404, 40410000)


# -- status mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpaca", "filled", "ours"),
    [
        (AlpacaStatus.NEW, Shares(0), OrderStatus.NEW),
        (AlpacaStatus.ACCEPTED, Shares(0), OrderStatus.NEW),
        (AlpacaStatus.PENDING_NEW, Shares(0), OrderStatus.NEW),
        (AlpacaStatus.PARTIALLY_FILLED, Shares(5), OrderStatus.PARTIALLY_FILLED),
        (AlpacaStatus.DONE_FOR_DAY, Shares(5), OrderStatus.PARTIALLY_FILLED),
        (AlpacaStatus.PENDING_CANCEL, Shares(0), OrderStatus.NEW),
        (AlpacaStatus.FILLED, Shares(5), OrderStatus.FILLED),
        (AlpacaStatus.CANCELED, Shares(5), OrderStatus.CANCELED),
        (AlpacaStatus.EXPIRED, Shares(0), OrderStatus.EXPIRED),
        (AlpacaStatus.REJECTED, Shares(0), OrderStatus.REJECTED),
        (AlpacaStatus.REPLACED, Shares(0), OrderStatus.CANCELED),
    ],
)
def test_alpaca_statuses_map_to_ours_by_what_has_filled(
    alpaca: AlpacaStatus, filled: Shares, ours: OrderStatus
) -> None:
    assert map_status(alpaca, filled) is ours


def test_every_alpaca_status_has_a_mapping() -> None:
    for status in AlpacaStatus:
        map_status(status, Shares(0))
