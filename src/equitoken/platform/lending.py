"""The lending venue of a local platform: a market per default ticker deployed once, and a demo lender's
USDC supplied to each.

`LocalLending.open` deploys the venue (`deploy_lending`: the market contract, its rate model, an
oracle adapter and a market for every offered ticker with default parameters, Kamino's xStocks
table) on the first run, and records it in `deployments/lending-chain-<id>.json`; a later run
reuses the record, and adds the markets of instruments deployed since. The market contract holds
every market's collateral, so where a `permissioned` token has a market the contract is registered
as a wallet of the verified venue operator (the one whose wallets the AMM's pools of such tokens
are), as the token's rules require.

The demo lending desk is dev wallet 19, a fourth wallet of the demo market maker (`pool_seed.py`).
`LendingSeed.supply` tops it up with test USDC and supplies `LENDER_USDC_PER_MARKET` to each market
through `LendingClient` (its outbox purposes carry the key `demo-seed`, so a kill between two
markets neither repeats nor loses a supply); it keeps `LIQUIDATOR_USDC` back, which the liquidation
keeper repays debts with from the same wallet. `lending-seed.json` in the data directory records
which markets are supplied.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, Progress, register_wallet
from equitoken.chain.records import JsonRecords
from equitoken.issuer.investors import Investor, InvestorCategory
from equitoken.issuer.service import Issuer
from equitoken.model.address import checksum
from equitoken.model.quantities import Usd
from equitoken.platform.local import ACCOUNTS, USDC, venue_tickers
from equitoken.platform.pool_seed import MARKET_MAKER, VENUE_OPERATOR, onboard_by_name
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.lending.deployment import LendingDeployment, create_market, deploy_lending
from equitoken.venues.lending.parameters import DEFAULT_MARKET_PARAMETERS, OracleSettings

LENDING_SEED_FILE = "lending-seed.json"
LENDER_ACCOUNT = 19  # the market maker's lending desk: supplies USDC, and liquidates
LENDER_USDC_PER_MARKET = 250_000 * USDC
LIQUIDATOR_USDC = 100_000 * USDC  # kept back to repay the debts of liquidated positions
SEED_KEY = "demo-seed"


def lending_records(directory: Path) -> JsonRecords[LendingDeployment]:
    """Return where the lending venue is recorded in `directory`: `lending-chain-<id>.json`."""
    return JsonRecords(
        directory,
        "lending-",
        lambda deployment: dict(json.loads(deployment.to_json())),
        lambda data: LendingDeployment.from_json(json.dumps(data)),
    )


def lending_tickers(issuance: IssuanceDeployment) -> list[str]:
    """Return the tickers that get a lending market: those the venues trade that have default parameters."""
    return [ticker for ticker in venue_tickers(issuance) if ticker in DEFAULT_MARKET_PARAMETERS]


def lender_wallet() -> str:
    """Return the demo lending desk's wallet."""
    return SignerRegistry.anvil(ACCOUNTS).addresses[LENDER_ACCOUNT]


def open_lending(
    issuer: Issuer, data_dir: Path, progress: Progress, tickers: Sequence[str] | None = None
) -> LendingDeployment:
    """Return the lending venue of the issuer's chain recorded in `data_dir`, with a market for each of
    `tickers` (default: `lending_tickers`), deploying it, or the markets it lacks, first."""
    chain, issuance, usdc = issuer.onchain.chain, issuer.onchain.deployment, issuer.onchain.usdc_address
    wanted = lending_tickers(issuance) if tickers is None else list(tickers)
    records = lending_records(data_dir / "deployments")
    existing = records.load(chain.chain_id)
    roles = IssuerRoles.from_accounts(chain.accounts)
    if existing is None or existing.usdc != checksum(usdc) or not chain.code(existing.lending_market):
        operator = _venue_operator(issuer, wanted)
        progress(f"deploying the lending venue with a market for each of {', '.join(wanted) or 'no ticker'}")
        deployment = deploy_lending(
            chain,
            roles.admin,
            usdc,
            issuance,
            wanted,
            registrar=None if operator is None else roles.registrar,
            market_investor=None if operator is None else operator.onchain_id,
        )
        records.save(deployment.chain_id, deployment)
        return deployment
    missing = [t for t in wanted if t not in existing.markets and t in DEFAULT_MARKET_PARAMETERS]
    if missing:
        progress(f"adding the lending markets of {', '.join(missing)}")
        existing = _add_markets(issuer, existing, missing, roles)
        records.save(existing.chain_id, existing)
    # Markets of instruments deployed on an earlier run but not offered now stay on chain, unserved.
    return replace(existing, markets={t: m for t, m in existing.markets.items() if t in wanted})


def _venue_operator(issuer: Issuer, tickers: Sequence[str]) -> Investor | None:
    """Return the venue operator when a permissioned token gets a market (onboarding it if need be)."""
    issuance = issuer.onchain.deployment
    if not any(issuance.instrument(t).profile == "permissioned" for t in tickers):
        return None
    return onboard_by_name(issuer, VENUE_OPERATOR, InvestorCategory.PROFESSIONAL)


def _add_markets(
    issuer: Issuer, existing: LendingDeployment, tickers: Sequence[str], roles: IssuerRoles
) -> LendingDeployment:
    """Create a market (with its oracle adapter) per ticker in the recorded market contract."""
    chain, issuance, admin = issuer.onchain.chain, issuer.onchain.deployment, roles.admin
    contract = existing.contract(chain)
    settings = OracleSettings()
    markets = dict(existing.markets)
    for ticker in tickers:
        parameters = DEFAULT_MARKET_PARAMETERS[ticker]
        if not contract.is_lltv_enabled(parameters.lltv):
            contract.enable_lltv(parameters.lltv, sender=admin)
        markets[ticker] = create_market(
            chain,
            contract,
            admin,
            existing.usdc,
            existing.irm,
            issuance.instrument(ticker),
            parameters,
            settings,
        )
    operator = _venue_operator(issuer, tickers)
    if operator is not None:
        register_wallet(chain, issuance, operator.onchain_id, existing.lending_market, roles.registrar)
    return replace(existing, markets=markets)


@dataclass
class LendingSeedRecord:
    """What the lending seed has done so far (`lending-seed.json`)."""

    lender: str  # investor id of the market maker, whose wallet the lending desk is
    supplied: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the record atomically."""
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps({"lender": self.lender, "supplied": self.supplied}, indent=2))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> "LendingSeedRecord | None":
        """Return the record at `path`, or None if no market was ever seeded there."""
        return cls(**json.loads(path.read_text())) if path.is_file() else None


class LendingSeed:
    """Supply the demo lending desk's USDC to every market, once."""

    def __init__(self, issuer: Issuer, client: LendingClient, data_dir: Path) -> None:
        self.issuer = issuer
        self.client = client
        self.path = data_dir / LENDING_SEED_FILE
        self.record = LendingSeedRecord.load(self.path)

    @property
    def done(self) -> bool:
        markets = self.client.deployment.markets
        return self.record is not None and set(self.record.supplied) >= set(markets)

    def supply(self) -> list[str]:
        """Supply every market not supplied yet; return the tickers supplied by this call."""
        if self.done:
            return []
        record = self.record or LendingSeedRecord(self._bind_lender().id)
        missing = [t for t in self.client.deployment.markets if t not in record.supplied]
        wallet = lender_wallet()
        onchain = self.issuer.onchain
        target = len(missing) * LENDER_USDC_PER_MARKET + LIQUIDATOR_USDC
        balance = int(onchain.usdc.balanceOf(wallet))
        if balance < target:
            onchain.usdc.mint(wallet, target - balance, sender=onchain.roles.admin)
        supplied = []
        for ticker in missing:
            self.client.supply(wallet, ticker, Usd(LENDER_USDC_PER_MARKET), key=SEED_KEY)
            record.supplied.append(ticker)
            record.save(self.path)
            supplied.append(ticker)
        self.record = record
        return supplied

    def _bind_lender(self) -> Investor:
        # The desk's wallet is registered like the market maker's others: the liquidation keeper
        # receives seized collateral there, which a permissioned token pays only to verified wallets.
        maker = onboard_by_name(self.issuer, MARKET_MAKER, InvestorCategory.AUTHORISED_PARTICIPANT)
        return self.issuer.investors.bind_wallet(maker.id, lender_wallet())
