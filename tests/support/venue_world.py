"""What every venue's tests stand on: a real issuance (stock tokens and their quorum price feeds signed
by the issuer's reporter), test USDC, a migrated database for the outbox and a manual clock. The
lending, perps and synths worlds (`tests/support/{lending,perps,synths}.py`) add their venue and actors.

Every price comes from a round signed by the issuance's reporter key (`publish`), so a test that
closes, halts or moves a stock drives the feed the platform runs. `open_feeds` lifts the feeds' update
bounds (any move, any interval) so a test can gap a price in one round.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from sqlalchemy import delete, func, select

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.market.clock import ManualClock
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ChainTransactionRow

ACCOUNTS = 16
# Monday 2025-12-01 15:00 UTC, in session; the tests sign their own rounds, so any time would do.
START = int(datetime(2025, 12, 1, 15, 0, tzinfo=UTC).timestamp())
USDC = 10**6
PRICE = 10**8  # a feed answer of one dollar


def issue(
    tickers: Iterable[str], chain: EvmChain | None = None
) -> tuple[EvmChain, IssuerRoles, IssuanceDeployment, Contract]:
    """Deploy the issuance of `tickers` and test USDC on `chain` (a new in-process chain if none)."""
    chain = chain or InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=START)
    roles = IssuerRoles.from_accounts(chain.accounts)
    catalogue = {i.ticker: i for i in load_catalogue()}
    issuance = deploy_issuance(chain, roles, [catalogue[t] for t in tickers])
    return chain, roles, issuance, deploy_test_usdc(chain, roles.admin)


def migrated(path: Path) -> Database:
    """Open the SQLite database at `path` with the schema migrated."""
    database = Database(sqlite_url(path))
    database.migrate()
    return database


@dataclass
class VenueWorld:
    """The issuance, USDC, outbox and clock a venue's test touches."""

    chain: EvmChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    usdc: Contract
    database: Database
    clock: ManualClock = field(
        default_factory=lambda: ManualClock(datetime.fromtimestamp(START, UTC)), kw_only=True
    )
    rounds: dict[str, int] = field(default_factory=dict, kw_only=True)

    def feed(self, ticker: str) -> Contract:
        return self.chain.at(
            self.issuance.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )

    def open_feeds(self, tickers: Iterable[str], dollars: float) -> None:
        """Lift the update bounds of each ticker's feed and publish its first round at `dollars`."""
        for ticker in tickers:
            self.feed(ticker).set_bounds(0, 300, 0, sender=self.roles.admin)
            self.publish(ticker, dollars)

    def publish(self, ticker: str, dollars: float, status: MarketStatus = MarketStatus.OPEN) -> None:
        """Sign and transmit the next round of `ticker` at the next block's time."""
        feed = self.feed(ticker)
        self.rounds[ticker] = self.rounds.get(ticker, 0) + 1
        now = max(self.chain.timestamp("pending"), self.chain.timestamp("latest") + 1)
        self.chain.set_next_block_timestamp(now)
        price = Price(round(dollars * PRICE))
        observation = Observation(
            FeedId(self.chain.chain_id, feed.address), self.rounds[ticker], price, status, now
        )
        signed = observation.sign(self.chain.signers.get(self.roles.price_updater))
        feed.transmit(self.rounds[ticker], [signed.as_call_argument()], sender=self.roles.admin)

    def wait(self, seconds: int) -> None:
        """Mine an empty block `seconds` later."""
        self.chain.increase_time(seconds)
        self.chain.mine()

    def fund(self, to: str, units: int) -> None:
        self.usdc.mint(to, units, sender=self.roles.admin)

    def stored_rows(self) -> int:
        """Count the outbox's rows."""
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(ChainTransactionRow)) or 0)

    def forget_transactions(self) -> None:
        """Drop the outbox's rows (after the chain is put back to a snapshot)."""
        with self.database.transaction() as session:
            session.execute(delete(ChainTransactionRow))

    def rewound(self) -> Iterator[Self]:
        """Yield the world, then put the chain and the outbox back as they were."""
        snapshot = self.chain.snapshot()
        rounds = dict(self.rounds)
        try:
            yield self
        finally:
            self.chain.revert_to(snapshot)
            self.rounds = rounds
            self.forget_transactions()
