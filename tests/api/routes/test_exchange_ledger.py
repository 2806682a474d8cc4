"""Ledger stock through the API: a member buys $1 of AAPL as a ledger balance on the exchange and sells
it, each order once per Idempotency-Key, over the real engine, the paper broker and custody; a refusal is
a 422 problem that took nothing."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform
from tests.venues.exchange.builders import rules

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.ledger import LedgerDesk, ledger_rules
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue

URL = "/api/v1/exchange/ledger/orders"
DEPOSIT = 1_000 * 10**6


class World:
    def __init__(self, prices: ReplayPriceSource, calendar: MarketCalendar, tmp: Path) -> None:
        self.database = Database(sqlite_url(tmp / "api.sqlite"))
        self.database.migrate()
        chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
        self.platform: Platform = build_platform(chain, self.database, prices, calendar, tmp)
        clock = self.platform.clock
        exchange = Exchange.open(
            tmp / "exchange",
            [rules(), ledger_rules("AAPL")],
            lambda _t: MarketStatus.OPEN,
            fsync=FsyncPolicy.PER_BATCH,
        )
        self.venue = ExchangeVenue(exchange, clock=clock)
        members = ExchangeMembers(self.database, clock)
        self.desk = LedgerDesk(self.database, self.venue, self.platform.broker, prices, clock)
        self.platform.issuer.count_ledger(self.desk.outstanding)
        investor = self.platform.issuer.investors.onboard(
            "Ada Lovelace", "GB", "retail", kyc_expires_at=clock.now() + timedelta(days=365)
        )
        self.account = members.account_of(investor.id)
        self.venue.credit_deposit(self.account, USDC, DEPOSIT, "ada-usdc")
        context = ApiContext(
            issuer=self.platform.issuer,
            calendar=calendar,
            prices=prices,
            broker=self.platform.broker,
            clock=clock,
            database=self.database,
            exchange=self.venue,
            exchange_members=members,
            exchange_ledger=self.desk,
        )
        self.ada = {"X-API-Key": context.keys.issue(Role.INVESTOR, investor.id, "ada")}
        self.operator = {"X-API-Key": context.keys.issue(Role.OPERATOR, None, "ops")}
        self.client = TestClient(create_app(context), raise_server_exceptions=False)

    def place(self, key: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(URL, json=body, headers={**(headers or self.ada), "Idempotency-Key": key})

    def settle(self) -> None:
        for _ in range(30):
            self.desk.process()
            if not self.desk.orders(open_only=True):
                return
            self.platform.clock.advance(timedelta(minutes=1))
        raise AssertionError(self.desk.orders(open_only=True))


@pytest.fixture
def world(prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path) -> World:
    return World(prices, calendar, tmp_path)


def test_a_member_buys_a_dollar_of_ledger_stock_and_sells_it(world: World) -> None:
    placed = world.place("buy-1", {"ticker": "AAPL", "side": "buy", "usd": "1"})
    assert placed.status_code == 200, placed.json()
    assert world.place("buy-1", {"ticker": "AAPL", "side": "buy", "usd": "1"}).json() == placed.json()
    world.settle()
    bought = world.client.get(f"{URL}/{placed.json()['id']}", headers=world.ada).json()
    assert bought["state"] == "done"
    assert [e["state"] for e in bought["events"]][-1] == "done"
    held = world.venue.balance(world.account, "AAPL.L").available
    assert held == int(Decimal(bought["filled_shares"]) * 10**9) > 0

    sold = world.place("sell-1", {"ticker": "AAPL", "side": "sell", "shares": bought["filled_shares"]})
    assert sold.status_code == 200, sold.json()
    world.settle()
    assert world.venue.balance(world.account, "AAPL.L").available == 0
    usdc = world.venue.balance(world.account, USDC).available
    assert DEPOSIT - 10**6 < usdc < DEPOSIT  # the dollar back, less the broker's slippage both ways
    assert [o["state"] for o in world.client.get(URL, headers=world.ada).json()] == ["done", "done"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ticker": "AAPL", "side": "buy", "usd": "0.5"}, "invalid_ledger_order"),
        ({"ticker": "AAPL", "side": "sell", "usd": "5"}, "invalid_request"),
        ({"ticker": "AAPL", "side": "sell", "shares": "1"}, "insufficient_funds"),
        ({"ticker": "MSFT", "side": "buy", "usd": "5"}, "unknown_instrument"),
    ],
)
def test_a_refused_ledger_order_takes_nothing(world: World, body: dict[str, Any], code: str) -> None:
    refused = world.place(f"refused-{code}", body)
    assert refused.status_code == 422, refused.json()
    assert refused.json()["code"] == code
    assert world.venue.balance(world.account, USDC).available == DEPOSIT
    assert world.desk.orders() == []


def test_an_operator_has_no_exchange_account(world: World) -> None:
    assert world.place("op", {"ticker": "AAPL", "side": "buy", "usd": "5"}, world.operator).status_code == 403
