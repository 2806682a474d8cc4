"""Holdings read from the chain, reserves against custody, their history and the reconciliation."""

from tests.api.conftest import Api

from equitoken.model.quantities import Shares

V1 = "/api/v1"


def _mint_and_settle(api: Api, quantity: str) -> None:
    assert api.mint(f"mint-{quantity}", quantity).status_code == 201
    api.platform.run()


def test_holdings_show_the_tokens_in_the_investors_wallets(api: Api) -> None:
    _mint_and_settle(api, "3")
    price = api.context.prices.quote("AAPL", api.platform.clock.now()).price

    own = api.client.get(f"{V1}/holdings", headers=api.participant).json()["items"]
    for_operator = api.client.get(
        f"{V1}/holdings", params={"investor_id": api.platform.participant.id}, headers=api.operator
    ).json()["items"]
    everyone = api.client.get(f"{V1}/holdings", headers=api.operator).json()["items"]

    assert own == [
        {
            "investor_id": api.platform.participant.id,
            "ticker": "AAPL",
            "chain_id": api.platform.onchain.chain_id,
            "wallet": api.platform.wallet,
            "raw": 3 * 10**8,
            "multiplier": "1",
            "ui_shares": "3",
            "value_usd": str(price.notional(Shares.parse("3"), round_up=False)),
        }
    ]
    assert for_operator == own == everyone


def test_an_investor_sees_only_its_own_holdings(api: Api) -> None:
    _mint_and_settle(api, "1")

    others = api.client.get(f"{V1}/holdings", headers=api.other_participant).json()
    asked = api.client.get(
        f"{V1}/holdings", params={"investor_id": api.platform.participant.id}, headers=api.retail
    )

    assert others["items"] == []
    assert asked.status_code == 403


def test_holdings_of_an_unknown_investor_are_refused(api: Api) -> None:
    response = api.client.get(f"{V1}/holdings", params={"investor_id": "inv-nobody"}, headers=api.operator)

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_investor"


def test_reserves_match_custody_after_a_mint_and_history_records_the_attestation(api: Api) -> None:
    _mint_and_settle(api, "2")

    reserves = api.client.get(f"{V1}/reserves", headers=api.retail).json()["items"]
    history = api.client.get(f"{V1}/reserves/history", params={"ticker": "AAPL"}, headers=api.retail).json()
    reconciliation = api.client.get(f"{V1}/reconciliation", headers=api.operator).json()

    aapl = next(r for r in reserves if r["ticker"] == "AAPL")
    assert aapl["custody_shares"] == "2"
    assert aapl["outstanding_shares"] == "2"
    assert aapl["gap_shares"] == "0"
    assert aapl["backed"] is True
    assert aapl["chains"][0]["supply_raw"] == 2 * 10**8
    assert history["items"]
    assert history["items"][-1]["custody_shares"] == "2"
    assert history["items"][-1]["outstanding_shares"] is None
    assert reconciliation["ok"] is True
    assert reconciliation["reserves"] == reserves
    assert all(v == 0 for v in reconciliation["trial_balance"].values())


def test_reconciliation_is_for_operators_and_history_needs_a_known_ticker(api: Api) -> None:
    assert api.client.get(f"{V1}/reconciliation", headers=api.participant).status_code == 403
    missing = api.client.get(f"{V1}/reserves/history", headers=api.retail)
    unknown = api.client.get(f"{V1}/reserves/history", params={"ticker": "TSLA"}, headers=api.retail)

    assert missing.status_code == 422
    assert "ticker" in missing.json()["detail"]
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_instrument"
