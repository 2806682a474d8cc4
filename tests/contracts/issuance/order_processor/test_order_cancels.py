"""Cancels: the requester asks, the operator cancels and the requester gets back exactly the unfilled
escrow and the unused fee; nobody else may ask or cancel, and a closed order stays closed."""

from typing import Any

import boa
from tests.support.contracts.issuance import (
    CANCELLED,
    FILLED,
    PRICE,
    SHARE,
    USDC,
    Desk,
    limit_buy,
    limit_sell,
    market_buy,
)


def test_a_requested_cancel_refunds_the_unfilled_escrow_and_the_unused_fee(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, treasury: str
) -> None:
    order_id = desk.place(buyer, limit_buy(token, buyer, 5 * SHARE, PRICE), 7 * USDC)
    desk.fill(order_id, 2 * SHARE, 400 * USDC)

    desk.request_cancel(buyer, order_id)
    assert desk.last() == ("CancelRequested", {"order_id": order_id, "requester": buyer})
    assert processor.cancel_requested(order_id)
    desk.cancel(order_id, "requested")

    assert desk.last() == (
        "OrderCancelled",
        {
            "order_id": order_id,
            "requester": buyer,
            "reason": "requested",
            "refund_payment": 600 * USDC + 4_200_000,
            "refund_asset": 0,
        },
    )
    assert processor.order_status(order_id) == CANCELLED
    assert processor.escrowed(order_id) == (0, 0)
    assert processor.unfilled(order_id) == 0
    assert processor.fee_paid(order_id) == (7 * USDC, 2_800_000)
    assert usdc.balanceOf(buyer) == 100_000 * USDC - 400 * USDC - 2_800_000
    assert usdc.balanceOf(treasury) == 400 * USDC + 2_800_000
    assert token.balanceOf(buyer) == 2 * SHARE


def test_a_cancelled_sell_returns_the_stock_and_the_fee(
    desk: Desk, processor: Any, token: Any, usdc: Any, seller: str
) -> None:
    order_id = desk.place(seller, limit_sell(token, seller, 4 * SHARE), 2 * USDC)
    desk.fill(order_id, SHARE, 200 * USDC)

    desk.cancel(order_id, "expired at the close")

    assert token.balanceOf(seller) == 99 * SHARE
    assert usdc.balanceOf(seller) == 1_000 * USDC + 200 * USDC - 500_000


def test_only_the_requester_may_ask_to_cancel(
    desk: Desk, processor: Any, token: Any, buyer: str, seller: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)

    with boa.env.prank(seller), boa.reverts("orders: not the requester"):
        processor.request_cancel(order_id)
    assert not processor.cancel_requested(order_id)


def test_only_an_operator_may_cancel(
    desk: Desk, processor: Any, token: Any, buyer: str, non_owner: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 1 * USDC)
    desk.request_cancel(buyer, order_id)
    before = desk.snapshot(buyer)

    for account in (buyer, non_owner):
        with boa.env.prank(account), boa.reverts("access_control: account is missing role"):
            processor.cancel_order(order_id, "requested")

    assert desk.snapshot(buyer) == before


def test_a_closed_order_can_be_neither_cancelled_nor_filled(
    desk: Desk, processor: Any, token: Any, buyer: str, operator: str
) -> None:
    filled = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)
    desk.fill(filled, SHARE // 2, 100 * USDC)
    cancelled = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)
    desk.cancel(cancelled)
    assert processor.order_status(filled) == FILLED
    before = desk.snapshot(buyer)

    with boa.env.prank(operator):
        for order_id in (filled, cancelled, 99):
            with boa.reverts("orders: order is not open"):
                processor.cancel_order(order_id, "again")
            with boa.reverts("orders: order is not open"):
                processor.fill_order(order_id, SHARE, USDC)
    with boa.env.prank(buyer), boa.reverts("orders: order is not open"):
        processor.request_cancel(cancelled)

    assert desk.snapshot(buyer) == before
