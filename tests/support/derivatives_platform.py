"""The derivatives venues beside a test platform's issuer, as `up` runs them: the perpetuals venue
(`deploy_perps` for AAPL over the issuance's price feed, the vault seeded by an LP), the synthetic
stocks (`deploy_synths` for AAPL, its price good for an hour: the tests' clock stands still), the CFD venue on
the exchange's accounts (AAPL, priced from the replayed price), the order-book exchange with its
members, and the transfers between an investor's exchange and CFD accounts; all served by one API.

Actors: the participant (a wallet the chain signs for, with USDC) trades; another participant, a
retail investor without a wallet, and an operator are there to be refused.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.support.lending_platform import publish
from tests.support.platform import ACCOUNTS, GENESIS, USDC, Platform, build_platform
from tests.venues.exchange.builders import rules

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ApiIdempotencyRow, CfdTransferRow, ChainTransactionRow
from equitoken.venues.cfd.instruments import CfdInstrument
from equitoken.venues.cfd.transfers import CfdTransfers
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC as USDC_ASSET
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.perps.deployment import deploy_perps
from equitoken.venues.synths.actions import SynthsClient
from equitoken.venues.synths.deployment import deploy_synths
from equitoken.venues.synths.parameters import SynthSettings

PERP_TICKERS = ("AAPL",)
SYNTH_TICKERS = ("AAPL",)
CFD_SYMBOLS = ("AAPL", "MSTR")
LP_USDC = 200_000 * USDC
EXCHANGE_USDC = 10_000 * USDC  # the trader's USDC on the exchange, to move to its CFD account


class MarketStatusBoard:
    """The oracle's market status per ticker, as the exchange reads it; set by the tests."""

    def __init__(self) -> None:
        self.value = MarketStatus.OPEN

    def __call__(self, ticker: str) -> MarketStatus:
        return self.value


@dataclass
class Derivatives:
    """The platform, its derivatives venues, the API over them and a key per actor."""

    platform: Platform
    prices: ReplayPriceSource
    perps: PerpsClient
    synths: SynthsClient
    cfd: CfdVenue
    exchange: ExchangeVenue
    members: ExchangeMembers
    transfers: CfdTransfers
    context: ApiContext
    client: TestClient
    trader: dict[str, str]  # the participant: a custodied wallet with USDC, USDC on the exchange
    other: dict[str, str]  # another participant
    walletless: dict[str, str]  # a retail investor with no wallet
    operator: dict[str, str]
    trader_key: str
    operator_key: str
    trader_account: int
    other_id: str

    def post(self, url: str, key: str, headers: dict[str, str] | None = None, **body: Any) -> httpx2.Response:
        response: httpx2.Response = self.client.post(
            url, json=body, headers={**(headers or self.trader), "Idempotency-Key": key}
        )
        return response

    def get(self, url: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self.client.get(url, params=params, headers=headers or self.trader).json()

    def price_cfds(self) -> None:
        """Give every CFD the replayed price of the platform's time (the venue refuses prices > 60 s old)."""
        now = self.platform.clock.now()
        for symbol in CFD_SYMBOLS:
            self.cfd.on_price(symbol, self.prices.quote(symbol, now).price.units, MarketStatus.OPEN, now)

    def republish(self, status: MarketStatus = MarketStatus.OPEN) -> None:
        """An hour later (a feed takes a round at most hourly), publish the perps' feeds with `status`."""
        self.platform.clock.advance(timedelta(hours=1, seconds=1))
        for ticker in PERP_TICKERS:
            publish(self.platform, self.prices, ticker, status)

    def stored(self) -> tuple[int, int, int]:
        """Return how many transactions, API answers and CFD transfers the database holds."""
        with self.platform.issuer.db.transaction() as session:
            return (
                int(session.scalar(select(func.count()).select_from(ChainTransactionRow)) or 0),
                int(session.scalar(select(func.count()).select_from(ApiIdempotencyRow)) or 0),
                int(session.scalar(select(func.count()).select_from(CfdTransferRow)) or 0),
            )


def open_derivatives(
    database: Database, directory: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Derivatives:
    """Build a platform on a fresh in-process chain and open the derivatives venues beside it."""
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    platform = build_platform(chain, database, prices, calendar, directory)
    issuer, roles = platform.issuer, platform.onchain.roles
    platform.usdc.mint(roles.admin, LP_USDC, sender=roles.admin)
    perps = deploy_perps(
        chain,
        roles.admin,
        platform.usdc.address,
        platform.onchain.deployment,
        list(PERP_TICKERS),
        vault_seed=LP_USDC,
    )
    for ticker in PERP_TICKERS:
        publish(platform, prices, ticker)
    client = PerpsClient(chain, perps, issuer.db, platform.clock, outbox=platform.onchain.outbox)
    synthetics = deploy_synths(
        chain,
        roles.admin,
        platform.usdc.address,
        platform.onchain.deployment,
        list(SYNTH_TICKERS),
        settings={t: SynthSettings(max_age=3_600) for t in SYNTH_TICKERS},
    )
    synths = SynthsClient(chain, synthetics, issuer.db, platform.clock, outbox=platform.onchain.outbox)

    exchange = ExchangeVenue(
        Exchange.open(directory / "exchange", [rules()], MarketStatusBoard(), fsync=FsyncPolicy.PER_BATCH),
        clock=platform.clock,
    )
    members = ExchangeMembers(database, platform.clock)
    cfd = CfdVenue.in_memory([CfdInstrument(s) for s in CFD_SYMBOLS], platform.clock, calendar=calendar)
    transfers = CfdTransfers(database, exchange, cfd, members, platform.clock)

    kyc = platform.clock.now() + timedelta(days=365)
    other = issuer.investors.onboard("Flow Traders B.V.", "NL", "authorised_participant", kyc_expires_at=kyc)
    issuer.investors.bind_wallet(other.id, platform.other_wallet)
    walletless = issuer.investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=kyc)
    trader_account = members.account_of(platform.participant.id)
    exchange.credit_deposit(trader_account, USDC_ASSET, EXCHANGE_USDC, "seed-trader")

    context = ApiContext(
        issuer=issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        exchange=exchange,
        exchange_members=members,
        perps=client,
        synths=synths,
        cfd=cfd,
        cfd_transfers=transfers,
    )
    keys = context.keys
    trader_key = keys.issue(Role.PARTICIPANT, platform.participant.id, "trader")
    operator_key = keys.issue(Role.OPERATOR, None, "ops")
    derivatives = Derivatives(
        platform=platform,
        prices=prices,
        perps=client,
        synths=synths,
        cfd=cfd,
        exchange=exchange,
        members=members,
        transfers=transfers,
        context=context,
        client=TestClient(create_app(context), raise_server_exceptions=False),
        trader={"X-API-Key": trader_key},
        other={"X-API-Key": keys.issue(Role.PARTICIPANT, other.id, "other")},
        walletless={"X-API-Key": keys.issue(Role.INVESTOR, walletless.id, "ada")},
        operator={"X-API-Key": operator_key},
        trader_key=trader_key,
        operator_key=operator_key,
        trader_account=trader_account,
        other_id=other.id,
    )
    derivatives.price_cfds()
    return derivatives


def derivatives_world(
    directory: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Derivatives]:
    """Yield the derivatives venues on a fresh database in `directory` (a module's fixture), then close it."""
    database = Database(sqlite_url(directory / "api.sqlite"))
    database.migrate()
    yield open_derivatives(database, directory, prices, calendar)
    database.close()
