"""Mint and redeem requests: authorised participants create and cancel their own; operators see all."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy import and_, or_, select

from equitoken.api.context import ApiContext
from equitoken.api.deps import ContextDep, IdempotencyKey, IdempotentCallsDep, PrincipalDep, investor_scope
from equitoken.api.idempotency import StoredResponse, fingerprint, issuer_key
from equitoken.api.keys import Principal, Role
from equitoken.api.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import ID, TICKER, RequestCreate, RequestOut
from equitoken.issuer.errors import IdempotencyConflictError, UnknownRequestError
from equitoken.issuer.service import RequestView
from equitoken.issuer.workflow.states import RequestState
from equitoken.store.schema import RequestRow

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
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Ask to mint or redeem tokens; the quote, escrow and fee are fixed now, the trade happens later."""
    investor_id = _requester(principal, body)
    canonical = {
        "kind": body.kind,
        "investor_id": investor_id,
        "ticker": body.ticker.upper(),
        "quantity": format(Decimal(body.quantity).normalize(), "f"),
        "wallet": body.wallet.lower(),
    }
    submit = context.issuer.request_mint if body.kind == "mint" else context.issuer.request_redeem
    key = issuer_key(principal, idempotency_key)

    def call() -> tuple[int, str]:
        try:
            view = submit(investor_id, body.wallet, body.ticker, body.quantity, key)
        except IdempotencyConflictError:
            # Another process may have inserted this very request a moment ago: asking again
            # returns it, or refuses again if the key really was used for something else.
            view = submit(investor_id, body.wallet, body.ticker, body.quantity, key)
        return status.HTTP_201_CREATED, RequestOut.of(view).model_dump_json()

    return _respond(calls.run(principal, idempotency_key, fingerprint("POST", "/requests", canonical), call))


def _owned(context: ApiContext, principal: Principal, request_id: str) -> RequestView:
    # Someone else's request is reported as missing, so request ids reveal nothing.
    try:
        view = context.issuer.request(request_id)
    except UnknownRequestError as exc:
        raise ProblemError(404, exc.code, exc.message) from None
    if not principal.is_operator and view.investor_id != principal.investor_id:
        raise ProblemError(404, UnknownRequestError.code, f"no request {request_id!r}")
    return view


@router.get("/requests", responses=problem_responses(403))
def list_requests(
    principal: PrincipalDep,
    context: ContextDep,
    state: RequestState | None = None,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RequestOut]:
    """List requests, oldest first: the caller's own, or any investor's for an operator."""
    scope = investor_scope(principal, investor_id)
    query = select(RequestRow.id, RequestRow.created_at).order_by(RequestRow.created_at, RequestRow.id)
    if scope is not None:
        query = query.where(RequestRow.investor_id == scope)
    if state is not None:
        query = query.where(RequestRow.state == state.value)
    if ticker is not None:
        query = query.where(RequestRow.ticker == ticker.upper())
    if cursor is not None:
        at, after_id = _request_position(cursor)
        query = query.where(
            or_(RequestRow.created_at > at, and_(RequestRow.created_at == at, RequestRow.id > after_id))
        )
    with context.database.transaction() as session:
        rows = list(session.execute(query.limit(limit + 1)))
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].created_at.isoformat(), page[-1].id]) if len(rows) > limit else None
    items = [RequestOut.of(context.issuer.request(row.id)) for row in page]
    return Page[RequestOut](items=items, next_cursor=next_cursor)


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
def read_request(request_id: RequestPath, principal: PrincipalDep, context: ContextDep) -> RequestOut:
    """Return a request with its history."""
    return RequestOut.of(_owned(context, principal, request_id))


@router.post(
    "/requests/{request_id}/cancel",
    response_model=RequestOut,
    responses=problem_responses(404, 409),
)
def cancel_request(
    request_id: RequestPath,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    context: ContextDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Ask for a request to be cancelled; what has filled already stays filled."""
    _owned(context, principal, request_id)

    def call() -> tuple[int, str]:
        return status.HTTP_200_OK, RequestOut.of(context.issuer.cancel(request_id)).model_dump_json()

    path = f"/requests/{request_id}/cancel"
    return _respond(calls.run(principal, idempotency_key, fingerprint("POST", path, None), call))
