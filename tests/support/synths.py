"""The synthetic stocks on a real chain for the venue's and the keeper's tests: the venue world of
`tests/support/venue_world.py` (a real issuance, test USDC, a database, a clock) and the synthetics
deployed by `deploy_synths`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.venue_world import VenueWorld, issue, migrated

from equitoken.chain.evm.contract import Contract
from equitoken.venues.synths.actions import SynthsClient
from equitoken.venues.synths.deployment import SynthsDeployment, deploy_synths
from equitoken.venues.synths.parameters import SynthAmount
from equitoken.venues.synths.views import SynthsReader

SYNTH = 10**18


def synths(whole: int | str) -> SynthAmount:
    """Return `whole` synthetics."""
    return SynthAmount.parse(str(whole))


@dataclass
class SynthsWorld(VenueWorld):
    """Everything a synthetic-stock test touches; the actors are named by role."""

    synths: SynthsDeployment
    writer: str
    other_writer: str
    liquidator: str
    outsider: str  # holds nothing

    @property
    def client(self) -> SynthsClient:
        return SynthsClient(self.chain, self.synths, self.database, self.clock)

    @property
    def reader(self) -> SynthsReader:
        return SynthsReader(self.chain, self.synths)

    def vault(self, ticker: str) -> Contract:
        return self.synths.vault(self.chain, ticker)

    def synth(self, ticker: str) -> Contract:
        return self.synths.token(self.chain, ticker)


def build_world(
    data_dir: Path, tickers: Sequence[str], *, pools: bool = False, start_price: float = 200
) -> SynthsWorld:
    """Deploy the issuance of `tickers`, USDC and their synthetics; publish `start_price` for each."""
    chain, roles, issuance, usdc = issue(tickers)
    deployment = deploy_synths(chain, roles.admin, usdc.address, issuance, list(tickers), pools=pools)
    writer, other_writer, liquidator, outsider = chain.accounts[10:14]
    world = SynthsWorld(
        chain,
        roles,
        issuance,
        usdc,
        migrated(data_dir / "synths.sqlite"),
        deployment,
        writer,
        other_writer,
        liquidator,
        outsider,
    )
    world.open_feeds(tickers, start_price)
    return world
