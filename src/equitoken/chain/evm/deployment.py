"""Deploy the on-chain issuance layer for a set of instruments, and keep the record of where it is."""

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import JsonRecords
from equitoken.model.instrument import ComplianceProfile, Instrument

PRICE_DECIMALS = 8
DEFAULT_RESERVE_HEARTBEAT = 86_400
MAX_REPORTERS = 16  # reporter_set.vy's MAX_REPORTERS


@dataclass(frozen=True)
class IssuerRoles:
    """The accounts that hold each role of the issuance contracts."""

    admin: str
    minter: str
    burner: str
    pauser: str
    multiplier_updater: str
    compliance_agent: str
    operator: str
    registrar: str
    attester: str
    price_updater: str

    @classmethod
    def from_accounts(cls, accounts: Sequence[str]) -> "IssuerRoles":
        """Spread the roles over the first ten `accounts` (a local node's dev accounts)."""
        if len(accounts) < 10:
            raise ValueError(f"need 10 accounts to spread the issuer roles over, got {len(accounts)}")
        return cls(*accounts[:10])


@dataclass(frozen=True)
class OracleMembers:
    """The reporters who sign each price feed's observations, and how many a round needs."""

    reporters: tuple[str, ...]
    quorum: int

    def __post_init__(self) -> None:
        count = len(self.reporters)
        if count == 0:
            raise ValueError("an oracle needs at least one reporter")
        if count > MAX_REPORTERS:
            raise ValueError(f"an oracle has at most {MAX_REPORTERS} reporters, got {count}")
        if len({reporter.lower() for reporter in self.reporters}) != count:
            raise ValueError(f"reporters are not unique: {', '.join(self.reporters)}")
        if not count / 2 < self.quorum <= count:
            raise ValueError(f"quorum {self.quorum} is not a majority of {count} reporters")

    @classmethod
    def single(cls, roles: "IssuerRoles") -> "OracleMembers":
        """Return the one-reporter oracle run by the issuer's price updater."""
        return cls((roles.price_updater,), 1)


# Each stock token role and the `IssuerRoles` field naming who holds it.
TOKEN_ROLE_HOLDERS = (
    ("MINTER_ROLE", "minter"),
    ("BURNER_ROLE", "burner"),
    ("PAUSER_ROLE", "pauser"),
    ("MULTIPLIER_UPDATER_ROLE", "multiplier_updater"),
    ("COMPLIANCE_AGENT_ROLE", "compliance_agent"),
    ("OPERATOR_ROLE", "operator"),
)


@dataclass(frozen=True)
class DeployedInstrument:
    """Where one instrument's token and feeds live on a chain."""

    ticker: str
    token_symbol: str
    profile: str
    token: str
    reserve_feed: str
    price_feed: str


@dataclass(frozen=True)
class IssuanceDeployment:
    """The record of the issuance layer on one chain."""

    chain_id: int
    sanctions_list: str
    identity_registry: str
    instruments: tuple[DeployedInstrument, ...]

    def instrument(self, ticker: str) -> DeployedInstrument:
        """Return the deployment of `ticker`."""
        for deployed in self.instruments:
            if deployed.ticker == ticker:
                return deployed
        raise KeyError(f"{ticker} is not deployed on chain {self.chain_id}")

    def only(self, tickers: Collection[str]) -> "IssuanceDeployment":
        """Return this record restricted to the instruments of `tickers`."""
        return replace(self, instruments=tuple(d for d in self.instruments if d.ticker in tickers))

    def to_json(self) -> str:
        """Serialise the record."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "IssuanceDeployment":
        """Parse a record written by `to_json`."""
        data = json.loads(text)
        return cls(
            chain_id=data["chain_id"],
            sanctions_list=data["sanctions_list"],
            identity_registry=data["identity_registry"],
            instruments=tuple(DeployedInstrument(**item) for item in data["instruments"]),
        )


def deployment_records(directory: Path) -> JsonRecords[IssuanceDeployment]:
    """Return where the issuance deployments are recorded in `directory`: `chain-<id>.json`."""
    return JsonRecords(directory, "", asdict, lambda data: IssuanceDeployment.from_json(json.dumps(data)))


def is_live(chain: EvmChain, deployment: IssuanceDeployment) -> bool:
    """Return whether every contract of `deployment` has code on `chain` (e.g. after a node restart)."""
    addresses = [deployment.sanctions_list, deployment.identity_registry]
    for deployed in deployment.instruments:
        addresses += [deployed.token, deployed.reserve_feed, deployed.price_feed]
    return chain.chain_id == deployment.chain_id and all(chain.code(a) for a in addresses)


Progress = Callable[[str], None]


def deploy_issuance(
    chain: EvmChain,
    roles: IssuerRoles,
    instruments: Sequence[Instrument],
    *,
    sanctions_list: str | None = None,
    reserve_heartbeat: int = DEFAULT_RESERVE_HEARTBEAT,
    oracle: OracleMembers | None = None,
    progress: Progress | None = None,
) -> IssuanceDeployment:
    """Deploy the registry, a sanctions list (unless given) and, per instrument, its feeds and token.

    Each price feed is signed for by `oracle` (default: the price updater alone).
    """
    _require_listed(instruments)
    report = progress or (lambda _: None)
    members = oracle or OracleMembers.single(roles)
    admin = roles.admin
    if sanctions_list is None:
        report("sanctions list")
        sanctions_list = chain.deploy(compile_contract("compliance/SanctionsList.vy"), sender=admin)
    report("identity registry")
    registry = chain.deploy_contract(compile_contract("compliance/IdentityRegistry.vy"), sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), roles.registrar, sender=admin)
    deployed = tuple(
        _deploy_instrument(
            chain, roles, registry, sanctions_list, instrument, reserve_heartbeat, members, report
        )
        for instrument in instruments
    )
    return IssuanceDeployment(chain.chain_id, sanctions_list, registry.address, deployed)


def extend_issuance(
    chain: EvmChain,
    roles: IssuerRoles,
    deployment: IssuanceDeployment,
    instruments: Sequence[Instrument],
    *,
    reserve_heartbeat: int = DEFAULT_RESERVE_HEARTBEAT,
    oracle: OracleMembers | None = None,
    progress: Progress | None = None,
) -> IssuanceDeployment:
    """Deploy `instruments` beside an existing deployment (same registry and sanctions list)."""
    _require_listed(instruments)
    report = progress or (lambda _: None)
    members = oracle or OracleMembers.single(roles)
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    added = tuple(
        _deploy_instrument(
            chain, roles, registry, deployment.sanctions_list, instrument, reserve_heartbeat, members, report
        )
        for instrument in instruments
    )
    return replace(deployment, instruments=deployment.instruments + added)


def register_wallet(
    chain: EvmChain, deployment: IssuanceDeployment, investor_id: int, wallet: str, registrar: str
) -> None:
    """Add `wallet` to investor `investor_id` in the identity registry as `registrar`, unless it is
    theirs already: how a venue contract (an AMM pool, the lending market) may hold ``permissioned``
    tokens, as a wallet of the verified venue operator."""
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    if int(registry.investor_of(wallet)) != investor_id:
        registry.add_wallet(investor_id, wallet, sender=registrar)


def _require_listed(instruments: Sequence[Instrument]) -> None:
    # Before anything is deployed: a private company gets `private_deployment.deploy_private_company`.
    for instrument in instruments:
        instrument.require_market_data("a stock token with a reserve feed and a market price feed")


def _deploy_instrument(
    chain: EvmChain,
    roles: IssuerRoles,
    registry: Contract,
    sanctions_list: str,
    instrument: Instrument,
    reserve_heartbeat: int,
    oracle: OracleMembers,
    report: Progress,
) -> DeployedInstrument:
    report(instrument.token_symbol)
    admin = roles.admin
    reserve_feed = chain.deploy_contract(
        compile_contract("oracle/ReserveFeed.vy"),
        instrument.token_decimals,
        f"{instrument.token_symbol} reserves",
        sender=admin,
    )
    reserve_feed.grantRole(reserve_feed.UPDATER_ROLE(), roles.attester, sender=admin)
    token = chain.deploy_contract(
        compile_contract("token/StockToken.vy"),
        f"{instrument.name} tokenized stock"[:50],
        instrument.token_symbol,
        instrument.token_decimals,
        str(instrument.isin),
        instrument.ticker,
        f"https://equitoken.example/terms/{instrument.token_symbol}",
        int(instrument.profile),
        sanctions_list,
        registry.address,
        reserve_feed.address,
        reserve_heartbeat,
        sender=admin,
    )
    for role, holder in TOKEN_ROLE_HOLDERS:
        token.grantRole(token.function(role)(), getattr(roles, holder), sender=admin)
    # After the token: the feed prices the token through its UI multiplier.
    price_feed = chain.deploy_contract(
        compile_contract("oracle/PriceFeed.vy"),
        PRICE_DECIMALS,
        f"{instrument.token_symbol} / USD",
        token.address,
        list(oracle.reporters),
        oracle.quorum,
        sender=admin,
    )
    if instrument.profile is not ComplianceProfile.OPEN:
        registry.bind_token(token.address, sender=roles.registrar)
    return DeployedInstrument(
        ticker=instrument.ticker,
        token_symbol=instrument.token_symbol,
        profile=instrument.profile.name.lower(),
        token=token.address,
        reserve_feed=reserve_feed.address,
        price_feed=price_feed.address,
    )
