"""Mint and redeem requests: authorised participants create and cancel their own; operators see all."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    OperatorDep,
    PrincipalDep,
    investor_scope,
)
from equitoken.api.idempotency import StoredResponse, fingerprint, issuer_key
from equitoken.api.keys import Principal, Role
from equitoken.api.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import ID, TICKER, HeldResolutionIn, RequestCreate, RequestOut
from equitoken.issuer.errors import IdempotencyConflictError, UnknownRequestError
from equitoken.issuer.service import Issuer, RequestView
from equitoken.issuer.workflow.states import RequestState

router = APIRouter(tags=["requests"])

RequestPath = Annotated[str, Path(pattern=ID)]
_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": RequestOut, "description": "A retry: the answer to the first call with this key."}
}


def _respond(stored: StoredResponse) -> Response:
    if stored.replayed:
        return Response(
            stored.body,
            status_code=status.HTTP_200_OK,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    return Response(stored.body, status_code=stored.status_code, media_type="application/json")


def _requester(principal: Principal, body: RequestCreate) -> str:
    if principal.role is Role.INVESTOR:
        raise ProblemError(403, "forbidden", "only authorised participants and operators create requests")
    if principal.is_operator:
        if body.investor_id is None:
            raise ProblemError(422, "invalid_request", "investor_id: an operator must name the investor")
        return body.investor_id
    if body.investor_id not in (None, principal.investor_id):
        raise ProblemError(403, "forbidden", "a participant key creates requests only for its own investor")
    assert principal.investor_id is not None
    return principal.investor_id


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestOut,
    responses={**_REPLAY, **problem_responses(403, 409, 503)},
)
def create_request(
    body: RequestCreate,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Ask to mint or redeem tokens; the quote, escrow and fee are fixed now, the trade happens later."""
    investor_id = _requester(principal, body)
    canonical = {
        "kind": body.kind,
        "investor_id": investor_id,
        "ticker": body.ticker.upper(),
        "quantity": _decimal(body.quantity),
        # EVM addresses are case-insensitive, Solana's are not.
        "wallet": body.wallet.lower() if body.wallet.startswith("0x") else body.wallet,
        "chain_id": body.chain_id,
        "payment_wallet": None if body.payment_wallet is None else body.payment_wallet.lower(),
        "limit_price": None
        if body.limit_price is None
        else format(Decimal(body.limit_price).normalize(), "f"),
    }
    if body.kind == "mint" and body.limit_price is not None:
        raise ProblemError(
            422,
            "invalid_request",
            "limit_price: a limit price is for redemptions; a mint buys at most at its quote plus the "
            "price buffer",
        )
    key = issuer_key(principal, idempotency_key)

    def submit() -> RequestView:
        chain, payer = body.chain_id, body.payment_wallet
        if body.kind == "mint":
            return issuer.request_mint(
                investor_id,
                body.wallet,
                body.ticker,
                body.quantity,
                key,
                chain_id=chain,
                payment_wallet=payer,
            )
        return issuer.request_redeem(
            investor_id,
            body.wallet,
            body.ticker,
            body.quantity,
            key,
            body.limit_price,
            chain_id=chain,
            payment_wallet=payer,
        )

    def call() -> tuple[int, str]:
        try:
            view = submit()
        except IdempotencyConflictError:
            # Another process may have inserted this very request a moment ago: asking again
            # returns it, or refuses again if the key really was used for something else.
            view = submit()
        return status.HTTP_201_CREATED, RequestOut.of(view).model_dump_json()

    return _respond(calls.run(principal, idempotency_key, fingerprint("POST", "/requests", canonical), call))


def _decimal(text: str) -> str:
    return format(Decimal(text).normalize(), "f")


def _owned(issuer: Issuer, principal: Principal, request_id: str) -> RequestView:
    # Someone else's request is reported as missing, so request ids reveal nothing.
    try:
        view = issuer.request(request_id)
    except UnknownRequestError as exc:
        raise ProblemError(404, exc.code, exc.message) from None
    if not principal.is_operator and view.investor_id != principal.investor_id:
        raise ProblemError(404, UnknownRequestError.code, f"no request {request_id!r}")
    return view


@router.get("/requests", responses=problem_responses(403))
def list_requests(
    principal: PrincipalDep,
    issuer: IssuerDep,
    state: RequestState | None = None,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RequestOut]:
    """List requests, oldest first: the caller's own, or any investor's for an operator."""
    views = issuer.request_page(
        investor_id=investor_scope(principal, investor_id),
        states=None if state is None else [state],
        ticker=None if ticker is None else ticker.upper(),
        after=None if cursor is None else _request_position(cursor),
        limit=limit + 1,
    )
    page = views[:limit]
    next_cursor = (
        encode_cursor([page[-1].created_at.isoformat(), page[-1].id]) if len(views) > limit else None
    )
    return Page[RequestOut](items=[RequestOut.of(view) for view in page], next_cursor=next_cursor)


def _request_position(cursor: str) -> tuple[datetime, str]:
    at, after_id = decode_cursor(cursor, 2)
    try:
        moment: Any = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        moment = None
    if not isinstance(after_id, str) or moment is None or moment.tzinfo is None:
        raise ProblemError(422, "invalid_cursor", f"cursor {cursor!r} is not one this API issued")
    return moment, after_id


@router.get("/requests/{request_id}", responses=problem_responses(404))
def read_request(request_id: RequestPath, principal: PrincipalDep, issuer: IssuerDep) -> RequestOut:
    """Return a request with its history."""
    return RequestOut.of(_owned(issuer, principal, request_id))


@router.post(
    "/requests/{request_id}/cancel",
    response_model=RequestOut,
    responses=problem_responses(404, 409),
)
def cancel_request(
    request_id: RequestPath,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Ask for a request to be cancelled; what has filled already stays filled."""
    _owned(issuer, principal, request_id)

    def call() -> tuple[int, str]:
        return status.HTTP_200_OK, RequestOut.of(issuer.cancel(request_id)).model_dump_json()

    path = f"/requests/{request_id}/cancel"
    return _respond(calls.run(principal, idempotency_key, fingerprint("POST", path, None), call))


@router.post(
    "/requests/{request_id}/resolution",
    response_model=RequestOut,
    responses=problem_responses(403, 404, 409),
)
def resolve_held_request(
    request_id: RequestPath,
    body: HeldResolutionIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    issuer: IssuerDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Operator only: take a held request out of `held`, once: `retry` it once its cause is gone, or
    `refund` a held mint (its escrow back less what was delivered; the shares bought stay in custody).
    The note and the operator's key go on the request's history."""
    _owned(issuer, operator, request_id)
    note = f"{body.note} (operator key {operator.key_id}, {operator.label})"

    def call() -> tuple[int, str]:
        view = issuer.resolve_held(request_id, body.action, note)
        return status.HTTP_200_OK, RequestOut.of(view).model_dump_json()

    path = f"/requests/{request_id}/resolution"
    canonical = {"action": body.action.value, "note": body.note}
    return _respond(calls.run(operator, idempotency_key, fingerprint("POST", path, canonical), call))
