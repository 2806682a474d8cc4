"""Private companies through the API, on the in-process chain: the operator issues ACME shares in
rounds with a lock-up and values the company; an accredited investor asks to transfer unlocked shares,
the transfer agent approves one request and rejects one it may not approve; refusals change nothing."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import Api

from equitoken.api import Role, create_app
from equitoken.platform.private import open_private_companies


class Private:
    def __init__(self, api: Api, tmp_path: Path) -> None:
        self.api = api
        platform = api.platform
        api.context.private = open_private_companies(platform.issuer, tmp_path, lambda _: None)
        self.client = TestClient(create_app(api.context), raise_server_exceptions=False)
        investors = platform.issuer.investors
        expiry = platform.clock.now() + timedelta(days=365)
        self.wallets: dict[str, str] = {}
        self.keys: dict[str, dict[str, str]] = {}
        for name, account in (("ada", 12), ("grace", 13)):
            investor = investors.onboard(
                name.title(), "GB", "professional", kyc_expires_at=expiry, accredited=True
            )
            wallet = platform.chain.accounts[account]
            investors.bind_wallet(investor.id, wallet)
            self.wallets[name] = wallet
            self.keys[name] = {"X-API-Key": api.context.keys.issue(Role.INVESTOR, investor.id, name)}

    def post(self, path: str, key: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
        return self.client.post(
            f"/api/v1/private{path}", json=body, headers={**headers, "Idempotency-Key": key}
        )

    def get(self, path: str, headers: dict[str, str]) -> Any:
        response = self.client.get(f"/api/v1/private{path}", headers=headers)
        assert response.status_code == 200, response.json()
        return response.json()


@pytest.fixture
def private(api: Api, tmp_path: Path) -> Private:
    return Private(api, tmp_path)


def test_rounds_lockups_and_the_transfer_agents_decisions(private: Private) -> None:
    api = private.api
    [acme] = private.get("", api.participant)
    assert acme["ticker"] == "ACME"
    assert acme["valuation"]["price"] == "42.5"
    assert acme["valuation"]["method"] == "priced_round"

    ada, grace = private.wallets["ada"], private.wallets["grace"]
    unlock = (api.platform.clock.now() + timedelta(days=180)).isoformat()
    locked = private.post(
        "/ACME/issuances",
        "round-1",
        {"round_id": 1, "wallet": ada, "shares": "100", "unlock_at": unlock},
        api.operator,
    )
    assert locked.status_code == 200, locked.json()
    assert locked.json()["state"] == "done"
    assert (
        private.post(
            "/ACME/issuances", "round-2", {"round_id": 2, "wallet": ada, "shares": "20"}, api.operator
        ).status_code
        == 200
    )
    assert private.get("/ACME/holdings", private.keys["ada"]) == [
        {"wallet": ada, "shares": "120", "locked": "100"}
    ]

    too_many = private.post("/ACME/requests", "t0", {"receiver": grace, "shares": "200"}, private.keys["ada"])
    assert too_many.status_code == 422, too_many.json()
    assert private.get("/ACME/requests", api.operator) == []

    filed = private.post("/ACME/requests", "t1", {"receiver": grace, "shares": "10"}, private.keys["ada"])
    assert filed.status_code == 200, filed.json()
    [pending] = private.get("/ACME/requests", api.operator)
    assert (pending["id"], pending["approvable"], pending["shares"]) == (
        filed.json()["request_id"],
        True,
        "10",
    )
    approved = private.post(f"/ACME/requests/{pending['id']}/approve", "a1", None, api.operator)
    assert approved.status_code == 200, approved.json()
    assert private.get("/ACME/holdings", private.keys["grace"]) == [
        {"wallet": grace, "shares": "10", "locked": "0"}
    ]

    # Ada has 10 unlocked shares left: a request for 15 would move locked shares.
    locked_out = private.post(
        "/ACME/requests", "t3", {"receiver": grace, "shares": "15"}, private.keys["ada"]
    )
    [pending] = private.get("/ACME/requests", api.operator)
    assert pending["approvable"] is False
    assert "lock" in pending["check"]
    reason = {"reason": "shares still locked up"}
    rejected_lock = private.post(
        f"/ACME/requests/{locked_out.json()['request_id']}/reject", "r3", reason, api.operator
    )
    assert rejected_lock.status_code == 200, rejected_lock.json()

    # The participant's wallet is verified but not accredited: the agent may not approve, and rejects.
    to_participant = private.post(
        "/ACME/requests", "t2", {"receiver": api.platform.wallet, "shares": "5"}, private.keys["ada"]
    )
    request_id = to_participant.json()["request_id"]
    [pending] = private.get("/ACME/requests", api.operator)
    assert pending["approvable"] is False
    assert "accredited" in pending["check"]
    refused = private.post(f"/ACME/requests/{request_id}/approve", "a2", None, api.operator)
    assert refused.status_code == 422
    rejected = private.post(
        f"/ACME/requests/{request_id}/reject", "r2", {"reason": "receiver is not accredited"}, api.operator
    )
    assert rejected.status_code == 200, rejected.json()
    assert private.get("/ACME/requests", api.operator) == []
    assert private.get("/ACME/holdings", private.keys["ada"]) == [
        {"wallet": ada, "shares": "110", "locked": "100"}
    ]


def test_only_the_operator_values_issues_and_decides(private: Private) -> None:
    api = private.api
    ada = private.keys["ada"]
    # A valuation newer than the first (recorded when the company was deployed) and not after the chain's
    # latest block: the feed takes no other.
    api.platform.clock.advance(timedelta(minutes=1))
    api.platform.chain.mine()
    as_of = datetime.fromtimestamp(api.platform.chain.timestamp(), UTC)
    body = {
        "price": "50",
        "as_of": as_of.isoformat(),
        "method": "409a",
        "source": "appraisal",
    }
    assert private.post("/ACME/valuations", "v0", body, ada).status_code == 403
    assert (
        private.post(
            "/ACME/issuances", "i0", {"round_id": 1, "wallet": private.wallets["ada"], "shares": "1"}, ada
        ).status_code
        == 403
    )
    assert private.client.get("/api/v1/private/ACME/requests", headers=ada).status_code == 403
    assert private.post("/ZZZ/valuations", "v1", body, api.operator).status_code == 404
    valued = private.post("/ACME/valuations", "v2", body, api.operator)
    assert valued.status_code == 200, valued.json()
    [acme] = private.get("", ada)
    assert (acme["valuation"]["price"], acme["valuation"]["method"]) == ("50", "409a")


def test_issuing_to_an_investor_who_is_not_accredited_is_refused_and_issues_nothing(private: Private) -> None:
    api = private.api
    refused = private.post(
        "/ACME/issuances", "i1", {"round_id": 1, "wallet": api.platform.wallet, "shares": "1"}, api.operator
    )
    assert refused.status_code == 422, refused.json()
    assert private.get("/ACME/holdings", api.participant) == []
