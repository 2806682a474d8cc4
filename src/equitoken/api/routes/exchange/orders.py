"""A member's orders and balances: orders placed at most once per client order id, cancels, amends."""

import hashlib
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from equitoken.api.deps import ExchangeDep, IdempotencyKey, IdempotentCallsDep, MembersDep, PrincipalDep
from equitoken.api.idempotency import fingerprint
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.exchange.conversions import (
    order_out,
    outcome_out,
    placed_out,
    shares,
    ticks,
    token_units,
    usdc,
)
from equitoken.api.routes.exchange.refusals import TickerPath, account_of, rules_of, run_command
from equitoken.api.schemas import (
    TICKER,
    ExchangeBalanceOut,
    ExchangeOrderAmend,
    ExchangeOrderCreate,
    ExchangeOrderOut,
    ExchangeOutcomeOut,
)
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import DuplicateOrderError, Outcome
from equitoken.venues.exchange.events import Accepted
from equitoken.venues.exchange.orders import Amend, Cancel, OrderType, RejectReason, Side, Submit, TimeInForce

router = APIRouter()


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
    venue: ExchangeDep,
    members: MembersDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Send a limit or market order; it trades what crosses now and (GTC limit) rests the rest."""
    account = account_of(members, principal)
    rules = rules_of(venue, body.ticker, in_path=False)
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
        0 if body.price is None else ticks(rules, body.price),
        token_units(rules, body.quantity),
        TimeInForce[time_in_force.upper()],
        body.post_only,
    )
    canonical = {**body.model_dump(), "ticker": ticker, "time_in_force": time_in_force}
    canonical["price"] = None if body.price is None else format(Decimal(body.price).normalize(), "f")
    canonical["quantity"] = format(Decimal(body.quantity).normalize(), "f")

    def call() -> tuple[int, str]:
        try:
            outcome = run_command(ticker, _submit_once, command)
        except DuplicateOrderError as duplicate:
            if body.client_order_id:
                raise ProblemError(409, duplicate.code, str(duplicate)) from None
            # This key's order was placed by a try whose answer was never stored.
            return status.HTTP_200_OK, placed_out(
                venue, rules, ticker, account, duplicate.order_id
            ).model_dump_json()
        accepted = outcome.events[0]
        assert isinstance(accepted, Accepted)
        return status.HTTP_201_CREATED, outcome_out(
            rules, ticker, accepted.order_id, outcome
        ).model_dump_json()

    def _submit_once(symbol: str, order: Submit) -> Outcome:
        return venue.submit(symbol, order, unique=True)

    stored = calls.run(principal, idempotency_key, fingerprint("POST", "/exchange/orders", canonical), call)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    code = status.HTTP_200_OK if stored.replayed else stored.status_code
    return Response(stored.body, status_code=code, media_type="application/json", headers=headers)


@router.get("/orders", responses=problem_responses(403))
def list_orders(
    principal: PrincipalDep,
    venue: ExchangeDep,
    members: MembersDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
) -> list[ExchangeOrderOut]:
    """List the caller's open orders, best price first per side."""
    account = account_of(members, principal)
    if ticker is not None:
        rules_of(venue, ticker, in_path=False)
    orders = venue.open_orders(account, None if ticker is None else ticker.upper())
    return [
        order_out(venue.rules(symbol), symbol, order)
        for symbol, open_orders in orders.items()
        for order in open_orders
    ]


@router.delete("/orders/{ticker}/{order_id}", responses=problem_responses(403, 404))
def cancel_order(
    ticker: TickerPath,
    order_id: Annotated[int, Path(ge=0)],
    principal: PrincipalDep,
    venue: ExchangeDep,
    members: MembersDep,
) -> ExchangeOutcomeOut:
    """Cancel one of the caller's open orders and release what it held."""
    account = account_of(members, principal)
    rules = rules_of(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    outcome = run_command(symbol, venue.cancel, Cancel(account, order_id))
    return outcome_out(rules, symbol, order_id, outcome)


@router.patch("/orders/{ticker}/{order_id}", responses=problem_responses(403, 404, 409))
def amend_order(
    ticker: TickerPath,
    order_id: Annotated[int, Path(ge=0)],
    body: ExchangeOrderAmend,
    principal: PrincipalDep,
    venue: ExchangeDep,
    members: MembersDep,
) -> ExchangeOutcomeOut:
    """Change an open order's price or open quantity (a lower quantity at the same price keeps its place)."""
    account = account_of(members, principal)
    rules = rules_of(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    amend = Amend(account, order_id, ticks(rules, body.price), token_units(rules, body.quantity))
    outcome = run_command(symbol, venue.amend, amend)
    return outcome_out(rules, symbol, order_id, outcome)


@router.get("/balances", responses=problem_responses(403))
def list_balances(
    principal: PrincipalDep, venue: ExchangeDep, members: MembersDep
) -> list[ExchangeBalanceOut]:
    """Return the caller's available and locked balance of every asset: USDC in dollars, tokens in shares."""
    account = account_of(members, principal)
    balances = []
    for asset, balance in venue.balances(account).items():
        if asset == USDC:
            available, locked = usdc(balance.available), usdc(balance.locked)
        else:
            rules = venue.rules(asset)
            available, locked = shares(rules, balance.available), shares(rules, balance.locked)
        balances.append(ExchangeBalanceOut(asset=asset, available=available, locked=locked))
    return balances


def _derived_client_order_id(principal: Principal, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"k-{digest[:32]}"
