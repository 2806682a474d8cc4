"""The order processor through the API: an investor quotes an order for its wallet, places it on-chain
with the quote, and follows it to filled; another investor does not see it; a refused quote is a 422
problem that signed nothing."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import Api
from tests.support.order_processor import ProcessorWorld, limit_buy, processor_world

from equitoken.api import create_app
from equitoken.chain.errors import RevertError
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.market.replay import ReplayPriceSource

URL = "/api/v1/processor"


@pytest.fixture
def world(api: Api, prices: ReplayPriceSource) -> ProcessorWorld:
    world = processor_world(api.platform, prices)
    api.context.processor = ProcessorDesk(world.quoter, world.operator)
    return world


def _rebuilt(api: Api) -> TestClient:
    """Return a client on an app built with the processor in the context (mounted at creation)."""
    return TestClient(create_app(api.context), raise_server_exceptions=False)


def test_an_investor_quotes_places_and_follows_an_order_to_filled(api: Api, world: ProcessorWorld) -> None:
    client = _rebuilt(api)
    described = client.get(URL, headers=api.participant).json()
    assert described["address"] == world.processor.address
    assert "AAPL" in described["tickers"]
    assert described["fee_bps"] == 10

    body = {
        "ticker": "AAPL",
        "side": "buy",
        "order_type": "limit",
        "time_in_force": "gtc",
        "quantity": "2",
        "limit_price": "400",
    }
    response = client.post(URL + "/quotes", json=body, headers=api.participant)
    assert response.status_code == 200, response.json()
    signed = response.json()
    assert signed["quote"]["requester"] == api.platform.wallet
    assert signed["order"]["asset_quantity"] == str(2 * 10**8)

    order = signed["order"]
    terms = (
        order["recipient"],
        order["token"],
        order["sell"],
        order["order_type"],
        int(order["asset_quantity"]),
        int(order["payment_quantity"]),
        int(order["limit_price"]),
        order["time_in_force"],
    )
    quote = signed["quote"]
    wallet = api.platform.wallet
    api.platform.usdc.approve.transact(world.processor.address, 10**12, sender=wallet)
    world.processor.create_order.transact(
        terms,
        (quote["nonce"], quote["requester"], int(quote["fee"]), quote["deadline"]),
        bytes.fromhex(signed["signature"][2:]),
        sender=wallet,
    )
    world.run()

    [mine] = client.get(URL + "/orders", headers=api.participant).json()
    assert mine["state"] == "filled"
    assert mine["filled_asset"] == str(2 * 10**8)
    assert client.get(URL + "/orders", headers=api.retail).json() == []
    assert len(client.get(URL + "/orders", headers=api.operator).json()) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {
                "ticker": "AAPL",
                "side": "buy",
                "order_type": "limit",
                "quantity": "1",
                "limit_price": "1",
                "time_in_force": "fok",
            },
            "invalid_request",
        ),
        ({"ticker": "AAPL", "side": "sell", "order_type": "market", "quantity": "5"}, "invalid_request"),
        ({"ticker": "AAPL", "side": "buy", "order_type": "market", "spend": "0.5"}, "invalid_request"),
        (
            {
                "ticker": "AAPL",
                "side": "buy",
                "order_type": "market",
                "spend": "10",
                "wallet": "0x" + "11" * 20,
            },
            "processor_wallet_not_registered",
        ),
        (
            {
                "ticker": "AAPL",
                "side": "buy",
                "order_type": "limit",
                "quantity": "0.0000000001",
                "limit_price": "1",
            },
            "invalid_amount",
        ),
    ],
)
def test_a_refused_quote_is_a_problem_and_signs_nothing(
    api: Api, world: ProcessorWorld, body: dict[str, Any], code: str
) -> None:
    client = _rebuilt(api)
    response = client.post(URL + "/quotes", json=body, headers=api.participant)
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == code
    assert int(world.processor.nonces(api.platform.wallet)) == 0
    assert client.get(URL + "/orders", headers=api.operator).json() == []


def test_an_operator_key_cannot_quote(api: Api, world: ProcessorWorld) -> None:
    body = {"ticker": "AAPL", "side": "buy", "order_type": "market", "spend": "10"}
    assert _rebuilt(api).post(URL + "/quotes", json=body, headers=api.operator).status_code == 403


@pytest.fixture
def retail_wallet(api: Api) -> str:
    """Bind a wallet whose key the platform holds to the retail investor, and fund it with USDC."""
    wallet = api.platform.chain.accounts[12]
    api.platform.issuer.investors.bind_wallet(api.retail_id, wallet)
    api.platform.usdc.mint.transact(wallet, 10_000 * 10**6, sender=api.platform.onchain.roles.admin)
    return wallet


def _place(client: TestClient, api: Api, key: str, body: dict[str, Any]) -> Any:
    return client.post(URL + "/orders", json=body, headers={**api.retail, "Idempotency-Key": key})


def test_a_retail_investor_buys_and_sells_a_restricted_token_from_the_portal(
    api: Api, world: ProcessorWorld, retail_wallet: str
) -> None:
    """The tracker model (Robinhood's EU stock tokens): HOODx is `restricted`, so its holder cannot move
    it; the investor buys and sells it only through the issuer's order processor."""
    client = _rebuilt(api)
    buy = {"ticker": "HOOD", "side": "buy", "order_type": "market", "spend": "300"}
    placed = _place(client, api, "portal-buy-1", buy)
    assert placed.status_code == 200, placed.json()
    assert _place(client, api, "portal-buy-1", buy).json() == placed.json()  # once per key
    world.run()
    [bought] = client.get(URL + "/orders", headers=api.retail).json()
    assert bought["state"] == "filled"
    held = int(api.platform.token("HOOD").balanceOf(retail_wallet))
    assert held == int(bought["filled_asset"]) > 0

    # A restricted token does not move between holders, even to a verified one.
    with pytest.raises(RevertError):
        api.platform.token("HOOD").transfer.transact(api.platform.wallet, held, sender=retail_wallet)

    usdc_before = int(api.platform.usdc.balanceOf(retail_wallet))
    shares = str(Decimal(held).scaleb(-8))
    sell = {"ticker": "HOOD", "side": "sell", "order_type": "market", "quantity": shares}
    assert _place(client, api, "portal-sell-1", sell).status_code == 200
    world.run()
    sold = client.get(URL + "/orders", headers=api.retail).json()[-1]
    assert sold["state"] == "filled"
    assert int(api.platform.token("HOOD").balanceOf(retail_wallet)) == 0
    assert int(api.platform.usdc.balanceOf(retail_wallet)) > usdc_before


def test_an_investor_cancels_an_open_order_and_is_refunded(
    api: Api, world: ProcessorWorld, retail_wallet: str
) -> None:
    client = _rebuilt(api)
    usdc_before = int(api.platform.usdc.balanceOf(retail_wallet))
    body = {
        "ticker": "AAPL",
        "side": "buy",
        "order_type": "limit",
        "quantity": "1",
        "limit_price": "1",
        "time_in_force": "gtc",
    }
    order_id = _place(client, api, "portal-low-bid", body).json()["order_id"]
    world.operator.process()
    cancel = client.post(f"{URL}/orders/{order_id}/cancel", headers={**api.retail, "Idempotency-Key": "c1"})
    assert cancel.status_code == 200, cancel.json()
    world.run()
    [order] = client.get(URL + "/orders", headers=api.retail).json()
    assert order["state"] == "cancelled"
    assert int(api.platform.usdc.balanceOf(retail_wallet)) == usdc_before
    other = client.post(
        f"{URL}/orders/{order_id}/cancel", headers={**api.participant, "Idempotency-Key": "c2"}
    )
    assert other.status_code == 404


def test_an_order_from_a_wallet_without_usdc_is_refused_and_nothing_is_placed(
    api: Api, world: ProcessorWorld
) -> None:
    client = _rebuilt(api)
    wallet = api.platform.chain.accounts[13]
    api.platform.issuer.investors.bind_wallet(api.retail_id, wallet)
    body = {"ticker": "AAPL", "side": "buy", "order_type": "market", "spend": "100"}
    refused = _place(client, api, "portal-broke", body)
    assert refused.status_code == 422, refused.json()
    assert refused.json()["code"] == "processor_transaction"
    assert int(world.processor.next_order_id()) == 1


def test_an_operator_retries_a_held_order_once(api: Api, world: ProcessorWorld) -> None:
    client = _rebuilt(api)
    platform = api.platform
    order_id = world.place(limit_buy("AAPL", "1", "400"))
    agent = platform.onchain.roles.compliance_agent
    platform.token("AAPL").set_address_frozen.transact(platform.wallet, True, sender=agent)
    world.run()
    body = {"resolution": "retry", "note": "unfrozen after review"}
    path = f"{URL}/orders/{order_id}/resolve"

    assert (
        client.post(path, json=body, headers={**api.participant, "Idempotency-Key": "r0"}).status_code == 403
    )
    platform.token("AAPL").set_address_frozen.transact(platform.wallet, False, sender=agent)
    retried = client.post(path, json=body, headers={**api.operator, "Idempotency-Key": "r1"})
    assert retried.status_code == 200, retried.json()
    assert retried.json()["state"] == "ordered"
    world.run()
    again = client.post(path, json=body, headers={**api.operator, "Idempotency-Key": "r2"})
    assert again.status_code == 409
    assert again.json()["code"] == "processor_order_not_held"
    missing = client.post(
        f"{URL}/orders/99/resolve", json=body, headers={**api.operator, "Idempotency-Key": "r3"}
    )
    assert missing.status_code == 404
    [order] = client.get(URL + "/orders", headers=api.operator).json()
    assert order["state"] == "filled"
