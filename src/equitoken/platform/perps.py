"""The perpetuals venue of a local platform: one LP vault and a market per ticker the venues trade,
deployed once, and the demo desk's USDC in the vault.

`open_perps` deploys the venue (`deploy_perps`: the vault, a market per ticker over the ticker's price
feed, each market's default parameters) on the first run and records it in
`deployments/perps-chain-<id>.json`; a later run reuses the record and adds the markets of
instruments deployed since. A market holds USDC margins only, never the stock token, so no token's
compliance rules concern it.

The vault's liquidity comes from the market maker's desk (dev wallet 19, the lending desk):
`PerpsSeed.deposit` tops it up with test USDC and deposits `VAULT_USDC` through `PerpsClient` once
(its outbox purpose carries the key `demo-seed`; `perps-seed.json` in the data directory records
it). The same wallet runs the perpetuals keeper, which executes queued orders and triggers and
liquidates, collecting the liquidation fee.
"""

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from equitoken.chain.evm.deployment import IssuerRoles, Progress
from equitoken.chain.records import JsonRecords
from equitoken.issuer.service import Issuer
from equitoken.model.address import checksum
from equitoken.model.quantities import Usd
from equitoken.platform.lending import SEED_KEY, lender_wallet
from equitoken.platform.local import USDC, venue_tickers
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.perps.deployment import PerpsDeployment, create_perp_market, deploy_perps
from equitoken.venues.perps.parameters import DEFAULT_PARAMETERS, PerpParameters

PERPS_SEED_FILE = "perps-seed.json"
VAULT_USDC = 2_000_000 * USDC


def perps_records(directory: Path) -> JsonRecords[PerpsDeployment]:
    """Return where the perpetuals venue is recorded in `directory`: `perps-chain-<id>.json`."""
    return JsonRecords(
        directory,
        "perps-",
        lambda deployment: dict(json.loads(deployment.to_json())),
        lambda data: PerpsDeployment.from_json(json.dumps(data)),
    )


def open_perps(
    issuer: Issuer, data_dir: Path, progress: Progress, tickers: Sequence[str] | None = None
) -> PerpsDeployment:
    """Return the perpetuals venue of the issuer's chain recorded in `data_dir`, with a market for each
    of `tickers` (default: every ticker the venues trade), deploying it, or the markets it lacks,
    first."""
    chain, issuance, usdc = issuer.onchain.chain, issuer.onchain.deployment, issuer.onchain.usdc_address
    wanted = venue_tickers(issuance) if tickers is None else list(tickers)
    records = perps_records(data_dir / "deployments")
    existing = records.load(chain.chain_id)
    roles = IssuerRoles.from_accounts(chain.accounts)
    if existing is None or existing.usdc != checksum(usdc) or not chain.code(existing.vault):
        progress(f"deploying the perpetuals venue with a market for each of {', '.join(wanted)}")
        deployment = deploy_perps(chain, roles.admin, usdc, issuance, wanted, vault_seed=0)
        records.save(deployment.chain_id, deployment)
        return deployment
    missing = [t for t in wanted if t not in existing.markets]
    if missing:
        progress(f"adding the perpetual markets of {', '.join(missing)}")
        existing = _add_markets(existing, issuer, missing, roles)
        records.save(existing.chain_id, existing)
    return replace(existing, markets={t: m for t, m in existing.markets.items() if t in wanted})


def _add_markets(
    existing: PerpsDeployment, issuer: Issuer, tickers: Sequence[str], roles: IssuerRoles
) -> PerpsDeployment:
    chain, issuance = issuer.onchain.chain, issuer.onchain.deployment
    vault = existing.vault_contract(chain)
    markets = dict(existing.markets)
    for ticker in tickers:
        markets[ticker] = create_perp_market(
            chain,
            vault,
            roles.admin,
            existing.usdc,
            issuance.instrument(ticker),
            DEFAULT_PARAMETERS.get(ticker, PerpParameters()),
            existing.guard,
        )
    return replace(existing, markets=markets)


class PerpsSeed:
    """Deposit the demo desk's USDC into the vault, once."""

    def __init__(self, issuer: Issuer, client: PerpsClient, data_dir: Path) -> None:
        self.issuer = issuer
        self.client = client
        self.path = data_dir / PERPS_SEED_FILE

    @property
    def done(self) -> bool:
        return self.path.is_file()

    def deposit(self) -> bool:
        """Deposit `VAULT_USDC` into the vault unless done; return whether this call deposited."""
        if self.done:
            return False
        wallet = lender_wallet()
        onchain = self.issuer.onchain
        balance = int(onchain.usdc.balanceOf(wallet))
        if balance < VAULT_USDC:
            # After a kill between the deposit and the record this mints test USDC the desk no longer
            # needs, while the deposit itself, sent once per key, is not repeated.
            onchain.usdc.mint(wallet, VAULT_USDC - balance, sender=onchain.roles.admin)
        self.client.deposit(wallet, Usd(VAULT_USDC), key=SEED_KEY)
        self.path.write_text(json.dumps({"vault": self.client.deployment.vault, "deposited": VAULT_USDC}))
        return True
