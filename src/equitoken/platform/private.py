"""The private companies of a local platform: each company of the packaged private catalogue gets its
share token (every transfer approved by the transfer agent, lock-ups per issuance, accredited holders
only) and its valuation feed beside the issuer's identity registry, deployed once and recorded in
`deployments/private-chain-<id>.json`; its first valuation is recorded on deployment, as the issuer's
last priced round."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from equitoken.chain.evm.deployment import Progress
from equitoken.chain.evm.private_deployment import (
    DeployedPrivateCompany,
    PrivateRoles,
    deploy_private_company,
)
from equitoken.chain.records import JsonRecords
from equitoken.issuer.catalogue import Catalogue
from equitoken.issuer.private.service import PrivateCompanyDesk
from equitoken.issuer.private.valuation import ValuationMethod
from equitoken.issuer.service import Issuer
from equitoken.model.quantities import Price

FIRST_VALUATION = Price.parse("42.50")
"""The demo company's first valuation per share: a made-up priced round, as the company is."""


def private_records(directory: Path) -> JsonRecords[dict[str, DeployedPrivateCompany]]:
    """Return where the private companies are recorded in `directory`: `private-chain-<id>.json`."""
    return JsonRecords(
        directory,
        "private-",
        lambda companies: {t: json.loads(d.to_json()) for t, d in companies.items()},
        lambda data: {t: DeployedPrivateCompany(**d) for t, d in data.items()},
    )


def open_private_companies(
    issuer: Issuer, data_dir: Path, progress: Progress
) -> Mapping[str, PrivateCompanyDesk]:
    """Return a desk for each private company of the catalogue on the issuer's chain, deploying the
    companies not deployed yet (and recording their first valuation)."""
    onchain = issuer.onchain
    chain, issuance = onchain.chain, onchain.deployment
    roles = PrivateRoles.from_issuer_roles(onchain.roles)
    records = private_records(data_dir / "deployments")
    deployed = dict(records.load(chain.chain_id) or {})
    desks: dict[str, PrivateCompanyDesk] = {}
    for instrument in Catalogue.load_private():
        record = deployed.get(instrument.ticker)
        fresh = record is None or not chain.code(record.token)
        if fresh:
            progress(f"deploying the private company {instrument.name} ({instrument.ticker})")
            record = deploy_private_company(
                chain,
                roles,
                instrument,
                identity_registry=issuance.identity_registry,
                sanctions_list=issuance.sanctions_list,
            )
            deployed[instrument.ticker] = record
            records.save(chain.chain_id, deployed)
        assert record is not None
        desk = PrivateCompanyDesk(issuer.db, onchain.outbox, chain, instrument, record, roles, issuer.clock)
        desk.resume()
        if fresh:
            # As of the chain's latest block: the feed refuses a valuation dated after the block it lands in.
            as_of = datetime.fromtimestamp(chain.timestamp(), UTC)
            method, source = ValuationMethod.PRICED_ROUND, "seed round (demo)"
            desk.record_valuation("first", FIRST_VALUATION, as_of, method, source)
        desks[instrument.ticker] = desk
    return desks
