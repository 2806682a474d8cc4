"""The exchange through the API: market data, orders, balances, refusals and the WebSocket stream,
against the real engine on a temporary directory, real members in the database and real API keys."""

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform
from tests.venues.exchange.builders import CENT, LOT, rules

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.orders import OrderType, Side, Submit
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec
from equitoken.venues.exchange.venue import ExchangeVenue

URL = "/api/v1/exchange"
TICKER = "AAPL"
DOLLARS = 10**6
SHARE = 10**9


class Status:
    """The oracle's market status, set by the test."""

    def __init__(self) -> None:
        self.value = MarketStatus.OPEN

    def __call__(self, ticker: str) -> MarketStatus:
        return self.value


@dataclass
class Members:
    """A platform with a seller (a participant), a buyer (a retail investor) and an operator."""

    platform: Platform
    database: Database
    seller: dict[str, str]
    buyer: dict[str, str]
    operator: dict[str, str]
    seller_id: str
    buyer_id: str
    prices: ReplayPriceSource
    calendar: MarketCalendar


@dataclass
class ExchangeApi:
    client: TestClient
    venue: ExchangeVenue
    status: Status
    members: Members
    seller_account: int
    buyer_account: int
    # The members' API keys live for the module: each test's idempotency keys are its own.
    key_prefix: str = field(default_factory=lambda: uuid.uuid4().hex)

    def order(self, headers: dict[str, str], key: str, **body: Any) -> Any:
        order = {"ticker": TICKER, "side": "buy", "price": "100", "quantity": "1", **body}
        return self.client.post(
            f"{URL}/orders", json=order, headers={**headers, "Idempotency-Key": f"{self.key_prefix}-{key}"}
        )


@pytest.fixture(scope="module")
def members(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Members]:
    tmp = tmp_path_factory.mktemp("exchange-api")
    database = Database(sqlite_url(tmp / "api.sqlite"))
    database.migrate()
    platform = build_platform(
        InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS),
        database,
        prices,
        calendar,
        tmp,
    )
    expiry = platform.clock.now() + timedelta(days=365)
    buyer = platform.issuer.investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=expiry)
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
    )
    keys = context.keys
    yield Members(
        platform,
        database,
        seller={"X-API-Key": keys.issue(Role.PARTICIPANT, platform.participant.id, "seller")},
        buyer={"X-API-Key": keys.issue(Role.INVESTOR, buyer.id, "buyer")},
        operator={"X-API-Key": keys.issue(Role.OPERATOR, None, "ops")},
        seller_id=platform.participant.id,
        buyer_id=buyer.id,
        prices=prices,
        calendar=calendar,
    )
    database.close()


def make_context(members: Members, venue: ExchangeVenue | None) -> ApiContext:
    platform = members.platform
    return ApiContext(
        issuer=platform.issuer,
        calendar=members.calendar,
        prices=members.prices,
        broker=platform.broker,
        clock=platform.clock,
        database=members.database,
        exchange=venue,
        exchange_members=None if venue is None else ExchangeMembers(members.database, platform.clock),
    )


@pytest.fixture
def api(members: Members, tmp_path: Path) -> ExchangeApi:
    status = Status()
    exchange = Exchange.open(tmp_path / "exchange", [rules()], status, fsync=FsyncPolicy.PER_BATCH)
    venue = ExchangeVenue(exchange, clock=members.platform.clock)
    directory = ExchangeMembers(members.database, members.platform.clock)
    seller, buyer = directory.account_of(members.seller_id), directory.account_of(members.buyer_id)
    venue.credit_deposit(seller, TICKER, 10 * SHARE, f"{tmp_path.name}-seller")
    venue.credit_deposit(buyer, USDC, 10_000 * DOLLARS, f"{tmp_path.name}-buyer")
    client = TestClient(create_app(make_context(members, venue)), raise_server_exceptions=False)
    return ExchangeApi(client, venue, status, members, seller, buyer)


# Market data


def test_markets_list_steps_fees_status_and_the_touch(api: ExchangeApi) -> None:
    empty = api.client.get(f"{URL}/markets", headers=api.members.buyer).json()
    api.order(api.members.seller, "ask", side="sell", price="101.5")
    api.status.value = MarketStatus.CLOSED

    markets = api.client.get(f"{URL}/markets", headers=api.members.operator).json()

    assert empty[0]["best_ask"] is None
    assert markets == [
        {
            "ticker": TICKER,
            "status": "closed",
            "tick": "0.01",
            "lot": "0.0001",
            "maker_fee_bps": 2,
            "taker_fee_bps": 5,
            "min_notional": "1",
            "best_bid": None,
            "best_ask": "101.5",
        }
    ]


def test_a_resting_order_shows_in_the_book_own_orders_and_balances_until_cancelled(api: ExchangeApi) -> None:
    buyer = api.members.buyer
    placed = api.order(buyer, "bid-1", price="99.25", quantity="2")
    book = api.client.get(f"{URL}/markets/aapl/book", params={"depth": 5}, headers=buyer).json()
    orders = api.client.get(f"{URL}/orders", headers=buyer).json()
    balances = api.client.get(f"{URL}/balances", headers=buyer).json()
    others = api.client.get(f"{URL}/orders", params={"ticker": TICKER}, headers=api.members.seller).json()

    cancelled = api.client.delete(f"{URL}/orders/{TICKER}/{placed.json()['order_id']}", headers=buyer)
    after = api.client.get(f"{URL}/balances", headers=buyer).json()

    assert placed.status_code == 201
    assert placed.json() == {
        "ticker": TICKER,
        "order_id": 1,
        "state": "resting",
        "open_quantity": "2",
        "fills": [],
    }
    assert book == {
        "ticker": TICKER,
        "status": "open",
        "bids": [{"price": "99.25", "quantity": "2", "orders": 1}],
        "asks": [],
    }
    # Without a client order id of its own, the order is named after the API key and Idempotency-Key.
    assert orders[0]["client_order_id"].startswith("k-")
    assert orders == [
        {
            "ticker": TICKER,
            "order_id": 1,
            "client_order_id": orders[0]["client_order_id"],
            "side": "buy",
            "price": "99.25",
            "quantity": "2",
        }
    ]
    assert others == []
    # 20,000 lots at 9,925 USDC units each, plus the larger fee (5 bps) per lot rounded up to 5 units.
    assert balances[0] == {"asset": "USDC", "available": "9801.4", "locked": "198.6"}
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert after[0] == {"asset": "USDC", "available": "10000", "locked": "0"}
    assert api.client.get(f"{URL}/orders", headers=buyer).json() == []


def test_a_crossing_order_trades_and_both_sides_settle(api: ExchangeApi) -> None:
    api.order(api.members.seller, "ask", side="sell", price="100", quantity="1.5", client_order_id="s-1")

    taken = api.order(api.members.buyer, "take", price="100.5", quantity="1")
    trades = api.client.get(f"{URL}/markets/{TICKER}/trades", headers=api.members.operator).json()
    seller = api.client.get(f"{URL}/balances", headers=api.members.seller).json()
    buyer = api.client.get(f"{URL}/balances", headers=api.members.buyer).json()

    assert taken.status_code == 201
    assert taken.json()["state"] == "filled"
    assert taken.json()["fills"] == [
        {
            "trade_id": "AAPL-1-2",
            "order_id": 2,
            "role": "taker",
            "price": "100",
            "quantity": "1",
            "fee": "0.05",
        }
    ]
    assert [(t["trade_id"], t["price"], t["quantity"], t["taker_side"], t["status"]) for t in trades] == [
        ("AAPL-1-2", "100", "1", "buy", "open")
    ]
    assert trades[0]["at"] is not None
    # The seller was paid $100 less its 2 bps maker fee; the buyer paid $100 and 5 bps.
    assert {b["asset"]: (b["available"], b["locked"]) for b in seller} == {
        "USDC": ("99.98", "0"),
        "AAPL": ("8.5", "0.5"),
    }
    assert {b["asset"]: (b["available"], b["locked"]) for b in buyer} == {
        "USDC": ("9899.95", "0"),
        "AAPL": ("1", "0"),
    }


def test_an_amendment_moves_the_order_and_its_hold(api: ExchangeApi) -> None:
    order_id = api.order(api.members.seller, "ask", side="sell", price="101", quantity="2").json()["order_id"]

    amended = api.client.patch(
        f"{URL}/orders/{TICKER}/{order_id}",
        json={"price": "102", "quantity": "1"},
        headers=api.members.seller,
    )
    same = api.client.patch(
        f"{URL}/orders/{TICKER}/{order_id}",
        json={"price": "102", "quantity": "1"},
        headers=api.members.seller,
    )

    assert amended.status_code == 200
    assert amended.json()["state"] == "amended"
    assert amended.json()["open_quantity"] == "1"
    assert api.client.get(f"{URL}/orders", headers=api.members.seller).json()[0]["price"] == "102"
    assert same.status_code == 422
    assert same.json()["code"] == "amend_changes_nothing"


def test_a_retried_order_with_the_same_key_is_placed_once(api: ExchangeApi) -> None:
    first = api.order(api.members.buyer, "once", price="99", quantity="1")
    retry = api.order(api.members.buyer, "once", price="99.00", quantity="1.0")
    other = api.order(api.members.buyer, "once", price="98", quantity="1")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert len(api.client.get(f"{URL}/orders", headers=api.members.buyer).json()) == 1


def _reopened(api: ExchangeApi, directory: Path) -> ExchangeApi:
    """Stand in for a crash: drop the venue and app, and reopen the exchange from its journals."""
    api.venue.exchange.close()
    exchange = Exchange.open(directory, [rules()], api.status, fsync=FsyncPolicy.PER_BATCH)
    venue = ExchangeVenue(exchange, clock=api.members.platform.clock)
    client = TestClient(create_app(make_context(api.members, venue)), raise_server_exceptions=False)
    return ExchangeApi(
        client, venue, api.status, api.members, api.seller_account, api.buyer_account, api.key_prefix
    )


def _crash_before_the_answer_is_stored(api: ExchangeApi, key: str, **order: Any) -> None:
    """Journal the order through the engine as `POST /orders` would, but store no answer."""
    buyer = make_context(api.members, None).keys.authenticate(api.members.buyer["X-API-Key"])
    assert buyer is not None
    # The id the route derives from the buyer's API key and the call's Idempotency-Key.
    digest = hashlib.sha256(f"{buyer.key_id}:{api.key_prefix}-{key}".encode()).hexdigest()
    client_order_id = f"k-{digest[:32]}"
    api.venue.submit(
        TICKER,
        Submit(
            api.buyer_account, client_order_id, Side.BUY, OrderType.LIMIT, order["price"], order["quantity"]
        ),
        unique=True,
    )
    api.venue.exchange.sync()


def test_an_order_journaled_before_a_crash_is_not_placed_again_by_the_retry(
    api: ExchangeApi, tmp_path: Path
) -> None:
    _crash_before_the_answer_is_stored(api, "crashed", price=9_900, quantity=SHARE)
    after = _reopened(api, tmp_path / "exchange")

    retry = after.order(api.members.buyer, "crashed", price="99", quantity="1")
    again = after.order(api.members.buyer, "crashed", price="99", quantity="1")

    assert retry.status_code == 200
    assert retry.json() == {
        "ticker": TICKER,
        "order_id": 1,
        "state": "resting",
        "open_quantity": "1",
        "fills": [],
    }
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(after.client.get(f"{URL}/orders", headers=api.members.buyer).json()) == 1
    after.venue.exchange.close()


def test_a_filled_order_journaled_before_a_crash_answers_closed(api: ExchangeApi, tmp_path: Path) -> None:
    api.order(api.members.seller, "ask", side="sell", price="99", quantity="1")
    _crash_before_the_answer_is_stored(api, "filled", price=9_900, quantity=SHARE)
    after = _reopened(api, tmp_path / "exchange")

    retry = after.order(api.members.buyer, "filled", price="99", quantity="1")

    assert retry.status_code == 200
    assert retry.json()["state"] == "closed"
    assert retry.json()["order_id"] == 2
    balances = after.client.get(f"{URL}/balances", headers=api.members.buyer).json()
    assert balances[1] == {"asset": TICKER, "available": "1", "locked": "0"}  # bought once only
    after.venue.exchange.close()


def test_reusing_an_own_client_order_id_is_refused_naming_the_order(api: ExchangeApi) -> None:
    first = api.order(api.members.buyer, "mine-1", price="95", client_order_id="mine")
    before = api.venue.exchange.snapshot()
    second = api.order(api.members.buyer, "mine-2", price="94", client_order_id="mine")

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "duplicate_order"
    assert "already placed order 1" in second.json()["detail"]
    assert api.venue.exchange.snapshot() == before


# Refusals: each is a problem with a stable code, and nothing changes.


@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ({"price": "100.005"}, 422, "off_tick", "ticks of $0.01"),
        ({"quantity": "0.00005"}, 422, "off_lot", "lots of 0.0001 shares"),
        ({"ticker": "TSLA"}, 422, "unknown_instrument", "not 'TSLA'"),
        ({"type": "market", "price": "100"}, 422, "market_order_has_price", "takes no price"),
        ({"price": None}, 422, "price_not_positive", "needs a price"),
        ({"price": "0"}, 422, "price_not_positive", "positive number of ticks"),
        ({"side": "sell", "quantity": "0.001"}, 422, "below_min_notional", "minimum notional"),
        ({"quantity": "1000"}, 422, "insufficient_funds", "available"),
        ({"side": "sell", "price": "90", "post_only": True}, 422, "post_only_would_cross", "would trade"),
        (
            {"type": "market", "price": None, "time_in_force": "gtc"},
            422,
            "market_order_needs_ioc_or_fok",
            "IOC",
        ),
        ({"side": "hold"}, 422, "invalid_request", "side"),
        ({"quantity": "-1"}, 422, "invalid_request", "quantity"),
        ({"colour": "red"}, 422, "invalid_request", "colour"),
    ],
)
def test_a_bad_order_is_refused_with_a_problem_and_changes_nothing(
    api: ExchangeApi, body: dict[str, Any], status: int, code: str, detail: str
) -> None:
    api.order(api.members.buyer, "resting-bid", price="95", quantity="1")
    before = api.venue.exchange.snapshot()

    refused = api.order(api.members.seller, "bad", **body)

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert api.venue.exchange.snapshot() == before


def test_a_halted_market_refuses_orders_and_amendments_but_not_cancels(api: ExchangeApi) -> None:
    order_id = api.order(api.members.buyer, "bid", price="99", quantity="1").json()["order_id"]
    api.status.value = MarketStatus.HALTED
    before = api.venue.exchange.snapshot()

    placed = api.order(api.members.buyer, "bid-2", price="98", quantity="1")
    amended = api.client.patch(
        f"{URL}/orders/{TICKER}/{order_id}", json={"price": "98", "quantity": "1"}, headers=api.members.buyer
    )
    unchanged = api.venue.exchange.snapshot()
    cancelled = api.client.delete(f"{URL}/orders/{TICKER}/{order_id}", headers=api.members.buyer)

    assert (placed.status_code, placed.json()["code"]) == (409, "market_halted")
    assert (amended.status_code, amended.json()["code"]) == (409, "market_halted")
    assert unchanged == before
    assert cancelled.status_code == 200


def test_another_members_order_reads_as_unknown(api: ExchangeApi) -> None:
    order_id = api.order(api.members.seller, "ask", side="sell", price="101").json()["order_id"]
    before = api.venue.exchange.snapshot()

    cancel = api.client.delete(f"{URL}/orders/{TICKER}/{order_id}", headers=api.members.buyer)
    amend = api.client.patch(
        f"{URL}/orders/{TICKER}/{order_id}", json={"price": "102", "quantity": "1"}, headers=api.members.buyer
    )
    missing = api.client.delete(f"{URL}/orders/{TICKER}/999", headers=api.members.seller)
    unknown_ticker = api.client.delete(f"{URL}/orders/TSLA/{order_id}", headers=api.members.seller)
    bad_id = api.client.delete(f"{URL}/orders/{TICKER}/-1", headers=api.members.seller)

    assert [r.status_code for r in (cancel, amend, missing, unknown_ticker, bad_id)] == [
        404,
        404,
        404,
        404,
        422,
    ]
    assert [r.json()["code"] for r in (cancel, amend, missing, unknown_ticker)] == [
        "unknown_order",
        "unknown_order",
        "unknown_order",
        "unknown_instrument",
    ]
    assert api.venue.exchange.snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/orders"), ("get", "/balances"), ("delete", "/orders/AAPL/1")],
)
def test_an_operator_key_has_no_exchange_account(api: ExchangeApi, method: str, path: str) -> None:
    response = api.client.request(method, f"{URL}{path}", headers=api.members.operator)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_market_data_refuses_bad_parameters(api: ExchangeApi) -> None:
    headers = api.members.buyer
    assert api.client.get(f"{URL}/markets/TSLA/book", headers=headers).json()["code"] == "unknown_instrument"
    assert api.client.get(f"{URL}/markets/AAPL/book?depth=0", headers=headers).status_code == 422
    assert api.client.get(f"{URL}/markets/AAPL/trades?limit=201", headers=headers).status_code == 422
    assert api.client.get(f"{URL}/orders?ticker=TSLA", headers=headers).json()["code"] == "unknown_instrument"
    assert api.client.get(f"{URL}/markets").json()["code"] == "unauthenticated"


def test_without_an_exchange_the_routes_are_not_served(members: Members) -> None:
    client = TestClient(create_app(make_context(members, None)), raise_server_exceptions=False)

    response = client.get(f"{URL}/markets", headers=members.buyer)

    assert response.status_code == 404
    with pytest.raises(ValueError, match="give both or neither"):
        ApiContext(
            issuer=members.platform.issuer,
            calendar=members.calendar,
            prices=members.prices,
            broker=members.platform.broker,
            clock=members.platform.clock,
            database=members.database,
            exchange_members=ExchangeMembers(members.database),
        )


# The WebSocket stream


def test_the_stream_sends_snapshots_then_numbered_updates_and_only_own_orders(api: ExchangeApi) -> None:
    api.order(api.members.seller, "ask", side="sell", price="101", quantity="1")
    buyer_key = api.members.buyer["X-API-Key"]
    seller_key = api.members.seller["X-API-Key"]
    with (
        api.client.websocket_connect(f"{URL}/stream?key={buyer_key}") as buyer,
        api.client.websocket_connect(f"{URL}/stream", headers={"X-API-Key": seller_key}) as seller,
    ):
        buyer.send_json({"op": "subscribe", "channels": ["levels:AAPL", "trades:AAPL", "orders"]})
        snapshots = [buyer.receive_json() for _ in range(3)]
        seller.send_json({"op": "subscribe", "channels": ["orders"]})
        seller_snapshot = seller.receive_json()

        api.order(api.members.buyer, "bid", price="100", quantity="1")
        api.order(api.members.buyer, "take", price="101", quantity="1")
        updates = [buyer.receive_json() for _ in range(5)]
        seller_update = seller.receive_json()

    assert [(m["seq"], m["channel"], m["type"]) for m in snapshots] == [
        (1, "levels:AAPL", "snapshot"),
        (2, "orders", "snapshot"),
        (3, "trades:AAPL", "snapshot"),
    ]
    assert snapshots[0]["data"]["asks"] == [{"price": "101", "quantity": "1", "orders": 1}]
    assert snapshots[1]["data"] == {"orders": []}
    assert seller_snapshot["data"]["orders"][0]["price"] == "101"
    assert [(m["seq"], m["channel"]) for m in updates] == [
        (4, "orders"),
        (5, "levels:AAPL"),
        (6, "orders"),
        (7, "trades:AAPL"),
        (8, "levels:AAPL"),
    ]
    assert updates[0]["data"]["events"][0]["type"] == "accepted"
    assert updates[1]["data"]["bids"] == [{"price": "100", "quantity": "1", "orders": 1}]
    assert [e["type"] for e in updates[2]["data"]["events"]] == ["accepted", "filled"]
    assert updates[3]["data"]["price"] == "101"
    assert updates[4]["data"]["asks"] == []
    # The seller saw its own fill, not the buyer's resting bid.
    assert seller_update["seq"] == 2
    assert [e["type"] for e in seller_update["data"]["events"]] == ["filled"]
    assert seller_update["data"]["events"][0]["notional"] == "101"


def test_the_stream_refuses_a_bad_key_and_bad_subscriptions(api: ExchangeApi) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        api.client.websocket_connect(f"{URL}/stream?key=eqt_nope"),
    ):
        pass
    operator_key = api.members.operator["X-API-Key"]
    with api.client.websocket_connect(f"{URL}/stream?key={operator_key}") as operator:
        operator.send_json({"op": "subscribe", "channels": ["levels:TSLA"]})
        unknown = operator.receive_json()
        operator.send_json({"op": "subscribe", "channels": ["orders"]})
        forbidden = operator.receive_json()
        operator.send_json(["subscribe"])
        malformed = operator.receive_json()
        operator.send_json({"op": "subscribe", "channels": ["levels:AAPL"]})
        levels = operator.receive_json()

    assert refused.value.code == 1008
    assert (unknown["type"], unknown["data"]["code"]) == ("error", "unknown_channel")
    assert (forbidden["type"], forbidden["data"]["code"]) == ("error", "forbidden")
    assert (malformed["type"], malformed["data"]["code"]) == ("error", "invalid_message")
    assert (levels["seq"], levels["channel"], levels["type"]) == (4, "levels:AAPL", "snapshot")


def test_a_share_class_symbol_is_served_by_its_dotted_ticker(members: Members, tmp_path: Path) -> None:
    brk = BookRules(InstrumentSpec("BRK.B", 9, CENT, LOT), 2, 5)
    exchange = Exchange.open(tmp_path / "exchange", [brk], Status(), fsync=FsyncPolicy.PER_BATCH)
    venue = ExchangeVenue(exchange, clock=members.platform.clock)
    seller = ExchangeMembers(members.database, members.platform.clock).account_of(members.seller_id)
    venue.credit_deposit(seller, "BRK.B", SHARE, f"{tmp_path.name}-seller-brk")
    client = TestClient(create_app(make_context(members, venue)), raise_server_exceptions=False)
    order = {"ticker": "brk.b", "side": "sell", "price": "480.5", "quantity": "0.5"}
    placed = client.post(
        f"{URL}/orders", json=order, headers={**members.seller, "Idempotency-Key": f"brk-{uuid.uuid4()}"}
    )
    assert placed.status_code == 201, placed.text
    book = client.get(f"{URL}/markets/BRK.B/book", headers=members.buyer).json()
    assert (book["ticker"], book["asks"]) == ("BRK.B", [{"price": "480.5", "quantity": "0.5", "orders": 1}])
    exchange.close()
