"""The order-book exchange: markets, books and trades for everyone; orders and balances for members.

Prices travel as dollars and quantities as shares, in decimal strings; they are converted exactly to
the book's ticks and the token's units, and a price off the tick or a quantity off the lot is
refused with the step named. Every refusal of the engine or the book is a problem with a stable
code, and changes nothing.

An order is placed at most once: its client order id (the caller's, or one derived from the API key
and the `Idempotency-Key` when the caller gives none) is unique per member and instrument within
the engine's window, so a retry after a crash between journaling the order and storing the answer
finds the order already placed. With a derived id that retry answers 200 with the order's current
state; with the caller's own id it is the problem `duplicate_order`, naming the order.

With funding configured, members read the hot wallet's address, their deposits and withdrawals,
and ask for withdrawals to their own registered wallets (the `Idempotency-Key` names the
withdrawal, so a retry never withdraws twice).

The WebSocket stream at `/exchange/stream` sends a snapshot of each channel a client subscribes
to, then every change, numbered without gaps per connection.
"""

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from equitoken.api.context import ApiContext
from equitoken.api.deps import ContextDep, IdempotencyKey, IdempotentCallsDep, PrincipalDep
from equitoken.api.idempotency import fingerprint
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import (
    TICKER,
    ExchangeBalanceOut,
    ExchangeBookOut,
    ExchangeDepositAddressOut,
    ExchangeDepositOut,
    ExchangeFillOut,
    ExchangeLevelOut,
    ExchangeMarketOut,
    ExchangeOrderAmend,
    ExchangeOrderCreate,
    ExchangeOrderOut,
    ExchangeOutcomeOut,
    ExchangeStatus,
    ExchangeTradeOut,
    ExchangeWithdrawalCreate,
    ExchangeWithdrawalOut,
)
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import USDC, AccountsError
from equitoken.venues.exchange.book import DepthLevel, OpenOrder
from equitoken.venues.exchange.engine import (
    DuplicateOrderError,
    ExchangeError,
    MarketHaltedError,
    Outcome,
    UnknownInstrumentError,
)
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Filled, Rejected
from equitoken.venues.exchange.funding import (
    ConflictingWithdrawalError,
    Deposit,
    ExchangeFunding,
    FundingError,
    UnknownAssetError,
    Withdrawal,
)
from equitoken.venues.exchange.members import MembersError
from equitoken.venues.exchange.orders import Amend, Cancel, OrderType, RejectReason, Side, Submit, TimeInForce
from equitoken.venues.exchange.rules import BookRules
from equitoken.venues.exchange.venue import (
    ExchangeVenue,
    RecentTrade,
    StreamItem,
    Subscription,
    SubscriptionClosedError,
)

router = APIRouter(prefix="/exchange", tags=["exchange"])
# Deposits and withdrawals: served only when the platform runs the exchange's funding.
funding_router = APIRouter(prefix="/exchange", tags=["exchange"])

TickerPath = Annotated[str, Path(pattern=TICKER)]
Depth = Annotated[int, Query(ge=1, le=50, description="Levels per side, 1 to 50.")]
TradeLimit = Annotated[int, Query(ge=1, le=200, description="Trades, newest first, 1 to 200.")]
# A refused cancel or amendment of an order that is not the caller's reads as an unknown order,
# so order ids reveal nothing about other members.
_NOT_FOUND = {RejectReason.UNKNOWN_ORDER, RejectReason.NOT_ORDER_OWNER}
_STREAM_POLL_SECONDS = 0.05
_SLOW_CONSUMER = 1013  # WebSocket close code "try again later"
_POLICY_VIOLATION = 1008


def _venue(context: ApiContext) -> ExchangeVenue:
    assert context.exchange is not None  # the router is included only with an exchange
    return context.exchange


def _funding(context: ApiContext) -> ExchangeFunding:
    assert context.exchange_funding is not None  # the funding router is included only with funding
    return context.exchange_funding


def _investor(principal: Principal) -> str:
    if principal.investor_id is None:
        raise ProblemError(403, "forbidden", "an operator key has no exchange account; use an investor's key")
    return principal.investor_id


def _account(context: ApiContext, principal: Principal) -> int:
    if principal.investor_id is None:
        raise ProblemError(
            403, "forbidden", "an operator key has no exchange account; trade with an investor's key"
        )
    assert context.exchange_members is not None
    try:
        return context.exchange_members.account_of(principal.investor_id)
    except MembersError as error:
        raise ProblemError(422, error.code, str(error)) from None


def _rules(venue: ExchangeVenue, ticker: str, *, in_path: bool) -> BookRules:
    try:
        return venue.rules(ticker.upper())
    except UnknownInstrumentError as error:
        raise ProblemError(404 if in_path else 422, error.code, str(error)) from None


def _status_name(market_status: MarketStatus) -> ExchangeStatus:
    name: ExchangeStatus = market_status.name.lower()  # type: ignore[assignment]
    return name


# Units: the book's integers to and from the API's decimal strings.


def _dollars(rules: BookRules, ticks: int) -> str:
    return str(Price(ticks * rules.instrument.tick.units))


def _shares(rules: BookRules, units: int) -> str:
    return str(Shares(units * Shares.token_step(rules.instrument.token_decimals)))


def _usdc(units: int) -> str:
    return str(Usd(units))


def _asset_amount(venue: ExchangeVenue, asset: str, units: int) -> str:
    return _usdc(units) if asset == USDC else _shares(venue.rules(asset), units)


def _asset_units(venue: ExchangeVenue, asset: str, text: str) -> int:
    """Return `text` (dollars for USDC, shares for a token) in the asset's smallest units, exactly."""
    if asset == USDC:
        try:
            return Usd.parse(text).units
        except InvalidAmountError:
            raise ProblemError(
                422, "invalid_amount", f"amount {text} has more decimals than USDC's 6"
            ) from None
    try:
        rules = venue.rules(asset)
    except UnknownInstrumentError:
        raise ProblemError(
            422,
            UnknownAssetError.code,
            f"asset {asset!r} is not {USDC} or one of {', '.join(venue.tickers())}",
        ) from None
    step = Shares.token_step(rules.instrument.token_decimals)
    try:
        units = Shares.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % step:
        raise ProblemError(
            422,
            "invalid_amount",
            f"amount {text} is not a whole number of {asset}'s units of {_shares(rules, 1)} shares",
        )
    return units // step


def _ticks(rules: BookRules, text: str) -> int:
    tick = rules.instrument.tick
    try:
        units = Price.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % tick.units:
        raise ProblemError(422, "off_tick", f"price {text} is not a whole number of ticks of ${tick}")
    return units // tick.units


def _token_units(rules: BookRules, text: str) -> int:
    step = Shares.token_step(rules.instrument.token_decimals)
    lot = rules.instrument.lot
    try:
        units = Shares.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % (step * lot):
        raise ProblemError(
            422, "off_lot", f"quantity {text} is not a whole number of lots of {_shares(rules, lot)} shares"
        )
    return units // step


# Refusals


def _refused(error: ExchangeError | AccountsError) -> ProblemError:
    return ProblemError(409 if isinstance(error, MarketHaltedError) else 422, error.code, str(error))


def _rejected(event: Rejected, ticker: str) -> ProblemError:
    if event.reason in _NOT_FOUND:
        return ProblemError(404, "unknown_order", f"you have no open order {event.order_id} on {ticker}")
    return ProblemError(422, event.reason.name.lower(), event.reason.message)


def _command(ticker: str, run: Callable[[str, Any], Outcome], command: Submit | Cancel | Amend) -> Outcome:
    try:
        outcome = run(ticker, command)
    except DuplicateOrderError:
        raise
    except (ExchangeError, AccountsError) as error:
        raise _refused(error) from None
    if outcome.events and isinstance(outcome.events[0], Rejected):
        raise _rejected(outcome.events[0], ticker)
    return outcome


# Shaping answers


def _levels(rules: BookRules, levels: list[DepthLevel]) -> list[ExchangeLevelOut]:
    return [
        ExchangeLevelOut(
            price=_dollars(rules, lv.price), quantity=_shares(rules, lv.quantity), orders=lv.orders
        )
        for lv in levels
    ]


def _order(rules: BookRules, ticker: str, order: OpenOrder) -> ExchangeOrderOut:
    return ExchangeOrderOut(
        ticker=ticker,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        side="buy" if order.side == Side.BUY else "sell",
        price=_dollars(rules, order.price),
        quantity=_shares(rules, order.quantity),
    )


def _trade(rules: BookRules, recent: RecentTrade) -> ExchangeTradeOut:
    fill = recent.trade.fill
    return ExchangeTradeOut(
        trade_id=recent.trade.trade_id,
        price=_dollars(rules, fill.price),
        quantity=_shares(rules, fill.quantity),
        taker_side="buy" if fill.taker_side == Side.BUY else "sell",
        status=_status_name(recent.trade.status),
        at=recent.at,
    )


def _outcome(rules: BookRules, ticker: str, order_id: int, outcome: Outcome) -> ExchangeOutcomeOut:
    fills: list[ExchangeFillOut] = []
    open_quantity = 0
    state = "resting"
    for event in outcome.events:
        if isinstance(event, Accepted):
            open_quantity = event.quantity
        elif isinstance(event, Filled) and order_id in (event.maker_order_id, event.taker_order_id):
            taker = event.taker_order_id == order_id
            open_quantity -= event.quantity
            fills.append(
                ExchangeFillOut(
                    trade_id=f"{ticker}-{event.maker_order_id}-{event.taker_order_id}",
                    order_id=order_id,
                    role="taker" if taker else "maker",
                    price=_dollars(rules, event.price),
                    quantity=_shares(rules, event.quantity),
                    fee=_usdc(event.taker_fee if taker else event.maker_fee),
                )
            )
        elif isinstance(event, Cancelled) and event.order_id == order_id:
            open_quantity, state = 0, "cancelled"
        elif isinstance(event, Amended):
            open_quantity, state = event.quantity, "amended"
    if state == "resting" and not open_quantity:
        state = "filled"
    return ExchangeOutcomeOut(
        ticker=ticker,
        order_id=order_id,
        state=state,  # type: ignore[arg-type]
        open_quantity=_shares(rules, open_quantity),
        fills=fills,
    )


def _derived_client_order_id(principal: Principal, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"k-{digest[:32]}"


def _placed(
    venue: ExchangeVenue, rules: BookRules, ticker: str, account: int, order_id: int
) -> ExchangeOutcomeOut:
    """Return an order placed earlier as it stands now: resting with its open quantity, or closed."""
    for order in venue.open_orders(account, ticker)[ticker]:
        if order.order_id == order_id:
            return ExchangeOutcomeOut(
                ticker=ticker,
                order_id=order_id,
                state="resting",
                open_quantity=_shares(rules, order.quantity),
                fills=[],
            )
    return ExchangeOutcomeOut(
        ticker=ticker, order_id=order_id, state="closed", open_quantity=_shares(rules, 0), fills=[]
    )


def _deposit(venue: ExchangeVenue, deposit: Deposit) -> ExchangeDepositOut:
    return ExchangeDepositOut(
        deposit_id=deposit.deposit_id,
        asset=deposit.asset,
        amount=_asset_amount(venue, deposit.asset, deposit.amount),
        sender=deposit.sender,
        tx_hash=deposit.tx_hash,
        block_number=deposit.block_number,
    )


def _withdrawal(venue: ExchangeVenue, withdrawal: Withdrawal) -> ExchangeWithdrawalOut:
    return ExchangeWithdrawalOut(
        withdrawal_id=withdrawal.id,
        asset=withdrawal.asset,
        amount=_asset_amount(venue, withdrawal.asset, withdrawal.amount),
        destination=withdrawal.destination,
        status=withdrawal.status.value,
        tx_hash=withdrawal.tx_hash,
        reason=withdrawal.reason,
        created_at=withdrawal.created_at,
        updated_at=withdrawal.updated_at,
    )


# Market data


@router.get("/markets")
def list_markets(principal: PrincipalDep, context: ContextDep) -> list[ExchangeMarketOut]:
    """List the instruments the exchange trades, with their steps, fees, market status and touch."""
    venue = _venue(context)
    markets = []
    for ticker in venue.tickers():
        rules = venue.rules(ticker)
        bid, ask = venue.best(ticker)
        markets.append(
            ExchangeMarketOut(
                ticker=ticker,
                status=_status_name(venue.status(ticker)),
                tick=str(rules.instrument.tick),
                lot=_shares(rules, rules.instrument.lot),
                maker_fee_bps=rules.maker_fee_bps,
                taker_fee_bps=rules.taker_fee_bps,
                min_notional=str(rules.min_notional),
                best_bid=None if bid is None else _dollars(rules, bid),
                best_ask=None if ask is None else _dollars(rules, ask),
            )
        )
    return markets


@router.get("/markets/{ticker}/book", responses=problem_responses(404))
def read_book(
    ticker: TickerPath, principal: PrincipalDep, context: ContextDep, depth: Depth = 10
) -> ExchangeBookOut:
    """Return the book's aggregated levels, best first, with the oracle's market status."""
    venue = _venue(context)
    rules = _rules(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    bids, asks = venue.levels(symbol, depth)
    return ExchangeBookOut(
        ticker=symbol,
        status=_status_name(venue.status(symbol)),
        bids=_levels(rules, bids),
        asks=_levels(rules, asks),
    )


@router.get("/markets/{ticker}/trades", responses=problem_responses(404))
def list_trades(
    ticker: TickerPath, principal: PrincipalDep, context: ContextDep, limit: TradeLimit = 50
) -> list[ExchangeTradeOut]:
    """Return the latest trades, newest first."""
    venue = _venue(context)
    rules = _rules(venue, ticker, in_path=True)
    return [_trade(rules, trade) for trade in venue.recent_trades(rules.instrument.symbol, limit)]


# Orders


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangeOutcomeOut,
    responses={
        200: {
            "model": ExchangeOutcomeOut,
            "description": "A retry: the answer to the first call with this key.",
        },
        **problem_responses(403, 404, 409),
    },
)
def place_order(
    body: ExchangeOrderCreate,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Send a limit or market order; it trades what crosses now and (GTC limit) rests the rest."""
    venue = _venue(context)
    account = _account(context, principal)
    rules = _rules(venue, body.ticker, in_path=False)
    ticker = rules.instrument.symbol
    market = body.type == "market"
    if market and body.price is not None:
        raise ProblemError(422, "market_order_has_price", RejectReason.MARKET_ORDER_HAS_PRICE.message)
    if not market and body.price is None:
        raise ProblemError(422, "price_not_positive", "a limit order needs a price in dollars")
    time_in_force = body.time_in_force or ("ioc" if market else "gtc")
    command = Submit(
        account,
        body.client_order_id or _derived_client_order_id(principal, idempotency_key),
        Side.BUY if body.side == "buy" else Side.SELL,
        OrderType.MARKET if market else OrderType.LIMIT,
        0 if body.price is None else _ticks(rules, body.price),
        _token_units(rules, body.quantity),
        TimeInForce[time_in_force.upper()],
        body.post_only,
    )
    canonical = {**body.model_dump(), "ticker": ticker, "time_in_force": time_in_force}
    canonical["price"] = None if body.price is None else format(Decimal(body.price).normalize(), "f")
    canonical["quantity"] = format(Decimal(body.quantity).normalize(), "f")

    def call() -> tuple[int, str]:
        try:
            outcome = _command(ticker, _submit_once, command)
        except DuplicateOrderError as duplicate:
            if body.client_order_id:
                raise ProblemError(409, duplicate.code, str(duplicate)) from None
            # This key's order was placed by a try whose answer was never stored.
            return status.HTTP_200_OK, _placed(
                venue, rules, ticker, account, duplicate.order_id
            ).model_dump_json()
        accepted = outcome.events[0]
        assert isinstance(accepted, Accepted)
        return status.HTTP_201_CREATED, _outcome(rules, ticker, accepted.order_id, outcome).model_dump_json()

    def _submit_once(symbol: str, order: Submit) -> Outcome:
        return venue.submit(symbol, order, unique=True)

    stored = calls.run(principal, idempotency_key, fingerprint("POST", "/exchange/orders", canonical), call)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    code = status.HTTP_200_OK if stored.replayed else stored.status_code
    return Response(stored.body, status_code=code, media_type="application/json", headers=headers)


@router.get("/orders", responses=problem_responses(403))
def list_orders(
    principal: PrincipalDep,
    context: ContextDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
) -> list[ExchangeOrderOut]:
    """List the caller's open orders, best price first per side."""
    venue = _venue(context)
    account = _account(context, principal)
    if ticker is not None:
        _rules(venue, ticker, in_path=False)
    orders = venue.open_orders(account, None if ticker is None else ticker.upper())
    return [
        _order(venue.rules(symbol), symbol, order)
        for symbol, open_orders in orders.items()
        for order in open_orders
    ]


@router.delete("/orders/{ticker}/{order_id}", responses=problem_responses(403, 404))
def cancel_order(
    ticker: TickerPath, order_id: Annotated[int, Path(ge=0)], principal: PrincipalDep, context: ContextDep
) -> ExchangeOutcomeOut:
    """Cancel one of the caller's open orders and release what it held."""
    venue = _venue(context)
    account = _account(context, principal)
    rules = _rules(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    outcome = _command(symbol, venue.cancel, Cancel(account, order_id))
    return _outcome(rules, symbol, order_id, outcome)


@router.patch("/orders/{ticker}/{order_id}", responses=problem_responses(403, 404, 409))
def amend_order(
    ticker: TickerPath,
    order_id: Annotated[int, Path(ge=0)],
    body: ExchangeOrderAmend,
    principal: PrincipalDep,
    context: ContextDep,
) -> ExchangeOutcomeOut:
    """Change an open order's price or open quantity (a lower quantity at the same price keeps its place)."""
    venue = _venue(context)
    account = _account(context, principal)
    rules = _rules(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    amend = Amend(account, order_id, _ticks(rules, body.price), _token_units(rules, body.quantity))
    outcome = _command(symbol, venue.amend, amend)
    return _outcome(rules, symbol, order_id, outcome)


@router.get("/balances", responses=problem_responses(403))
def list_balances(principal: PrincipalDep, context: ContextDep) -> list[ExchangeBalanceOut]:
    """Return the caller's available and locked balance of every asset: USDC in dollars, tokens in shares."""
    venue = _venue(context)
    account = _account(context, principal)
    balances = []
    for asset, balance in venue.balances(account).items():
        if asset == USDC:
            available, locked = _usdc(balance.available), _usdc(balance.locked)
        else:
            rules = venue.rules(asset)
            available, locked = _shares(rules, balance.available), _shares(rules, balance.locked)
        balances.append(ExchangeBalanceOut(asset=asset, available=available, locked=locked))
    return balances


# Funding


@funding_router.get("/deposit-address", responses=problem_responses(403))
def read_deposit_address(principal: PrincipalDep, context: ContextDep) -> ExchangeDepositAddressOut:
    """Return the hot wallet to send USDC and tokens to, and its chain."""
    funding = _funding(context)
    _investor(principal)
    return ExchangeDepositAddressOut(
        address=funding.deposit_address(),
        chain_id=funding.chain_id,
        note=(
            "Send from one of your registered wallets: a transfer from any other wallet is "
            "credited to no one. Deposits count once they are confirmed."
        ),
    )


@funding_router.get("/deposits", responses=problem_responses(403))
def list_deposits(principal: PrincipalDep, context: ContextDep) -> list[ExchangeDepositOut]:
    """Return the caller's credited deposits, oldest first."""
    funding = _funding(context)
    venue = _venue(context)
    return [_deposit(venue, deposit) for deposit in funding.deposits(_investor(principal))]


@funding_router.post(
    "/withdrawals",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangeWithdrawalOut,
    responses={
        200: {
            "model": ExchangeWithdrawalOut,
            "description": "A retry: the answer to the first call with this key.",
        },
        **problem_responses(403, 409),
    },
)
def request_withdrawal(
    body: ExchangeWithdrawalCreate,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Withdraw USDC or tokens to one of the caller's registered wallets; it is sent on-chain shortly."""
    funding = _funding(context)
    venue = _venue(context)
    investor_id = _investor(principal)
    asset = body.asset.upper()
    amount = _asset_units(venue, asset, body.amount)
    withdrawal_id = _withdrawal_id(principal, idempotency_key)
    canonical = {"asset": asset, "amount": amount, "destination": body.destination.lower()}

    def call() -> tuple[int, str]:
        try:
            withdrawal = funding.request_withdrawal(
                investor_id, asset, amount, body.destination, withdrawal_id
            )
        except (FundingError, AccountsError, MembersError) as error:
            code = 409 if isinstance(error, ConflictingWithdrawalError) else 422
            raise ProblemError(code, error.code, str(error)) from None
        return status.HTTP_201_CREATED, _withdrawal(venue, withdrawal).model_dump_json()

    stored = calls.run(
        principal, idempotency_key, fingerprint("POST", "/exchange/withdrawals", canonical), call
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    code = status.HTTP_200_OK if stored.replayed else stored.status_code
    return Response(stored.body, status_code=code, media_type="application/json", headers=headers)


@funding_router.get("/withdrawals", responses=problem_responses(403))
def list_withdrawals(principal: PrincipalDep, context: ContextDep) -> list[ExchangeWithdrawalOut]:
    """Return the caller's withdrawals and where each stands, oldest first."""
    funding = _funding(context)
    venue = _venue(context)
    return [_withdrawal(venue, withdrawal) for withdrawal in funding.withdrawals(_investor(principal))]


def _withdrawal_id(principal: Principal, idempotency_key: str) -> str:
    # Withdrawal ids are global; the caller's key is only unique to its API key.
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


# The stream


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
                trades = [_trade(rules, t).model_dump(mode="json") for t in reversed(snapshot.trades[ticker])]
                await self.send(channel, "snapshot", {"ticker": ticker, "trades": trades})
            else:
                orders = [
                    _order(self.venue.rules(t), t, order).model_dump(mode="json")
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
            status=_status_name(market_status),
            bids=_levels(rules, bids),
            asks=_levels(rules, asks),
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
        "price": _dollars(rules, payload["price"]),
        "quantity": _shares(rules, payload["quantity"]),
        "taker_side": payload["taker_side"],
        "status": payload["status"],
        "at": payload["at"],
    }


def _event_dict(rules: BookRules, event: dict[str, Any]) -> dict[str, Any]:
    converted = dict(event)
    for name in ("price",):
        if name in converted:
            converted[name] = _dollars(rules, converted[name])
    if "quantity" in converted:
        converted["quantity"] = _shares(rules, converted["quantity"])
    for name in ("notional", "maker_fee", "taker_fee"):
        if name in converted:
            converted[name] = _usdc(converted[name])
    return converted


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Stream book levels, trades and the caller's own order events (see docs/api.md)."""
    context: ApiContext = websocket.app.state.context
    venue = _venue(context)
    key = websocket.query_params.get("key") or websocket.headers.get("x-api-key")
    principal = await run_in_threadpool(context.keys.authenticate, key) if key else None
    if principal is None:
        await websocket.close(_POLICY_VIOLATION, "send a valid API key as ?key= or in X-API-Key")
        return
    account = None
    if principal.investor_id is not None:
        account = await run_in_threadpool(_account, context, principal)
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
