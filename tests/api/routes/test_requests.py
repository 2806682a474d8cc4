"""Mint and redeem requests through the API: roles, ownership, bad input, idempotent retries, settlement."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.support.api import Api

from equitoken.model.quantities import Price
from equitoken.store.schema import RequestRow

URL = "/api/v1/requests"


def _requests_in_db(api: Api) -> int:
    with api.context.database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(RequestRow)) or 0)


def _usdc(api: Api) -> int:
    return int(api.platform.usdc.balanceOf(api.platform.wallet))


@pytest.mark.parametrize("api_database", ["sqlite", "postgres"], indirect=True)
def test_a_retry_with_the_same_key_returns_the_same_request_and_moves_nothing_twice(api: Api) -> None:
    first = api.mint("order-1")
    usdc_after_first = _usdc(api)
    api.platform.issuer.process()  # the escrow is taken; a retry must not take it again
    usdc_after_escrow = _usdc(api)

    retry = api.mint("order-1")
    api.platform.issuer.process()

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert _requests_in_db(api) == 1
    assert usdc_after_escrow < usdc_after_first
    assert _usdc(api) == usdc_after_escrow


@pytest.mark.parametrize("api_database", ["sqlite", "postgres"], indirect=True)
def test_the_same_key_with_a_different_body_is_a_conflict(api: Api) -> None:
    api.mint("order-1", "1")

    conflict = api.mint("order-1", "2")

    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert conflict.json()["code"] == "idempotency_conflict"
    assert _requests_in_db(api) == 1


@pytest.mark.parametrize("api_database", ["sqlite", "postgres"], indirect=True)
def test_concurrent_identical_calls_create_one_request(api: Api) -> None:
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: api.mint("burst"), range(8)))

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert _requests_in_db(api) == 1


def test_an_equivalent_body_counts_as_the_same_call(api: Api) -> None:
    first = api.mint("order-1", "1.50")
    again = api.client.post(
        URL,
        json={"kind": "mint", "ticker": "aapl", "quantity": "1.5", "wallet": api.platform.wallet.lower()},
        headers={**api.participant, "Idempotency-Key": "order-1"},
    )

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_a_refused_call_is_not_remembered(api: Api) -> None:
    api.platform.approve_mint(0)
    refused = api.mint("order-1")
    api.platform.approve_mint(10_000 * 10**6)

    accepted = api.mint("order-1")

    assert refused.status_code == 422
    assert refused.json()["code"] == "insufficient_funds"
    assert accepted.status_code == 201


def test_keys_are_per_api_key(api: Api) -> None:
    mine = api.mint("shared-key")
    operator = api.client.post(
        URL,
        json={
            "kind": "mint",
            "ticker": "AAPL",
            "quantity": "1",
            "wallet": api.platform.wallet,
            "investor_id": api.platform.participant.id,
        },
        headers={**api.operator, "Idempotency-Key": "shared-key"},
    )

    assert mine.status_code == operator.status_code == 201
    assert mine.json()["id"] != operator.json()["id"]


def test_a_mint_created_through_the_api_settles(api: Api) -> None:
    created = api.mint("order-1", "2")
    request_id = created.json()["id"]

    api.platform.run()
    shown = api.client.get(f"{URL}/{request_id}", headers=api.participant).json()

    assert shown["state"] == "completed"
    assert shown["filled_quantity"] == "2"
    assert int(api.platform.token("AAPL").balanceOf(api.platform.wallet)) == 2 * 10**8
    assert shown["events"][0]["to_state"] == "accepted"
    assert shown["events"][-1]["to_state"] == "completed"


def test_a_participant_cancels_its_request_once(api: Api) -> None:
    api.platform.clock.set(api.platform.clock.now() + timedelta(hours=8))  # market closed: it waits
    request_id = api.mint("order-1").json()["id"]
    cancel = f"{URL}/{request_id}/cancel"

    first = api.client.post(cancel, headers={**api.participant, "Idempotency-Key": "cancel-1"})
    retry = api.client.post(cancel, headers={**api.participant, "Idempotency-Key": "cancel-1"})
    api.platform.run()

    assert first.status_code == 200
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert [e["reason"] for e in first.json()["events"]].count("cancellation requested") == 1
    assert api.client.get(f"{URL}/{request_id}", headers=api.participant).json()["state"] == "cancelled"


def test_a_cancel_key_reused_on_another_request_is_a_conflict(api: Api) -> None:
    one = api.mint("order-1").json()["id"]
    two = api.mint("order-2").json()["id"]
    api.client.post(f"{URL}/{one}/cancel", headers={**api.participant, "Idempotency-Key": "c"})

    reused = api.client.post(f"{URL}/{two}/cancel", headers={**api.participant, "Idempotency-Key": "c"})

    assert reused.status_code == 409


def test_an_investor_cannot_read_list_or_cancel_another_investors_request(api: Api) -> None:
    request_id = api.mint("order-1").json()["id"]

    read = api.client.get(f"{URL}/{request_id}", headers=api.other_participant)
    cancel = api.client.post(
        f"{URL}/{request_id}/cancel", headers={**api.other_participant, "Idempotency-Key": "x"}
    )
    listed = api.client.get(URL, headers=api.other_participant).json()
    retail_read = api.client.get(f"{URL}/{request_id}", headers=api.retail)
    filtered = api.client.get(URL, params={"investor_id": api.platform.participant.id}, headers=api.retail)

    assert read.status_code == 404
    assert read.json()["code"] == "unknown_request"
    assert cancel.status_code == 404
    assert listed["items"] == []
    assert retail_read.status_code == 404
    assert filtered.status_code == 403
    assert api.platform.issuer.request(request_id).events[-1].reason != "cancellation requested"


def test_the_owner_and_the_operator_see_the_request(api: Api) -> None:
    request_id = api.mint("order-1").json()["id"]

    for key in (api.participant, api.operator):
        assert api.client.get(f"{URL}/{request_id}", headers=key).json()["id"] == request_id
        assert [r["id"] for r in api.client.get(URL, headers=key).json()["items"]] == [request_id]


def test_only_participants_and_operators_create_requests(api: Api) -> None:
    retail = api.mint("r", headers=api.retail)
    for_someone_else = api.client.post(
        URL,
        json={
            "kind": "mint",
            "ticker": "AAPL",
            "quantity": "1",
            "wallet": api.platform.wallet,
            "investor_id": api.other_participant_id,
        },
        headers={**api.participant, "Idempotency-Key": "x"},
    )
    operator_without_investor = api.mint("o", headers=api.operator)

    assert retail.status_code == 403
    assert for_someone_else.status_code == 403
    assert operator_without_investor.status_code == 422
    assert _requests_in_db(api) == 0


def test_a_participant_cannot_spend_from_another_investors_wallet(api: Api) -> None:
    response = api.client.post(
        URL,
        json={"kind": "mint", "ticker": "AAPL", "quantity": "1", "wallet": api.platform.other_wallet},
        headers={**api.participant, "Idempotency-Key": "x"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "compliance"
    assert _requests_in_db(api) == 0


GOOD = {"kind": "mint", "ticker": "AAPL", "quantity": "1", "wallet": "0x" + "ab" * 20}


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        ({"kind": "burn"}, "invalid_request", "body.kind"),
        ({"kind": None}, "invalid_request", "body.kind"),
        ({"ticker": "ZZZZ"}, "unknown_instrument", "ZZZZ"),
        ({"ticker": "$$"}, "invalid_request", "body.ticker"),
        ({"quantity": "-1"}, "invalid_request", "body.quantity"),
        ({"quantity": "0"}, "invalid_request", "positive"),
        ({"quantity": "abc"}, "invalid_request", "body.quantity"),
        ({"quantity": 1}, "invalid_request", "body.quantity"),
        ({"quantity": "0.000000001"}, "invalid_request", "decimals"),
        ({"quantity": "1000000"}, "limit_exceeded", "maximum"),
        ({"wallet": "0x123"}, "invalid_request", "body.wallet"),
        ({"wallet": None}, "invalid_request", "body.wallet"),
        ({"investor_id": "inv-nobody"}, "forbidden", "own investor"),
        ({"extra": "field"}, "invalid_request", "body.extra"),
        ({"limit_price": "150"}, "invalid_request", "limit_price: a limit price is for redemptions"),
        ({"kind": "redeem", "limit_price": "1.5.0"}, "invalid_request", "body.limit_price"),
        ({"kind": "redeem", "limit_price": "0"}, "invalid_request", "limit price must be positive"),
        ({"kind": "redeem", "limit_price": "100.005"}, "invalid_request", "not a whole cent"),
    ],
)
def test_bad_input_is_refused_with_a_named_problem_and_changes_nothing(
    api: Api, change: dict[str, object], code: str, named: str
) -> None:
    body = {**GOOD, "wallet": api.platform.wallet, **change}
    usdc = _usdc(api)

    response = api.client.post(URL, json=body, headers={**api.participant, "Idempotency-Key": "bad"})

    assert response.status_code in (403, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert named in response.json()["detail"]
    assert _requests_in_db(api) == 0
    assert _usdc(api) == usdc


@pytest.mark.parametrize("key", [None, "", "with space", "x" * 129])
def test_a_missing_or_malformed_idempotency_key_is_refused(api: Api, key: str | None) -> None:
    headers = dict(api.participant)
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {**GOOD, "wallet": api.platform.wallet}

    create = api.client.post(URL, json=body, headers=headers)

    assert create.status_code == 422
    assert "Idempotency-Key" in create.json()["detail"]
    assert _requests_in_db(api) == 0


def test_an_unknown_request_is_404(api: Api) -> None:
    assert api.client.get(f"{URL}/req-nope", headers=api.operator).status_code == 404
    cancel = api.client.post(f"{URL}/req-nope/cancel", headers={**api.operator, "Idempotency-Key": "k"})
    assert cancel.status_code == 404


def test_pagination_walks_every_request_exactly_once_with_filters(api: Api) -> None:
    created = []
    for n in range(7):
        created.append(api.mint(f"order-{n}").json()["id"])
        api.platform.clock.advance(timedelta(seconds=1 if n % 2 else 0))  # some share a created_at

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3, "state": "accepted", "ticker": "aapl"}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get(URL, params=params, headers=api.participant).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(created)
    assert len(seen) == 7
    assert pages == 3
    assert api.client.get(URL, params={"state": "completed"}, headers=api.participant).json()["items"] == []


@pytest.mark.parametrize("cursor", ["garbage!", "W10", "WyJ4IiwgMV0"])
def test_a_cursor_this_api_did_not_issue_is_refused(api: Api, cursor: str) -> None:
    response = api.client.get(URL, params={"cursor": cursor}, headers=api.participant)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_a_redemption_carries_its_limit_price(api: Api) -> None:
    api.mint("order-1", "2")
    api.platform.run()
    api.platform.approve_redeem("AAPL", 2 * 10**8)
    body = {**GOOD, "kind": "redeem", "wallet": api.platform.wallet, "limit_price": "100000.50"}

    created = api.client.post(URL, json=body, headers={**api.participant, "Idempotency-Key": "redeem-1"})

    assert created.status_code == 201
    assert created.json()["limit_price"] == "100000.5"
    assert api.platform.issuer.request(created.json()["id"]).limit_price == Price.parse("100000.50")


def _held_mint(api: Api) -> str:
    """A mint whose tokens the registry refuses (the investor frozen after acceptance): held."""
    request_id: str = api.client.post(
        URL,
        json={**GOOD, "ticker": "MSTR", "wallet": api.platform.wallet},
        headers={**api.participant, "Idempotency-Key": "to-hold"},
    ).json()["id"]
    api.platform.issuer.investors.set_frozen(api.platform.participant.id, True)
    api.platform.run()
    assert api.platform.issuer.request(request_id).state.value == "held"
    return request_id


def test_an_operator_resolves_a_held_request_once_with_an_audit_trail(api: Api) -> None:
    request_id = _held_mint(api)
    api.platform.issuer.investors.set_frozen(api.platform.participant.id, False)
    resolve = f"{URL}/{request_id}/resolution"
    body = {"action": "retry", "note": "unfrozen after review"}

    first = api.client.post(resolve, json=body, headers={**api.operator, "Idempotency-Key": "fix-1"})
    replay = api.client.post(resolve, json=body, headers={**api.operator, "Idempotency-Key": "fix-1"})
    again = api.client.post(resolve, json=body, headers={**api.operator, "Idempotency-Key": "fix-2"})
    api.platform.run()

    assert first.status_code == 200
    assert first.json()["state"] == "ordered"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again.status_code == 409
    assert again.json()["code"] == "request_not_held"
    shown = api.client.get(f"{URL}/{request_id}", headers=api.participant).json()
    assert shown["state"] == "completed"
    [retried] = [e for e in shown["events"] if e["from_state"] == "held"]
    assert retried["reason"].startswith("retry by the operator: unfrozen after review (operator key ")


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("participant", {"action": "retry", "note": "mine"}, 403, "forbidden"),
        ("operator", {"action": "forgive", "note": "x"}, 422, "invalid_request"),
        ("operator", {"action": "retry", "note": ""}, 422, "invalid_request"),
        ("operator", {"action": "retry"}, 422, "invalid_request"),
    ],
    ids=["not_an_operator", "unknown_action", "empty_note", "no_note"],
)
def test_a_bad_resolution_is_refused_and_changes_nothing(
    api: Api, who: str, body: dict[str, str], status: int, code: str
) -> None:
    request_id = _held_mint(api)
    headers = {**getattr(api, who), "Idempotency-Key": "fix"}

    response = api.client.post(f"{URL}/{request_id}/resolution", json=body, headers=headers)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert api.platform.issuer.request(request_id).state.value == "held"
