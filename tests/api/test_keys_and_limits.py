"""API keys (hashed, bound to a role and an investor), the operator's key route, and rate limiting."""

import hashlib
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.support.api import Api

from equitoken.api import create_app
from equitoken.api.keys import ApiKeys
from equitoken.api.ratelimit import RateLimit, RateLimiter
from equitoken.issuer.errors import InvalidRequestError, UnknownInvestorError
from equitoken.store.schema import ApiKeyRow

V1 = "/api/v1"


def test_a_key_is_stored_only_as_its_hash(api: Api) -> None:
    key = api.participant["X-API-Key"]

    with api.context.database.transaction() as session:
        stored = session.scalars(select(ApiKeyRow.token_sha256)).all()

    assert hashlib.sha256(key.encode()).hexdigest() in stored
    assert key not in stored


@pytest.mark.parametrize(
    ("role", "investor", "error", "named"),
    [
        ("root", None, InvalidRequestError, "role 'root'"),
        ("operator", "participant", InvalidRequestError, "not bound"),
        ("participant", None, InvalidRequestError, "must be bound"),
        ("investor", "participant", InvalidRequestError, "role participant"),
        ("participant", "retail", InvalidRequestError, "role investor"),
        ("investor", "nobody", UnknownInvestorError, "nobody"),
    ],
)
def test_a_key_that_would_not_fit_its_investor_is_refused(
    api: Api, role: str, investor: str | None, error: type[Exception], named: str
) -> None:
    ids = {
        "participant": api.platform.participant.id,
        "retail": api.retail_id,
        "nobody": "nobody",
        None: None,
    }
    keys = ApiKeys(api.context.database)
    with api.context.database.transaction() as session:
        before = len(session.scalars(select(ApiKeyRow)).all())

    with pytest.raises(error, match=named):
        keys.issue(role, ids[investor], "label")

    with api.context.database.transaction() as session:
        assert len(session.scalars(select(ApiKeyRow)).all()) == before


def test_an_operator_issues_a_working_key_through_the_api(api: Api) -> None:
    issued = api.client.post(
        f"{V1}/keys",
        json={"role": "investor", "investor_id": api.retail_id, "label": "phone"},
        headers=api.operator,
    )
    me = api.client.get(f"{V1}/me", headers={"X-API-Key": issued.json()["key"]})

    assert issued.status_code == 201
    assert me.json() == {"role": "investor", "investor_id": api.retail_id, "name": "Ada Lovelace"}


def test_only_an_operator_issues_keys_and_bad_ones_are_refused(api: Api) -> None:
    body = {"role": "operator", "label": "me too"}
    by_participant = api.client.post(f"{V1}/keys", json=body, headers=api.participant)
    mismatched = api.client.post(
        f"{V1}/keys",
        json={"role": "participant", "investor_id": api.retail_id, "label": "x"},
        headers=api.operator,
    )
    no_label = api.client.post(f"{V1}/keys", json={"role": "operator", "label": ""}, headers=api.operator)

    assert by_participant.status_code == 403
    assert mismatched.status_code == 422
    assert "role investor" in mismatched.json()["detail"]
    assert no_label.status_code == 422


def test_a_key_over_its_rate_is_refused_with_retry_after(api: Api) -> None:
    limited = TestClient(create_app(replace(api.context, rate_limit=RateLimit(0.5, 3))))

    answers = [limited.get(f"{V1}/market", headers=api.retail) for _ in range(4)]
    other_key = limited.get(f"{V1}/market", headers=api.operator)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["content-type"] == "application/problem+json"
    assert answers[-1].json()["code"] == "rate_limited"
    assert answers[-1].headers["Retry-After"] == "2"
    assert other_key.status_code == 200


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(per_second=2, burst=2), monotonic=lambda: now[0])

    spent = [limiter.take("k"), limiter.take("k")]
    refused = limiter.take("k")
    now[0] += 0.5
    refilled = limiter.take("k")

    assert spent == [0.0, 0.0]
    assert refused == pytest.approx(0.5)
    assert refilled == 0.0


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_a_rate_limit_must_allow_something(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit(per_second, burst)
