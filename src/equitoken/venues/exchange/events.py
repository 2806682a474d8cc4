"""What a book reports for each command: tuples, so a busy book allocates little.

Every command yields, in order: either one `Rejected` (and nothing changed), or the events of its
effect. A new order yields `Accepted`, then its `Filled` trades in priority order (with `Cancelled`
for resting orders removed by self-trade prevention), then possibly `Cancelled` for its unfilled
rest. A cancel yields `Cancelled`; an amendment yields `Amended`.
"""

from typing import NamedTuple

from equitoken.venues.exchange.orders import CancelReason, OrderType, RejectReason, Side, TimeInForce


class Accepted(NamedTuple):
    """A new order passed every check and got its id."""

    order_id: int
    account: int
    client_order_id: str
    side: Side
    order_type: OrderType
    price: int
    quantity: int
    time_in_force: TimeInForce
    post_only: bool


class Rejected(NamedTuple):
    """A command was refused; `order_id` is 0 for a refused new order."""

    account: int
    client_order_id: str
    order_id: int
    reason: RejectReason


class Filled(NamedTuple):
    """A trade at the resting (maker) order's price; fees and notional in USDC units."""

    maker_order_id: int
    taker_order_id: int
    maker_account: int
    taker_account: int
    taker_side: Side
    price: int
    quantity: int
    notional: int
    maker_fee: int
    taker_fee: int


class Cancelled(NamedTuple):
    """An order left the book with `quantity` unfilled."""

    order_id: int
    account: int
    quantity: int
    reason: CancelReason


class Amended(NamedTuple):
    """An order's price or open quantity changed; `kept_priority` says whether it kept its queue place."""

    order_id: int
    account: int
    price: int
    quantity: int
    kept_priority: bool


Event = Accepted | Rejected | Filled | Cancelled | Amended
