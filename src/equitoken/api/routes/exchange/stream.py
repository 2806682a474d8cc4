"""The WebSocket stream at `/exchange/stream`: a snapshot of each channel a client subscribes to, then
every change, numbered without gaps per connection."""

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from equitoken.api.context import ApiContext
from equitoken.api.routes.exchange.conversions import (
    dollars,
    levels_out,
    order_out,
    shares,
    status_name,
    trade_out,
    usdc,
)
from equitoken.api.routes.exchange.refusals import account_of
from equitoken.api.schemas import (
    ExchangeBookOut,
)
from equitoken.venues.exchange.book import DepthLevel
from equitoken.venues.exchange.rules import BookRules
from equitoken.venues.exchange.venue import (
    ExchangeVenue,
    StreamItem,
    Subscription,
    SubscriptionClosedError,
)

router = APIRouter()

_STREAM_POLL_SECONDS = 0.05
_SLOW_CONSUMER = 1013  # WebSocket close code "try again later"
_POLICY_VIOLATION = 1008


class _StreamError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _Stream:
    """One WebSocket connection: its channels, its venue subscription and its message numbers."""

    def __init__(self, websocket: WebSocket, venue: ExchangeVenue, account: int | None) -> None:
        self.websocket = websocket
        self.venue = venue
        self.account = account
        self.channels: set[str] = set()
        self.subscription: Subscription | None = None
        self.seq = 0

    async def send(self, channel: str | None, kind: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.websocket.send_json({"seq": self.seq, "channel": channel, "type": kind, "data": data})

    async def subscribe(self, message: Any) -> None:
        channels = self._channels(message)
        if self.subscription is not None:
            self.subscription.close()
        accounts = [] if self.account is None else [self.account]
        self.subscription = await run_in_threadpool(self.venue.subscribe, accounts)
        self.channels = channels
        snapshot = self.subscription.snapshot
        for channel in sorted(channels):
            kind, _, ticker = channel.partition(":")
            if kind == "levels":
                bids, asks = snapshot.levels[ticker]
                await self.send(channel, "snapshot", await self._levels(ticker, bids, asks))
            elif kind == "trades":
                rules = self.venue.rules(ticker)
                trades = [
                    trade_out(rules, t).model_dump(mode="json") for t in reversed(snapshot.trades[ticker])
                ]
                await self.send(channel, "snapshot", {"ticker": ticker, "trades": trades})
            else:
                orders = [
                    order_out(self.venue.rules(t), t, order).model_dump(mode="json")
                    for t, open_orders in snapshot.open_orders.items()
                    for order in open_orders
                ]
                await self.send(channel, "snapshot", {"orders": orders})

    async def forward(self, item: StreamItem) -> None:
        if item.kind == "levels" and f"levels:{item.ticker}" in self.channels:
            bids = [DepthLevel(*level) for level in item.payload["bids"]]
            asks = [DepthLevel(*level) for level in item.payload["asks"]]
            await self.send(f"levels:{item.ticker}", "update", await self._levels(item.ticker, bids, asks))
        elif item.kind == "trade" and f"trades:{item.ticker}" in self.channels:
            rules = self.venue.rules(item.ticker)
            await self.send(
                f"trades:{item.ticker}", "update", {"ticker": item.ticker, **_trade_dict(rules, item)}
            )
        elif item.kind == "order" and "orders" in self.channels:
            rules = self.venue.rules(item.ticker)
            events = [_event_dict(rules, event) for event in item.payload["events"]]
            await self.send("orders", "update", {"ticker": item.ticker, "events": events})

    async def _levels(self, ticker: str, bids: list[DepthLevel], asks: list[DepthLevel]) -> dict[str, Any]:
        rules = self.venue.rules(ticker)
        market_status = await run_in_threadpool(self.venue.status, ticker)
        return ExchangeBookOut(
            ticker=ticker,
            status=status_name(market_status),
            bids=levels_out(rules, bids),
            asks=levels_out(rules, asks),
        ).model_dump(mode="json")

    def _channels(self, message: Any) -> set[str]:
        if not isinstance(message, dict) or message.get("op") != "subscribe":
            raise _StreamError("invalid_message", 'send {"op": "subscribe", "channels": [...]}')
        channels = message.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise _StreamError("invalid_message", "channels must be a list of strings")
        tickers = set(self.venue.tickers())
        for channel in channels:
            kind, _, ticker = channel.partition(":")
            if channel == "orders":
                if self.account is None:
                    raise _StreamError(
                        "forbidden", "an operator key has no exchange account to stream orders of"
                    )
            elif kind not in ("levels", "trades") or ticker not in tickers:
                raise _StreamError(
                    "unknown_channel",
                    f"channel {channel!r} is not one of orders, levels:<TICKER>, trades:<TICKER> "
                    f"for {', '.join(sorted(tickers))}",
                )
        return set(channels)


def _trade_dict(rules: BookRules, item: StreamItem) -> dict[str, Any]:
    payload = item.payload
    return {
        "trade_id": payload["trade_id"],
        "price": dollars(rules, payload["price"]),
        "quantity": shares(rules, payload["quantity"]),
        "taker_side": payload["taker_side"],
        "status": payload["status"],
        "at": payload["at"],
    }


def _event_dict(rules: BookRules, event: dict[str, Any]) -> dict[str, Any]:
    converted = dict(event)
    for name in ("price",):
        if name in converted:
            converted[name] = dollars(rules, converted[name])
    if "quantity" in converted:
        converted["quantity"] = shares(rules, converted["quantity"])
    for name in ("notional", "maker_fee", "taker_fee"):
        if name in converted:
            converted[name] = usdc(converted[name])
    return converted


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Stream book levels, trades and the caller's own order events (see docs/api.md)."""
    context: ApiContext = websocket.app.state.context
    venue, members = context.exchange, context.exchange_members
    assert venue is not None
    assert members is not None
    key = websocket.query_params.get("key") or websocket.headers.get("x-api-key")
    principal = await run_in_threadpool(context.keys.authenticate, key) if key else None
    if principal is None:
        await websocket.close(_POLICY_VIOLATION, "send a valid API key as ?key= or in X-API-Key")
        return
    account = None
    if principal.investor_id is not None:
        account = await run_in_threadpool(account_of, members, principal)
    await websocket.accept()
    connection = _Stream(websocket, venue, account)
    incoming = asyncio.ensure_future(websocket.receive_json())
    try:
        while True:
            if incoming.done():
                message = incoming.result()  # raises WebSocketDisconnect when the client left
                try:
                    await connection.subscribe(message)
                except _StreamError as error:
                    await connection.send(None, "error", {"code": error.code, "detail": error.detail})
                incoming = asyncio.ensure_future(websocket.receive_json())
            subscription = connection.subscription
            item = subscription.get(0) if subscription is not None else None
            while item is not None:
                await connection.forward(item)
                item = subscription.get(0) if subscription is not None else None
            await asyncio.wait({incoming}, timeout=_STREAM_POLL_SECONDS)
    except WebSocketDisconnect:
        pass
    except SubscriptionClosedError as closed:
        await websocket.close(_SLOW_CONSUMER, closed.reason[:120])
    finally:
        incoming.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await incoming
        if connection.subscription is not None:
            connection.subscription.close()
