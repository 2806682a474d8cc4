"""Private companies: shares of companies that are not listed, held only by accredited investors, each
transfer a request the transfer agent approves or rejects, issued in rounds with lock-ups, and valued by
the issuer (a 409A appraisal, a priced round) rather than a market.

An investor reads the companies and their last valuation, its own shares and what is locked, and files
a transfer request from its wallet whose key the platform holds (once per `Idempotency-Key`). The
operator records valuations, issues round allocations, and acts as the transfer agent: it lists the
pending requests, each with what approving it would meet now, and approves or rejects them. Every
action reaches the chain once; a refusal is a 422 problem that changed nothing.
"""

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from equitoken.api.deps import (
    ContextDep,
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    OperatorDep,
    PrincipalDep,
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
    PrivateActionOut,
    PrivateCompanyOut,
    PrivateHoldingOut,
    PrivateIssuanceIn,
    PrivateRejectIn,
    PrivateRequestedOut,
    PrivateRequestOut,
    PrivateTransferIn,
    PrivateValuationIn,
    ValuationOut,
)
from equitoken.issuer.errors import IssuerError
from equitoken.issuer.private.service import NoValuationError, PrivateAction, PrivateCompanyDesk
from equitoken.model.quantities import InvalidAmountError, Price, Shares

router = APIRouter(prefix="/private", tags=["private companies"])
_REFUSALS = Refusals((IssuerError,), ())
TickerPath = Annotated[str, PathParam(pattern=TICKER, description="The company, e.g. ACME.")]
RequestPath = Annotated[int, PathParam(ge=1, le=2**63)]


def _desks(context: ContextDep) -> Mapping[str, PrivateCompanyDesk]:
    return context.private


def _desk(desks: Mapping[str, PrivateCompanyDesk], ticker: str) -> PrivateCompanyDesk:
    desk = desks.get(ticker.upper())
    if desk is None:
        raise ProblemError(404, "unknown_private_company", f"no private company {ticker.upper()}")
    return desk


def _shares(text: str) -> Shares:
    try:
        return Shares.parse(text)
    except InvalidAmountError as error:
        raise ProblemError(422, "invalid_amount", str(error)) from None


def _action_out(action: PrivateAction) -> PrivateActionOut:
    return PrivateActionOut(
        id=action.id,
        kind=action.kind,
        state=action.state,
        request_id=action.request_id,
        holder=action.holder,
        shares=None if action.amount is None else str(action.amount),
        error=action.error,
    )


def _company_out(desk: PrivateCompanyDesk, context: ContextDep) -> PrivateCompanyOut:
    try:
        valuation = desk.latest_valuation()
        valued = ValuationOut(
            price=str(valuation.price),
            as_of=valuation.as_of,
            method=valuation.method.value,
            source=valuation.source,
            age_seconds=valuation.age_seconds(context.clock.now()),
        )
    except NoValuationError:
        valued = None
    return PrivateCompanyOut(
        ticker=desk.ticker,
        name=desk.instrument.name,
        token=desk.token.address,
        valuation_feed=desk.feed.address,
        valuation=valued,
    )


@router.get("")
def list_companies(_principal: PrincipalDep, context: ContextDep) -> list[PrivateCompanyOut]:
    """List the private companies with their last valuation (None before the first)."""
    return [_company_out(desk, context) for desk in _desks(context).values()]


@router.get("/{ticker}/holdings", responses=problem_responses(403, 404))
def holdings(
    ticker: TickerPath,
    principal: PrincipalDep,
    issuer: IssuerDep,
    context: ContextDep,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[PrivateHoldingOut]:
    """Return the shares each of the caller's wallets holds (an operator: one investor's, or
    everyone's) and how many are still locked up."""
    desk = _desk(_desks(context), ticker)
    wallets = [w for i in scoped_investors(principal, issuer, investor_id) for w in evm_wallets(i)]
    out = []
    for wallet in wallets:
        held = desk.balance(wallet)
        if held.raw:
            out.append(PrivateHoldingOut(wallet=wallet, shares=str(held), locked=str(desk.locked(wallet))))
    return out


@router.post("/{ticker}/valuations", response_model=PrivateActionOut, responses=problem_responses(403, 404))
def record_valuation(
    ticker: TickerPath,
    body: PrivateValuationIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only: record a valuation and publish it on the company's valuation feed."""
    desk = _desk(_desks(context), ticker)
    try:
        price = Price.parse(body.price)
    except InvalidAmountError as error:
        raise ProblemError(422, "invalid_amount", str(error)) from None

    def call() -> str:
        with _REFUSALS:
            action = desk.record_valuation(
                derived_key(operator, idempotency_key), price, body.as_of, body.method, body.source
            )
        return _action_out(action).model_dump_json()

    path = f"{router.prefix}/{desk.ticker}/valuations"
    return run_once(calls, operator, idempotency_key, path, body.model_dump(mode="json"), call)


@router.post("/{ticker}/issuances", response_model=PrivateActionOut, responses=problem_responses(403, 404))
def issue(
    ticker: TickerPath,
    body: PrivateIssuanceIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only: issue `shares` to an accredited investor's wallet in round `round_id`, locked up
    until `unlock_at`; one issuance per wallet per round."""
    desk = _desk(_desks(context), ticker)
    shares = _shares(body.shares)

    def call() -> str:
        with _REFUSALS:
            action = desk.issue(body.round_id, body.wallet, shares, body.unlock_at)
        return _action_out(action).model_dump_json()

    path = f"{router.prefix}/{desk.ticker}/issuances"
    return run_once(calls, operator, idempotency_key, path, body.model_dump(mode="json"), call)


@router.get("/{ticker}/requests", responses=problem_responses(403, 404))
def pending_requests(
    ticker: TickerPath, _operator: OperatorDep, context: ContextDep
) -> list[PrivateRequestOut]:
    """Operator only (the transfer agent): the pending transfer requests, oldest first, each with what
    approving it would meet now."""
    desk = _desk(_desks(context), ticker)
    return [
        PrivateRequestOut(
            id=r.id,
            sender=r.sender,
            receiver=r.receiver,
            shares=str(r.amount),
            status=r.status.name.lower(),
            requested_at=r.requested_at,
            approvable=r.approvable,
            check=None if r.check is None or r.check[0] == 0 else r.check[1],
        )
        for r in desk.pending_requests()
    ]


@router.post("/{ticker}/requests", response_model=PrivateRequestedOut, responses=problem_responses(403, 404))
def request_transfer(
    ticker: TickerPath,
    body: PrivateTransferIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Ask to transfer `shares` from your wallet whose key the platform holds to `receiver`; the shares
    are reserved until the transfer agent decides. Refused (422) for more than your unlocked shares."""
    desk = _desk(_desks(context), ticker)
    investor = acting_investor(principal, issuer, "private company")
    wallet = acting_wallet(investor, body.wallet, desk.chain.signers, "private", "token's request_transfer")
    shares = _shares(body.shares)

    def call() -> str:
        with _REFUSALS:
            request_id = desk.request_transfer(
                wallet, body.receiver, shares, key=derived_key(principal, idempotency_key)
            )
        return PrivateRequestedOut(request_id=request_id, wallet=wallet).model_dump_json()

    path = f"{router.prefix}/{desk.ticker}/requests"
    return run_once(calls, principal, idempotency_key, path, body.model_dump() | {"wallet": wallet}, call)


@router.post(
    "/{ticker}/requests/{request_id}/approve",
    response_model=PrivateActionOut,
    responses=problem_responses(403, 404),
)
def approve(
    ticker: TickerPath,
    request_id: RequestPath,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only (the transfer agent): approve a pending request; the shares move if every rule holds
    now (accredited verified receiver, unlocked shares, no sanction, freeze or pause), else 422."""
    desk = _desk(_desks(context), ticker)

    def call() -> str:
        with _REFUSALS:
            return _action_out(desk.approve(request_id)).model_dump_json()

    path = f"{router.prefix}/{desk.ticker}/requests/{request_id}/approve"
    return run_once(calls, operator, idempotency_key, path, None, call)


@router.post(
    "/{ticker}/requests/{request_id}/reject",
    response_model=PrivateActionOut,
    responses=problem_responses(403, 404),
)
def reject(
    ticker: TickerPath,
    request_id: RequestPath,
    body: PrivateRejectIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only (the transfer agent): reject a pending request with a reason, releasing its shares."""
    desk = _desk(_desks(context), ticker)

    def call() -> str:
        with _REFUSALS:
            return _action_out(desk.reject(request_id, body.reason)).model_dump_json()

    path = f"{router.prefix}/{desk.ticker}/requests/{request_id}/reject"
    return run_once(calls, operator, idempotency_key, path, body.model_dump(), call)
