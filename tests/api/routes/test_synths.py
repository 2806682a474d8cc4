"""The synthetic stocks through the API: a real issuance on the in-process chain, the real Synth and
SynthVault deployed beside it over the issuance's price feed, the issuer's real database and outbox,
and real API keys. An investor opens a position, deposits, mints, burns, withdraws and closes it, each
action sent once per key; while the stock's market is closed minting is a conflict; every bad action
is refused with its code and changes nothing."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.support.derivatives_platform import Derivatives, derivatives_world

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus

URL = "/api/v1/synths"
SYNTH = 10**18


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Derivatives]:
    yield from derivatives_world(tmp_path_factory.mktemp("synths-api"), prices, calendar)


def state(world: Derivatives) -> tuple[Any, ...]:
    """Everything an action could change: balances, positions, the vault's totals, stored rows."""
    platform, reader = world.platform, world.synths.reader
    wallet = platform.wallet
    return (
        int(platform.usdc.balanceOf(wallet)),
        int(reader.synth_contract("AAPL").balanceOf(wallet)),
        reader.positions("AAPL"),
        reader.vault("AAPL"),
        world.stored(),
    )


def test_the_vaults_show_their_price_state_ratio_and_totals(world: Derivatives) -> None:
    [aapl] = world.get(f"{URL}/vaults", world.walletless)

    assert (aapl["ticker"], aapl["symbol"], aapl["state"]) == ("AAPL", "sAAPL", "open")
    assert (aapl["min_collateral_ratio"], aapl["liquidation_penalty"]) == ("1.5", "0.1")
    assert aapl["max_price_age"] == 3_600
    assert (aapl["total_collateral"], aapl["total_debt"], aapl["supply"], aapl["positions"]) == (
        "0",
        "0",
        "0",
        0,
    )
    answer, _ = world.synths.reader.raw_price("AAPL")
    assert Decimal(aapl["price"]) == Decimal(answer) / 10**8
    assert world.get(f"{URL}/vaults/aapl") == aapl
    missing = world.client.get(f"{URL}/vaults/TSLA", headers=world.trader)
    assert (missing.status_code, missing.json()["code"]) == (404, "synths_unknown_synth")


def test_an_investor_opens_mints_burns_and_closes_a_position_each_action_once(world: Derivatives) -> None:
    platform, reader = world.platform, world.synths.reader
    wallet = platform.wallet
    usdc_before = int(platform.usdc.balanceOf(wallet))

    opened = world.post(f"{URL}/open", "o-1", ticker="AAPL", collateral="3000", amount="5")
    sent = world.stored()
    replayed = world.post(f"{URL}/open", "o-1", ticker="aapl", collateral="3000.0", amount="5.00")

    assert opened.status_code == replayed.status_code == 200, opened.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == opened.json()
    assert world.stored() == sent  # no second transaction, no second answer
    receipt = opened.json()
    position = receipt["position"]
    assert (receipt["action"], receipt["collateral"], receipt["synth"]) == ("open", "3000", "5")
    assert (position["collateral"], position["debt"], position["min_collateral_ratio"]) == (
        "3000",
        "5",
        "1.5",
    )
    price = Decimal(position["price"])
    assert Decimal(position["collateral_ratio"]) == (3000 / (5 * price)).quantize(
        Decimal("1e-8"), "ROUND_DOWN"
    )
    assert Decimal(position["liquidation_price"]) == pytest.approx(Decimal(3000) / 5 / Decimal("1.5"))
    assert int(reader.synth_contract("AAPL").balanceOf(wallet)) == 5 * SYNTH
    assert world.get(f"{URL}/positions") == [position]
    ident = receipt["position_id"]

    steps: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
        ("deposit", {"amount": "500"}, ("3500", "5")),
        ("mint", {"amount": "1"}, ("3500", "6")),
        ("burn", {"amount": "2"}, ("3500", "4")),
        ("withdraw", {"amount": "100"}, ("3400", "4")),
        ("burn", {}, ("3400", "0")),
    ]
    for number, (action, body, (collateral, debt)) in enumerate(steps):
        done = world.post(f"{URL}/{action}", f"s-{number}", ticker="AAPL", position_id=ident, **body)
        assert done.status_code == 200, (action, done.json())
        assert (done.json()["position"]["collateral"], done.json()["position"]["debt"]) == (collateral, debt)

    closed = world.post(f"{URL}/close", "c-1", ticker="AAPL", position_id=ident)

    assert closed.status_code == 200, closed.json()
    assert (closed.json()["position"], closed.json()["collateral"]) == (None, "3400")
    assert world.get(f"{URL}/positions") == []
    assert int(platform.usdc.balanceOf(wallet)) == usdc_before
    assert int(reader.synth_contract("AAPL").balanceOf(wallet)) == 0


@pytest.fixture(scope="module")
def held(world: Derivatives) -> int:
    """An open position of the trader's: 3000 USDC against 5 sAAPL."""
    opened = world.post(f"{URL}/open", "held-1", ticker="AAPL", collateral="3000", amount="5")
    assert opened.status_code == 200, opened.json()
    ident: int = opened.json()["position_id"]
    return ident


@pytest.mark.parametrize(
    ("action", "body", "code", "detail"),
    [
        ("open", {"collateral": "100", "amount": "5"}, "synths_below_minimum_ratio", "minimum"),
        ("open", {"collateral": "99999999", "amount": "1"}, "insufficient_funds", "USDC"),
        ("open", {"ticker": "TSLA", "collateral": "100", "amount": "0.1"}, "synths_unknown_synth", "TSLA"),
        ("open", {"collateral": "100", "amount": "0.0000000000000000001"}, "invalid_request", "amount"),
        ("open", {"collateral": "100.0000001", "amount": "0.1"}, "invalid_amount", "USDC"),
        ("open", {"collateral": "100"}, "invalid_request", "amount"),
        ("mint", {"position_id": "held", "amount": "100"}, "synths_below_minimum_ratio", "minimum"),
        ("mint", {"position_id": 999, "amount": "1"}, "synths_position_closed", "999"),
        ("mint", {"position_id": "held"}, "invalid_request", "mint needs an amount"),
        ("deposit", {"position_id": "held"}, "invalid_request", "deposit needs an amount"),
        ("withdraw", {"position_id": "held", "amount": "3000"}, "synths_below_minimum_ratio", "minimum"),
        ("burn", {"position_id": "held", "amount": "6"}, "synths_invalid_amount", ""),
        ("close", {"position_id": 0}, "invalid_request", "position_id"),
        ("open", {"collateral": "100", "amount": "0.1", "rate": "1"}, "invalid_request", "rate"),
    ],
)
def test_a_bad_action_is_refused_with_its_code_and_changes_nothing(
    world: Derivatives, held: int, action: str, body: dict[str, Any], code: str, detail: str
) -> None:
    if body.get("position_id") == "held":
        body = {**body, "position_id": held}
    before = state(world)

    refused = world.post(f"{URL}/{action}", f"bad-{action}", **{"ticker": "AAPL", **body})

    assert refused.status_code == 422, refused.json()
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert state(world) == before


def test_while_the_market_is_closed_minting_is_a_conflict_and_deposits_go_on(
    world: Derivatives, held: int
) -> None:
    world.republish(MarketStatus.CLOSED)
    assert world.get(f"{URL}/vaults/AAPL")["state"] == "closed"
    before = state(world)

    refused = world.post(f"{URL}/mint", "closed-1", ticker="AAPL", position_id=held, amount="0.1")

    assert (refused.status_code, refused.json()["code"]) == (409, "synths_suspended")
    assert state(world) == before
    deposited = world.post(f"{URL}/deposit", "closed-2", ticker="AAPL", position_id=held, amount="10")
    assert deposited.status_code == 200, deposited.json()
    world.republish(MarketStatus.OPEN)


def test_who_may_act(world: Derivatives) -> None:
    body: dict[str, Any] = {"ticker": "AAPL", "collateral": "1000", "amount": "1"}
    before = state(world)

    operator = world.post(f"{URL}/open", "w-1", world.operator, **body)
    walletless = world.post(f"{URL}/open", "w-2", world.walletless, **body)
    unauthenticated = world.client.post(f"{URL}/open", json=body)
    prying = world.client.get(
        f"{URL}/positions", params={"investor_id": world.other_id}, headers=world.trader
    )

    assert (operator.status_code, operator.json()["code"]) == (403, "forbidden")
    assert (walletless.status_code, walletless.json()["code"]) == (422, "synths_wallet_not_registered")
    assert unauthenticated.status_code == 401
    assert prying.status_code == 403
    assert state(world) == before
