"""The bridge through the API: two anvil nodes and Solana, attester processes and the relayer, a
BridgeDesk over them and real API keys. An investor sends from its custodied wallets (each send once
per key) and follows its transfers to minted; another investor sees none of them; a refusal is a 422
problem with the desk's code that changed nothing; only an operator releases or returns a held
transfer; supply per chain and in flight read in tokens."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    fresh_wallet,
    mint_through_workflow,
)
from tests.support.bridge_desk import make_desk

from equitoken.api import ApiContext, Role, create_app
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource

pytestmark = pytest.mark.anvil

URL = "/api/v1/bridge"


@dataclass
class BridgeApi:
    world: BridgeWorld
    client: TestClient
    operator: dict[str, str]
    participant: dict[str, str]
    retail: dict[str, str]

    @property
    def solana(self) -> int:
        return self.world.solana.chain.chain_id

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        response = self.client.get(URL + path, headers=headers or self.participant)
        assert response.status_code == 200, response.json()
        return response.json()

    def post(
        self, path: str, key: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx2.Response:
        response: httpx2.Response = self.client.post(
            URL + path, json=body, headers={**(headers or self.participant), "Idempotency-Key": key}
        )
        return response

    def send(self, key: str, **body: Any) -> httpx2.Response:
        fields = {
            "ticker": "AAPL",
            "source_chain": ETHEREUM,
            "dest_chain": BASE,
            "receiver": self.world.wallet,
        }
        return self.post("/transfers", key, {**fields, **body})

    def by_tx(self, tx: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return next(t for t in self.get("/transfers", headers) if t["source_tx"] == tx)


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeApi]:
    with bridge_world(tmp_path_factory.mktemp("bridge-api"), prices, calendar) as world:
        p = world.platform
        mint_through_workflow(p, world.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        mint_through_workflow(p, world.issuer, "AAPL", world.solana.chain.chain_id, p.solana_wallet, "10")
        context = ApiContext(
            issuer=world.issuer,
            calendar=calendar,
            prices=prices,
            broker=p.broker,
            clock=p.clock,
            database=world.database,
            bridge=make_desk(world),
        )
        retail = world.issuer.investors.onboard(
            "Ada Lovelace", "GB", "retail", kyc_expires_at=p.clock.now() + timedelta(days=365)
        )
        keys = context.keys
        yield BridgeApi(
            world,
            TestClient(create_app(context), raise_server_exceptions=False),
            {"X-API-Key": keys.issue(Role.OPERATOR, None, "ops desk")},
            {"X-API-Key": keys.issue(Role.PARTICIPANT, p.participant.id, "jane street")},
            {"X-API-Key": keys.issue(Role.INVESTOR, retail.id, "ada")},
        )


def _state(api: BridgeApi) -> tuple[Any, ...]:
    world = api.world
    wallet = world.wallet
    return (
        world.supply("AAPL"),
        [int(world.token(c, "AAPL").balanceOf(wallet)) for c in (ETHEREUM, BASE)],
        [
            int(world.token(c, "AAPL").allowance(wallet, world.pool(c, "AAPL").address))
            for c in (ETHEREUM, BASE)
        ],
        world.relayer.discover(),
        api.get("/transfers", api.operator),
    )


def test_the_chains_and_their_tokens(api: BridgeApi) -> None:
    chains = {c["chain_id"]: c for c in api.get("/chains", api.retail)}
    assert {i: (c["name"], c["family"]) for i, c in chains.items()} == {
        ETHEREUM: ("Ethereum", "EVM"),
        BASE: ("Base", "EVM"),
        api.solana: ("Solana", "Solana"),
    }
    assert all("AAPL" in c["tickers"] for c in chains.values())


def test_an_investor_sends_once_per_key_and_follows_its_transfers_to_minted(api: BridgeApi) -> None:
    world = api.world
    sent = api.send("s-1", ticker="aapl", amount="1.5")
    replay = api.send("s-1", ticker="AAPL", amount="1.50", receiver=world.wallet.lower())
    from_solana = api.send("s-2", source_chain=api.solana, amount="1")

    assert sent.status_code == 200, sent.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == sent.json()
    receipt = sent.json()
    assert (receipt["wallet"], receipt["amount"], receipt["ticker"]) == (world.wallet, "1.5", "AAPL")
    assert from_solana.status_code == 200, from_solana.json()
    assert from_solana.json()["wallet"] == world.platform.solana_wallet
    assert int(world.token(ETHEREUM, "AAPL").balanceOf(world.wallet)) == 10 * ONE - ONE - ONE // 2
    world.relayer.discover()
    flying = api.by_tx(receipt["source_tx"])
    assert (flying["id"], flying["state"], flying["in_flight"]) == (receipt["id"], "burned", True)
    world.relay()

    transfer = api.by_tx(receipt["source_tx"])
    assert (transfer["state"], transfer["amount"], transfer["amount_raw"]) == (
        "minted",
        "1.5",
        ONE + ONE // 2,
    )
    assert (transfer["sender"], transfer["receiver"]) == (world.wallet, world.wallet)
    assert transfer["events"] == []
    detail = api.get(f"/transfers/{transfer['id']}")
    assert [e["state"] for e in detail["events"]] == ["burned", "attested", "minted"]
    assert detail["dest_tx"]
    assert api.by_tx(from_solana.json()["source_tx"])["state"] == "minted"
    assert int(world.token(BASE, "AAPL").balanceOf(world.wallet)) == 2 * ONE + ONE // 2
    # Another investor sees none of it; an operator sees everything, by ticker.
    assert api.get("/transfers", api.retail) == []
    hidden = api.client.get(f"{URL}/transfers/{transfer['id']}", headers=api.retail)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "unknown_bridge_transfer")
    assert len(api.get("/transfers?ticker=AAPL", api.operator)) == 2
    assert api.get("/transfers?ticker=MSTR", api.operator) == []


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"amount": "100"}, "bridge_refused", "holds"),
        ({"dest_chain": ETHEREUM, "amount": "1"}, "bridge_refused", "the same"),
        ({"dest_chain": 999, "amount": "1"}, "bridge_refused", "999"),
        ({"ticker": "TSLA", "amount": "1"}, "bridge_refused", "TSLA is not bridged"),
        ({"receiver": "11111111111111111111111111111112", "amount": "1"}, "bridge_refused", "receiver"),
        ({"amount": "0"}, "bridge_refused", "not a positive multiple"),
        ({"amount": "0.000000001"}, "invalid_amount", "more than 8 decimals"),
        (
            {"wallet": "0x000000000000000000000000000000000000dEaD", "amount": "1"},
            "bridge_wallet_not_registered",
            "",
        ),
    ],
    ids=[
        "more than held",
        "same chain",
        "unknown chain",
        "unknown ticker",
        "wrong family",
        "zero",
        "dust",
        "not mine",
    ],
)
def test_a_refused_send_is_a_problem_and_changes_nothing(
    api: BridgeApi, body: dict[str, Any], code: str, detail: str
) -> None:
    before = _state(api)
    refused = api.send(f"r-{code}-{len(detail)}-{len(body)}", **body)
    assert refused.status_code == 422, refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert _state(api) == before


def test_only_an_investor_with_a_wallet_sends(api: BridgeApi) -> None:
    operator = api.post(
        "/transfers",
        "o-1",
        {
            "ticker": "AAPL",
            "source_chain": ETHEREUM,
            "dest_chain": BASE,
            "receiver": api.world.wallet,
            "amount": "1",
        },
        api.operator,
    )
    assert (operator.status_code, operator.json()["code"]) == (403, "forbidden")
    retail = api.post(
        "/transfers",
        "o-1",
        {
            "ticker": "AAPL",
            "source_chain": ETHEREUM,
            "dest_chain": BASE,
            "receiver": api.world.wallet,
            "amount": "1",
        },
        api.retail,
    )
    assert (retail.status_code, retail.json()["code"]) == (422, "bridge_wallet_not_registered")


def test_only_an_operator_releases_or_returns_a_held_transfer(api: BridgeApi) -> None:
    world = api.world
    sanctioned, clean = fresh_wallet("api held"), fresh_wallet("api clean")
    world.base.sanctions.addToSanctionsList([sanctioned], sender=world.base.roles.admin)
    first = api.send("h-1", receiver=sanctioned, amount="1")
    second = api.send("h-2", receiver=sanctioned, amount="0.5")
    world.relay()
    held = [api.by_tx(r.json()["source_tx"]) for r in (first, second)]
    assert [t["state"] for t in held] == ["held", "held"]
    one, two = held[0]["id"], held[1]["id"]

    for path, body in ((f"/transfers/{one}/release", {"to": clean}), (f"/transfers/{one}/return", None)):
        forbidden = api.post(path, "d-1", body)
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    refused = api.post(f"/transfers/{one}/release", "d-1", {"to": sanctioned}, api.operator)
    assert (refused.status_code, refused.json()["code"]) == (422, "bridge_refused")
    assert api.get(f"/transfers/{one}")["events"][-1]["state"] == "held"
    released = api.post(f"/transfers/{one}/release", "d-3", {"to": clean}, api.operator)
    again = api.post(f"/transfers/{one}/release", "d-3", {"to": clean}, api.operator)
    assert released.status_code == 200, released.json()
    assert released.json()["state"] == "held"  # until the relayer's next pass
    assert again.json() == released.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    twice = api.post(f"/transfers/{one}/release", "d-2", {"to": clean}, api.operator)
    assert (twice.status_code, twice.json()["code"]) == (422, "bridge_refused")
    assert "already being settled" in twice.json()["detail"]
    returned = api.post(f"/transfers/{two}/return", "d-4", None, api.operator)
    assert returned.status_code == 200, returned.json()
    unknown = api.post(f"/transfers/0x{'00' * 32}/return", "d-5", None, api.operator)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_bridge_transfer")
    world.relay()

    assert api.get(f"/transfers/{one}")["state"] == "released"
    assert api.get(f"/transfers/{two}")["state"] == "returned"
    assert int(world.token(BASE, "AAPL").balanceOf(clean)) == ONE
    late = api.post(f"/transfers/{two}/return", "d-6", None, api.operator)
    assert (late.status_code, late.json()["code"]) == (422, "bridge_refused")


def test_supply_per_chain_and_in_flight(api: BridgeApi) -> None:
    world = api.world
    sent = api.send("f-1", amount="2")
    assert sent.status_code == 200, sent.json()
    world.relayer.discover()

    supply = api.get("/supply/aapl", api.retail)
    chains = {c["chain_id"]: c for c in supply["chains"]}
    raw = world.supply("AAPL")
    assert {i: Decimal(c["supply"]) * ONE for i, c in chains.items()} == raw
    assert {i: c["in_flight"] for i, c in chains.items()} == {ETHEREUM: "0", BASE: "2", api.solana: "0"}
    assert Decimal(supply["total"]) == Decimal(sum(raw.values())) / ONE + 2
    missing = api.client.get(f"{URL}/supply/TSLA", headers=api.retail)
    assert (missing.status_code, missing.json()["code"]) == (404, "bridge_unknown_ticker")
    world.relay()
    assert {c["in_flight"] for c in api.get("/supply/AAPL")["chains"]} == {"0"}
