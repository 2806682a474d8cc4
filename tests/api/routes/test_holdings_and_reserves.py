"""Holdings read from the indexer (or the chain without one), reserves against custody, their history
with the indexed supply, and the reconciliation."""

from fastapi.testclient import TestClient
from tests.support.api import Api

from equitoken.api import ApiContext, create_app
from equitoken.model.quantities import Shares

V1 = "/api/v1"


def _mint_and_settle(api: Api, quantity: str) -> None:
    assert api.mint(f"mint-{quantity}", quantity).status_code == 201
    api.settle()


def test_holdings_show_the_tokens_in_the_investors_wallets_at_the_indexed_block(api: Api) -> None:
    _mint_and_settle(api, "3")
    price = api.context.prices.quote("AAPL", api.platform.clock.now()).price
    indexed = api.indexer.cursor(api.platform.onchain.chain_id)
    assert indexed is not None

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
            "block": indexed.block_number,
        }
    ]
    assert for_operator == own == everyone


def test_holdings_wait_for_the_indexer_and_without_one_are_read_from_the_chain(api: Api) -> None:
    _mint_and_settle(api, "3")
    api.platform.token("AAPL").transfer(api.platform.other_wallet, 10**8, sender=api.platform.wallet)
    without_indexer = ApiContext(
        issuer=api.context.issuer,
        calendar=api.context.calendar,
        prices=api.context.prices,
        broker=api.context.broker,
        clock=api.context.clock,
        database=api.context.database,
    )
    from_chain = TestClient(create_app(without_indexer)).get(f"{V1}/holdings", headers=api.participant)

    before_poll = api.client.get(f"{V1}/holdings", headers=api.participant).json()["items"]
    api.indexer.poll()
    after_poll = api.client.get(f"{V1}/holdings", headers=api.participant).json()["items"]

    assert [(h["raw"], h["ui_shares"]) for h in before_poll] == [(3 * 10**8, "3")]
    assert [(h["raw"], h["ui_shares"], h["block"]) for h in from_chain.json()["items"]] == [
        (2 * 10**8, "2", None)
    ]
    assert [(h["raw"], h["ui_shares"]) for h in after_poll] == [(2 * 10**8, "2")]
    assert after_poll[0]["block"] == api.platform.chain.block_number()


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
    # Custody is attested before the mint it backs (the token refuses mints beyond the reserves).
    assert [(p["custody_shares"], p["outstanding_shares"]) for p in history["items"]] == [
        ("1", "0"),
        ("2", "1"),
    ]
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


def test_the_history_pairs_each_attestation_with_the_supply_indexed_at_its_time(api: Api) -> None:
    assert api.mint("first", "2").status_code == 201
    api.settle()
    assert api.mint("second", "1").status_code == 201
    api.platform.run()  # attested, not indexed yet

    unindexed = api.client.get(f"{V1}/reserves/history", params={"ticker": "AAPL"}, headers=api.retail).json()
    api.indexer.poll()
    indexed = api.client.get(f"{V1}/reserves/history", params={"ticker": "aapl"}, headers=api.retail).json()

    # Each mint fills in two parts; each part's custody is attested before its tokens are minted.
    assert [p["custody_shares"] for p in indexed["items"]] == ["1", "2", "2.5", "3"]
    assert [p["outstanding_shares"] for p in indexed["items"]] == ["0", "1", "2", "2.5"]
    assert [p["outstanding_shares"] for p in unindexed["items"]] == ["0", "1", None, None]
