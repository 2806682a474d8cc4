"""The perpetuals venue on a real chain for the venue's and the keeper's tests: the venue world of
`tests/support/venue_world.py` (a real issuance, test USDC, a database, a clock) and the venue
deployed by `deploy_perps`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.venue_world import USDC, VenueWorld, issue, migrated

from equitoken.chain.evm.contract import Contract
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.perps.deployment import PerpsDeployment, deploy_perps
from equitoken.venues.perps.parameters import PerpParameters
from equitoken.venues.perps.views import PerpsReader

VAULT_SEED = 1_000 * USDC
LP_DOLLARS = 1_000_000


@dataclass
class PerpsWorld(VenueWorld):
    """Everything a perpetuals test touches; the actors are named by role."""

    perps: PerpsDeployment
    lp: str
    trader: str
    other_trader: str
    keeper: str
    outsider: str  # holds nothing

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
    chain, roles, issuance, usdc = issue(tickers)
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
    lp, trader, other_trader, keeper, outsider = chain.accounts[11:16]
    world = PerpsWorld(
        chain,
        roles,
        issuance,
        usdc,
        migrated(data_dir / "perps.sqlite"),
        perps,
        lp,
        trader,
        other_trader,
        keeper,
        outsider,
    )
    world.open_feeds(tickers, start_price)
    if lp_dollars:
        world.fund(lp, lp_dollars * USDC)
        usdc.approve(perps.vault, lp_dollars * USDC, sender=lp)
        world.vault.deposit(lp_dollars * USDC, lp, sender=lp)
    return world
