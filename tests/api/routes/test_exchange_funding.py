"""The exchange's funding through the API: a real issuance on the in-process chain, the real engine,
real members and real API keys; deposits are real transfers into the hot wallet, seen by the real
indexer."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.indexer import IndexedChain, Indexer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.funding import ExchangeFunding, register_hot_wallet
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec
from equitoken.venues.exchange.venue import ExchangeVenue

URL = "/api/v1/exchange"
TOKEN = 10**8  # one share of an 8-decimal stock token
DOLLAR = 10**6
HOT_WALLET_INDEX = 12
RULES = [BookRules(InstrumentSpec("AAPL", 8, Price(1_000_000), 10_000), 2, 5)]


@dataclass
class FundingApi:
    platform: Platform
    client: TestClient
    venue: ExchangeVenue
    funding: ExchangeFunding
    indexer: Indexer
    hot_wallet: str
    member: dict[str, str]
    operator: dict[str, str]

    def deposit(self, contract: Any, amount: int) -> None:
        contract.transfer(self.hot_wallet, amount, sender=self.platform.wallet)
        self.platform.chain.mine(1)

    def poll_deposits(self) -> None:
        self.indexer.poll()
        self.funding.poll_deposits()

    def withdraw(self, key: str, **body: Any) -> Any:
        request = {"asset": "AAPL", "amount": "1", "destination": self.platform.wallet, **body}
        return self.client.post(
            f"{URL}/withdrawals", json=request, headers={**self.member, "Idempotency-Key": key}
        )

    def balances(self) -> dict[str, dict[str, str]]:
        rows = self.client.get(f"{URL}/balances", headers=self.member).json()
        return {row["asset"]: row for row in rows}


def _open(_ticker: str) -> MarketStatus:
    return MarketStatus.OPEN


@pytest.fixture
def api(
    database: Database, tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[FundingApi]:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    platform = build_platform(chain, database, prices, calendar, tmp_path)
    hot_wallet = chain.accounts[HOT_WALLET_INDEX]
    register_hot_wallet(
        platform.issuer.investors,
        hot_wallet,
        kyc_expires_at=platform.clock.now() + timedelta(days=365),
        jurisdiction="GB",
    )
    platform.approve_mint(10**6 * DOLLAR)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "5", "mint-aapl")
    platform.run()
    exchange = Exchange.open(tmp_path / "exchange", RULES, _open, fsync=FsyncPolicy.PER_RECORD)
    venue = ExchangeVenue(exchange, clock=platform.clock)
    members = ExchangeMembers(database, platform.clock)
    indexed = IndexedChain(
        chain, platform.onchain.deployment, settlement_tokens={"USDC": platform.usdc.address}, confirmations=1
    )
    indexer = Indexer(database, [indexed])
    funding = ExchangeFunding(
        database, venue, members, platform.onchain, hot_wallet, indexer=indexer, clock=platform.clock
    )
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        exchange=venue,
        exchange_members=members,
        exchange_funding=funding,
    )
    member = {"X-API-Key": context.keys.issue(Role.PARTICIPANT, platform.participant.id, "member")}
    operator = {"X-API-Key": context.keys.issue(Role.OPERATOR, None, "ops")}
    client = TestClient(create_app(context), raise_server_exceptions=False)
    yield FundingApi(platform, client, venue, funding, indexer, hot_wallet, member, operator)
    exchange.close()


def test_a_confirmed_deposit_shows_in_deposits_and_balances(api: FundingApi) -> None:
    address = api.client.get(f"{URL}/deposit-address", headers=api.member).json()
    assert address["address"] == api.hot_wallet
    assert address["chain_id"] == api.platform.chain.chain_id
    assert "registered wallets" in address["note"]

    api.deposit(api.platform.token("AAPL"), 2 * TOKEN)
    api.deposit(api.platform.usdc, 250 * DOLLAR)
    api.poll_deposits()

    deposits = api.client.get(f"{URL}/deposits", headers=api.member).json()
    assert [(d["asset"], d["amount"], d["sender"]) for d in deposits] == [
        ("AAPL", "2", api.platform.wallet),
        ("USDC", "250", api.platform.wallet),
    ]
    balances = api.balances()
    assert balances["AAPL"] == {"asset": "AAPL", "available": "2", "locked": "0"}
    assert balances["USDC"] == {"asset": "USDC", "available": "250", "locked": "0"}


def test_a_withdrawal_through_the_api_is_sent_once_and_confirmed(api: FundingApi) -> None:
    token = api.platform.token("AAPL")
    api.deposit(token, 3 * TOKEN)
    api.poll_deposits()
    wallet_before = int(token.balanceOf(api.platform.wallet))

    first = api.withdraw("w-1", amount="1.25")
    retry = api.withdraw("w-1", amount="1.25")
    assert first.status_code == 201
    assert first.json()["status"] == "requested"
    assert first.json()["amount"] == "1.25"
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert api.balances()["AAPL"]["available"] == "1.75"

    [done] = api.funding.process_withdrawals()
    [listed] = api.client.get(f"{URL}/withdrawals", headers=api.member).json()
    assert listed["withdrawal_id"] == first.json()["withdrawal_id"] == done.id
    assert listed["status"] == "confirmed"
    assert listed["tx_hash"] == done.tx_hash is not None
    assert int(token.balanceOf(api.platform.wallet)) == wallet_before + 125 * TOKEN // 100
    assert int(token.balanceOf(api.hot_wallet)) == 175 * TOKEN // 100
    assert api.funding.process_withdrawals() == []


@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ({"asset": "TSLA"}, 422, "unknown_asset", "TSLA"),
        ({"amount": "0"}, 422, "invalid_withdrawal", "positive"),
        ({"amount": "1.000000001"}, 422, "invalid_amount", "units of 0.00000001 shares"),
        ({"asset": "USDC", "amount": "1.0000001"}, 422, "invalid_amount", "decimals"),
        ({"amount": "4"}, 422, "insufficient_funds", "available"),
        ({"destination": "other"}, 422, "invalid_withdrawal", "not a registered wallet"),
        ({"destination": "0x1234"}, 422, "invalid_request", "destination"),
        ({"amount": "-1"}, 422, "invalid_request", "amount"),
    ],
)
def test_a_bad_withdrawal_is_a_problem_and_changes_nothing(
    api: FundingApi, body: dict[str, Any], status: int, code: str, detail: str
) -> None:
    api.deposit(api.platform.token("AAPL"), 3 * TOKEN)
    api.poll_deposits()
    if body.get("destination") == "other":
        body = {**body, "destination": api.platform.other_wallet}
    before = api.venue.exchange.snapshot()

    refused = api.withdraw("w-bad", **body)

    assert refused.status_code == status, refused.json()
    assert refused.json()["code"] == code
    assert detail in refused.json()["detail"]
    assert api.venue.exchange.snapshot() == before
    assert api.client.get(f"{URL}/withdrawals", headers=api.member).json() == []


def test_a_frozen_member_cannot_withdraw(api: FundingApi) -> None:
    api.deposit(api.platform.usdc, 10 * DOLLAR)
    api.poll_deposits()
    api.platform.issuer.investors.set_frozen(api.platform.participant.id, True)

    refused = api.withdraw("w-frozen", asset="USDC", amount="5")

    assert refused.status_code == 422
    assert refused.json()["code"] == "withdrawal_not_allowed"
    assert api.balances()["USDC"]["available"] == "10"


def test_an_operator_key_has_no_deposits_or_withdrawals(api: FundingApi) -> None:
    for path in ("deposit-address", "deposits", "withdrawals"):
        answer = api.client.get(f"{URL}/{path}", headers=api.operator)
        assert answer.status_code == 403
        assert answer.json()["code"] == "forbidden"
