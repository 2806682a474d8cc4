"""Orders and the commands a book accepts: side, order type, time in force, and why an order is refused.

Units (see `equitoken.venues.exchange.instrument`):
- a price is an integer number of the instrument's ticks (a tick is a fixed `Price`, e.g. $0.01);
- a quantity is an integer number of the token's smallest units, a multiple of the instrument's lot;
- account ids and order ids are non-negative integers; a client order id is the client's own string.
"""

from enum import IntEnum
from typing import NamedTuple


class Side(IntEnum):
    """Which way an order trades."""

    BUY = 0
    SELL = 1


class OrderType(IntEnum):
    """A limit order trades at its price or better; a market order at whatever the book offers."""

    LIMIT = 0
    MARKET = 1


class TimeInForce(IntEnum):
    """How long an order's unfilled rest lives.

    GTC rests in the book until filled or cancelled; IOC fills what it can at once and cancels the
    rest; FOK fills completely at once or is refused without trading.
    """

    GTC = 0
    IOC = 1
    FOK = 2


class RejectReason(IntEnum):
    """Why a command was refused; a refused command changes nothing in the book."""

    QUANTITY_NOT_POSITIVE = 1
    QUANTITY_NOT_LOT_MULTIPLE = 2
    PRICE_NOT_POSITIVE = 3
    PRICE_TOO_HIGH = 4
    MARKET_ORDER_HAS_PRICE = 5
    MARKET_ORDER_NEEDS_IOC_OR_FOK = 6
    POST_ONLY_NEEDS_GTC_LIMIT = 7
    BELOW_MIN_NOTIONAL = 8
    NO_LIQUIDITY = 9
    POST_ONLY_WOULD_CROSS = 10
    FOK_CANNOT_FILL = 11
    UNKNOWN_ORDER = 12
    NOT_ORDER_OWNER = 13
    AMEND_CHANGES_NOTHING = 14
    AMEND_WOULD_CROSS = 15
    NOT_AN_INTEGER = 16
    BAD_ACCOUNT = 17
    BAD_ORDER_FIELD = 18

    @property
    def message(self) -> str:
        """Return a sentence a trader can act on."""
        return _REJECT_MESSAGES[self]


_REJECT_MESSAGES = {
    RejectReason.QUANTITY_NOT_POSITIVE: "the quantity must be a positive number of token units",
    RejectReason.QUANTITY_NOT_LOT_MULTIPLE: "the quantity must be a whole number of the instrument's lots",
    RejectReason.PRICE_NOT_POSITIVE: "a limit price must be a positive number of ticks",
    RejectReason.PRICE_TOO_HIGH: "the price is above the highest price the book accepts",
    RejectReason.MARKET_ORDER_HAS_PRICE: "a market order takes no price (send 0)",
    RejectReason.MARKET_ORDER_NEEDS_IOC_OR_FOK: "a market order must be IOC or FOK: it never rests",
    RejectReason.POST_ONLY_NEEDS_GTC_LIMIT: "post-only applies only to GTC limit orders",
    RejectReason.BELOW_MIN_NOTIONAL: "the order's value (price x quantity) is below the minimum notional",
    RejectReason.NO_LIQUIDITY: "a market order needs orders on the other side of the book",
    RejectReason.POST_ONLY_WOULD_CROSS: "the post-only order would trade on arrival",
    RejectReason.FOK_CANNOT_FILL: "the fill-or-kill order cannot fill completely now",
    RejectReason.UNKNOWN_ORDER: "no open order has this id",
    RejectReason.NOT_ORDER_OWNER: "the order belongs to another account",
    RejectReason.AMEND_CHANGES_NOTHING: "the amendment keeps the order's price and quantity",
    RejectReason.AMEND_WOULD_CROSS: "the amended price would trade on arrival; cancel and send a new order",
    RejectReason.NOT_AN_INTEGER: "prices, quantities and ids are integers (ticks, token units)",
    RejectReason.BAD_ACCOUNT: "the account id must be a non-negative integer",
    RejectReason.BAD_ORDER_FIELD: (
        "side, order type and time in force take their listed values; post-only is a bool"
    ),
}


class CancelReason(IntEnum):
    """Why an order left the book without filling completely."""

    REQUESTED = 0
    SELF_TRADE = 1
    UNFILLED = 2


class Submit(NamedTuple):
    """Send a new order; `price` is 0 for a market order."""

    account: int
    client_order_id: str
    side: Side
    order_type: OrderType
    price: int
    quantity: int
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False


class Cancel(NamedTuple):
    """Cancel an open order of `account`."""

    account: int
    order_id: int


class Amend(NamedTuple):
    """Change an open order's price or open quantity.

    Lowering the quantity at the same price keeps the order's place in its queue; any other change
    (a new price, a larger quantity) moves it to the back of the queue at its price.
    """

    account: int
    order_id: int
    price: int
    quantity: int


Command = Submit | Cancel | Amend
