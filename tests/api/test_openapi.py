"""Schemathesis over the whole published OpenAPI document, as an operator and as an investor:
no server errors, and every response (status, content type, body) is one the schema declares."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.support.api import Api, build_api
from tests.support.platform import ACCOUNTS, GENESIS, build_platform

from equitoken.api.ratelimit import RateLimit
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Api]:
    directory: Path = tmp_path_factory.mktemp("openapi")
    database = Database(sqlite_url(directory / "api.sqlite"))
    database.migrate()
    platform = build_platform(
        InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS),
        database,
        prices,
        calendar,
        directory,
    )
    # A rate limit that generated calls cannot reach: every answer is the operation's own.
    api = build_api(platform, database, calendar, prices, RateLimit(per_second=1e6, burst=10**6))
    assert api.mint("seed").status_code == 201
    api.settle()  # holders to prove, a report to sign
    assert api.context.corporate_actions is not None
    api.context.corporate_actions.announce("AAPL", "split", date(2025, 12, 10), ratio=(2, 1))
    yield api
    database.close()


EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _exercise(served: Api, headers: dict[str, str]) -> list[str]:
    # Schemathesis's pytest loader (from_fixture) does not run under pytest 9, so each operation's
    # strategy is driven by Hypothesis directly.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", served.client.app)
    exercised = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operation = result.ok()

        @EXAMPLES
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
        exercised.append(operation.label)
    return exercised


@pytest.mark.parametrize("actor", ["operator", "participant", "retail"])
def test_every_operation_conforms_to_the_schema(served: Api, actor: str) -> None:
    exercised = _exercise(served, getattr(served, actor))

    assert "POST /api/v1/requests" in exercised
    assert "POST /api/v1/requests/{request_id}/resolution" in exercised
    assert len(exercised) == 28
    assert "GET /api/v1/simulations/{run_id}" in exercised
    assert "GET /api/v1/proofs/{ticker}/{chain_id}/{wallet}" in exercised


def test_the_schema_is_published_with_docs(served: Api) -> None:
    document = served.client.get("/api/v1/openapi.json").json()
    docs = served.client.get("/api/v1/docs")

    assert {"/api/v1/requests", "/api/v1/requests/{request_id}/cancel", "/api/v1/keys"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert docs.status_code == 200
