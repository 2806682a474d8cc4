"""Orders that fill: market and limit buys mint to the recipient and pay the treasury, market and
limit sells burn the escrow and pay the recipient from the operator, in partial fills, with the fee
taken pro rata and the escrow left over refunded at the last fill."""

from typing import Any

from tests.support.contracts.issuance import (
    ACTIVE,
    FILLED,
    PRICE,
    SHARE,
    USDC,
    Desk,
    limit_buy,
    limit_sell,
    market_buy,
    market_sell,
)


def test_a_market_buy_fills_in_parts_and_mints_to_the_recipient(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, receiver: str, treasury: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, receiver, 1_000 * USDC), 5 * USDC)
    assert order_id == 1
    assert usdc.balanceOf(buyer) == 100_000 * USDC - 1_005 * USDC
    assert processor.escrowed(order_id) == (1_005 * USDC, 0)
    assert processor.unfilled(order_id) == 1_000 * USDC

    desk.fill(order_id, 2 * SHARE, 400 * USDC)
    assert processor.order_status(order_id) == ACTIVE
    assert processor.unfilled(order_id) == 600 * USDC
    assert processor.fee_paid(order_id) == (5 * USDC, 2 * USDC)
    assert usdc.balanceOf(treasury) == 402 * USDC

    desk.fill(order_id, 3 * SHARE, 600 * USDC)
    assert processor.order_status(order_id) == FILLED
    assert token.balanceOf(receiver) == 5 * SHARE
    assert usdc.balanceOf(treasury) == 1_005 * USDC
    assert processor.escrowed(order_id) == (0, 0)
    assert processor.unfilled(order_id) == 0


def test_a_limit_buy_filled_below_its_limit_refunds_the_difference(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, treasury: str
) -> None:
    order_id = desk.place(buyer, limit_buy(token, buyer, 5 * SHARE, PRICE), 7 * USDC)
    assert processor.escrowed(order_id) == (1_007 * USDC, 0)

    desk.fill(order_id, 2 * SHARE, 398 * USDC)  # 199 per share
    desk.fill(order_id, 3 * SHARE, 600 * USDC)  # exactly the limit
    fill = desk.last()

    assert fill[0] == "OrderFill"
    assert fill[1]["refund"] == 2 * USDC
    assert processor.order_status(order_id) == FILLED
    assert token.balanceOf(buyer) == 5 * SHARE
    assert usdc.balanceOf(buyer) == 100_000 * USDC - 998 * USDC - 7 * USDC
    assert usdc.balanceOf(treasury) == 998 * USDC + 7 * USDC


def test_a_limit_sell_burns_the_escrow_and_pays_the_recipient_from_the_operator(
    desk: Desk,
    processor: Any,
    token: Any,
    usdc: Any,
    seller: str,
    receiver: str,
    operator: str,
    treasury: str,
) -> None:
    supply = token.totalSupply()
    order_id = desk.place(seller, limit_sell(token, receiver, 4 * SHARE, 190 * USDC), 3 * USDC)
    assert token.balanceOf(seller) == 96 * SHARE
    assert processor.escrowed(order_id) == (3 * USDC, 4 * SHARE)

    desk.fill(order_id, 1 * SHARE, 195 * USDC)
    assert processor.escrowed(order_id) == (3 * USDC - 750_000, 3 * SHARE)
    desk.fill(order_id, 3 * SHARE, 570 * USDC)

    assert processor.order_status(order_id) == FILLED
    assert token.totalSupply() == supply - 4 * SHARE
    assert usdc.balanceOf(receiver) == 765 * USDC
    assert usdc.balanceOf(operator) == 100_000 * USDC - 765 * USDC
    assert usdc.balanceOf(treasury) == 3 * USDC
    assert usdc.balanceOf(seller) == 1_000 * USDC - 3 * USDC


def test_a_market_sell_fills_at_any_price(
    desk: Desk, processor: Any, token: Any, usdc: Any, seller: str
) -> None:
    order_id = desk.place(seller, market_sell(token, seller, 2 * SHARE), 0)

    desk.fill(order_id, 2 * SHARE, 1)

    assert processor.order_status(order_id) == FILLED
    assert token.balanceOf(seller) == 98 * SHARE
    assert usdc.balanceOf(seller) == 1_000 * USDC + 1


def test_the_pro_rata_fees_sum_to_the_quoted_fee_exactly(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, treasury: str
) -> None:
    order_id = desk.place(buyer, limit_buy(token, buyer, 3 * SHARE, PRICE), 10)
    fees = []
    for _ in range(3):
        desk.fill(order_id, SHARE, 200 * USDC)
        fees.append(desk.last()[1]["fee"])

    assert fees == [3, 3, 4]  # floor(10 * q / 3) - what was paid before
    assert processor.fee_paid(order_id) == (10, 10)
    assert usdc.balanceOf(treasury) == 600 * USDC + 10


def test_a_limit_buy_escrows_its_cost_rounded_up_and_fills_are_checked_exactly(
    desk: Desk, processor: Any, token: Any, usdc: Any, buyer: str, treasury: str
) -> None:
    # One raw unit at 150.000001 USDC per whole token costs 1.50000001 raw USDC: escrow 2.
    order_id = desk.place(buyer, limit_buy(token, buyer, 1, 150_000_001), 0)
    assert processor.escrowed(order_id) == (2, 0)

    desk.fill(order_id, 1, 1)

    assert usdc.balanceOf(treasury) == 1
    assert usdc.balanceOf(buyer) == 100_000 * USDC - 1


def test_order_created_carries_every_field(
    desk: Desk, processor: Any, token: Any, buyer: str, receiver: str
) -> None:
    order = limit_buy(token, receiver, 5 * SHARE, PRICE)
    desk.place(buyer, order, 7 * USDC)

    name, fields = desk.last()

    assert name == "OrderCreated"
    assert fields == {
        "order_id": 1,
        "requester": buyer,
        "recipient": receiver,
        "token": token.address,
        "sell": False,
        "order_type": 1,
        "asset_quantity": 5 * SHARE,
        "payment_quantity": 0,
        "limit_price": PRICE,
        "time_in_force": 1,
        "fee": 7 * USDC,
        "escrow_payment": 1_000 * USDC,
        "escrow_asset": 0,
    }
    assert processor.order(1) == order
    assert processor.order_requester(1) == buyer
