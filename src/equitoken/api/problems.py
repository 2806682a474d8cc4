"""Errors as RFC 9457 problem details (`application/problem+json`), for every failure the API returns.

Each problem has `type`, `title`, `status`, `detail` and a stable `code` a client can branch on
(the platform error's own code where one was raised).
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from equitoken.chain.errors import ChainError
from equitoken.issuer.errors import (
    IdempotencyConflictError,
    MarketDataError,
    RequestNotHeldError,
    UnknownRequestError,
)
from equitoken.market.prices import NoPriceError
from equitoken.model.errors import EquitokenError

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://equitoken.dev/problems/"

# Body-level refusals are 422 (the request was understood but cannot be carried out as asked);
# an unknown id in the path is turned into 404 by the route that knows it is a path id. The first
# class in this order that an error is an instance of decides; any other platform error is a 422.
_STATUS: tuple[tuple[type[EquitokenError], int], ...] = (
    (UnknownRequestError, 404),
    (IdempotencyConflictError, 409),
    (RequestNotHeldError, 409),
    (MarketDataError, 503),
    (NoPriceError, 503),
    (ChainError, 503),
)
_RETRY_LATER = {NoPriceError: "60"}


class Problem(BaseModel):
    """A problem detail: what went wrong, for people (`title`, `detail`) and programs (`code`)."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class ProblemError(Exception):
    """Raise from a route to answer with a problem."""

    def __init__(
        self, status: int, code: str, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def problem_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Return a problem+json response."""
    body = Problem(
        type=_TYPE_BASE + code, title=HTTPStatus(status).phrase, status=status, detail=detail, code=code
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_problem(error: EquitokenError) -> ProblemError:
    """Return the problem for an error the platform raised on purpose."""
    status = next((status for kind, status in _STATUS if isinstance(error, kind)), 422)
    retry = next((after for kind, after in _RETRY_LATER.items() if isinstance(error, kind)), None)
    return ProblemError(status, error.code, error.message, headers={"Retry-After": retry} if retry else None)


def _describe_validation(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app can raise, its own and FastAPI's, a problem+json response."""

    @app.exception_handler(ProblemError)
    async def _api_problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(EquitokenError)
    async def _platform_error(_request: Request, exc: EquitokenError) -> JSONResponse:
        problem = error_problem(exc)
        return problem_response(problem.status, problem.code, problem.detail, problem.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(_describe_validation(e) for e in exc.errors()) or "invalid request"
        return problem_response(422, "invalid_request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(exc.headers or {})
        return problem_response(exc.status_code, codes.get(exc.status_code, "http_error"), detail, headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI `responses` entries documenting problems with these statuses."""
    schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: schema}}
        for status in statuses
    }
