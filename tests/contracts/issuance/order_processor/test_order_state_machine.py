"""Random runs of orders placed, filled in parts and cancelled, over the real processor, stock token
and test USDC.

Named invariants:
- ``holds_exactly_the_open_escrows``: the processor's USDC and stock are exactly what its open orders
  escrow (``Desk.check``, run after every action);
- ``fees_are_pro_rata``: every order has paid F * q // Q of its fee F after filling q of Q, the whole
  fee once filled, and never more after a cancel;
- ``usdc_is_conserved``: fills and cancels only move USDC between the actors, the processor and the
  treasury.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.support.contracts.issuance import (
    ACTIVE,
    CANCELLED,
    FILLED,
    FOK,
    SHARE,
    USDC,
    Desk,
    Order,
    limit_buy,
    limit_sell,
    market_buy,
    market_sell,
)

REFERENCE = 200 * USDC  # what a market fill pays per whole token
tifs = st.integers(min_value=0, max_value=FOK)
fees = st.integers(min_value=0, max_value=10 * USDC)
prices = st.integers(min_value=1, max_value=300 * USDC)
quantities = st.integers(min_value=1, max_value=SHARE)
parts = st.integers(min_value=1, max_value=4)


@dataclass
class Placed:
    """What the machine expects of one order."""

    order: Order
    quantity: int
    fee: int
    filled: int = 0
    status: int = ACTIVE


class OrderProcessorMachine(RuleBasedStateMachine):
    desk: ClassVar[Desk]
    token: ClassVar[Any]
    buyer: ClassVar[str]
    seller: ClassVar[str]
    holders: ClassVar[list[str]]

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.placed: dict[int, Placed] = {}
        self.total = self._usdc_total()

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    def _usdc_total(self) -> int:
        return sum(self.desk.usdc.balanceOf(a) for a in self.holders)

    def _open(self) -> list[int]:
        return [i for i, p in self.placed.items() if p.status == ACTIVE]

    def _place(self, requester: str, order: Order, quantity: int, fee: int) -> None:
        order_id = self.desk.place(requester, order, fee)
        self.placed[order_id] = Placed(order, quantity, fee)

    @rule(payment=st.integers(min_value=1, max_value=2_000 * USDC), fee=fees, tif=tifs)
    def place_market_buy(self, payment: int, fee: int, tif: int) -> None:
        self._place(self.buyer, market_buy(self.token, self.buyer, payment, tif), payment, fee)

    @rule(quantity=st.integers(min_value=1, max_value=5 * SHARE), price=prices, fee=fees, tif=tifs)
    def place_limit_buy(self, quantity: int, price: int, fee: int, tif: int) -> None:
        self._place(self.buyer, limit_buy(self.token, self.buyer, quantity, price, tif), quantity, fee)

    @rule(quantity=quantities, fee=fees, tif=tifs, limit=st.none() | prices)
    def place_sell(self, quantity: int, fee: int, tif: int, limit: int | None) -> None:
        if limit is None:
            order = market_sell(self.token, self.seller, quantity, tif)
        else:
            order = limit_sell(self.token, self.seller, quantity, limit, tif)
        self._place(self.seller, order, quantity, fee)

    @precondition(lambda self: self._open())
    @rule(pick=st.randoms(use_true_random=False), part=parts)
    def fill(self, pick: Any, part: int) -> None:
        order_id = pick.choice(self._open())
        placed = self.placed[order_id]
        _, _, sell, order_type, _, _, limit, tif = placed.order
        remaining = placed.quantity - placed.filled
        fill = remaining if tif == FOK else max(1, remaining * part // 4)
        if not sell and order_type == 0:  # a market buy fills USDC
            asset, payment = fill * SHARE // REFERENCE + 1, fill
        elif order_type == 0:
            asset, payment = fill, fill * REFERENCE // SHARE + 1
        elif sell:
            asset, payment = fill, -(-fill * limit // SHARE) + part
        else:
            asset, payment = fill, fill * limit // SHARE
            if payment == 0:  # too small to cost anything at the limit: nothing can fill it
                return
        self.desk.fill(order_id, asset, payment)
        placed.filled += fill
        if placed.filled == placed.quantity:
            placed.status = FILLED
        else:
            assert self.desk.processor.unfilled(order_id) == placed.quantity - placed.filled

    @precondition(lambda self: self._open())
    @rule(pick=st.randoms(use_true_random=False))
    def cancel(self, pick: Any) -> None:
        order_id = pick.choice(self._open())
        requester = self.seller if self.placed[order_id].order[2] else self.buyer
        self.desk.request_cancel(requester, order_id)
        self.desk.cancel(order_id, "random")
        self.placed[order_id].status = CANCELLED

    # ``holds_exactly_the_open_escrows`` is `Desk.check`, which every action already runs.

    @invariant()
    def fees_are_pro_rata(self) -> None:
        processor = self.desk.processor
        for order_id, placed in self.placed.items():
            assert processor.order_status(order_id) == placed.status
            fee, paid = processor.fee_paid(order_id)
            assert fee == placed.fee
            assert paid == placed.fee * placed.filled // placed.quantity

    @invariant()
    def usdc_is_conserved(self) -> None:
        assert self._usdc_total() == self.total


def test_order_processor_invariants(
    fresh_chain: Any, desk: Desk, token: Any, buyer: str, seller: str, operator: str, treasury: str
) -> None:
    machine = OrderProcessorMachine
    machine.desk, machine.token, machine.buyer, machine.seller = desk, token, buyer, seller
    machine.holders = [buyer, seller, operator, treasury, desk.processor.address]
    machine.TestCase.settings = settings(
        max_examples=10, stateful_step_count=12, deadline=None, derandomize=True
    )
    machine.TestCase().runTest()
