"""A central limit order book for one instrument: price-time priority matching.

Glossary and invariants:
- Each side keeps its price levels in a dict (key -> level) and the keys in a sorted list whose
  last element is the best level. A bid's key is its price, an ask's key is minus its price, so
  on both sides "better" means a larger key and the best level is popped from the end.
- A level is a FIFO queue of orders in arrival order (time priority). A cancelled order is marked
  empty (quantity 0) and left in the queue, skipped when it reaches the front; a level whose live
  count drops to 0 is removed at once, and a queue that is mostly dead entries is compacted.
- Trades happen at the resting (maker) order's price. After every command the book does not cross:
  best bid < best ask.
- Order ids are assigned 1, 2, 3, ... to accepted orders only, so the same commands always give the
  same ids, events and book: the book is deterministic and keeps no clock.

Amendment rule: lowering an order's open quantity at the same price keeps its place in the queue;
a new price or a larger quantity moves it to the back of the queue at its (new) price. An amendment
whose new price would trade on arrival is refused (cancel and send a new order to take liquidity).
"""

import json
from bisect import bisect_left, insort
from collections import deque
from typing import NamedTuple

from equitoken.model.bps import fee_on
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
from equitoken.venues.exchange.rules import MAX_PRICE_TICKS, BookRules, SelfTradePrevention, rules_state

_BUY = Side.BUY
_LIMIT = OrderType.LIMIT
_GTC = TimeInForce.GTC
_FOK = TimeInForce.FOK
_CANCEL_RESTING = SelfTradePrevention.CANCEL_RESTING
_CANCEL_BOTH = SelfTradePrevention.CANCEL_BOTH
_REQUESTED = CancelReason.REQUESTED
_SELF_TRADE = CancelReason.SELF_TRADE
_UNFILLED = CancelReason.UNFILLED
_SIDES = frozenset(Side)
_ORDER_TYPES = frozenset(OrderType)
_TIMES_IN_FORCE = frozenset(TimeInForce)
# Below every key on both sides (bid keys are 1..MAX, ask keys -MAX..-1): a market order's bound.
_ANY_PRICE = -(MAX_PRICE_TICKS + 1)


class OpenOrder(NamedTuple):
    """An order resting in the book with its open quantity."""

    order_id: int
    account: int
    client_order_id: str
    side: Side
    price: int
    quantity: int


class DepthLevel(NamedTuple):
    """One price level: its price, total open quantity and number of orders."""

    price: int
    quantity: int
    orders: int


class _Order:
    __slots__ = ("account", "client_order_id", "order_id", "price", "quantity", "side")

    def __init__(
        self, order_id: int, account: int, client_order_id: str, side: Side, price: int, quantity: int
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.client_order_id = client_order_id
        self.side = side
        self.price = price
        self.quantity = quantity


class _Level:
    __slots__ = ("live", "orders")

    def __init__(self) -> None:
        self.orders: deque[_Order] = deque()
        self.live = 0


class Book:
    """Match orders for one instrument under `rules`; every command returns the events it caused."""

    def __init__(self, rules: BookRules) -> None:
        self.rules = rules
        self._lot = rules.instrument.lot
        self._usdc_per_tick_lot = rules.instrument.usdc_per_tick_lot
        self._min_notional = rules.min_notional.units
        self._maker_bps = rules.maker_fee_bps
        self._taker_bps = rules.taker_fee_bps
        self._stp = rules.self_trade_prevention
        self._bid_levels: dict[int, _Level] = {}
        self._bid_keys: list[int] = []
        self._ask_levels: dict[int, _Level] = {}
        self._ask_keys: list[int] = []
        self._orders: dict[int, _Order] = {}
        self._next_order_id = 1

    # Commands

    def apply(self, command: Command) -> list[Event]:
        """Carry out any command."""
        if isinstance(command, Submit):
            return self.submit(command)
        if isinstance(command, Cancel):
            return self.cancel(command)
        return self.amend(command)

    def submit(self, command: Submit) -> list[Event]:
        """Accept, match and possibly rest a new order, or refuse it without changing anything."""
        account, client_order_id, side, order_type, price, quantity, time_in_force, post_only = command
        if type(price) is not int or type(quantity) is not int or type(account) is not int:
            return [Rejected(account, client_order_id, 0, RejectReason.NOT_AN_INTEGER)]
        if account < 0:
            return [Rejected(account, client_order_id, 0, RejectReason.BAD_ACCOUNT)]
        if (
            side not in _SIDES
            or order_type not in _ORDER_TYPES
            or time_in_force not in _TIMES_IN_FORCE
            or type(post_only) is not bool
            or type(client_order_id) is not str
        ):
            return [Rejected(account, client_order_id, 0, RejectReason.BAD_ORDER_FIELD)]
        if quantity <= 0:
            return [Rejected(account, client_order_id, 0, RejectReason.QUANTITY_NOT_POSITIVE)]
        lots = quantity // self._lot
        if quantity != lots * self._lot:
            return [Rejected(account, client_order_id, 0, RejectReason.QUANTITY_NOT_LOT_MULTIPLE)]
        if side == _BUY:
            levels, keys = self._ask_levels, self._ask_keys
        else:
            levels, keys = self._bid_levels, self._bid_keys
        if order_type == _LIMIT:
            reason = _limit_reason(price, time_in_force, post_only)
            if reason is not None:
                return [Rejected(account, client_order_id, 0, reason)]
            if price * lots * self._usdc_per_tick_lot < self._min_notional:
                return [Rejected(account, client_order_id, 0, RejectReason.BELOW_MIN_NOTIONAL)]
            bound = -price if side == _BUY else price
        else:
            reason = _market_reason(price, time_in_force, post_only)
            if reason is None and not keys:
                reason = RejectReason.NO_LIQUIDITY
            if reason is not None:
                return [Rejected(account, client_order_id, 0, reason)]
            if abs(keys[-1]) * lots * self._usdc_per_tick_lot < self._min_notional:
                return [Rejected(account, client_order_id, 0, RejectReason.BELOW_MIN_NOTIONAL)]
            bound = _ANY_PRICE
        crosses = bool(keys) and keys[-1] >= bound
        if crosses and post_only:
            return [Rejected(account, client_order_id, 0, RejectReason.POST_ONLY_WOULD_CROSS)]
        if time_in_force == _FOK and not (crosses and self._fillable(account, bound, quantity, levels, keys)):
            return [Rejected(account, client_order_id, 0, RejectReason.FOK_CANNOT_FILL)]

        order_id = self._next_order_id
        self._next_order_id = order_id + 1
        events: list[Event] = [
            Accepted(
                order_id,
                account,
                client_order_id,
                side,
                order_type,
                price,
                quantity,
                time_in_force,
                post_only,
            )
        ]
        remaining = quantity
        if crosses:
            remaining = self._match(events, order_id, account, side, bound, quantity, levels, keys)
        if remaining:
            if order_type == _LIMIT and time_in_force == _GTC:
                self._rest(_Order(order_id, account, client_order_id, side, price, remaining))
            else:
                events.append(Cancelled(order_id, account, remaining, _UNFILLED))
        return events

    def cancel(self, command: Cancel) -> list[Event]:
        """Take an open order of the account out of the book."""
        account, order_id = command
        order = self._orders.get(order_id)
        if order is None:
            return [Rejected(account, "", order_id, RejectReason.UNKNOWN_ORDER)]
        if order.account != account:
            return [Rejected(account, "", order_id, RejectReason.NOT_ORDER_OWNER)]
        quantity = order.quantity
        self._unlink(order)
        return [Cancelled(order_id, account, quantity, _REQUESTED)]

    def amend(self, command: Amend) -> list[Event]:
        """Change an open order's price or open quantity (see the module's amendment rule)."""
        account, order_id, price, quantity = command
        if type(price) is not int or type(quantity) is not int:
            return [Rejected(account, "", order_id, RejectReason.NOT_AN_INTEGER)]
        order = self._orders.get(order_id)
        reason: RejectReason | None = None
        if order is None:
            reason = RejectReason.UNKNOWN_ORDER
        elif order.account != account:
            reason = RejectReason.NOT_ORDER_OWNER
        elif quantity <= 0:
            reason = RejectReason.QUANTITY_NOT_POSITIVE
        elif quantity % self._lot:
            reason = RejectReason.QUANTITY_NOT_LOT_MULTIPLE
        else:
            reason = _limit_reason(price, _GTC, False)
        if reason is None and price * (quantity // self._lot) * self._usdc_per_tick_lot < self._min_notional:
            reason = RejectReason.BELOW_MIN_NOTIONAL
        if reason is not None or order is None:
            return [Rejected(account, "", order_id, reason or RejectReason.UNKNOWN_ORDER)]
        if price == order.price:
            if quantity == order.quantity:
                return [Rejected(account, "", order_id, RejectReason.AMEND_CHANGES_NOTHING)]
            if quantity < order.quantity:
                order.quantity = quantity
                return [Amended(order_id, account, price, quantity, True)]
        elif order.side == _BUY:
            if self._ask_keys and self._ask_keys[-1] >= -price:
                return [Rejected(account, "", order_id, RejectReason.AMEND_WOULD_CROSS)]
        elif self._bid_keys and self._bid_keys[-1] >= price:
            return [Rejected(account, "", order_id, RejectReason.AMEND_WOULD_CROSS)]
        self._unlink(order)
        self._rest(_Order(order_id, account, order.client_order_id, order.side, price, quantity))
        return [Amended(order_id, account, price, quantity, False)]

    # Queries

    def best_bid(self) -> int | None:
        """Return the highest bid price, or None when there are no bids."""
        return self._bid_keys[-1] if self._bid_keys else None

    def best_ask(self) -> int | None:
        """Return the lowest ask price, or None when there are no asks."""
        return -self._ask_keys[-1] if self._ask_keys else None

    def depth(self, levels: int = 10) -> tuple[list[DepthLevel], list[DepthLevel]]:
        """Return up to `levels` bid and ask levels, best first."""
        return (
            [self._depth_level(self._bid_levels[k]) for k in reversed(self._bid_keys[-levels:])],
            [self._depth_level(self._ask_levels[k]) for k in reversed(self._ask_keys[-levels:])],
        )

    def order(self, order_id: int) -> OpenOrder | None:
        """Return the open order with this id, or None when it is not in the book."""
        order = self._orders.get(order_id)
        return None if order is None else _open_order(order)

    def open_orders(self) -> list[OpenOrder]:
        """Return every open order: bids best first, then asks best first, each level in time priority."""
        return [
            _open_order(order)
            for levels, keys in ((self._bid_levels, self._bid_keys), (self._ask_levels, self._ask_keys))
            for key in reversed(keys)
            for order in levels[key].orders
            if order.quantity
        ]

    @property
    def next_order_id(self) -> int:
        """Return the id the next accepted order will get."""
        return self._next_order_id

    def snapshot(self) -> bytes:
        """Return the book's whole state as canonical bytes: equal books give equal bytes."""
        state = {
            "rules": rules_state(self.rules),
            "next_order_id": self._next_order_id,
            "orders": [list(order) for order in self.open_orders()],
        }
        return json.dumps(state, separators=(",", ":"), sort_keys=True).encode()

    # Matching core

    def _match(
        self,
        events: list[Event],
        taker_id: int,
        taker_account: int,
        taker_side: Side,
        bound: int,
        remaining: int,
        levels: dict[int, _Level],
        keys: list[int],
    ) -> int:
        lot = self._lot
        usdc_per_tick_lot = self._usdc_per_tick_lot
        maker_bps = self._maker_bps
        taker_bps = self._taker_bps
        while remaining and keys:
            key = keys[-1]
            if key < bound:
                break
            level = levels[key]
            queue = level.orders
            while queue:
                maker = queue[0]
                available = maker.quantity
                if not available:
                    queue.popleft()
                    continue
                if maker.account == taker_account:
                    if self._stp != _CANCEL_RESTING:
                        if self._stp == _CANCEL_BOTH:
                            self._drop_front(level, maker)
                            events.append(Cancelled(maker.order_id, maker.account, available, _SELF_TRADE))
                        events.append(Cancelled(taker_id, taker_account, remaining, _SELF_TRADE))
                        remaining = 0
                        break
                    self._drop_front(level, maker)
                    events.append(Cancelled(maker.order_id, maker.account, available, _SELF_TRADE))
                    continue
                fill = remaining if remaining < available else available
                price = maker.price
                notional = price * (fill // lot) * usdc_per_tick_lot
                events.append(
                    Filled(
                        maker.order_id,
                        taker_id,
                        maker.account,
                        taker_account,
                        taker_side,
                        price,
                        fill,
                        notional,
                        fee_on(notional, maker_bps),
                        fee_on(notional, taker_bps),
                    )
                )
                remaining -= fill
                if fill == available:
                    self._drop_front(level, maker)
                else:
                    maker.quantity = available - fill
                if not remaining:
                    break
            if not level.live:
                del levels[key]
                keys.pop()
        return remaining

    def _drop_front(self, level: _Level, order: _Order) -> None:
        level.orders.popleft()
        level.live -= 1
        order.quantity = 0
        del self._orders[order.order_id]

    def _fillable(
        self, account: int, bound: int, wanted: int, levels: dict[int, _Level], keys: list[int]
    ) -> bool:
        # Own orders are cancelled, not traded, under cancel-resting STP; under the other modes
        # the first own order ends the match.
        stops_at_own = self._stp != _CANCEL_RESTING
        total = 0
        for key in reversed(keys):
            if key < bound:
                return False
            for order in levels[key].orders:
                if not order.quantity:
                    continue
                if order.account == account:
                    if stops_at_own:
                        return False
                    continue
                total += order.quantity
                if total >= wanted:
                    return True
        return False

    def _rest(self, order: _Order) -> None:
        if order.side == _BUY:
            levels, keys, key = self._bid_levels, self._bid_keys, order.price
        else:
            levels, keys, key = self._ask_levels, self._ask_keys, -order.price
        level = levels.get(key)
        if level is None:
            level = levels[key] = _Level()
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
        level.orders.append(order)
        level.live += 1
        self._orders[order.order_id] = order

    def _unlink(self, order: _Order) -> None:
        if order.side == _BUY:
            levels, keys, key = self._bid_levels, self._bid_keys, order.price
        else:
            levels, keys, key = self._ask_levels, self._ask_keys, -order.price
        del self._orders[order.order_id]
        order.quantity = 0
        level = levels[key]
        level.live -= 1
        if not level.live:
            del levels[key]
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
        elif len(level.orders) > 2 * level.live + 16:
            # Cancelled orders behind the front stay queued; drop them once they outnumber live ones.
            level.orders = deque(o for o in level.orders if o.quantity)

    @staticmethod
    def _depth_level(level: _Level) -> DepthLevel:
        live = [order.quantity for order in level.orders if order.quantity]
        return DepthLevel(level.orders[0].price, sum(live), len(live))


def _limit_reason(price: int, time_in_force: TimeInForce, post_only: bool) -> RejectReason | None:
    if price <= 0:
        return RejectReason.PRICE_NOT_POSITIVE
    if price > MAX_PRICE_TICKS:
        return RejectReason.PRICE_TOO_HIGH
    if post_only and time_in_force != _GTC:
        return RejectReason.POST_ONLY_NEEDS_GTC_LIMIT
    return None


def _market_reason(price: int, time_in_force: TimeInForce, post_only: bool) -> RejectReason | None:
    if price != 0:
        return RejectReason.MARKET_ORDER_HAS_PRICE
    if time_in_force == _GTC:
        return RejectReason.MARKET_ORDER_NEEDS_IOC_OR_FOK
    if post_only:
        return RejectReason.POST_ONLY_NEEDS_GTC_LIMIT
    return None


def _open_order(order: _Order) -> OpenOrder:
    return OpenOrder(
        order.order_id, order.account, order.client_order_id, order.side, order.price, order.quantity
    )
