"""A lending venue on a real chain for the venue's and the keeper's tests: the venue world of
`tests/support/venue_world.py` (a real issuance, test USDC, a database, a clock), the AMM pools, and
the lending venue deployed by `deploy_lending`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.venue_world import USDC, VenueWorld, issue, migrated

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.venues.amm import AmmDeployment, deploy_amm
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.lending.deployment import LendingDeployment, deploy_lending
from equitoken.venues.lending.parameters import MarketParameters, OracleSettings
from equitoken.venues.lending.views import LendingReader

TOKEN = 10**8  # the catalogue's stock tokens have 8 decimals
VENUE_OPERATOR = 900  # the investor whose wallets are the pools and the lending market
INVESTOR = 901  # the investor whose wallets hold permissioned tokens in the tests
SETTLED = 600  # seconds after the first round: past the first reopening grace


@dataclass
class LendingWorld(VenueWorld):
    """Everything a lending test touches; the actors are named by role."""

    lending: LendingDeployment
    amm: AmmDeployment | None
    lender: str
    borrower: str
    other_borrower: str
    liquidator: str
    provider: str
    outsider: str  # holds nothing, registered nowhere

    @property
    def client(self) -> LendingClient:
        return LendingClient(self.chain, self.lending, self.database, self.clock)

    @property
    def reader(self) -> LendingReader:
        return LendingReader(self.chain, self.lending)

    def token(self, ticker: str) -> Contract:
        return self.chain.at(self.issuance.instrument(ticker).token, compile_contract("token/StockToken.vy"))

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
    issued = list(dict.fromkeys([*tickers, *also_issue, *pools]))
    chain, roles, issuance, usdc = issue(issued, chain)
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
    world = LendingWorld(
        chain,
        roles,
        issuance,
        usdc,
        migrated(data_dir / "lending.sqlite"),
        lending,
        amm,
        lender,
        borrower,
        other_borrower,
        liquidator,
        provider,
        outsider,
    )
    world.open_feeds(issued, start_price)
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
