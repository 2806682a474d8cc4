"""The order processor (the Dinari dShares model): what it serves and charges, fee quotes for an
investor's orders, and the orders the issuer's operator fills.

An investor asks for a quote for an order from one of its registered wallets; the issuer checks it and
signs a fee quote bound to the whole order, which the investor's wallet submits to the processor's
`create_order` itself (paying into escrow on-chain). The operator then fills it from broker fills,
minting on buys and paying on sells, or cancels and refunds it. A refused quote is a 422 problem with
the issuer's code; nothing is signed.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    OperatorDep,
    PrincipalDep,
    ProcessorDep,
    ProcessorLockDep,
)
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import (
    Refusals,
    acting_investor,
    acting_wallet,
    derived_key,
    evm_wallets,
    run_once,
    scoped_investors,
)
from equitoken.api.schemas import (
    ID,
    TICKER,
    ProcessorCancelOut,
    ProcessorFeeQuoteOut,
    ProcessorOrderOut,
    ProcessorOrderTermsOut,
    ProcessorOut,
    ProcessorPlacedOut,
    ProcessorQuoteIn,
    ProcessorQuoteOut,
    ProcessorResolveIn,
)
from equitoken.issuer.errors import IssuerError
from equitoken.issuer.investors import Investor
from equitoken.issuer.orders.operator import OrderNotHeldError, OrderView, UnknownProcessorOrderError
from equitoken.issuer.orders.quoter import OrderAsk, Side
from equitoken.issuer.orders.terms import ProcessorOrderType, ProcessorTimeInForce
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.model.token_amount import TokenAmount

router = APIRouter(prefix="/processor", tags=["order processor"])
_REFUSALS = Refusals((IssuerError,), ())


def _order_out(view: OrderView, decimals: int) -> ProcessorOrderOut:
    return ProcessorOrderOut(
        id=view.id,
        order_id=view.order_id,
        ticker=view.ticker,
        requester=view.requester,
        sell=view.sell,
        order_type=view.order_type,
        time_in_force=view.time_in_force,
        state=view.state.value,
        filled_asset=str(view.filled_asset),
        filled_payment=str(view.filled_payment),
        filled_tokens=str(TokenAmount(view.filled_asset, decimals)),
        filled_usd=str(Usd(view.filled_payment)),
        reason=view.reason,
    )


def _placing_wallet(investor: Investor, asked: str | None) -> str:
    """Return the investor's wallet that places the order: the one asked, else its first EVM wallet."""
    wallets = evm_wallets(investor)
    chosen = (
        wallets[0]
        if asked is None and wallets
        else next((w for w in wallets if w.lower() == (asked or "").lower()), None)
    )
    if chosen is None:
        what = (
            "you have no registered EVM wallet"
            if asked is None
            else f"{asked} is not one of your registered wallets"
        )
        raise ProblemError(422, "processor_wallet_not_registered", what)
    return chosen


def _ask(body: ProcessorQuoteIn) -> OrderAsk:
    try:
        return OrderAsk(
            body.ticker.upper(),
            Side(body.side),
            ProcessorOrderType[body.order_type.upper()],
            ProcessorTimeInForce[body.time_in_force.upper()],
            quantity=None if body.quantity is None else Shares.parse(body.quantity),
            spend=None if body.spend is None else Usd.parse(body.spend),
            limit=None if body.limit_price is None else Price.parse(body.limit_price),
        )
    except InvalidAmountError as error:
        raise ProblemError(422, "invalid_amount", str(error)) from None


@router.get("")
def describe(_principal: PrincipalDep, desk: ProcessorDep) -> ProcessorOut:
    """Return where the processor is, what it takes orders in and what it charges."""
    quoter = desk.quoter
    return ProcessorOut(
        chain_id=desk.chain_id,
        address=desk.address,
        payment_token=quoter.onchain.usdc_address,
        tickers=desk.tickers,
        fee_flat=str(quoter.fees.flat),
        fee_bps=quoter.fees.bps,
        quote_ttl_seconds=quoter.ttl_seconds,
    )


@router.post("/quotes", responses=problem_responses(403))
def quote(
    body: ProcessorQuoteIn, principal: PrincipalDep, issuer: IssuerDep, desk: ProcessorDep
) -> ProcessorQuoteOut:
    """Check an order and return the issuer's signed fee quote for it, for your wallet to submit to the
    processor's `create_order` before the deadline (approve the processor for the USDC, and for a sell
    the tokens, first). Refused (422, nothing signed) for a ticker or time in force the processor does
    not take, a malformed order, an order below $1, a sale of more than the wallet holds, or a recipient
    the token refuses."""
    investor = acting_investor(principal, issuer, "processor")
    wallet = _placing_wallet(investor, body.wallet)
    with _REFUSALS:
        signed = desk.quote(wallet, _ask(body), recipient=body.recipient)
    order, fee_quote = signed.order, signed.quote
    return ProcessorQuoteOut(
        processor=desk.address,
        chain_id=desk.chain_id,
        order=ProcessorOrderTermsOut(
            recipient=order.recipient,
            token=order.token,
            sell=order.sell,
            order_type=int(order.order_type),
            asset_quantity=str(order.asset_quantity),
            payment_quantity=str(order.payment_quantity),
            limit_price=str(order.limit_price),
            time_in_force=int(order.time_in_force),
        ),
        quote=ProcessorFeeQuoteOut(
            nonce=fee_quote.nonce,
            requester=fee_quote.requester,
            fee=str(fee_quote.fee),
            deadline=fee_quote.deadline,
        ),
        signature="0x" + signed.signature.hex(),
        fee_usd=str(Usd(fee_quote.fee)),
    )


@router.get("/orders", responses=problem_responses(403))
def list_orders(
    principal: PrincipalDep,
    issuer: IssuerDep,
    desk: ProcessorDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[ProcessorOrderOut]:
    """List the orders placed from the caller's wallets (an operator: one investor's, or everyone's),
    oldest first, with how far each is filled."""
    requesters = None
    if not (principal.is_operator and investor_id is None):
        requesters = {w for i in scoped_investors(principal, issuer, investor_id) for w in i.wallets}
    views = desk.orders(requesters=requesters)
    wanted = None if ticker is None else ticker.upper()
    instruments = desk.operator.instruments
    return [
        _order_out(v, instruments[v.ticker].token_decimals)
        for v in views
        if (wanted is None or v.ticker == wanted) and v.ticker in instruments
    ]


@router.post(
    "/orders",
    response_model=ProcessorPlacedOut,
    responses={
        200: {"model": ProcessorPlacedOut, "description": "The order; a retry gets the first answer."},
        **problem_responses(403),
    },
)
def place_order(
    body: ProcessorQuoteIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    desk: ProcessorDep,
    calls: IdempotentCallsDep,
    lock: ProcessorLockDep,
) -> Response:
    """Place an order from your wallet whose key the platform holds: the platform quotes it, approves
    the processor for what it escrows and calls `create_order`, once per `Idempotency-Key`. Refused
    (422, nothing sent) as a quote is, or for a wallet the platform does not sign for."""
    investor = acting_investor(principal, issuer, "processor")
    signers = desk.operator.onchain.chain.signers
    wallet = acting_wallet(
        investor, body.wallet, signers, "processor", "processor's create_order with a quote"
    )
    ask = _ask(body)

    def call() -> str:
        with lock, _REFUSALS:
            placed = desk.place(
                wallet, ask, key=derived_key(principal, idempotency_key), recipient=body.recipient
            )
        return ProcessorPlacedOut(
            order_id=placed.order_id, wallet=wallet, tx_hash=placed.tx_hash, fee_usd=str(Usd(placed.fee))
        ).model_dump_json()

    canonical = body.model_dump() | {"wallet": wallet}
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/orders", canonical, call)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=ProcessorCancelOut,
    responses={
        200: {"model": ProcessorCancelOut, "description": "The cancel request."},
        **problem_responses(403),
    },
)
def cancel_order(
    order_id: Annotated[int, PathParam(ge=1, le=2**63)],
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    desk: ProcessorDep,
    calls: IdempotentCallsDep,
    lock: ProcessorLockDep,
) -> Response:
    """Ask the operator to cancel your open order (placed from a wallet the platform signs for); it
    cancels the broker order and refunds what was not filled on its next pass."""
    investor = acting_investor(principal, issuer, "processor")
    mine = next((v for v in desk.orders(requesters=set(investor.wallets)) if v.order_id == order_id), None)
    if mine is None:
        raise ProblemError(404, "unknown_processor_order", f"you have no order {order_id}")

    def call() -> str:
        with lock, _REFUSALS:
            tx_hash = desk.request_cancel(
                mine.requester, order_id, key=derived_key(principal, idempotency_key)
            )
        return ProcessorCancelOut(order_id=order_id, tx_hash=tx_hash).model_dump_json()

    return run_once(
        calls, principal, idempotency_key, f"{router.prefix}/orders/{order_id}/cancel", None, call
    )


@router.post(
    "/orders/{order_id}/resolve",
    response_model=ProcessorOrderOut,
    responses={
        200: {"model": ProcessorOrderOut, "description": "The order."},
        **problem_responses(403, 404, 409),
    },
)
def resolve_order(
    order_id: Annotated[int, PathParam(ge=1, le=2**63)],
    body: ProcessorResolveIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    desk: ProcessorDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only: take a held order out of `held`: `retry` sends the refused step again (after the
    cause is fixed, e.g. the recipient unfrozen); `cancel` refunds the requester what was not delivered
    and keeps what was bought as the issuer's surplus (not for a sell whose shares were sold: 422)."""

    def call() -> str:
        try:
            view = desk.operator.resolve(order_id, body.resolution, body.note)
        except UnknownProcessorOrderError as error:
            raise ProblemError(404, error.code, str(error)) from None
        except OrderNotHeldError as error:
            raise ProblemError(409, error.code, str(error)) from None
        except IssuerError as error:
            raise ProblemError(422, error.code, str(error)) from None
        return _order_out(view, desk.operator.instruments[view.ticker].token_decimals).model_dump_json()

    path = f"{router.prefix}/orders/{order_id}/resolve"
    return run_once(calls, operator, idempotency_key, path, body.model_dump(), call)
