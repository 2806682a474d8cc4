"""The perpetuals venue through the API: a real issuance on the in-process chain, the real PerpVault and
PerpMarket deployed beside it, the issuer's real database and outbox, and real API keys. The markets
show their mark, state, funding and open interest; an investor opens, partly closes, adds margin to,
sets triggers on and closes a position, each action sent once per key; while the market is closed it
queues an order and cancels it; every bad action is refused with its code and changes nothing."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.support.derivatives_platform import LP_USDC, Derivatives, derivatives_world

from equitoken.api import ApiContext, create_app
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus

URL = "/api/v1/perps"
NOBODY = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Derivatives]:
    """One platform for the module: the tests run in order, each leaving no position open."""
    yield from derivatives_world(tmp_path_factory.mktemp("perps-api"), prices, calendar)


def state(world: Derivatives) -> tuple[Any, ...]:
    """Everything an action could change: balances, positions, orders, the vault, stored rows."""
    platform, reader = world.platform, world.perps.reader
    wallets = (platform.wallet, platform.other_wallet)
    return (
        [int(platform.usdc.balanceOf(w)) for w in wallets],
        [reader.positions(w) for w in wallets],
        reader.orders(),
        reader.vault(),
        world.stored(),
    )


def test_the_markets_and_the_vault_show_the_mark_state_funding_and_liquidity(world: Derivatives) -> None:
    markets = world.get(f"{URL}/markets", world.walletless)
    vault = world.get(f"{URL}/vault", world.walletless)

    [aapl] = markets
    assert (aapl["ticker"], aapl["state"], aapl["state_label"]) == ("AAPL", "open", "open")
    answer = world.perps.reader.mark("AAPL")[0]
    assert Decimal(aapl["mark"]) == Decimal(answer) / 10**8
    assert (aapl["long_size"], aapl["short_size"], aapl["skew"]) == ("0", "0", "0")
    assert aapl["funding_rate"] == "0"
    assert aapl["parameters"]["max_leverage"] == "10"
    assert aapl["parameters"]["closed_policy"] == "closed"
    assert aapl["parameters"]["min_margin"] == "10"
    assert world.get(f"{URL}/markets/aapl", world.trader) == aapl
    assert Decimal(vault["assets"]) == LP_USDC / 10**6
    assert (vault["reserved"], vault["free"]) == ("0", vault["assets"])
    missing = world.client.get(f"{URL}/markets/TSLA", headers=world.trader)
    assert (missing.status_code, missing.json()["code"]) == (404, "perp_unknown_market")


def test_an_investor_opens_adds_margin_sets_triggers_and_closes_in_two_parts_each_once(
    world: Derivatives,
) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))

    opened = world.post(f"{URL}/open", "o-1", ticker="AAPL", side="long", margin="100", leverage="5")
    sent = world.stored()
    retried = world.post(f"{URL}/open", "o-1", ticker="aapl", side="long", margin="100.0", leverage="5.0")

    assert opened.status_code == retried.status_code == 200, opened.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json() == opened.json()
    assert world.stored() == sent  # no second transaction, no second answer
    receipt = opened.json()
    position = receipt["position"]
    assert (receipt["action"], receipt["wallet"], receipt["order_id"]) == ("open", platform.wallet, 0)
    assert position["position_id"] == receipt["position_id"] >= 1
    assert position["side"] == "long"
    assert Decimal(position["margin"]) < 100  # the open fee came out of it
    assert Decimal(position["leverage"]) == pytest.approx(Decimal(5), rel=Decimal("0.01"))
    assert Decimal(position["liquidation_price"]) < Decimal(position["entry"])
    assert position["funding_paid"] == "0"
    assert int(platform.usdc.balanceOf(platform.wallet)) == usdc_before - 100 * 10**6
    [listed] = world.get(f"{URL}/positions")
    assert listed["position_id"] == position["position_id"]
    assert listed["investor_id"] == platform.participant.id
    [market] = world.get(f"{URL}/markets")
    assert market["long_size"] == position["size"]
    assert Decimal(world.get(f"{URL}/vault")["reserved"]) > 0

    ident = position["position_id"]
    margin = world.post(f"{URL}/add-margin", "m-1", ticker="AAPL", position_id=ident, amount="20")
    assert margin.status_code == 200, margin.json()
    assert Decimal(margin.json()["position"]["margin"]) == Decimal(position["margin"]) + 20

    entry = Decimal(position["entry"])
    triggers = world.post(
        f"{URL}/set-triggers",
        "t-1",
        ticker="AAPL",
        position_id=ident,
        take_profit=str((entry * 2).quantize(Decimal("0.01"))),
        stop_loss=str((entry / 2).quantize(Decimal("0.01"))),
    )
    assert triggers.status_code == 200, triggers.json()
    assert Decimal(triggers.json()["position"]["take_profit"]) == (entry * 2).quantize(Decimal("0.01"))

    half = str((Decimal(position["size"]) / 2).quantize(Decimal("1e-6")))
    partly = world.post(f"{URL}/close", "c-1", ticker="AAPL", position_id=ident, size=half)
    assert partly.status_code == 200, partly.json()
    assert Decimal(partly.json()["position"]["size"]) == Decimal(position["size"]) - Decimal(half)
    closed = world.post(f"{URL}/close", "c-2", ticker="AAPL", position_id=ident)
    assert closed.status_code == 200, closed.json()
    assert closed.json()["position"] is None
    assert world.get(f"{URL}/positions") == []
    assert world.get(f"{URL}/vault")["reserved"] == "0"
    # Fees and spread only: the investor got back all but a few dollars of its 120.
    assert usdc_before - 5 * 10**6 < int(platform.usdc.balanceOf(platform.wallet)) < usdc_before


def test_while_closed_an_open_is_refused_with_a_conflict_and_an_order_queues_and_cancels(
    world: Derivatives,
) -> None:
    world.republish(MarketStatus.CLOSED)
    before = state(world)

    refused = world.post(f"{URL}/open", "x-1", ticker="AAPL", side="short", margin="50", leverage="2")

    assert refused.status_code == 409
    assert refused.json()["code"] == "perp_market_closed"
    assert "request one instead" in refused.json()["detail"]
    assert state(world) == before
    assert world.get(f"{URL}/markets/AAPL")["state"] == "closed"

    queued = world.post(f"{URL}/request-open", "q-1", ticker="AAPL", side="short", margin="50", leverage="2")
    assert queued.status_code == 200, queued.json()
    order = queued.json()["order"]
    assert (order["kind"], order["side"], order["margin"], order["leverage"]) == ("open", "short", "50", "2")
    assert world.get(f"{URL}/orders") == [order]
    cancelled = world.post(f"{URL}/cancel-order", "q-2", ticker="AAPL", order_id=order["order_id"])
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["order_id"] == order["order_id"]
    assert world.get(f"{URL}/orders") == []
    world.republish(MarketStatus.OPEN)


@pytest.mark.parametrize(
    ("action", "body", "status", "code", "detail"),
    [
        (
            "open",
            {"side": "long", "margin": "100", "leverage": "11"},
            422,
            "perp_invalid_amount",
            "1x to 10x",
        ),
        ("open", {"side": "long", "margin": "5", "leverage": "2"}, 422, "perp_invalid_amount", "minimum"),
        ("open", {"side": "long", "margin": "1.0000001", "leverage": "2"}, 422, "invalid_amount", "USDC"),
        ("open", {"side": "long", "margin": "9999999", "leverage": "2"}, 422, "insufficient_funds", "USDC"),
        ("open", {"side": "up", "margin": "100", "leverage": "2"}, 422, "invalid_request", "side"),
        ("open", {"side": "long", "margin": "100"}, 422, "invalid_request", "leverage"),
        (
            "open",
            {"side": "long", "margin": "100", "leverage": "2", "acceptable_price": "1"},
            422,
            "perp_limit",
            "acceptable price",
        ),
        (
            "open",
            {"side": "long", "margin": "100", "leverage": "2", "take_profit": "1"},
            422,
            "perp_invalid_trigger",
            "take-profit",
        ),
        (
            "open",
            {"ticker": "TSLA", "side": "long", "margin": "100", "leverage": "2"},
            422,
            "perp_unknown_market",
            "TSLA",
        ),
        ("close", {"position_id": 999}, 422, "perp_unknown_position", "999"),
        ("add-margin", {"position_id": 999, "amount": "10"}, 422, "perp_unknown_position", "999"),
        ("set-triggers", {"position_id": 999}, 422, "perp_unknown_position", "999"),
        ("cancel-order", {"order_id": 999}, 422, "perp_unknown_position", "999"),
        (
            "request-open",
            {"side": "long", "margin": "100", "leverage": "2"},
            409,
            "perp_market_closed",
            "open",
        ),
        ("request-close", {"position_id": 999}, 422, "perp_unknown_position", "999"),
        ("close", {"position_id": 0}, 422, "invalid_request", "position_id"),
        (
            "open",
            {"side": "long", "margin": "100", "leverage": "2", "rate": "1"},
            422,
            "invalid_request",
            "rate",
        ),
        (
            "open",
            {"side": "long", "margin": "100", "leverage": "2", "wallet": NOBODY},
            422,
            "perp_wallet_not_registered",
            "registered",
        ),
    ],
)
def test_a_bad_action_is_refused_with_its_code_and_changes_nothing(
    world: Derivatives, action: str, body: dict[str, Any], status: int, code: str, detail: str
) -> None:
    before = state(world)

    refused = world.post(f"{URL}/{action}", f"bad-{action}", **{"ticker": "AAPL", **body})

    assert refused.status_code == status, refused.json()
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert state(world) == before


def test_who_may_act_and_read(world: Derivatives) -> None:
    body: dict[str, Any] = {"ticker": "AAPL", "side": "long", "margin": "100", "leverage": "2"}
    before = state(world)

    operator = world.post(f"{URL}/open", "w-1", world.operator, **body)
    walletless = world.post(f"{URL}/open", "w-2", world.walletless, **body)
    unauthenticated = world.client.post(f"{URL}/open", json=body)
    prying = world.client.get(
        f"{URL}/positions", params={"investor_id": world.other_id}, headers=world.trader
    )

    assert (operator.status_code, operator.json()["code"]) == (403, "forbidden")
    assert (walletless.status_code, walletless.json()["code"]) == (422, "perp_wallet_not_registered")
    assert unauthenticated.status_code == 401
    assert prying.status_code == 403
    assert world.get(f"{URL}/positions", world.operator) == []
    assert state(world) == before


def test_the_same_key_on_another_call_is_a_conflict(world: Derivatives) -> None:
    body: dict[str, Any] = {"ticker": "AAPL", "side": "long", "margin": "20", "leverage": "2"}
    assert world.post(f"{URL}/open", "k-1", **body).status_code == 200
    [position] = world.get(f"{URL}/positions")
    before = state(world)

    again = world.post(f"{URL}/open", "k-1", **{**body, "margin": "30"})

    assert (again.status_code, again.json()["code"]) == (409, "idempotency_conflict")
    assert state(world) == before
    closed = world.post(f"{URL}/close", "k-2", ticker="AAPL", position_id=position["position_id"])
    assert closed.status_code == 200, closed.json()


def test_without_a_perpetuals_venue_the_routes_are_not_served(world: Derivatives) -> None:
    context = world.context
    bare = ApiContext(
        issuer=context.issuer,
        calendar=context.calendar,
        prices=context.prices,
        broker=context.broker,
        clock=context.clock,
        database=context.database,
    )
    client = world.client.__class__(create_app(bare), raise_server_exceptions=False)

    assert client.get(f"{URL}/markets", headers=world.trader).status_code == 404
