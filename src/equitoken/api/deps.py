"""Dependencies routes declare: the context, the authenticated caller, and role requirements."""

from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader

from equitoken.api.context import ApiContext
from equitoken.api.idempotency import IdempotentCalls
from equitoken.api.keys import Principal, Role
from equitoken.api.problems import ProblemError
from equitoken.api.ratelimit import RateLimiter, retry_after_seconds
from equitoken.api.schemas import IDEMPOTENCY_KEY

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key issued by an operator."
)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


def current_principal(
    request: Request, context: ContextDep, key: Annotated[str | None, Security(_api_key_header)]
) -> Principal:
    """Return the caller behind `X-API-Key`, after spending one token of its rate limit."""
    if not key:
        raise ProblemError(401, "unauthenticated", "send an API key in the X-API-Key header")
    principal = context.keys.authenticate(key)
    if principal is None:
        raise ProblemError(401, "unauthenticated", "the API key is not one this platform issued")
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(principal.key_id)
    if wait:
        raise ProblemError(
            429,
            "rate_limited",
            f"more than {limiter.limit.burst} calls at once or {limiter.limit.per_second:g} per second "
            "with this key; retry later",
            headers={"Retry-After": retry_after_seconds(wait)},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_operator(principal: PrincipalDep) -> Principal:
    """Return the caller if it is an operator; else a 403 problem."""
    if principal.role is not Role.OPERATOR:
        raise ProblemError(403, "forbidden", f"this needs an operator key; yours is a {principal.role} key")
    return principal


OperatorDep = Annotated[Principal, Depends(require_operator)]


def investor_scope(principal: Principal, investor_id: str | None) -> str | None:
    """Return whose data a read covers: the caller's investor, or the one an operator asked (None: all)."""
    if principal.is_operator:
        return investor_id
    if investor_id is not None and investor_id != principal.investor_id:
        raise ProblemError(403, "forbidden", "an investor key can only read its own investor's data")
    return principal.investor_id


def get_idempotent_calls(request: Request) -> IdempotentCalls:
    calls: IdempotentCalls = request.app.state.idempotent_calls
    return calls


IdempotentCallsDep = Annotated[IdempotentCalls, Depends(get_idempotent_calls)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="Your unique key for this call (1 to 128 visible ASCII characters); "
        "a retry with the same key gets the first answer.",
    ),
]
