"""Investors through the API: operators onboard and maintain them, an investor reads only its own."""

from datetime import UTC, datetime

import pytest
from tests.support.api import Api

URL = "/api/v1/investors"
NEW = {
    "name": "Citadel Securities",
    "jurisdiction": "sg",
    "category": "authorised_participant",
    "kyc_expires_at": "2027-01-01T00:00:00Z",
    "accredited": True,
}


def test_an_operator_onboards_binds_renews_and_freezes_an_investor(api: Api) -> None:
    created = api.client.post(URL, json=NEW, headers=api.operator)
    investor_id = created.json()["id"]
    wallet = api.platform.chain.accounts[12]

    bound = api.client.post(f"{URL}/{investor_id}/wallets", json={"wallet": wallet}, headers=api.operator)
    renewed = api.client.put(
        f"{URL}/{investor_id}/kyc", json={"kyc_expires_at": "2028-06-30T12:00:00+02:00"}, headers=api.operator
    )
    frozen = api.client.put(f"{URL}/{investor_id}/frozen", json={"frozen": True}, headers=api.operator)

    assert created.status_code == 201
    assert created.json()["jurisdiction"] == "SG"
    assert bound.json()["wallets"] == [wallet]
    assert renewed.json()["kyc_expires_at"] == "2028-06-30T10:00:00Z"
    assert frozen.json()["frozen"] is True
    country, kyc_expiry, accredited, on_chain_frozen, wallets = api.platform.onchain.registry.investor(
        created.json()["onchain_id"]
    )
    assert (country, accredited, on_chain_frozen) == (702, True, True)
    assert kyc_expiry == int(datetime(2028, 6, 30, 10, tzinfo=UTC).timestamp())
    assert [w.lower() for w in wallets] == [wallet.lower()]


def test_the_operator_lists_investors_page_by_page(api: Api) -> None:
    first = api.client.get(URL, params={"limit": 2}, headers=api.operator).json()
    rest = api.client.get(URL, params={"cursor": first["next_cursor"]}, headers=api.operator).json()

    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == [api.platform.participant.id, api.other_participant_id, api.retail_id]
    assert rest["next_cursor"] is None


def test_an_investor_reads_only_its_own_record(api: Api) -> None:
    own = api.client.get(f"{URL}/{api.retail_id}", headers=api.retail)
    other = api.client.get(f"{URL}/{api.platform.participant.id}", headers=api.retail)

    assert own.status_code == 200
    assert own.json()["name"] == "Ada Lovelace"
    assert other.status_code == 404


@pytest.mark.parametrize("actor", ["participant", "retail"])
def test_only_operators_list_or_change_investors(api: Api, actor: str) -> None:
    key = getattr(api, actor)
    own = api.platform.participant.id if actor == "participant" else api.retail_id
    calls = [
        api.client.get(URL, headers=key),
        api.client.post(URL, json=NEW, headers=key),
        api.client.post(f"{URL}/{own}/wallets", json={"wallet": "0x" + "12" * 20}, headers=key),
        api.client.put(f"{URL}/{own}/kyc", json={"kyc_expires_at": "2030-01-01T00:00:00Z"}, headers=key),
        api.client.put(f"{URL}/{own}/frozen", json={"frozen": False}, headers=key),
    ]

    assert [c.status_code for c in calls] == [403] * 5
    assert {c.json()["code"] for c in calls} == {"forbidden"}
    assert len(api.platform.issuer.investors.all()) == 3


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "name"),
        ({"name": "x\u0000y"}, "body.name"),
        ({"jurisdiction": "XX"}, "XX"),
        ({"jurisdiction": "USA"}, "body.jurisdiction"),
        ({"jurisdiction": "US"}, "blocked"),
        ({"category": "whale"}, "body.category"),
        ({"kyc_expires_at": "2027-01-01T00:00:00"}, "body.kyc_expires_at"),
        ({"kyc_expires_at": "1960-01-01T00:00:00Z"}, "1970"),
        ({"kyc_expires_at": "soon"}, "body.kyc_expires_at"),
        ({"accredited": "maybe"}, "body.accredited"),
        ({"surprise": 1}, "body.surprise"),
    ],
)
def test_bad_onboarding_input_is_refused_and_onboards_nobody(
    api: Api, change: dict[str, object], named: str
) -> None:
    response = api.client.post(URL, json={**NEW, **change}, headers=api.operator)

    assert response.status_code == 422
    assert named in response.json()["detail"]
    assert len(api.platform.issuer.investors.all()) == 3


def test_bad_changes_are_refused_and_change_nothing(api: Api) -> None:
    me = api.platform.participant.id
    before = api.client.get(f"{URL}/{me}", headers=api.operator).json()

    bad_wallet = api.client.post(f"{URL}/{me}/wallets", json={"wallet": "0x12"}, headers=api.operator)
    taken_wallet = api.client.post(
        f"{URL}/{me}/wallets", json={"wallet": api.platform.other_wallet}, headers=api.operator
    )
    naive_kyc = api.client.put(f"{URL}/{me}/kyc", json={"kyc_expires_at": "2030-01-01"}, headers=api.operator)
    bad_frozen = api.client.put(f"{URL}/{me}/frozen", json={"frozen": "yes"}, headers=api.operator)
    unknown = api.client.put(f"{URL}/inv-nobody/frozen", json={"frozen": True}, headers=api.operator)

    assert bad_wallet.status_code == taken_wallet.status_code == 422
    assert taken_wallet.json()["code"] == "compliance"
    assert naive_kyc.status_code == bad_frozen.status_code == 422
    assert unknown.status_code == 404
    assert api.client.get(f"{URL}/{me}", headers=api.operator).json() == before
