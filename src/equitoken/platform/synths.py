"""The synthetic stocks of a local platform: a synthetic, its vault and its synthetic/USDC pool per ticker
the venues trade, deployed once, and the demo desk's first position and pool liquidity in each.

`open_synths` deploys them (`deploy_synths`) on the first run and records them in
`deployments/synths-chain-<id>.json`; a later run reuses the record and deploys the synthetics of
instruments added since. A synthetic's symbol is "s" and the ticker, at most five characters (the
ERC-20 module's limit), so a ticker of five letters (GOOGL) gets none.

The vaults refuse a price older than `PLATFORM_MAX_AGE`: Mirror's 60 s expiry presumes a feed pushed
every few seconds, while the local oracle pushes on a 0.5% move or an hourly heartbeat, so a 60 s
expiry would suspend the vaults most of a quiet session. Two hours is the AMM's limit.

The demo desk (dev wallet 19) seeds each synthetic once the market is open: it locks
`SEED_COLLATERAL` USDC and mints a third of its value (a 300% collateral ratio) through
`SynthsClient` (key `demo-seed`), and puts half of the minted synthetic, with as much USDC, into the
pool. `synths-seed.json` records the tickers seeded; a kill in between neither repeats the mint (sent
once per key) nor the liquidity (added only to an empty pool).
"""

import json
from dataclasses import replace
from pathlib import Path

from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, Progress
from equitoken.chain.records import JsonRecords
from equitoken.issuer.service import Issuer
from equitoken.model.address import checksum
from equitoken.model.quantities import Usd
from equitoken.platform.lending import SEED_KEY, lender_wallet
from equitoken.platform.local import USDC, venue_tickers
from equitoken.venues.synths.actions import SynthsClient
from equitoken.venues.synths.deployment import SynthsDeployment, deploy_synths
from equitoken.venues.synths.errors import SynthSuspendedError
from equitoken.venues.synths.parameters import SynthAmount, SynthSettings

SYNTHS_SEED_FILE = "synths-seed.json"
PLATFORM_MAX_AGE = 7_200
SEED_COLLATERAL = 300_000 * USDC
_SYMBOL_LIMIT = 5
_WAD = 10**18
_PRICE_TO_USDC = 10**2  # feed answers have 8 decimals, USDC 6


def synths_records(directory: Path) -> JsonRecords[SynthsDeployment]:
    """Return where the synthetics are recorded in `directory`: `synths-chain-<id>.json`."""
    return JsonRecords(
        directory,
        "synths-",
        lambda deployment: dict(json.loads(deployment.to_json())),
        lambda data: SynthsDeployment.from_json(json.dumps(data)),
    )


def synth_tickers(issuance: IssuanceDeployment) -> list[str]:
    """Return the tickers that get a synthetic: those the venues trade whose "s" symbol fits."""
    return [t for t in venue_tickers(issuance) if len(t) < _SYMBOL_LIMIT]


def open_synths(issuer: Issuer, data_dir: Path, progress: Progress) -> SynthsDeployment:
    """Return the synthetics of the issuer's chain recorded in `data_dir`, deploying those missing first."""
    chain, issuance, usdc = issuer.onchain.chain, issuer.onchain.deployment, issuer.onchain.usdc_address
    wanted = synth_tickers(issuance)
    records = synths_records(data_dir / "deployments")
    existing = records.load(chain.chain_id)
    admin = IssuerRoles.from_accounts(chain.accounts).admin
    if existing is not None and (
        existing.usdc != checksum(usdc) or not all(chain.code(s.vault) for s in existing.synths.values())
    ):
        existing = None  # another chain's record, or a node that lost its state
    missing = [t for t in wanted if existing is None or t not in existing.synths]
    if missing:
        progress(f"deploying the synthetic stocks {', '.join('s' + t for t in missing)} with their pools")
        settings = {t: SynthSettings(max_age=PLATFORM_MAX_AGE) for t in missing}
        deployed = deploy_synths(chain, admin, usdc, issuance, missing, settings=settings, pools=True)
        if existing is not None:
            deployed = replace(existing, synths={**existing.synths, **deployed.synths})
        records.save(deployed.chain_id, deployed)
        existing = deployed
    assert existing is not None, "no ticker to deploy and none recorded"
    return replace(existing, synths={t: s for t, s in existing.synths.items() if t in wanted})


class SynthsSeed:
    """Open the demo desk's first position in each synthetic and seed its pool, once."""

    def __init__(self, issuer: Issuer, client: SynthsClient, data_dir: Path) -> None:
        self.issuer = issuer
        self.client = client
        self.path = data_dir / SYNTHS_SEED_FILE
        self.seeded: list[str] = json.loads(self.path.read_text()) if self.path.is_file() else []

    @property
    def done(self) -> bool:
        return set(self.seeded) >= set(self.client.deployment.synths)

    def seed(self) -> list[str]:
        """Seed every synthetic whose market is open now and that is not seeded yet; return them."""
        seeded = []
        for ticker in self.client.deployment.synths:
            if ticker in self.seeded:
                continue
            try:
                self._seed(ticker)
            except SynthSuspendedError:  # closed, halted or no fresh price: the next pass tries again
                continue
            self.seeded.append(ticker)
            partial = self.path.with_suffix(".json.partial")
            partial.write_text(json.dumps(self.seeded))
            partial.replace(self.path)
            seeded.append(ticker)
        return seeded

    def _seed(self, ticker: str) -> None:
        onchain, chain = self.issuer.onchain, self.issuer.onchain.chain
        desk = lender_wallet()
        deployment = self.client.deployment
        price = int(deployment.vault(chain, ticker).price()[0])  # 8 decimals per whole synthetic
        if price == 0:
            raise SynthSuspendedError(f"s{ticker} has no price yet")
        minted = SEED_COLLATERAL * _PRICE_TO_USDC * _WAD // (3 * price)
        pooled_synth = minted // 2
        pooled_usdc = pooled_synth * price // (_PRICE_TO_USDC * _WAD)
        balance = int(onchain.usdc.balanceOf(desk))
        needed = SEED_COLLATERAL + pooled_usdc
        if balance < needed:
            onchain.usdc.mint(desk, needed - balance, sender=onchain.roles.admin)
        self.client.open_position(desk, ticker, Usd(SEED_COLLATERAL), SynthAmount(minted), key=SEED_KEY)
        pool = deployment.pool(chain, ticker)
        if int(pool.totalSupply()) != 0:
            return
        synth = deployment.token(chain, ticker)
        synth.approve(pool.address, pooled_synth, sender=desk)
        onchain.usdc.approve(pool.address, pooled_usdc, sender=desk)
        deadline = chain.timestamp() + 600
        pool.add_liquidity(pooled_synth, pooled_usdc, 0, 0, desk, deadline, sender=desk)
