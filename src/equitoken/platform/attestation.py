"""Attestation mints on a local platform (the Ondo Global Markets model): a minter beside each token the
issuer offers on its chain, quotes signed by the issuer's attester key during the exchange's sessions,
an inventory of unissued shares per ticker the mints draw on, and the hedger in the platform's loop.

`open_attestation` deploys the minters on the first run and records them in
`deployments/attestation-chain-<id>.json`; a later run reuses the record while the contracts are on the
node. Each pass of the loop buys what brings each inventory back to `INVENTORY_TARGET` (a restock, itself
a durable hedge) and takes every open quote's hedge a step further.
"""

from pathlib import Path

from equitoken.brokers.broker import Broker
from equitoken.chain.evm.deployment import Progress
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import deploy_minters, minter_records
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.quantities import Shares

INVENTORY_TARGET = Shares.parse("20")


def open_attestation(
    issuer: Issuer,
    broker: Broker,
    prices: PriceSource,
    calendar: MarketCalendar,
    data_dir: Path,
    progress: Progress,
) -> AttestationIssuer:
    """Return the attestation issuer of the issuer's chain recorded in `data_dir`, deploying its minters
    first if need be."""
    onchain = issuer.onchain
    chain = onchain.chain
    records = minter_records(data_dir / "deployments")
    deployment = records.load(chain.chain_id)
    if deployment is None or not all(chain.code(m) for m in deployment.minters.values()):
        tickers = [t for t in onchain.tickers if t in issuer.instruments]
        progress(f"deploying the attestation minters for {', '.join(tickers)}")
        roles = onchain.roles
        deployment = deploy_minters(
            chain, onchain.deployment, roles, onchain.usdc_address, roles.attester, tickers=tickers
        )
        records.save(chain.chain_id, deployment)
    config = AttestationConfig(inventory_target=dict.fromkeys(deployment.minters, INVENTORY_TARGET))
    return AttestationIssuer(
        issuer.db,
        onchain,
        deployment,
        broker,
        prices,
        issuer.clock,
        calendar,
        config,
        list(issuer.instruments.values()),
        issuer.chains,
    )


def tend(attestation: AttestationIssuer) -> str | None:
    """Restock every inventory below its target and advance every open hedge; say what was done."""
    restocks = [t for t in attestation.minters.minters if attestation.restock(t) is not None]
    steps = attestation.process()
    done = [f"restocking {', '.join(restocks)}"] if restocks else []
    done += [f"{steps} hedge steps"] if steps else []
    return f"attestation: {'; '.join(done)}" if done else None
