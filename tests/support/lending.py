"""A lending venue on a real chain for the venue's and the keeper's tests: a real issuance (stock tokens,
their quorum price feeds signed by the issuer's reporter, reserve feeds), test USDC, the AMM pools,
and the lending venue deployed by `deploy_lending`, with a migrated database for the outbox.

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
from equitoken.venues.amm import AmmDeployment, deploy_amm
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.lending.deployment import LendingDeployment, deploy_lending
from equitoken.venues.lending.parameters import MarketParameters, OracleSettings
from equitoken.venues.lending.views import LendingReader

ACCOUNTS = 16
# Monday 2025-12-01 15:00 UTC, in session; the tests sign their own rounds, so any time would do.
START = int(datetime(2025, 12, 1, 15, 0, tzinfo=UTC).timestamp())
USDC = 10**6
TOKEN = 10**8  # the catalogue's stock tokens have 8 decimals
PRICE = 10**8  # a feed answer of one dollar
VENUE_OPERATOR = 900  # the investor whose wallets are the pools and the lending market
INVESTOR = 901  # the investor whose wallets hold permissioned tokens in the tests
SETTLED = 600  # seconds after the first round: past the first reopening grace


@dataclass
class LendingWorld:
    """Everything a lending test touches; the actors are named by role."""

    chain: EvmChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    usdc: Contract
    lending: LendingDeployment
    amm: AmmDeployment | None
    database: Database
    clock: ManualClock
    lender: str
    borrower: str
    other_borrower: str
    liquidator: str
    provider: str
    outsider: str  # holds nothing, registered nowhere
    rounds: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> LendingClient:
        return LendingClient(self.chain, self.lending, self.database, self.clock)

    @property
    def reader(self) -> LendingReader:
        return LendingReader(self.chain, self.lending)

    def feed(self, ticker: str) -> Contract:
        return self.chain.at(
            self.issuance.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )

    def token(self, ticker: str) -> Contract:
        return self.chain.at(self.issuance.instrument(ticker).token, compile_contract("token/StockToken.vy"))

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

    def attest(self, ticker: str, extra: int = 0) -> None:
        """Attest reserves covering the supply (plus `extra`) as of now."""
        instrument = self.issuance.instrument(ticker)
        reserve = self.chain.at(instrument.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))
        supply = int(self.token(ticker).totalSupply())
        reserve.update(supply + extra, self.chain.timestamp("pending"), sender=self.roles.attester)

    def mint(self, ticker: str, to: str, raw: int) -> None:
        """Mint through the secure-mint path: the reserves attested first."""
        self.attest(ticker, raw)
        self.token(ticker).mint(to, raw, sender=self.roles.minter)

    def fund(self, to: str, units: int) -> None:
        self.usdc.mint(to, units, sender=self.roles.admin)

    def forget_transactions(self) -> None:
        """Drop the outbox's rows (after the chain is put back to a snapshot)."""
        with self.database.transaction() as session:
            session.execute(delete(ChainTransactionRow))

    def rewound(self) -> Iterator["LendingWorld"]:
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
    also_issue: Sequence[str] = (),
    interest: bool = True,
    pools: Sequence[str] = (),
    pool_dollars: int = 0,
    parameters: dict[str, MarketParameters] | None = None,
    oracle: OracleSettings | None = None,
    chain: EvmChain | None = None,
    start_price: float = 200,
) -> LendingWorld:
    """Deploy the issuance of `tickers` (and `also_issue`), USDC, pools for `pools` seeded with
    `pool_dollars` a side at `start_price`, and the lending venue for `tickers`; publish `start_price`
    for every ticker and wait past the first reopening grace."""
    chain = chain or InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=START)
    roles = IssuerRoles.from_accounts(chain.accounts)
    catalogue = {i.ticker: i for i in load_catalogue()}
    issued = list(dict.fromkeys([*tickers, *also_issue, *pools]))
    issuance = deploy_issuance(chain, roles, [catalogue[t] for t in issued])
    usdc = deploy_test_usdc(chain, roles.admin)
    registry = chain.at(issuance.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    registry.set_investor(VENUE_OPERATOR, 840, 2**40, True, sender=roles.registrar)
    registry.set_investor(INVESTOR, 840, 2**40, True, sender=roles.registrar)
    lender, borrower, other_borrower, liquidator, provider, outsider = chain.accounts[10:16]
    for wallet in (borrower, other_borrower, liquidator, provider):
        registry.add_wallet(INVESTOR, wallet, sender=roles.registrar)
    amm = None
    if pools:
        amm = deploy_amm(
            chain,
            roles.admin,
            usdc.address,
            issuance,
            pools,
            registrar=roles.registrar,
            pool_investor=VENUE_OPERATOR,
        )
    lending = deploy_lending(
        chain,
        roles.admin,
        usdc.address,
        issuance,
        list(tickers),
        parameters=parameters,
        oracle=oracle,
        interest=interest,
        registrar=roles.registrar,
        market_investor=VENUE_OPERATOR,
    )
    database = Database(sqlite_url(data_dir / "lending.sqlite"))
    database.migrate()
    world = LendingWorld(
        chain,
        roles,
        issuance,
        usdc,
        lending,
        amm,
        database,
        ManualClock(datetime.fromtimestamp(START, UTC)),
        lender,
        borrower,
        other_borrower,
        liquidator,
        provider,
        outsider,
    )
    for ticker in issued:
        world.feed(ticker).set_bounds(0, 300, 0, sender=roles.admin)
        world.publish(ticker, start_price)
    for ticker in pools:
        assert amm is not None
        pool = amm.pool(chain, ticker)
        stock = pool_dollars * TOKEN // round(start_price)
        world.mint(ticker, provider, stock)
        world.fund(provider, pool_dollars * USDC)
        world.token(ticker).approve(pool.address, 2**256 - 1, sender=provider)
        usdc.approve(pool.address, 2**256 - 1, sender=provider)
        pool.add_liquidity(stock, pool_dollars * USDC, 0, 0, provider, 2**40, sender=provider)
    world.wait(SETTLED)
    for ticker in issued:
        world.publish(ticker, start_price)
        world.attest(ticker)
    return world
