"""The lending venue through the API: a real issuance on the in-process chain, the real lending contracts
deployed beside it, the issuer's real database and outbox, and real API keys. The markets show Kamino's
default LTVs and the oracle adapter's state as the feed moves; an investor supplies, borrows, repays and
withdraws from its wallet, each action sent once per key; every bad action is refused with its reason
and changes nothing, on-chain or in the database."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select
from tests.support.lending_platform import LENDER_USDC, LendingPlatform, open_lending, publish
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ApiIdempotencyRow, ChainTransactionRow

URL = "/api/v1/lending"
TOKEN = 10**8
DOLLAR = 10**6
NOBODY = "0x000000000000000000000000000000000000dEaD"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class LendingApi:
    platform: Platform
    venue: LendingPlatform
    client: TestClient
    prices: ReplayPriceSource
    borrower: dict[str, str]  # the participant: its wallet holds AAPL and USDC
    lender: dict[str, str]  # another participant: USDC only
    walletless: dict[str, str]  # a retail investor with no wallet
    operator: dict[str, str]
    lender_id: str

    def act(
        self, action: str, key: str, headers: dict[str, str] | None = None, **body: Any
    ) -> httpx2.Response:
        response: httpx2.Response = self.client.post(
            f"{URL}/{action}", json=body, headers={**(headers or self.borrower), "Idempotency-Key": key}
        )
        return response

    def market(self, ticker: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.get(f"{URL}/markets/{ticker}", headers=self.borrower).json()
        return found

    def positions(self, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.get(
            f"{URL}/positions", headers=headers or self.borrower
        ).json()
        return found

    def state(self) -> tuple[Any, ...]:
        """Everything an action could change: balances, positions, totals, stored transactions and answers."""
        platform, lending = self.platform, self.venue.client
        wallets = (platform.wallet, platform.other_wallet)
        reader = lending.reader
        with platform.issuer.db.transaction() as session:
            stored = (
                session.scalar(select(func.count()).select_from(ChainTransactionRow)),
                session.scalar(select(func.count()).select_from(ApiIdempotencyRow)),
            )
        return (
            [int(platform.usdc.balanceOf(w)) for w in wallets],
            [int(platform.token("AAPL").balanceOf(w)) for w in wallets],
            [reader.raw_position(t, w) for t in lending.deployment.markets for w in wallets],
            [reader.totals(t) for t in lending.deployment.markets],
            stored,
        )


def _build(
    database: Database, directory: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> LendingApi:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    platform = build_platform(chain, database, prices, calendar, directory)
    venue = open_lending(platform, prices)
    investors = platform.issuer.investors
    kyc = platform.clock.now() + timedelta(days=365)
    lender = investors.onboard("Flow Traders B.V.", "NL", "authorised_participant", kyc_expires_at=kyc)
    investors.bind_wallet(lender.id, platform.other_wallet)
    walletless = investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=kyc)
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        lending=venue.client,
    )
    keys = context.keys
    return LendingApi(
        platform,
        venue,
        TestClient(create_app(context), raise_server_exceptions=False),
        prices,
        borrower={"X-API-Key": keys.issue(Role.PARTICIPANT, platform.participant.id, "borrower")},
        lender={"X-API-Key": keys.issue(Role.PARTICIPANT, lender.id, "lender")},
        walletless={"X-API-Key": keys.issue(Role.INVESTOR, walletless.id, "ada")},
        operator={"X-API-Key": keys.issue(Role.OPERATOR, None, "ops")},
        lender_id=lender.id,
    )


@pytest.fixture
def api(
    api_database: Database, tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> LendingApi:
    return _build(api_database, tmp_path, prices, calendar)


@pytest.fixture(scope="module")
def refusing(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[LendingApi]:
    """One platform for the refusals: each changes nothing, which each test checks."""
    directory = tmp_path_factory.mktemp("lending-refusals")
    database = Database(sqlite_url(directory / "api.sqlite"))
    database.migrate()
    yield _build(database, directory, prices, calendar)
    database.close()


def _move_on_and_publish(api: LendingApi, status: MarketStatus) -> None:
    # A feed takes a round at most hourly.
    api.platform.clock.advance(timedelta(hours=1, seconds=1))
    for ticker in ("AAPL", "MSTR"):
        publish(api.platform, api.prices, ticker, status)


def test_the_markets_show_their_ltvs_supply_and_the_adapters_state(api: LendingApi) -> None:
    markets = api.client.get(f"{URL}/markets", headers=api.walletless).json()

    assert [m["ticker"] for m in markets] == ["AAPL", "MSTR"]
    aapl, mstr = markets
    assert (aapl["max_ltv"], aapl["lltv"], mstr["max_ltv"], mstr["lltv"]) == ("0.4", "0.5", "0.3", "0.4")
    assert aapl["state"] == mstr["state"] == "open"
    assert aapl["borrow_ltv"] == "0.4"
    assert aapl["supplied"] == str(LENDER_USDC // DOLLAR)
    assert aapl["borrowed"] == "0"
    assert aapl["utilisation"] == "0"
    assert aapl["supply_apy"] == "0"
    assert Decimal(aapl["borrow_apr"]) > 0
    assert aapl["closed_ltv_cut"] == "0.1"
    assert aapl["grace_period"] == 300
    feed = api.venue.client.reader.oracle("AAPL").price_feed()
    answer = api.platform.chain.at(feed, compile_contract("oracle/PriceFeed.vy")).latestRoundStatus()[1]
    assert Decimal(aapl["price"]) == Decimal(int(answer)) / 10**8
    assert aapl["collateral_token"] == api.platform.onchain.deployment.instrument("AAPL").token
    assert api.market("aapl") == aapl

    _move_on_and_publish(api, MarketStatus.CLOSED)
    closed = api.market("MSTR")
    assert (closed["state"], closed["state_label"]) == ("closed", "closed (LTV cut)")
    assert closed["borrow_ltv"] == "0.3"  # the max LTV is already below the LLTV less the cut

    _move_on_and_publish(api, MarketStatus.HALTED)
    halted = api.market("AAPL")
    assert (halted["state"], halted["borrow_ltv"], halted["price"]) == ("halted", None, None)

    missing = api.client.get(f"{URL}/markets/TSLA", headers=api.borrower)
    assert missing.status_code == 404
    assert missing.json()["code"] == "lending_unknown_market"


def test_an_investor_borrows_against_its_tokens_repays_and_withdraws_each_action_once(
    api: LendingApi,
) -> None:
    platform = api.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))

    deposited = api.act("supply-collateral", "c-1", ticker="AAPL", amount="2")
    assert deposited.status_code == 200, deposited.json()
    assert deposited.json()["position"]["collateral"] == "2"
    assert deposited.json()["position"]["health_factor"] is None

    borrowed = api.act("borrow", "b-1", ticker="AAPL", amount="100")
    retried = api.act("borrow", "b-1", ticker="AAPL", amount="100.000")

    assert borrowed.status_code == retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json() == borrowed.json()
    receipt = borrowed.json()
    assert (receipt["action"], receipt["amount"], receipt["wallet"]) == ("borrow", "100", platform.wallet)
    assert int(platform.usdc.balanceOf(platform.wallet)) == usdc_before + 100 * DOLLAR
    [position] = api.positions()
    assert position["ticker"] == "AAPL"
    assert position["debt"] == "100"
    value = Decimal(position["collateral_value"])
    assert Decimal(position["health_factor"]) == (value * Decimal("0.5") / 100).quantize(Decimal("1e-8"))
    assert Decimal(position["liquidation_price"]) == 100  # 100 USDC over 2 tokens at an LLTV of 50%
    assert Decimal(position["borrow_limit"]) == (value * Decimal("0.4")).quantize(
        Decimal("1e-6"), "ROUND_DOWN"
    )
    assert position["liquidatable"] is False
    assert api.market("AAPL")["borrowed"] == "100"

    repaid = api.act("repay", "r-1", ticker="AAPL")
    assert repaid.status_code == 200, repaid.json()
    assert repaid.json()["position"]["debt"] == "0"
    withdrawn = api.act("withdraw-collateral", "w-1", ticker="AAPL")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["amount"] == "2"
    assert api.positions() == []
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == 5 * TOKEN

    supplied = api.act("supply", "s-1", api.lender, ticker="MSTR", amount="1000.5")
    assert supplied.status_code == 200, supplied.json()
    assert supplied.json()["position"]["supplied"] == "1000.5"
    [lent] = api.positions(api.lender)
    assert (lent["ticker"], lent["wallet"], lent["health_factor"]) == ("MSTR", platform.other_wallet, None)
    out = api.act("withdraw", "o-1", api.lender, ticker="MSTR")
    assert out.status_code == 200, out.json()
    assert api.positions(api.lender) == []


def test_an_operator_reads_anyones_positions_and_an_investor_only_its_own(api: LendingApi) -> None:
    assert api.act("supply", "s-1", api.lender, ticker="AAPL", amount="10").status_code == 200

    everyone = api.client.get(f"{URL}/positions", headers=api.operator).json()
    theirs = api.client.get(f"{URL}/positions", params={"investor_id": api.lender_id}, headers=api.operator)
    prying = api.client.get(f"{URL}/positions", params={"investor_id": api.lender_id}, headers=api.borrower)

    assert [(p["investor_id"], p["ticker"], p["supplied"]) for p in everyone] == [
        (api.lender_id, "AAPL", "10")
    ]
    assert theirs.json() == everyone
    assert prying.status_code == 403
    assert api.positions() == []


@pytest.mark.parametrize(
    ("action", "body", "status", "code", "detail"),
    [
        ("borrow", {"ticker": "AAPL", "amount": "1"}, 422, "lending_unhealthy", "beyond its borrow limit"),
        ("borrow", {"ticker": "TSLA", "amount": "1"}, 422, "lending_unknown_market", "TSLA"),
        ("borrow", {"ticker": "HOOD", "amount": "1"}, 422, "lending_unknown_market", "HOOD"),
        ("borrow", {"ticker": "AAPL"}, 422, "invalid_request", "borrow needs an amount"),
        (
            "borrow",
            {"ticker": "AAPL", "amount": "1", "wallet": "other"},
            422,
            "lending_wallet_not_registered",
            "",
        ),
        ("borrow", {"ticker": "AAPL", "amount": "1", "rate": "0"}, 422, "invalid_request", "rate"),
        ("supply", {"ticker": "AAPL", "amount": "1.0000001"}, 422, "invalid_amount", "USDC's 6"),
        ("supply", {"ticker": "AAPL", "amount": "-1"}, 422, "invalid_request", "amount"),
        ("supply", {"ticker": "AAPL", "amount": "0"}, 422, "lending_invalid_amount", "positive"),
        ("supply", {"ticker": "AAPL", "amount": "999999999"}, 422, "insufficient_funds", "less than"),
        ("supply-collateral", {"ticker": "AAPL", "amount": "0.000000001"}, 422, "invalid_amount", "(8)"),
        ("supply-collateral", {"ticker": "AAPL", "amount": "6"}, 422, "insufficient_funds", "5 AAPL"),
        ("supply-collateral", {"ticker": "AAPL"}, 422, "invalid_request", "tokens"),
        (
            "withdraw-collateral",
            {"ticker": "AAPL", "amount": "1"},
            422,
            "lending_invalid_amount",
            "collateral",
        ),
        ("withdraw", {"ticker": "AAPL"}, 422, "lending_invalid_amount", "supplied nothing"),
        ("repay", {"ticker": "AAPL"}, 422, "lending_invalid_amount", "owes nothing"),
    ],
)
def test_a_bad_action_is_refused_with_its_reason_and_changes_nothing(
    refusing: LendingApi, action: str, body: dict[str, Any], status: int, code: str, detail: str
) -> None:
    api = refusing
    if body.get("wallet") == "other":
        body = {**body, "wallet": api.platform.other_wallet}
    before = api.state()

    refused = api.act(action, "bad-1", **body)

    assert refused.status_code == status, refused.json()
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert api.state() == before


def test_who_may_act_and_for_which_wallet(api: LendingApi) -> None:
    api.platform.issuer.investors.bind_wallet(api.lender_id, NOBODY)
    before = api.state()

    operator = api.act("supply", "k-1", api.operator, ticker="AAPL", amount="1")
    walletless = api.act("supply", "k-2", api.walletless, ticker="AAPL", amount="1")
    unsigned = api.act("supply", "k-3", api.lender, ticker="AAPL", amount="1", wallet=NOBODY)
    unauthenticated = api.client.post(f"{URL}/supply", json={"ticker": "AAPL", "amount": "1"})

    assert (operator.status_code, operator.json()["code"]) == (403, "forbidden")
    assert (walletless.status_code, walletless.json()["code"]) == (422, "lending_wallet_not_registered")
    assert (unsigned.status_code, unsigned.json()["code"]) == (422, "lending_wallet_not_custodied")
    assert unauthenticated.status_code == 401
    assert api.state() == before


def test_a_halted_market_refuses_borrows_with_a_conflict_and_changes_nothing(api: LendingApi) -> None:
    assert api.act("supply-collateral", "c-1", ticker="AAPL", amount="1").status_code == 200
    _move_on_and_publish(api, MarketStatus.HALTED)
    before = api.state()

    refused = api.act("borrow", "b-1", ticker="AAPL", amount="10")

    assert refused.status_code == 409
    assert refused.json()["code"] == "lending_market_unavailable"
    assert "halted" in refused.json()["detail"]
    assert api.state() == before
    [position] = api.positions()
    assert (position["price"], position["health_factor"], position["collateral"]) == (None, None, "1")


def test_without_a_lending_venue_the_routes_are_not_served(api: LendingApi) -> None:
    context = api.client.app.state.context  # type: ignore[attr-defined]
    bare = ApiContext(
        issuer=context.issuer,
        calendar=context.calendar,
        prices=context.prices,
        broker=context.broker,
        clock=context.clock,
        database=context.database,
    )
    client = TestClient(create_app(bare), raise_server_exceptions=False)

    assert client.get(f"{URL}/markets", headers=api.borrower).status_code == 404


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[LendingApi]:
    directory = tmp_path_factory.mktemp("lending-schema")
    database = Database(sqlite_url(directory / "api.sqlite"))
    database.migrate()
    yield _build(database, directory, prices, calendar)
    database.close()


def test_every_lending_operation_conforms_to_the_schema(fuzzed: LendingApi) -> None:
    # The whole-API schemathesis test (tests/api/test_openapi.py) runs without the lending venue.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed.client.app)
    exercised = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operation = result.ok()
        if "/lending/" not in operation.label:
            continue

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=fuzzed.borrower, checks=CHECKS)

        call()
        exercised.append(operation.label)

    assert len(exercised) == 9
