"""Orders and fills as a broker reports them, independent of any broker's wire format.

Glossary:
- client order id: the caller's idempotency key; one id names one order forever.
- part: one execution of an order; its `Fill` carries the quantity and price of that execution.
Invariant: `sum(fill.quantity) == filled_quantity <= quantity`, and only open orders gain fills.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from equitoken.brokers.errors import InvalidOrderError
from equitoken.model.quantities import Price, Shares, Usd

MAX_CLIENT_ORDER_ID_LENGTH = 48


class OrderSide(StrEnum):
    """Whether the order buys or sells shares."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """How an order is priced: at the market or no worse than a limit."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """How long an unfilled order stays live: to the session's close, or until cancelled."""

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    """Where an order is in its life; only NEW and PARTIALLY_FILLED orders can still fill."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        """Return whether the order can no longer fill or change."""
        return self not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def _require_aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidOrderError(f"{what} {at.isoformat()} has no time zone")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as the caller asks for it; validated on construction."""

    client_order_id: str
    ticker: str
    side: OrderSide
    quantity: Shares
    type: OrderType = OrderType.MARKET
    limit_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.DAY

    def __post_init__(self) -> None:
        if not 1 <= len(self.client_order_id) <= MAX_CLIENT_ORDER_ID_LENGTH:
            raise InvalidOrderError(
                f"client order id must be 1 to {MAX_CLIENT_ORDER_ID_LENGTH} characters,"
                f" not {len(self.client_order_id)}"
            )
        if not self.client_order_id.isprintable() or self.client_order_id.strip() != self.client_order_id:
            raise InvalidOrderError(
                f"client order id {self.client_order_id!r} has blank or control characters"
            )
        if not self.ticker or not self.ticker.isprintable() or self.ticker.strip() != self.ticker:
            raise InvalidOrderError(f"ticker {self.ticker!r} is empty or has blank characters")
        if self.quantity.units <= 0:
            raise InvalidOrderError(f"quantity must be positive, not {self.quantity} shares")
        if self.type is OrderType.LIMIT:
            if self.limit_price is None:
                raise InvalidOrderError("a limit order needs a limit price")
            if self.limit_price.units <= 0:
                raise InvalidOrderError(f"limit price must be positive, not {self.limit_price}")
        elif self.limit_price is not None:
            raise InvalidOrderError(f"a {self.type} order takes no limit price (got {self.limit_price})")
        # Reject plain strings ("buy") here: they compare equal to the enum but lose its type,
        # and a request read back from JSON should fail loudly rather than half-work.
        enums = ((self.side, OrderSide), (self.type, OrderType), (self.time_in_force, TimeInForce))
        for value, kind in enums:
            if not isinstance(value, kind):
                raise InvalidOrderError(f"{value!r} is not an {kind.__name__}")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: `quantity` shares at `price`, at instant `at`."""

    fill_id: str
    quantity: Shares
    price: Price
    at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.at, "fill time")

    def notional(self, *, round_up: bool) -> Usd:
        """Return the dollars this fill moved, rounded up or down to a USDC unit."""
        return self.price.notional(self.quantity, round_up=round_up)


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """An order as the broker holds it, with every fill so far."""

    order_id: str
    client_order_id: str
    ticker: str
    side: OrderSide
    quantity: Shares
    type: OrderType
    limit_price: Price | None
    time_in_force: TimeInForce
    status: OrderStatus
    fills: tuple[Fill, ...]
    submitted_at: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.submitted_at, "submission time")

    @property
    def filled_quantity(self) -> Shares:
        """Return the shares filled so far."""
        return Shares(sum(fill.quantity.units for fill in self.fills))

    @property
    def remaining(self) -> Shares:
        """Return the shares not filled yet (still fillable only while the order is open)."""
        return self.quantity - self.filled_quantity

    def filled_notional(self, *, round_up: bool) -> Usd:
        """Return the dollars of all fills, each fill rounded the same way (as a broker books them)."""
        return Usd(sum(fill.notional(round_up=round_up).units for fill in self.fills))

    def average_price(self) -> Price | None:
        """Return the volume-weighted fill price, to the nearest price unit; None before any fill."""
        filled = self.filled_quantity.units
        if not filled:
            return None
        total = sum(fill.price.units * fill.quantity.units for fill in self.fills)
        return Price((2 * total + filled) // (2 * filled))

    def matches(self, request: OrderRequest) -> bool:
        """Return whether `request` asks for exactly this order (same id, instrument, size and terms)."""
        return (
            request.client_order_id,
            request.ticker,
            request.side,
            request.quantity,
            request.type,
            request.limit_price,
            request.time_in_force,
        ) == (
            self.client_order_id,
            self.ticker,
            self.side,
            self.quantity,
            self.type,
            self.limit_price,
            self.time_in_force,
        )
