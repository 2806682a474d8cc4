"""The synthetic stocks on a real in-process chain for the venue's and the keeper's tests: a real
issuance (stock tokens and their quorum price feeds signed by the issuer's reporter), test USDC and
the synthetics deployed by `deploy_synths`, with a migrated database for the outbox.

Every price comes from a round signed by the issuance's reporter key (`publish`), so a test that
closes, halts or moves a stock drives the feed the platform runs. The feeds' update bounds are
lifted (any move, any interval) so a test can gap a price in one round.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete

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
from equitoken.venues.synths.actions import SynthsClient
from equitoken.venues.synths.deployment import SynthsDeployment, deploy_synths
from equitoken.venues.synths.parameters import SynthAmount
from equitoken.venues.synths.views import SynthsReader

ACCOUNTS = 16
# Monday 2025-12-01 15:00 UTC, in session; the tests sign their own rounds, so any time would do.
START = int(datetime(2025, 12, 1, 15, 0, tzinfo=UTC).timestamp())
USDC = 10**6
SYNTH = 10**18
PRICE = 10**8  # a feed answer of one dollar


def synths(whole: int | str) -> SynthAmount:
    """Return `whole` synthetics."""
    return SynthAmount.parse(str(whole))


@dataclass
class SynthsWorld:
    """Everything a synthetic-stock test touches; the actors are named by role."""

    chain: EvmChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    usdc: Contract
    synths: SynthsDeployment
    database: Database
    clock: ManualClock
    writer: str
    other_writer: str
    liquidator: str
    outsider: str  # holds nothing
    rounds: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> SynthsClient:
        return SynthsClient(self.chain, self.synths, self.database, self.clock)

    @property
    def reader(self) -> SynthsReader:
        return SynthsReader(self.chain, self.synths)

    def feed(self, ticker: str) -> Contract:
        return self.chain.at(
            self.issuance.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )

    def vault(self, ticker: str) -> Contract:
        return self.synths.vault(self.chain, ticker)

    def synth(self, ticker: str) -> Contract:
        return self.synths.token(self.chain, ticker)

    def publish(self, ticker: str, dollars: int | float, status: MarketStatus = MarketStatus.OPEN) -> None:
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

    def forget_transactions(self) -> None:
        """Drop the outbox's rows (after the chain is put back to a snapshot)."""
        with self.database.transaction() as session:
            session.execute(delete(ChainTransactionRow))

    def rewound(self) -> Iterator["SynthsWorld"]:
        """Yield the world, then put the chain and the outbox back as they were."""
        snapshot = self.chain.snapshot()
        rounds = dict(self.rounds)
        try:
            yield self
        finally:
            self.chain.revert_to(snapshot)
            self.rounds = rounds
            self.forget_transactions()


def build_world(
    data_dir: Path, tickers: Sequence[str], *, pools: bool = False, start_price: float = 200
) -> SynthsWorld:
    """Deploy the issuance of `tickers`, USDC and their synthetics; publish `start_price` for each."""
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=START)
    roles = IssuerRoles.from_accounts(chain.accounts)
    catalogue = {i.ticker: i for i in load_catalogue()}
    issuance = deploy_issuance(chain, roles, [catalogue[t] for t in tickers])
    usdc = deploy_test_usdc(chain, roles.admin)
    deployment = deploy_synths(chain, roles.admin, usdc.address, issuance, list(tickers), pools=pools)
    database = Database(sqlite_url(data_dir / "synths.sqlite"))
    database.migrate()
    writer, other_writer, liquidator, outsider = chain.accounts[10:14]
    world = SynthsWorld(
        chain,
        roles,
        issuance,
        usdc,
        deployment,
        database,
        ManualClock(datetime.fromtimestamp(START, UTC)),
        writer,
        other_writer,
        liquidator,
        outsider,
    )
    for ticker in tickers:
        world.feed(ticker).set_bounds(0, 300, 0, sender=roles.admin)
        world.publish(ticker, start_price)
    return world
