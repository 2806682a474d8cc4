"""Order value types: validation of requests and the sums a BrokerOrder derives from its fills."""

from datetime import UTC, datetime

import pytest

from equitoken.brokers.errors import InvalidOrderError
from equitoken.brokers.orders import (
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from equitoken.model.quantities import Price, Shares, Usd

AT = datetime(2025, 11, 26, 15, 0, tzinfo=UTC)


def _order(*fills: Fill) -> BrokerOrder:
    return BrokerOrder(
        order_id="o-1",
        client_order_id="c-1",
        ticker="AAPL",
        side=OrderSide.BUY,
        quantity=Shares.parse("3"),
        type=OrderType.MARKET,
        limit_price=None,
        time_in_force=TimeInForce.DAY,
        status=OrderStatus.PARTIALLY_FILLED if fills else OrderStatus.NEW,
        fills=fills,
        submitted_at=AT,
    )


def test_only_new_and_partially_filled_orders_are_open() -> None:
    assert {s for s in OrderStatus if not s.is_final} == {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}


def test_a_valid_limit_request_keeps_its_terms() -> None:
    request = OrderRequest(
        "mint-1",
        "AAPL",
        OrderSide.BUY,
        Shares.parse("0.5"),
        OrderType.LIMIT,
        Price.parse("200"),
        TimeInForce.GTC,
    )

    assert request.limit_price == Price.parse("200")
    assert request.time_in_force is TimeInForce.GTC


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": Shares(0)}, "quantity must be positive"),
        ({"quantity": Shares(-1)}, "quantity must be positive"),
        ({"type": OrderType.LIMIT}, "needs a limit price"),
        ({"type": OrderType.LIMIT, "limit_price": Price(0)}, "limit price must be positive"),
        ({"limit_price": Price.parse("10")}, "takes no limit price"),
        ({"client_order_id": ""}, "1 to 48 characters"),
        ({"client_order_id": "x" * 49}, "1 to 48 characters"),
        ({"client_order_id": " padded"}, "blank or control"),
        ({"ticker": ""}, "ticker"),
        ({"side": "buy"}, "is not an OrderSide"),
    ],
)
def test_invalid_requests_are_refused_on_construction(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "client_order_id": "mint-1",
        "ticker": "AAPL",
        "side": OrderSide.BUY,
        "quantity": Shares.parse("1"),
    }
    fields.update(changes)

    with pytest.raises(InvalidOrderError, match=message):
        OrderRequest(**fields)  # type: ignore[arg-type]


def test_filled_quantity_remaining_and_notional_sum_the_fills() -> None:
    order = _order(
        Fill("o-1-1", Shares.parse("1"), Price.parse("100.00000001"), AT),
        Fill("o-1-2", Shares.parse("0.5"), Price.parse("101"), AT),
    )

    assert order.filled_quantity == Shares.parse("1.5")
    assert order.remaining == Shares.parse("1.5")
    # Each fill rounds on its own, as a broker books it: 100.00000001 rounds up to 100.000001.
    assert order.filled_notional(round_up=True) == Usd.parse("150.500001")
    assert order.filled_notional(round_up=False) == Usd.parse("150.5")
    assert order.average_price() == Price.parse("100.33333334")


def test_an_order_without_fills_has_no_average_price() -> None:
    assert _order().average_price() is None
    assert _order().filled_quantity == Shares(0)


def test_matches_compares_every_term_of_the_request() -> None:
    order = _order()
    same = OrderRequest("c-1", "AAPL", OrderSide.BUY, Shares.parse("3"))
    other = OrderRequest("c-1", "AAPL", OrderSide.BUY, Shares.parse("3"), time_in_force=TimeInForce.GTC)

    assert order.matches(same)
    assert not order.matches(other)
