"""The REST API: one FastAPI app under `/api/v1`, its OpenAPI document, and its error handling."""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from equitoken.api.context import ApiContext
from equitoken.api.idempotency import IdempotentCalls
from equitoken.api.problems import Problem, install_problem_handlers, problem_responses
from equitoken.api.ratelimit import RateLimiter
from equitoken.api.routes import (
    attestation,
    bridge,
    cfd,
    corporate_actions,
    exchange,
    holdings,
    investors,
    keys,
    lending,
    market,
    me,
    perps,
    private,
    processor,
    proofs,
    requests,
    reserves,
    simulations,
    synths,
)

API_PREFIX = "/api/v1"


def create_app(context: ApiContext) -> FastAPI:
    """Build the API over `context`; mount it with uvicorn (`uvicorn.run(create_app(context))`)."""
    app = FastAPI(
        title="Equitoken API",
        version="1",
        description="Tokenized US equities: instruments, investors, mint and redeem requests, reserves.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.rate_limiter = RateLimiter(context.rate_limit)
    app.state.idempotent_calls = IdempotentCalls(context.database, context.clock)
    install_problem_handlers(app)

    # Every route authenticates and is rate limited, and any parameter can be malformed.
    api = APIRouter(prefix=API_PREFIX, responses=problem_responses(401, 422, 429))
    for module in (me, market, investors, requests, holdings, reserves, keys, simulations):
        api.include_router(module.router)
    if context.corporate_actions is not None:
        api.include_router(corporate_actions.router)
    if context.liabilities is not None:
        api.include_router(proofs.router)
    if context.exchange is not None:
        api.include_router(exchange.router)
    if context.exchange_funding is not None:
        api.include_router(exchange.funding_router)
    if context.exchange_ledger is not None and context.exchange is not None:
        api.include_router(exchange.ledger_router)
    if context.lending is not None:
        api.include_router(lending.router)
    if context.perps is not None:
        api.include_router(perps.router)
    if context.synths is not None:
        api.include_router(synths.router)
    if context.cfd is not None:
        api.include_router(cfd.router)
    if context.bridge is not None:
        api.include_router(bridge.router)
    if context.processor is not None:
        api.include_router(processor.router)
    if context.attestation is not None:
        api.include_router(attestation.router)
    if context.private:
        api.include_router(private.router)
    app.include_router(api)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
