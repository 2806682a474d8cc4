"""A reference order book written the obvious way: one list of orders per side, kept sorted, scanned linearly.

It follows the same rules as `equitoken.venues.exchange.book.Book` (see docs/exchange.md) and
answers each command with the same events, so it serves two purposes: the baseline that
`bench/book.py` measures the real book against, and the model the property tests check the real
book's fills and priorities with. Correctness over speed: every lookup is a scan.
"""

from dataclasses import dataclass

from equitoken.model.bps import fee_on as fee
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
from equitoken.venues.exchange.orders import (
    Amend,
    Cancel,
    CancelReason,
    Command,
    OrderType,
    RejectReason,
    Side,
    Submit,
    TimeInForce,
)
from equitoken.venues.exchange.rules import MAX_PRICE_TICKS, BookRules, SelfTradePrevention


@dataclass
class RestingOrder:
    """An order in the baseline book; `arrival` orders it in time within its price."""

    order_id: int
    account: int
    client_order_id: str
    side: Side
    price: int
    quantity: int
    arrival: int


class BaselineBook:
    """Match orders with sorted lists and linear scans."""

    def __init__(self, rules: BookRules) -> None:
        self.rules = rules
        self.bids: list[RestingOrder] = []  # best (highest price, then earliest) first
        self.asks: list[RestingOrder] = []  # best (lowest price, then earliest) first
        self.next_order_id = 1
        self._arrivals = 0

    def apply(self, command: Command) -> list[Event]:
        """Carry out any command."""
        if isinstance(command, Submit):
            return self._submit(command)
        if isinstance(command, Cancel):
            return self._cancel(command)
        return self._amend(command)

    def best_bid(self) -> int | None:
        """Return the highest bid price."""
        return self.bids[0].price if self.bids else None

    def best_ask(self) -> int | None:
        """Return the lowest ask price."""
        return self.asks[0].price if self.asks else None

    def _submit(self, c: Submit) -> list[Event]:
        reason = self._submit_reason(c)
        if reason is not None:
            return [Rejected(c.account, c.client_order_id, 0, reason)]
        order_id = self.next_order_id
        self.next_order_id += 1
        events: list[Event] = [Accepted(order_id, *c)]
        remaining = c.quantity
        opposite = self.asks if c.side == Side.BUY else self.bids
        while remaining and opposite and self._crosses(c, opposite[0].price):
            maker = opposite[0]
            if maker.account == c.account:
                stp = self.rules.self_trade_prevention
                if stp != SelfTradePrevention.CANCEL_INCOMING:
                    opposite.pop(0)
                    events.append(
                        Cancelled(maker.order_id, maker.account, maker.quantity, CancelReason.SELF_TRADE)
                    )
                if stp != SelfTradePrevention.CANCEL_RESTING:
                    events.append(Cancelled(order_id, c.account, remaining, CancelReason.SELF_TRADE))
                    return events
                continue
            fill = min(remaining, maker.quantity)
            notional = self.rules.instrument.notional(maker.price, fill).units
            events.append(
                Filled(
                    maker.order_id,
                    order_id,
                    maker.account,
                    c.account,
                    c.side,
                    maker.price,
                    fill,
                    notional,
                    fee(notional, self.rules.maker_fee_bps),
                    fee(notional, self.rules.taker_fee_bps),
                )
            )
            remaining -= fill
            maker.quantity -= fill
            if maker.quantity == 0:
                opposite.pop(0)
        if remaining:
            if c.order_type == OrderType.LIMIT and c.time_in_force == TimeInForce.GTC:
                self._rest(
                    RestingOrder(order_id, c.account, c.client_order_id, c.side, c.price, remaining, 0)
                )
            else:
                events.append(Cancelled(order_id, c.account, remaining, CancelReason.UNFILLED))
        return events

    def _submit_reason(self, c: Submit) -> RejectReason | None:
        if type(c.price) is not int or type(c.quantity) is not int or type(c.account) is not int:
            return RejectReason.NOT_AN_INTEGER
        if c.account < 0:
            return RejectReason.BAD_ACCOUNT
        if (
            c.side not in list(Side)
            or c.order_type not in list(OrderType)
            or c.time_in_force not in list(TimeInForce)
            or type(c.post_only) is not bool
            or type(c.client_order_id) is not str
        ):
            return RejectReason.BAD_ORDER_FIELD
        if c.quantity <= 0:
            return RejectReason.QUANTITY_NOT_POSITIVE
        if c.quantity % self.rules.instrument.lot:
            return RejectReason.QUANTITY_NOT_LOT_MULTIPLE
        opposite = self.asks if c.side == Side.BUY else self.bids
        if c.order_type == OrderType.LIMIT:
            if c.price <= 0:
                return RejectReason.PRICE_NOT_POSITIVE
            if c.price > MAX_PRICE_TICKS:
                return RejectReason.PRICE_TOO_HIGH
            if c.post_only and c.time_in_force != TimeInForce.GTC:
                return RejectReason.POST_ONLY_NEEDS_GTC_LIMIT
            value_at = c.price
        else:
            if c.price != 0:
                return RejectReason.MARKET_ORDER_HAS_PRICE
            if c.time_in_force == TimeInForce.GTC:
                return RejectReason.MARKET_ORDER_NEEDS_IOC_OR_FOK
            if c.post_only:
                return RejectReason.POST_ONLY_NEEDS_GTC_LIMIT
            if not opposite:
                return RejectReason.NO_LIQUIDITY
            value_at = opposite[0].price
        if self.rules.instrument.notional(value_at, c.quantity) < self.rules.min_notional:
            return RejectReason.BELOW_MIN_NOTIONAL
        crosses = bool(opposite) and self._crosses(c, opposite[0].price)
        if crosses and c.post_only:
            return RejectReason.POST_ONLY_WOULD_CROSS
        if c.time_in_force == TimeInForce.FOK and self._fillable(c, opposite) < c.quantity:
            return RejectReason.FOK_CANNOT_FILL
        return None

    def _fillable(self, c: Submit, opposite: list[RestingOrder]) -> int:
        total = 0
        for maker in opposite:
            if not self._crosses(c, maker.price):
                break
            if maker.account == c.account:
                if self.rules.self_trade_prevention != SelfTradePrevention.CANCEL_RESTING:
                    break
                continue
            total += maker.quantity
        return total

    @staticmethod
    def _crosses(c: Submit, resting_price: int) -> bool:
        if c.order_type == OrderType.MARKET:
            return True
        return resting_price <= c.price if c.side == Side.BUY else resting_price >= c.price

    def _cancel(self, c: Cancel) -> list[Event]:
        order = self._find(c.order_id)
        if order is None:
            return [Rejected(c.account, "", c.order_id, RejectReason.UNKNOWN_ORDER)]
        if order.account != c.account:
            return [Rejected(c.account, "", c.order_id, RejectReason.NOT_ORDER_OWNER)]
        self._side(order.side).remove(order)
        return [Cancelled(order.order_id, order.account, order.quantity, CancelReason.REQUESTED)]

    def _amend(self, c: Amend) -> list[Event]:
        order = self._find(c.order_id) if type(c.order_id) is int else None
        reason: RejectReason | None = None
        if type(c.price) is not int or type(c.quantity) is not int:
            reason = RejectReason.NOT_AN_INTEGER
        elif order is None:
            reason = RejectReason.UNKNOWN_ORDER
        elif order.account != c.account:
            reason = RejectReason.NOT_ORDER_OWNER
        elif c.quantity <= 0:
            reason = RejectReason.QUANTITY_NOT_POSITIVE
        elif c.quantity % self.rules.instrument.lot:
            reason = RejectReason.QUANTITY_NOT_LOT_MULTIPLE
        elif c.price <= 0:
            reason = RejectReason.PRICE_NOT_POSITIVE
        elif c.price > MAX_PRICE_TICKS:
            reason = RejectReason.PRICE_TOO_HIGH
        elif self.rules.instrument.notional(c.price, c.quantity) < self.rules.min_notional:
            reason = RejectReason.BELOW_MIN_NOTIONAL
        elif c.price == order.price and c.quantity == order.quantity:
            reason = RejectReason.AMEND_CHANGES_NOTHING
        elif c.price != order.price:
            opposite = self.asks if order.side == Side.BUY else self.bids
            probe = Submit(c.account, "", order.side, OrderType.LIMIT, c.price, c.quantity)
            if opposite and self._crosses(probe, opposite[0].price):
                reason = RejectReason.AMEND_WOULD_CROSS
        if reason is not None or order is None:
            return [Rejected(c.account, "", c.order_id, reason or RejectReason.UNKNOWN_ORDER)]
        keeps_priority = c.price == order.price and c.quantity < order.quantity
        if keeps_priority:
            order.quantity = c.quantity
        else:
            self._side(order.side).remove(order)
            order.price, order.quantity = c.price, c.quantity
            self._rest(order)
        return [Amended(order.order_id, order.account, c.price, c.quantity, keeps_priority)]

    def _rest(self, order: RestingOrder) -> None:
        self._arrivals += 1
        order.arrival = self._arrivals
        side = self._side(order.side)
        position = 0
        while position < len(side) and self._ahead(side[position], order):
            position += 1
        side.insert(position, order)

    @staticmethod
    def _ahead(resting: RestingOrder, newcomer: RestingOrder) -> bool:
        if resting.price == newcomer.price:
            return True  # an earlier arrival at the same price
        return resting.price > newcomer.price if resting.side == Side.BUY else resting.price < newcomer.price

    def _find(self, order_id: int) -> RestingOrder | None:
        for order in self.bids + self.asks:
            if order.order_id == order_id:
                return order
        return None

    def _side(self, side: Side) -> list[RestingOrder]:
        return self.bids if side == Side.BUY else self.asks
