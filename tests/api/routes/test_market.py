"""Instruments, quotes, the market calendar and the broker, for every role."""

from datetime import datetime, timedelta

import pytest
from tests.ports import free_port
from tests.support.api import Api

from equitoken.brokers.alpaca import AlpacaBroker

V1 = "/api/v1"


def test_every_role_lists_the_instruments_page_by_page(api: Api) -> None:
    for key in (api.operator, api.participant, api.retail):
        first = api.client.get(f"{V1}/instruments", params={"limit": 2}, headers=key).json()
        rest = api.client.get(
            f"{V1}/instruments", params={"limit": 2, "cursor": first["next_cursor"]}, headers=key
        ).json()

        assert [i["ticker"] for i in first["items"] + rest["items"]] == ["AAPL", "HOOD", "MSTR"]
        assert rest["next_cursor"] is None


def test_an_instrument_names_its_token_on_the_chain(api: Api) -> None:
    aapl = api.client.get(f"{V1}/instruments/aapl", headers=api.retail).json()

    assert aapl["isin"] == "US0378331005"
    assert aapl["profile"] == "open"
    assert aapl["chains"] == [
        {"chain_id": api.platform.onchain.chain_id, "token": api.platform.token("AAPL").address}
    ]


def test_a_quote_is_the_replayed_price_now(api: Api) -> None:
    quote = api.client.get(f"{V1}/instruments/AAPL/quote", headers=api.participant).json()
    expected = api.context.prices.quote("AAPL", api.platform.clock.now())

    assert quote["price"] == str(expected.price)
    assert datetime.fromisoformat(quote["as_of"]) == expected.at
    assert quote["market_phase"] == "regular"


@pytest.mark.parametrize("path", ["/instruments/TSLA", "/instruments/TSLA/quote"])
def test_an_instrument_not_issued_here_is_404(api: Api, path: str) -> None:
    response = api.client.get(V1 + path, headers=api.retail)

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_instrument"


def test_the_market_follows_the_calendar(api: Api) -> None:
    api.platform.clock.set(datetime.fromisoformat("2025-12-25T15:00:00+00:00"))  # Christmas, a Thursday
    christmas = api.client.get(f"{V1}/market", headers=api.retail).json()
    api.platform.clock.set(datetime.fromisoformat("2026-11-26T15:00:00+00:00"))  # Thanksgiving

    market = api.client.get(f"{V1}/market", headers=api.retail).json()

    assert market["calendar"] == "XNYS"
    assert market["phase"] == "closed"
    assert market["is_holiday"] is True
    assert market["next_open"] == "2026-11-27T14:30:00Z"
    assert market["next_close"] == "2026-11-27T18:00:00Z"  # the day after Thanksgiving closes at 13:00
    assert christmas["is_holiday"] is True
    assert christmas["next_close"] == "2025-12-26T21:00:00Z"


def test_a_weekend_is_not_a_holiday(api: Api) -> None:
    api.platform.clock.advance(timedelta(days=5))  # Saturday

    assert api.client.get(f"{V1}/market", headers=api.retail).json()["is_holiday"] is False


def test_the_broker_answers(api: Api) -> None:
    broker = api.client.get(f"{V1}/broker", headers=api.operator).json()

    assert broker == {"name": "paper", "connected": True, "market_phase": "regular"}


def test_a_broker_that_cannot_be_reached_is_reported_disconnected(api: Api) -> None:
    port = free_port()
    api.context.broker = AlpacaBroker("key", "secret", url_override=f"http://127.0.0.1:{port}")
    api.context.broker_name = "alpaca"

    broker = api.client.get(f"{V1}/broker", headers=api.operator).json()

    assert broker["name"] == "alpaca"
    assert broker["connected"] is False


@pytest.mark.parametrize("path", ["/me", "/instruments", "/instruments/AAPL/quote", "/market", "/broker"])
def test_reads_need_a_valid_key(api: Api, path: str) -> None:
    missing = api.client.get(V1 + path)
    wrong = api.client.get(V1 + path, headers={"X-API-Key": "eqt_not-a-key"})

    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == "unauthenticated"


def test_me_names_the_caller(api: Api) -> None:
    assert api.client.get(f"{V1}/me", headers=api.operator).json() == {
        "role": "operator",
        "investor_id": None,
        "name": "ops desk",
    }
    assert api.client.get(f"{V1}/me", headers=api.participant).json() == {
        "role": "participant",
        "investor_id": api.platform.participant.id,
        "name": "Jane Street Financial Ltd",
    }
    assert api.client.get(f"{V1}/me", headers=api.retail).json()["role"] == "investor"


def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    missing = api.client.get(f"{V1}/nothing-here", headers=api.operator)
    method = api.client.delete(f"{V1}/instruments", headers=api.operator)

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert method.status_code == 405
    assert method.json()["code"] == "method_not_allowed"
