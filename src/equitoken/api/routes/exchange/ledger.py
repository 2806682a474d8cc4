"""Ledger stock on the exchange (the FTX and Binance stock tokens of 2020-21): a member buys a fraction
of a share from $1 or sells it, through the exchange's ledger desk, which buys and sells the shares at
the issuer's broker into custody; the balance (`AAPL.L`) lives only in the member's exchange account,
trades on the `AAPL.L` book, and cannot be withdrawn. Each order is placed once per `Idempotency-Key`
and advances once the broker fills, in session."""

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam

from equitoken.api.deps import IdempotencyKey, IdempotentCallsDep, LedgerDep, MembersDep, PrincipalDep
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import Refusals, derived_key, run_once
from equitoken.api.routes.exchange.refusals import account_of
from equitoken.api.schemas import LedgerEventOut, LedgerOrderIn, LedgerOrderOut
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import InvalidAmountError, Shares, Usd
from equitoken.venues.exchange.ledger import LedgerOrder

router = APIRouter(prefix="/ledger")
_REFUSALS = Refusals((EquitokenError,), ())


def _out(order: LedgerOrder, events: list[LedgerEventOut] | None = None) -> LedgerOrderOut:
    return LedgerOrderOut(
        id=order.id,
        ticker=order.ticker,
        side=order.side,
        state=order.state.value,
        filled_shares=str(order.filled_shares),
        filled_usd=str(order.filled_usd),
        reason=order.reason,
        events=events or [],
    )


@router.post("/orders", response_model=LedgerOrderOut, responses=problem_responses(403))
def place(
    body: LedgerOrderIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    members: MembersDep,
    desk: LedgerDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Buy `usd` worth of ledger stock, or sell `shares` of it, for your exchange account: the USDC (or
    the balance) is taken at once, the shares are bought (or sold) at the issuer's broker and credited
    (or paid) when the fills settle. Refused (422, nothing taken) below $1, for a halted or unknown
    stock, an account the stock does not admit, or more than the account has."""
    account = account_of(members, principal)
    ticker = body.ticker.upper()
    try:
        if body.side == "buy":
            if body.usd is None or body.shares is not None:
                raise ProblemError(422, "invalid_request", "a buy names the USD to spend (usd), not shares")
            amount: Usd | Shares = Usd.parse(body.usd)
        else:
            if body.shares is None or body.usd is not None:
                raise ProblemError(
                    422, "invalid_request", "a sale names the shares to sell (shares), not usd"
                )
            amount = Shares.parse(body.shares)
    except InvalidAmountError as error:
        raise ProblemError(422, "invalid_amount", str(error)) from None
    order_id = derived_key(principal, idempotency_key)

    def call() -> str:
        with _REFUSALS:
            if isinstance(amount, Usd):
                order = desk.buy(account, ticker, amount, order_id)
            else:
                order = desk.sell(account, ticker, amount, order_id)
        return _out(order).model_dump_json()

    return run_once(calls, principal, idempotency_key, "/exchange/ledger/orders", body.model_dump(), call)


@router.get("/orders", responses=problem_responses(403))
def list_orders(principal: PrincipalDep, members: MembersDep, desk: LedgerDep) -> list[LedgerOrderOut]:
    """List your exchange account's ledger orders, newest last."""
    account = account_of(members, principal)
    return [_out(o) for o in desk.orders(account)]


@router.get("/orders/{order_id}", responses=problem_responses(403, 404))
def read_order(
    order_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    principal: PrincipalDep,
    members: MembersDep,
    desk: LedgerDep,
) -> LedgerOrderOut:
    """Return one of your ledger orders with every step it went through."""
    account = account_of(members, principal)
    mine = {o.id: o for o in desk.orders(account)}
    if order_id not in mine:
        raise ProblemError(404, "unknown_ledger_order", f"you have no ledger order {order_id}")
    events = [
        LedgerEventOut(at=e.at.isoformat(), state=e.to_state, reason=e.reason) for e in desk.events(order_id)
    ]
    return _out(mine[order_id], events)
