"""The CFD venue through the API: the real CFD engine on the exchange's accounts, the real order-book
exchange and its members, exactly-once transfers in the issuer's database, and real API keys. An
investor moves USDC from its exchange account to its CFD account, opens and closes positions, and
moves it back; each call answered once per key; every bad call refused with its code, changing
nothing. Every derivatives operation (perpetuals, synthetics, CFDs) conforms to the OpenAPI schema."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.support.derivatives_platform import EXCHANGE_USDC, Derivatives, derivatives_world

from equitoken.api.idempotency import IdempotentCalls
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.venues.exchange.accounts import USDC

URL = "/api/v1/cfd"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Derivatives]:
    yield from derivatives_world(tmp_path_factory.mktemp("cfd-api"), prices, calendar)


def state(world: Derivatives) -> tuple[Any, ...]:
    """Everything a call could change: the CFD venue, the exchange's USDC, stored rows."""
    return (
        world.cfd.snapshot(),
        world.exchange.balance(world.trader_account, USDC),
        world.stored(),
    )


def test_the_instruments_show_their_quotes_session_leverage_and_financing(world: Derivatives) -> None:
    world.price_cfds()

    instruments = world.get(f"{URL}/instruments", world.walletless)

    assert [i["symbol"] for i in instruments] == ["AAPL", "MSTR"]
    aapl = instruments[0]
    assert aapl["state"] == "open"
    assert Decimal(aapl["bid"]) < Decimal(aapl["mid"]) < Decimal(aapl["ask"])
    now = world.platform.clock.now()
    assert Decimal(aapl["mid"]) == world.prices.quote("AAPL", now).price.to_decimal()
    assert (aapl["max_leverage"], aapl["spread_bps"]) == (5, 10)
    assert (aapl["long_financing_rate"], aapl["short_financing_rate"]) == ("0.068", "0.018")
    assert aapl["min_size"] == "0.01"


def test_an_investor_funds_its_cfd_account_trades_and_takes_the_usdc_back(world: Derivatives) -> None:
    world.price_cfds()
    empty = world.get(f"{URL}/account")
    assert (empty["account"], empty["balance"], empty["margin_level"]) == (world.trader_account, "0", None)
    assert Decimal(empty["exchange_available"]) == EXCHANGE_USDC / 10**6
    assert world.get(f"{URL}/positions") == []

    moved = world.post(f"{URL}/transfers", "t-1", direction="to_cfd", amount="1000")
    sent = state(world)
    replayed = world.post(f"{URL}/transfers", "t-1", direction="to_cfd", amount="1000.00")

    assert moved.status_code == replayed.status_code == 200, moved.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == moved.json()
    assert state(world) == sent  # moved once
    assert (moved.json()["state"], moved.json()["amount"], moved.json()["direction"]) == (
        "credited",
        "1000",
        "to_cfd",
    )
    account = world.get(f"{URL}/account")
    assert (account["balance"], account["free_margin"]) == ("1000", "1000")
    assert Decimal(account["exchange_available"]) == EXCHANGE_USDC / 10**6 - 1000
    assert [t["transfer_id"] for t in world.get(f"{URL}/transfers")] == [moved.json()["transfer_id"]]

    opened = world.post(f"{URL}/open", "o-1", symbol="aapl", side="long", size="2", leverage=5)
    traded = state(world)
    again = world.post(f"{URL}/open", "o-1", symbol="AAPL", side="long", size="2.0", leverage=5)

    assert opened.status_code == 200, opened.json()
    assert again.json() == opened.json()
    assert state(world) == traded  # one position, not two
    trade = opened.json()
    [instrument] = [i for i in world.get(f"{URL}/instruments") if i["symbol"] == "AAPL"]
    assert (trade["action"], trade["symbol"], trade["size"]) == ("open", "AAPL", "2")
    assert trade["price"] == instrument["ask"]
    assert Decimal(trade["account"]["used_margin"]) > 0
    [position] = world.get(f"{URL}/positions")
    assert (position["position_id"], position["side"], position["size"]) == (
        trade["position_id"],
        "long",
        "2",
    )
    assert position["mark"] == instrument["bid"]
    assert Decimal(position["pnl"]) < 0  # the spread
    assert len(world.cfd.positions()) == 1

    half = world.post(f"{URL}/close", "c-1", position_id=trade["position_id"], size="0.5")
    assert half.status_code == 200, half.json()
    assert (half.json()["size"], half.json()["remaining"]) == ("0.5", "1.5")
    rest = world.post(f"{URL}/close", "c-2", position_id=trade["position_id"])
    assert rest.status_code == 200, rest.json()
    assert rest.json()["remaining"] == "0"
    assert world.get(f"{URL}/positions") == []

    balance = Decimal(world.get(f"{URL}/account")["balance"])
    assert 999 < balance < 1000
    back = world.post(f"{URL}/transfers", "t-2", direction="from_cfd", amount=str(balance))
    assert back.status_code == 200, back.json()
    assert world.get(f"{URL}/account")["balance"] == "0"
    available = world.exchange.balance(world.trader_account, USDC).available
    assert available == EXCHANGE_USDC - 1000 * 10**6 + int(balance * 10**6)


@pytest.fixture
def funded(world: Derivatives) -> Derivatives:
    """The trader with 100 USDC in its CFD account and fresh prices."""
    world.price_cfds()
    if Decimal(world.get(f"{URL}/account")["balance"]) < 100:
        key = f"fund-{len(world.get(f'{URL}/transfers'))}"
        assert world.post(f"{URL}/transfers", key, direction="to_cfd", amount="100").status_code == 200
    return world


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "detail"),
    [
        ("open", {"symbol": "AAPL", "side": "long", "size": "0.001"}, 422, "cfd_invalid_size", "minimum"),
        (
            "open",
            {"symbol": "AAPL", "side": "long", "size": "1", "leverage": 6},
            422,
            "cfd_leverage_too_high",
            "5",
        ),
        ("open", {"symbol": "TSLA", "side": "long", "size": "1"}, 422, "cfd_unknown_instrument", "TSLA"),
        (
            "open",
            {"symbol": "AAPL", "side": "long", "size": "100"},
            422,
            "cfd_insufficient_margin",
            "free margin",
        ),
        ("open", {"symbol": "AAPL", "side": "up", "size": "1"}, 422, "invalid_request", "side"),
        ("open", {"symbol": "AAPL", "side": "long", "size": "1e3"}, 422, "invalid_request", "size"),
        ("close", {"position_id": 999}, 422, "cfd_unknown_position", "999"),
        ("close", {"position_id": 1, "size": "0"}, 422, "cfd_invalid_size", "positive"),
        ("transfers", {"direction": "to_cfd", "amount": "99999999"}, 422, "insufficient_funds", "less than"),
        ("transfers", {"direction": "from_cfd", "amount": "100.01"}, 422, "insufficient_funds", "at most"),
        ("transfers", {"direction": "to_cfd", "amount": "0"}, 422, "cfd_transfer_invalid", "positive"),
        ("transfers", {"direction": "to_cfd", "amount": "1.0000001"}, 422, "invalid_amount", "USDC"),
        ("transfers", {"direction": "sideways", "amount": "1"}, 422, "invalid_request", "direction"),
    ],
)
def test_a_bad_call_is_refused_with_its_code_and_changes_nothing(
    funded: Derivatives, path: str, body: dict[str, Any], status: int, code: str, detail: str
) -> None:
    world = funded
    before = state(world)

    refused = world.post(f"{URL}/{path}", f"bad-{path}", **body)

    assert refused.status_code == status, refused.json()
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert state(world) == before


def test_a_stale_price_refuses_trading_with_a_conflict(funded: Derivatives) -> None:
    world = funded
    world.platform.clock.advance(timedelta(seconds=61))
    before = state(world)

    refused = world.post(f"{URL}/open", "stale-1", symbol="AAPL", side="short", size="0.1")

    assert refused.status_code == 409
    assert refused.json()["code"] == "cfd_stale_price"
    assert state(world) == before
    world.price_cfds()


def test_who_may_trade_and_read(funded: Derivatives) -> None:
    world = funded
    before = state(world)

    operator = world.post(f"{URL}/open", "w-1", world.operator, symbol="AAPL", side="long", size="1")
    transfer = world.post(f"{URL}/transfers", "w-2", world.operator, direction="to_cfd", amount="1")
    broke = world.post(f"{URL}/transfers", "w-3", world.walletless, direction="to_cfd", amount="1")
    unauthenticated = world.client.post(f"{URL}/open", json={"symbol": "AAPL", "side": "long", "size": "1"})
    unnamed = world.client.get(f"{URL}/account", headers=world.operator)
    prying = world.client.get(f"{URL}/account", params={"investor_id": world.other_id}, headers=world.trader)

    assert (operator.status_code, operator.json()["code"]) == (403, "forbidden")
    assert (transfer.status_code, transfer.json()["code"]) == (403, "forbidden")
    assert (broke.status_code, broke.json()["code"]) == (422, "insufficient_funds")
    assert unauthenticated.status_code == 401
    assert (unnamed.status_code, prying.status_code) == (422, 403)
    theirs = world.get(f"{URL}/account", world.operator, investor_id=world.platform.participant.id)
    assert theirs["account"] == world.trader_account
    assert state(world) == before


def crash_before_the_answer_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the API die after the venue traded, before it stores its answer to the Idempotency-Key."""
    run = IdempotentCalls.run

    def crashing(
        calls: IdempotentCalls, principal: Any, key: str, fingerprint: str, call: Callable[[], Any]
    ) -> Any:
        def trade_then_die() -> Any:
            call()
            raise RuntimeError("killed between the fill and the stored answer")

        return run(calls, principal, key, fingerprint, trade_then_die)

    monkeypatch.setattr(IdempotentCalls, "run", crashing)


def test_a_retry_after_a_crash_between_the_fill_and_the_answer_trades_once(
    funded: Derivatives, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = funded
    trades = len(world.cfd.positions())
    with monkeypatch.context() as crashing:
        crash_before_the_answer_is_stored(crashing)
        lost = world.post(f"{URL}/open", "crash-o", symbol="AAPL", side="long", size="0.5", leverage=2)
    assert lost.status_code == 500
    [opened] = [p for p in world.cfd.positions() if p.account == world.trader_account][trades:]
    traded = world.cfd.snapshot()

    retried = world.post(f"{URL}/open", "crash-o", symbol="AAPL", side="long", size="0.5", leverage=2)

    assert retried.status_code == 200, retried.json()
    assert "Idempotent-Replayed" not in retried.headers  # answered by the venue, not the stored answer
    assert (retried.json()["position_id"], retried.json()["size"]) == (opened.position_id, "0.5")
    assert world.cfd.snapshot() == traded  # one trade, not two
    again = world.post(f"{URL}/open", "crash-o", symbol="AAPL", side="long", size="0.5", leverage=2)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retried.json()

    with monkeypatch.context() as crashing:
        crash_before_the_answer_is_stored(crashing)
        lost = world.post(f"{URL}/close", "crash-c", position_id=opened.position_id)
    assert lost.status_code == 500
    closed = world.cfd.snapshot()
    assert opened.position_id not in [p.position_id for p in world.cfd.positions()]

    retried = world.post(f"{URL}/close", "crash-c", position_id=opened.position_id)

    assert retried.status_code == 200, retried.json()
    assert (retried.json()["action"], retried.json()["size"], retried.json()["remaining"]) == (
        "close",
        "0.5",
        "0",
    )
    assert world.cfd.snapshot() == closed


def test_the_order_id_of_a_lost_answer_is_not_reused_for_another_order(
    funded: Derivatives, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = funded
    with monkeypatch.context() as crashing:
        crash_before_the_answer_is_stored(crashing)
        assert world.post(f"{URL}/open", "crash-x", symbol="AAPL", side="long", size="0.1").status_code == 500
    before = state(world)

    other = world.post(f"{URL}/open", "crash-x", symbol="AAPL", side="short", size="0.1")

    assert (other.status_code, other.json()["code"]) == (409, "cfd_conflicting_order")
    assert state(world) == before


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Derivatives]:
    yield from derivatives_world(tmp_path_factory.mktemp("derivatives-schema"), prices, calendar)


def test_every_derivatives_operation_conforms_to_the_schema(fuzzed: Derivatives) -> None:
    # The whole-API schemathesis test (tests/api/test_openapi.py) runs without the derivatives venues.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed.client.app)
    exercised = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operation = result.ok()
        if not any(f"/{venue}/" in operation.label for venue in ("perps", "synths", "cfd")):
            continue

        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=fuzzed.trader, checks=CHECKS)

        call()
        exercised.append(operation.label)

    assert len(exercised) == 28
