"""The perpetuals venue on a real chain for the venue's and the keeper's tests: a real issuance (stock
tokens and their quorum price feeds signed by the issuer's reporter), test USDC, and the venue deployed
by `deploy_perps`, with a migrated database for the outbox.

Every price comes from a round signed by the issuance's reporter key (`publish`), so a test that closes,
halts or moves a stock drives the feed the platform runs. The feeds' update bounds are lifted (any move,
any interval) so a test can gap a price in one round.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.perps.deployment import PerpsDeployment, deploy_perps
from equitoken.venues.perps.parameters import PerpParameters
from equitoken.venues.perps.views import PerpsReader

ACCOUNTS = 16
# Monday 2025-12-01 15:00 UTC, in session; the tests sign their own rounds, so any time would do.
START = int(datetime(2025, 12, 1, 15, 0, tzinfo=UTC).timestamp())
USDC = 10**6
TOKEN = 10**18  # a position's size unit: one whole token
PRICE = 10**8  # a feed answer of one dollar
VAULT_SEED = 1_000 * USDC
LP_DOLLARS = 1_000_000


@dataclass
class PerpsWorld:
    """Everything a perpetuals test touches; the actors are named by role."""

    chain: EvmChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    usdc: Contract
    perps: PerpsDeployment
    database: Database
    clock: ManualClock
    lp: str
    trader: str
    other_trader: str
    keeper: str
    outsider: str  # holds nothing
    rounds: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> PerpsClient:
        return PerpsClient(self.chain, self.perps, self.database, self.clock)

    @property
    def reader(self) -> PerpsReader:
        return PerpsReader(self.chain, self.perps)

    def market(self, ticker: str) -> Contract:
        return self.perps.contract(self.chain, ticker)

    @property
    def vault(self) -> Contract:
        return self.perps.vault_contract(self.chain)

    def feed(self, ticker: str) -> Contract:
        return self.chain.at(
            self.issuance.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )

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
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(ChainTransactionRow)) or 0)

    def forget_transactions(self) -> None:
        """Drop the outbox's rows (after the chain is put back to a snapshot)."""
        with self.database.transaction() as session:
            session.execute(delete(ChainTransactionRow))

    def rewound(self) -> Iterator["PerpsWorld"]:
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
    data_dir: Path,
    tickers: Sequence[str],
    *,
    parameters: Mapping[str, PerpParameters] | None = None,
    start_price: float = 200,
    lp_dollars: int = LP_DOLLARS,
) -> PerpsWorld:
    """Deploy the issuance of `tickers`, USDC and the venue, publish `start_price` for every ticker,
    and have the LP deposit `lp_dollars` into the vault (directly, not through the client)."""
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=START)
    roles = IssuerRoles.from_accounts(chain.accounts)
    catalogue = {i.ticker: i for i in load_catalogue()}
    issuance = deploy_issuance(chain, roles, [catalogue[t] for t in tickers])
    usdc = deploy_test_usdc(chain, roles.admin)
    usdc.mint(roles.admin, VAULT_SEED, sender=roles.admin)
    perps = deploy_perps(
        chain,
        roles.admin,
        usdc.address,
        issuance,
        list(tickers),
        parameters=parameters,
        vault_seed=VAULT_SEED,
    )
    database = Database(sqlite_url(data_dir / "perps.sqlite"))
    database.migrate()
    lp, trader, other_trader, keeper, outsider = chain.accounts[11:16]
    world = PerpsWorld(
        chain,
        roles,
        issuance,
        usdc,
        perps,
        database,
        ManualClock(datetime.fromtimestamp(START, UTC)),
        lp,
        trader,
        other_trader,
        keeper,
        outsider,
    )
    for ticker in tickers:
        world.feed(ticker).set_bounds(0, 300, 0, sender=roles.admin)
        world.publish(ticker, start_price)
    if lp_dollars:
        world.fund(lp, lp_dollars * USDC)
        usdc.approve(perps.vault, lp_dollars * USDC, sender=lp)
        world.vault.deposit(lp_dollars * USDC, lp, sender=lp)
    return world
