"""Attestation mints through the API, on the in-process chain with the paper broker: an investor mints
at once from its custodied wallet (once per key) or takes a signed quote to use itself; the operator
reads the backing during the hedge; a refused quote is a 422 problem that signed nothing."""

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import Api, build_api
from tests.support.attestation_desk import Desk, build_desk
from tests.support.platform import ACCOUNTS, GENESIS, IN_SESSION

from equitoken.api import create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url

URL = "/api/v1/attestation"
TOKEN_UNIT = 10**8
SATURDAY = datetime(2025, 12, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
def served(
    prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> Iterator[tuple[Desk, Api, TestClient]]:
    database = Database(sqlite_url(tmp_path / "api.sqlite"))
    database.migrate()
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    desk = build_desk(chain, database, prices, calendar, tmp_path, start=IN_SESSION)
    assert desk.attestation.restock("AAPL") is not None
    desk.run()
    api = build_api(desk.platform, database, calendar, prices)
    api.context.attestation = desk.attestation
    yield desk, api, TestClient(create_app(api.context), raise_server_exceptions=False)
    database.close()


def _trade(client: TestClient, api: Api, key: str, body: dict[str, Any]) -> Any:
    return client.post(URL + "/trades", json=body, headers={**api.participant, "Idempotency-Key": key})


def test_an_investor_mints_at_once_and_the_operator_sees_the_hedge(
    served: tuple[Desk, Api, TestClient],
) -> None:
    desk, api, client = served
    wallet = desk.platform.wallet
    described = client.get(URL, headers=api.participant).json()
    assert described["open_now"] is True
    assert [m["ticker"] for m in described["minters"]] == ["AAPL", "MSTR"]

    body = {"ticker": "AAPL", "side": "buy", "quantity": "2"}
    minted = _trade(client, api, "instant-1", body)
    assert minted.status_code == 200, minted.json()
    assert _trade(client, api, "instant-1", body).json() == minted.json()  # once per key
    assert int(desk.platform.token("AAPL").balanceOf(wallet)) == 2 * TOKEN_UNIT  # at once, before any hedge

    [line] = [b for b in client.get(URL + "/backing", headers=api.operator).json() if b["ticker"] == "AAPL"]
    assert line["backed"] is True
    # Minted from the inventory at once; the hedge has not run yet.
    assert line["outstanding"] == "2"
    assert Decimal(line["inventory"]) == Decimal(line["target"]) - 2
    assert client.get(URL + "/backing", headers=api.participant).status_code == 403
    desk.run()
    [line] = [b for b in client.get(URL + "/backing", headers=api.operator).json() if b["ticker"] == "AAPL"]
    assert (line["to_buy"], line["inventory"], line["backed"]) == ("0", line["target"], True)

    sold = _trade(client, api, "instant-2", {"ticker": "AAPL", "side": "sell", "quantity": "0.5"})
    assert sold.status_code == 200, sold.json()
    assert int(desk.platform.token("AAPL").balanceOf(wallet)) == 3 * TOKEN_UNIT // 2


def test_a_quote_for_the_investors_own_use_is_signed_for_its_wallet(
    served: tuple[Desk, Api, TestClient],
) -> None:
    desk, api, client = served
    signed = client.post(
        URL + "/quotes", json={"ticker": "AAPL", "side": "buy", "quantity": "1"}, headers=api.participant
    )
    assert signed.status_code == 200, signed.json()
    quote = signed.json()
    assert quote["user"] == desk.platform.wallet
    assert quote["quantity"] == str(TOKEN_UNIT)
    minter = desk.minter("AAPL")
    assert quote["minter"] == minter.address
    desk.approve(desk.platform.wallet, "AAPL")
    terms = (
        quote["chain_id"],
        bytes.fromhex(quote["attestation_id"][2:]),
        quote["user"],
        quote["token"],
        int(quote["price"]),
        int(quote["quantity"]),
        quote["side"],
        quote["expiry"],
    )
    minter.mint_with_attestation.transact(
        terms, bytes.fromhex(quote["signature"][2:]), sender=desk.platform.wallet
    )
    assert int(desk.platform.token("AAPL").balanceOf(desk.platform.wallet)) == TOKEN_UNIT


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ticker": "AAPL", "side": "buy", "quantity": "500"}, "inventory_exhausted"),
        ({"ticker": "HOOD", "side": "buy", "quantity": "1"}, "unknown_ticker"),
        ({"ticker": "AAPL", "side": "buy", "quantity": "0.000000001"}, "invalid_quantity"),
        ({"ticker": "AAPL", "side": "sell", "quantity": "1"}, "insufficient_balance"),
    ],
)
def test_a_refused_trade_is_a_problem_and_moves_nothing(
    served: tuple[Desk, Api, TestClient], body: dict[str, Any], code: str
) -> None:
    desk, api, client = served
    usdc = int(desk.platform.usdc.balanceOf(desk.platform.wallet))
    refused = _trade(client, api, f"refused-{code}", body)
    assert refused.status_code == 422, refused.json()
    assert refused.json()["code"] == code
    assert int(desk.platform.usdc.balanceOf(desk.platform.wallet)) == usdc
    assert desk.attestation.open_quotes() == []


def test_outside_the_sessions_the_refusal_names_the_next_opening(
    served: tuple[Desk, Api, TestClient],
) -> None:
    desk, api, client = served
    desk.platform.clock.advance(SATURDAY - desk.platform.clock.now())
    assert client.get(URL, headers=api.participant).json()["open_now"] is False
    refused = _trade(client, api, "weekend", {"ticker": "AAPL", "side": "buy", "quantity": "1"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "outside_issuance_hours"
    assert "2025-12-08 09:30" in refused.json()["detail"]
