"""A local stand-in for Alpaca's trading API, so AlpacaBroker runs its real client over real HTTP.

It follows Alpaca's documented order endpoints and payloads (API v2):
- `POST /v2/orders`: 422 `{"code", "message"}` for invalid fields and for a used
  `client_order_id` ("client_order_id must be unique"), 403 for insufficient buying power or
  shares; a new order is `accepted` outside the regular session, `new` inside it.
- `GET /v2/orders` (`status=open|closed|all`, `limit`, `direction`), `GET /v2/orders/{id}`,
  `GET /v2/orders:by_client_order_id?client_order_id=` (404 when unknown).
- `DELETE /v2/orders/{id}`: 204, or 422 "order is not cancelable" once the order is final.
- `GET /v2/account`, `GET /v2/positions`, `GET /v2/account/activities/FILL` (`after`, `until`,
  `direction`, `page_size` up to 100, `page_token` = the last activity id of the previous page).

Its matching is its own (not the PaperBroker's), driven by the PriceSource, MarketCalendar and
Clock the test gives it: an order is eligible `latency` after it arrives, moved to the next
regular open when the market is closed; it then fills in `fill_parts` parts `fill_interval`
apart, at the source's price at that instant (no slippage; a limit order only where the price
is within its limit); a part after the close waits for the next open, and a DAY order expires
at the close. Statuses go new/accepted -> partially_filled -> filled, or canceled / expired.
"""

import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.time import Clock

_SHARE_STEP = Decimal("0.000000001")
_TIME_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Activity:
    id: str
    order: "_Order"
    qty: Decimal
    price: Decimal
    at: datetime
    cum_qty: Decimal
    status: str

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "activity_type": "FILL",
            "transaction_time": _time(self.at),
            "type": "fill" if self.status == "filled" else "partial_fill",
            "price": _text(self.price),
            "qty": _text(self.qty),
            "side": self.order.side,
            "symbol": self.order.symbol,
            "leaves_qty": _text(self.order.qty - self.cum_qty),
            "order_id": self.order.id,
            "cum_qty": _text(self.cum_qty),
            "order_status": self.status,
        }


@dataclass
class _Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    type: str
    time_in_force: str
    limit_price: Decimal | None
    created_at: datetime
    status: str
    next_at: datetime
    expires_at: datetime | None
    parts: list[Decimal]
    fills: list[_Activity] = field(default_factory=list)
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None

    @property
    def filled_qty(self) -> Decimal:
        return sum((fill.qty for fill in self.fills), Decimal(0))

    @property
    def is_open(self) -> bool:
        return self.status in ("new", "accepted", "partially_filled")

    def payload(self) -> dict[str, Any]:
        filled = self.filled_qty
        average = sum((f.qty * f.price for f in self.fills), Decimal(0)) / filled if filled else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": _time(self.created_at),
            "updated_at": _time(self.updated_at or self.created_at),
            "submitted_at": _time(self.created_at),
            "filled_at": _time(self.filled_at),
            "expired_at": _time(self.expired_at),
            "canceled_at": _time(self.canceled_at),
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"asset:{self.symbol}")),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": _text(self.qty),
            "filled_qty": _text(filled),
            "filled_avg_price": None if average is None else _text(average.quantize(Decimal("0.0001"))),
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": "buy_to_open" if self.side == "buy" else "sell_to_close",
            "time_in_force": self.time_in_force,
            "limit_price": None if self.limit_price is None else _text(self.limit_price),
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }


class _RefusalError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class AlpacaStandIn:
    """Alpaca's trading API on 127.0.0.1, in a thread; use as a context manager."""

    def __init__(
        self,
        prices: PriceSource,
        calendar: MarketCalendar,
        clock: Clock,
        *,
        api_key: str = "standin-key",
        secret_key: str = "standin-secret",
        cash: Decimal = Decimal("100000"),
        latency: timedelta = timedelta(seconds=1),
        fill_parts: int = 1,
        fill_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self._prices = prices
        self._calendar = calendar
        self._clock = clock
        self._cash = cash
        self._latency = latency
        self._fill_parts = fill_parts
        self._fill_interval = fill_interval
        self._orders: list[_Order] = []
        self._activities: list[_Activity] = []
        self._positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, cost basis)
        self._lock = threading.Lock()
        self._counter = 0
        # Test hooks: the request bodies received, and a switch that stores the next order but
        # answers 500, as when a response is lost after the broker acted.
        self.posted: list[Any] = []
        self.fail_next_post = False
        self.deletes = 0
        self.app = self._routes()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="off", ws="none")
        )
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Alpaca stand-in did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # -- matching -------------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter

    def _advance(self) -> datetime:
        now = self._clock.now()
        for order in self._orders:
            while order.is_open:
                if order.expires_at is not None and order.next_at >= order.expires_at:
                    if now >= order.expires_at:
                        order.status, order.expired_at, order.updated_at = (
                            "expired",
                            order.expires_at,
                            order.expires_at,
                        )
                    break
                if order.next_at > now:
                    break
                at = order.next_at
                price = self._prices.quote(order.symbol, at).price.to_decimal()
                within = order.limit_price is None or (
                    price <= order.limit_price if order.side == "buy" else price >= order.limit_price
                )
                if within:
                    self._fill(order, order.parts[len(order.fills)], price, at)
                order.next_at = self._calendar.next_open(at + self._fill_interval)
        return now

    def _fill(self, order: _Order, qty: Decimal, price: Decimal, at: datetime) -> None:
        n = self._next_id()
        order.status = "filled" if len(order.fills) + 1 == len(order.parts) else "partially_filled"
        activity = _Activity(
            id=f"{at.strftime('%Y%m%d%H%M%S')}{at.microsecond // 1000:03d}::{uuid.UUID(int=n)}",
            order=order,
            qty=qty,
            price=price,
            at=at,
            cum_qty=order.filled_qty + qty,
            status=order.status,
        )
        order.fills.append(activity)
        self._activities.append(activity)
        order.updated_at = at
        if order.status == "filled":
            order.filled_at = at
        held, cost = self._positions.get(order.symbol, (Decimal(0), Decimal(0)))
        if order.side == "buy":
            self._cash -= qty * price
            self._positions[order.symbol] = (held + qty, cost + qty * price)
        else:
            self._cash += qty * price
            left = held - qty
            self._positions[order.symbol] = (left, cost * left / held if held else Decimal(0))

    def _place(self, body: Any) -> _Order:
        if not isinstance(body, dict):
            raise _RefusalError(422, 40010001, "request body format is invalid")
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise _RefusalError(422, 40010001, "symbol is required")
        if body.get("notional") is not None:
            raise _RefusalError(422, 40010001, "the stand-in only takes qty orders")
        qty = _decimal(body.get("qty"), "qty")
        if qty <= 0:
            raise _RefusalError(422, 40010001, "qty must be > 0")
        if qty != qty.quantize(_SHARE_STEP):
            raise _RefusalError(422, 40010001, "qty must have at most 9 decimal places")
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise _RefusalError(422, 40010001, f"invalid side: {side}")
        kind = body.get("type")
        if kind not in ("market", "limit"):
            raise _RefusalError(422, 40010001, f"invalid order type for the stand-in: {kind}")
        time_in_force = body.get("time_in_force")
        if time_in_force not in _TIME_IN_FORCE:
            raise _RefusalError(422, 40010001, f"invalid time_in_force: {time_in_force}")
        if time_in_force not in ("day", "gtc"):
            raise _RefusalError(422, 40010001, f"the stand-in does not simulate {time_in_force} orders")
        limit_price: Decimal | None = None
        if kind == "limit":
            if body.get("limit_price") is None:
                raise _RefusalError(422, 40010001, "limit_price is required for limit orders")
            limit_price = _decimal(body["limit_price"], "limit_price")
            # Alpaca's pricing rule: pennies at $1 and above, 1/100 cent below.
            step = Decimal("0.01") if limit_price >= 1 else Decimal("0.0001")
            if limit_price <= 0 or limit_price != limit_price.quantize(step):
                raise _RefusalError(
                    422,
                    42210000,
                    f"invalid limit_price {body['limit_price']}. sub-penny increment does not fulfill"
                    " minimum pricing criteria",
                )
        elif body.get("limit_price") is not None:
            raise _RefusalError(422, 40010001, "limit_price is not supported for market orders")
        if qty != qty.to_integral_value() and time_in_force != "day":
            raise _RefusalError(422, 40010001, "fractional orders must be DAY orders")
        client_order_id = body.get("client_order_id") or str(uuid.uuid4())
        if not isinstance(client_order_id, str) or len(client_order_id) > 128:
            raise _RefusalError(422, 40010001, "client_order_id must be no more than 128 characters")
        if any(order.client_order_id == client_order_id for order in self._orders):
            raise _RefusalError(422, 40010001, "client_order_id must be unique")
        if symbol not in self._prices.tickers():
            raise _RefusalError(422, 40010001, f'asset "{symbol}" not found')
        now = self._advance()
        self._check_buying_power(symbol, side, qty, limit_price, now)
        eligible = self._calendar.next_open(now + self._latency)
        units = int(qty / _SHARE_STEP)
        count = min(self._fill_parts, units)
        each = units // count
        parts = [each] * (count - 1) + [units - each * (count - 1)]
        order = _Order(
            id=str(uuid.UUID(int=self._next_id())),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            qty=qty,
            type=kind,
            time_in_force=time_in_force,
            limit_price=limit_price,
            created_at=now,
            status="new" if self._calendar.is_open(now) else "accepted",
            next_at=eligible,
            expires_at=self._calendar.next_session(now + self._latency).close
            if time_in_force == "day"
            else None,
            parts=[Decimal(part) * _SHARE_STEP for part in parts],
        )
        self._orders.append(order)
        self._advance()
        return order

    def _check_buying_power(
        self, symbol: str, side: str, qty: Decimal, limit_price: Decimal | None, now: datetime
    ) -> None:
        open_orders = [o for o in self._orders if o.is_open and o.side == side]
        if side == "sell":
            held = self._positions.get(symbol, (Decimal(0), Decimal(0)))[0]
            promised = sum((o.qty - o.filled_qty for o in open_orders if o.symbol == symbol), Decimal(0))
            available = held - promised
            if qty > available:
                raise _RefusalError(
                    403,
                    40310000,
                    f"insufficient qty available for order (requested: {_text(qty)},"
                    f" available: {_text(available)})",
                )
            return
        price = limit_price if limit_price is not None else self._prices.quote(symbol, now).price.to_decimal()
        reserved = sum(
            ((o.qty - o.filled_qty) * (o.limit_price or self._prices.quote(o.symbol, now).price.to_decimal()))
            for o in open_orders
        )
        if qty * price > self._cash - Decimal(reserved):
            raise _RefusalError(403, 40310000, "insufficient buying power")

    # -- HTTP -----------------------------------------------------------------------------------

    def _routes(self) -> FastAPI:
        app = FastAPI(title="Alpaca trading API stand-in")

        def error(status: int, code: int, message: str) -> JSONResponse:
            return JSONResponse({"code": code, "message": message}, status_code=status)

        @app.middleware("http")
        async def authorise(request: Request, call_next: Callable[[Request], Any]) -> Response:
            if (
                request.headers.get("APCA-API-KEY-ID") != self.api_key
                or request.headers.get("APCA-API-SECRET-KEY") != self.secret_key
            ):
                return error(401, 40110000, "request is not authorized")
            response: Response = await call_next(request)
            return response

        @app.post("/v2/orders")
        async def post_order(request: Request) -> Response:
            try:
                body = await request.json()
            except ValueError:
                return error(400, 40010000, "request body format is invalid")
            with self._lock:
                self.posted.append(body)
                try:
                    order = self._place(body)
                except _RefusalError as refusal:
                    return error(refusal.status, refusal.code, refusal.message)
                if self.fail_next_post:
                    self.fail_next_post = False
                    return error(500, 50010000, "internal server error")
                return JSONResponse(order.payload())

        @app.get("/v2/orders")
        def list_orders(status: str = "open", limit: int = 50, direction: str = "desc") -> Response:
            with self._lock:
                self._advance()
                chosen = [
                    o
                    for o in self._orders
                    if status == "all" or (o.is_open if status == "open" else not o.is_open)
                ]
                chosen.sort(key=lambda o: o.created_at, reverse=direction == "desc")
                return JSONResponse([o.payload() for o in chosen[: min(limit, 500)]])

        @app.get("/v2/orders:by_client_order_id")
        def by_client_order_id(client_order_id: str) -> Response:
            with self._lock:
                self._advance()
                for order in self._orders:
                    if order.client_order_id == client_order_id:
                        return JSONResponse(order.payload())
                return error(404, 40410000, "order not found")

        @app.get("/v2/orders/{order_id}")
        def get_order(order_id: str) -> Response:
            with self._lock:
                self._advance()
                order = self._find(order_id)
                return (
                    error(404, 40410000, "order not found")
                    if order is None
                    else JSONResponse(order.payload())
                )

        @app.delete("/v2/orders/{order_id}")
        def cancel_order(order_id: str) -> Response:
            with self._lock:
                self.deletes += 1
                now = self._advance()
                order = self._find(order_id)
                if order is None:
                    return error(404, 40410000, "order not found")
                if not order.is_open:
                    return error(422, 42210000, "order is not cancelable")
                order.status, order.canceled_at, order.updated_at = "canceled", now, now
                return Response(status_code=204)

        @app.get("/v2/account")
        def account() -> Response:
            with self._lock:
                now = self._advance()
                value = sum(
                    (
                        qty * self._prices.quote(symbol, now).price.to_decimal()
                        for symbol, (qty, _) in self._positions.items()
                    ),
                    Decimal(0),
                )
                return JSONResponse(
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "standin-account")),
                        "account_number": "PA0STANDIN",
                        "status": "ACTIVE",
                        "crypto_status": "INACTIVE",
                        "currency": "USD",
                        "cash": _text(self._cash),
                        "buying_power": _text(self._cash),
                        "non_marginable_buying_power": _text(self._cash),
                        "equity": _text(self._cash + value),
                        "portfolio_value": _text(self._cash + value),
                        "long_market_value": _text(value),
                        "short_market_value": "0",
                        "multiplier": "1",
                        "trading_blocked": False,
                        "transfers_blocked": False,
                        "account_blocked": False,
                        "trade_suspended_by_user": False,
                        "shorting_enabled": False,
                        "created_at": "2025-01-02T14:30:00Z",
                    }
                )

        @app.get("/v2/positions")
        def positions() -> Response:
            with self._lock:
                now = self._advance()
                held = []
                for symbol, (qty, cost) in sorted(self._positions.items()):
                    if not qty:
                        continue
                    price = self._prices.quote(symbol, now).price.to_decimal()
                    held.append(
                        {
                            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"asset:{symbol}")),
                            "symbol": symbol,
                            "exchange": "NASDAQ",
                            "asset_class": "us_equity",
                            "asset_marginable": True,
                            "avg_entry_price": _text((cost / qty).quantize(Decimal("0.0001"))),
                            "qty": _text(qty),
                            "qty_available": _text(qty),
                            "side": "long",
                            "market_value": _text(qty * price),
                            "cost_basis": _text(cost),
                            "unrealized_pl": _text(qty * price - cost),
                            "current_price": _text(price),
                        }
                    )
                return JSONResponse(held)

        @app.get("/v2/account/activities/FILL")
        def fill_activities(
            after: str | None = None,
            until: str | None = None,
            direction: str = "desc",
            page_size: int = 100,
            page_token: str | None = None,
        ) -> Response:
            with self._lock:
                self._advance()
                chosen = sorted(self._activities, key=lambda a: (a.at, a.id), reverse=direction == "desc")
                if after is not None:
                    start = datetime.fromisoformat(after)
                    chosen = [a for a in chosen if a.at > start]
                if until is not None:
                    end = datetime.fromisoformat(until)
                    chosen = [a for a in chosen if a.at < end]
                if page_token is not None:
                    ids = [a.id for a in chosen]
                    if page_token not in ids:
                        return error(422, 40010001, f"invalid page_token {page_token}")
                    chosen = chosen[ids.index(page_token) + 1 :]
                return JSONResponse([a.payload() for a in chosen[: min(page_size, 100)]])

        return app

    def _find(self, order_id: str) -> _Order | None:
        return next((order for order in self._orders if order.id == order_id), None)

    def orders(self) -> list[dict[str, Any]]:
        """Return every order as Alpaca would show it (for assertions)."""
        with self._lock:
            self._advance()
            return [order.payload() for order in self._orders]


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _RefusalError(422, 40010001, f"{name} is required")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _RefusalError(422, 40010001, f"invalid {name}: {value}") from None
    if not number.is_finite():
        raise _RefusalError(422, 40010001, f"invalid {name}: {value}")
    return number
