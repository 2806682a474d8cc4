"""A Broker on Alpaca's trading API (paper or live), through alpaca-py's `TradingClient`.

How the Broker contract maps onto Alpaca:
- Idempotency: every order carries our client order id, which Alpaca keeps unique per account.
  When a POST fails (a 422 for a used id, any other refusal, or no answer at all) the order is
  looked up by that id: if it exists it is returned (same request) or refused as a duplicate
  (different request), so a retry after a crash or a lost response never places a second order.
- Quantities and prices go out as decimal strings: alpaca-py's request models hold `qty` as a
  float, which cannot carry every 9-decimal share quantity exactly, so orders are posted with
  the client's own `post` and read back with its `Order` model.
- Fills: an Alpaca order only holds the cumulative `filled_qty` and `filled_avg_price`, so the
  individual executions come from the account activities (`GET /v2/account/activities/FILL`),
  which alpaca-py's TradingClient does not wrap; they are read with its `get` and matched to
  the order by `order_id`. Each activity has an id, qty, price and transaction_time.
- Status: Alpaca's many working states (new, accepted, pending_new, done_for_day, ...) become
  NEW or PARTIALLY_FILLED by what has filled; filled, canceled, expired, rejected map one to
  one; replaced becomes CANCELED (the replacement is another order, with another id).
"""

import contextlib
import functools
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, TypeVar, cast

import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus as AlpacaStatus
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order, Position, TradeAccount
from alpaca.trading.requests import GetOrdersRequest

from equitoken.brokers.errors import (
    BrokerError,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    OrderRejectedError,
    UnknownOrderError,
)
from equitoken.brokers.orders import (
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from equitoken.model.quantities import PRICE_DECIMALS, SHARE_DECIMALS, USD_DECIMALS, Price, Shares, Usd

KEY_ENV = "APCA_API_KEY_ID"
SECRET_ENV = "APCA_API_SECRET_KEY"

# Alpaca's working states: the order may still fill. Which of NEW or PARTIALLY_FILLED follows
# from what has filled, not from the state's name.
_WORKING = frozenset(
    {
        AlpacaStatus.NEW,
        AlpacaStatus.ACCEPTED,
        AlpacaStatus.PENDING_NEW,
        AlpacaStatus.ACCEPTED_FOR_BIDDING,
        AlpacaStatus.PENDING_REVIEW,
        AlpacaStatus.PARTIALLY_FILLED,
        AlpacaStatus.DONE_FOR_DAY,
        AlpacaStatus.PENDING_CANCEL,
        AlpacaStatus.PENDING_REPLACE,
        AlpacaStatus.STOPPED,
        AlpacaStatus.SUSPENDED,
        AlpacaStatus.CALCULATED,
        AlpacaStatus.HELD,
    }
)
_FINAL = {
    AlpacaStatus.FILLED: OrderStatus.FILLED,
    AlpacaStatus.CANCELED: OrderStatus.CANCELED,
    AlpacaStatus.EXPIRED: OrderStatus.EXPIRED,
    AlpacaStatus.REJECTED: OrderStatus.REJECTED,
    AlpacaStatus.REPLACED: OrderStatus.CANCELED,
}
# Activities are paged at most 100 at a time; stop scanning after this many pages.
_ACTIVITY_PAGE_SIZE = 100
_MAX_ACTIVITY_PAGES = 50
_Result = TypeVar("_Result")


def map_status(status: AlpacaStatus | str, filled: Shares) -> OrderStatus:
    """Return our status for an Alpaca order status, given the shares filled so far."""
    alpaca = AlpacaStatus(status)
    if alpaca in _FINAL:
        return _FINAL[alpaca]
    if alpaca in _WORKING:
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW
    raise BrokerUnavailableError(f"Alpaca order status {alpaca.value!r} is not one this broker knows")


def decimal_text(value: Shares | Price) -> str:
    """Return the amount as the shortest exact decimal string ("1.5", "200"), as Alpaca takes it."""
    return format(value.to_decimal().normalize(), "f")


def _amount(text: object, decimals: int, what: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise BrokerUnavailableError(f"Alpaca sent {what} {text!r}, which is not a number") from None
    # Alpaca may send more decimals than we keep (average prices, cash); round once, to even.
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def _shares(text: object, what: str = "a quantity") -> Shares:
    return Shares.parse(_amount(text, SHARE_DECIMALS, what))


def _price(text: object, what: str = "a price") -> Price:
    return Price.parse(_amount(text, PRICE_DECIMALS, what))


class AlpacaBroker:
    """A Broker on an Alpaca account; paper trading unless `paper=False`."""

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        *,
        paper: bool = True,
        url_override: str | None = None,
        cancel_wait: timedelta = timedelta(seconds=5),
    ) -> None:
        """Connect with the given keys, or those in APCA_API_KEY_ID and APCA_API_SECRET_KEY.

        `url_override` points the client at another base URL (a stand-in or a proxy);
        `cancel_wait` is how long `cancel` waits for Alpaca to confirm a cancellation.
        """
        key = api_key or os.environ.get(KEY_ENV)
        secret = secret_key or os.environ.get(SECRET_ENV)
        if not key or not secret:
            raise BrokerError(
                f"Alpaca credentials missing: pass api_key and secret_key or set {KEY_ENV} and {SECRET_ENV}"
            )
        self._client = TradingClient(key, secret, paper=paper, url_override=url_override)
        self._cancel_wait = cancel_wait

    # -- Broker -----------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> BrokerOrder:
        """Place the order, or return the order already placed under its client order id.

        Raise `DuplicateClientOrderIdError` if that id names a different order,
        `OrderRejectedError` with Alpaca's message if Alpaca refuses it, and
        `BrokerUnavailableError` if Alpaca cannot be reached (retrying with the same id is safe).
        """
        payload: dict[str, str] = {
            "symbol": request.ticker,
            "qty": decimal_text(request.quantity),
            "side": request.side.value,
            "type": request.type.value,
            "time_in_force": request.time_in_force.value,
            "client_order_id": request.client_order_id,
        }
        if request.limit_price is not None:
            payload["limit_price"] = decimal_text(request.limit_price)
        try:
            placed = Order(**cast(dict[str, Any], self._client.post("/orders", payload)))
        except APIError as error:
            existing = self._existing(request)
            if existing is not None:
                return existing
            if _status(error) in (400, 403, 404, 422):
                raise OrderRejectedError(
                    f"Alpaca rejected order {request.client_order_id!r}: {_message(error)}"
                ) from None
            raise BrokerUnavailableError(
                f"Alpaca failed on order {request.client_order_id!r} ({_status(error)}): {_message(error)}"
            ) from None
        except requests.RequestException as error:
            # The order may or may not have landed; the lookup tells which.
            existing = self._existing(request)
            if existing is not None:
                return existing
            raise BrokerUnavailableError(
                f"Alpaca unreachable placing order {request.client_order_id!r}: {error}"
            ) from None
        return self._with_fills(placed)

    def order(self, client_order_id: str) -> BrokerOrder | None:
        """Return the order with its fills, or None if Alpaca has no order with this client id."""
        found = self._by_client_id(client_order_id)
        return None if found is None else self._with_fills(found)

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Ask Alpaca to cancel, wait up to `cancel_wait` for it to confirm; return a final order as is.

        Alpaca cancels asynchronously: if the confirmation has not come within the wait, the
        order is returned still open (its fills so far included); call `cancel` again later.
        """
        found = self._by_client_id(client_order_id)
        if found is None:
            raise UnknownOrderError(f"Alpaca has no order with client order id {client_order_id!r}")
        if _is_final(found):
            return self._with_fills(found)
        # A 422 "order is not cancelable" means it filled or is being cancelled already; the
        # status read below says which.
        with contextlib.suppress(OrderRejectedError):
            self._call(lambda: self._client.cancel_order_by_id(found.id))
        deadline = time.monotonic() + self._cancel_wait.total_seconds()
        while True:
            current = self._call(lambda: self._client.get_order_by_id(found.id))
            assert isinstance(current, Order)
            if _is_final(current) or time.monotonic() >= deadline:
                return self._with_fills(current)
            time.sleep(0.2)

    def open_orders(self) -> list[BrokerOrder]:
        """Return the account's open orders, oldest first (Alpaca lists at most 500)."""
        filter_ = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500, direction=Sort.ASC)
        found = self._call(lambda: self._client.get_orders(filter_))
        assert isinstance(found, list)
        return [self._with_fills(order) for order in found]

    # -- account ----------------------------------------------------------------------------

    def positions(self) -> dict[str, Shares]:
        """Return the shares held per ticker, as Alpaca reports them (short positions negative)."""
        found = self._call(self._client.get_all_positions)
        assert isinstance(found, list)
        held: dict[str, Shares] = {}
        for position in found:
            assert isinstance(position, Position)
            quantity = _shares(position.qty, f"the {position.symbol} position")
            held[position.symbol] = (
                Shares(-abs(quantity.units)) if position.side.value == "short" else quantity
            )
        return held

    def cash(self) -> Usd:
        """Return the account's cash, rounded half-even to a USDC unit."""
        account = self._call(self._client.get_account)
        assert isinstance(account, TradeAccount)
        return Usd.parse(_amount(account.cash, USD_DECIMALS, "the account's cash"))

    # -- internals --------------------------------------------------------------------------

    def _existing(self, request: OrderRequest) -> BrokerOrder | None:
        found = self._by_client_id(request.client_order_id)
        if found is None:
            return None
        order = self._with_fills(found)
        if not order.matches(request):
            raise DuplicateClientOrderIdError(
                f"client order id {request.client_order_id!r} already names Alpaca order {order.order_id}"
                f" ({order.side} {order.quantity} {order.ticker} {order.type} {order.time_in_force});"
                " use a new id for a new order"
            )
        return order

    def _by_client_id(self, client_order_id: str) -> Order | None:
        try:
            found = self._client.get_order_by_client_id(client_order_id)
        except APIError as error:
            if _status(error) == 404:
                return None
            raise BrokerUnavailableError(
                f"Alpaca failed looking up order {client_order_id!r} ({_status(error)}): {_message(error)}"
            ) from None
        except requests.RequestException as error:
            raise BrokerUnavailableError(
                f"Alpaca unreachable looking up order {client_order_id!r}: {error}"
            ) from None
        assert isinstance(found, Order)
        return found

    def _call(self, call: Callable[[], _Result]) -> _Result:
        try:
            return call()
        except APIError as error:
            if _status(error) in (404, 422):
                raise OrderRejectedError(f"Alpaca refused ({_status(error)}): {_message(error)}") from None
            raise BrokerUnavailableError(f"Alpaca failed ({_status(error)}): {_message(error)}") from None
        except requests.RequestException as error:
            raise BrokerUnavailableError(f"Alpaca unreachable: {error}") from None

    def _with_fills(self, order: Order) -> BrokerOrder:
        # The order and its activities are read one after the other, so a fill can land in
        # between; read again until both tell the same filled quantity.
        for _ in range(3):
            filled = _shares(order.filled_qty or "0", "a filled quantity")
            fills = self._fills(order) if filled else ()
            if sum(fill.quantity.units for fill in fills) == filled.units:
                return _to_broker_order(order, fills)
            time.sleep(0.2)
            again = self._call(functools.partial(self._client.get_order_by_id, order.id))
            assert isinstance(again, Order)
            order = again
        raise BrokerUnavailableError(
            f"Alpaca order {order.id} reports {order.filled_qty} filled but its fill activities"
            " do not add up; retry shortly"
        )

    def _fills(self, order: Order) -> tuple[Fill, ...]:
        order_id = str(order.id)
        params: dict[str, Any] = {
            "direction": "asc",
            # Activities are listed account-wide; start just before the order existed.
            "after": (order.submitted_at - timedelta(seconds=1)).isoformat(),
            "page_size": _ACTIVITY_PAGE_SIZE,
        }
        fills: list[Fill] = []
        for _ in range(_MAX_ACTIVITY_PAGES):
            page = self._call(lambda: self._client.get("/account/activities/FILL", params))
            if not isinstance(page, list):
                raise BrokerUnavailableError(
                    f"Alpaca sent fill activities as {type(page).__name__}, not a list"
                )
            for activity in page:
                if activity.get("order_id") == order_id:
                    fills.append(
                        Fill(
                            fill_id=str(activity["id"]),
                            quantity=_shares(activity["qty"], "a fill quantity"),
                            price=_price(activity["price"], "a fill price"),
                            at=datetime.fromisoformat(
                                str(activity["transaction_time"]).replace("Z", "+00:00")
                            ),
                        )
                    )
            if len(page) < _ACTIVITY_PAGE_SIZE:
                break
            params["page_token"] = page[-1]["id"]
        return tuple(sorted(fills, key=lambda fill: (fill.at, fill.fill_id)))


def _is_final(order: Order) -> bool:
    return AlpacaStatus(order.status) in _FINAL


def _to_broker_order(order: Order, fills: tuple[Fill, ...]) -> BrokerOrder:
    if order.qty is None or order.symbol is None or order.side is None or order.type is None:
        raise BrokerError(f"Alpaca order {order.id} is not a simple quantity order this broker places")
    try:
        kind = OrderType(order.type.value)
        time_in_force = TimeInForce(order.time_in_force.value)
    except ValueError:
        raise BrokerError(
            f"Alpaca order {order.id} is a {order.type.value} {order.time_in_force.value} order,"
            " which this broker does not place"
        ) from None
    filled = _shares(order.filled_qty or "0", "a filled quantity")
    status = map_status(order.status, filled)
    reason = None
    if order.status is AlpacaStatus.REPLACED:
        reason = f"replaced by Alpaca order {order.replaced_by}"
    elif status is OrderStatus.REJECTED:
        reason = "rejected by Alpaca"
    return BrokerOrder(
        order_id=str(order.id),
        client_order_id=order.client_order_id,
        ticker=order.symbol,
        side=OrderSide(order.side.value),
        quantity=_shares(order.qty),
        type=kind,
        limit_price=None if order.limit_price is None else _price(order.limit_price, "a limit price"),
        time_in_force=time_in_force,
        status=status,
        fills=fills,
        submitted_at=order.submitted_at,
        reason=reason,
    )


def _status(error: APIError) -> int | None:
    status = error.status_code
    return status if isinstance(status, int) else None


def _message(error: APIError) -> str:
    try:
        return str(error.message)
    except (ValueError, KeyError, TypeError):
        # Not Alpaca's {"code", "message"} body (a proxy's error page, say): show it as sent.
        return str(error)[:300]
