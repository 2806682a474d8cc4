"""Deploying an attestation minter beside each issued stock token, and the record of where they are.

The minter mints and burns its token (MINTER_ROLE and BURNER_ROLE, granted by the token's admin),
verifies quotes signed by the issuer's quote signer, reads the token's price feed through its price
guard and takes and pays USDC at the issuer's treasury (the operator, which approves it). Both rate
limits are set at deployment: a minter with a zero limit refuses every flow.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.chain.records import JsonRecords
from equitoken.model.quantities import Usd

MAX_UINT256 = 2**256 - 1
DAY_SECONDS = 86_400


@cache
def minter_artifact() -> Artifact:
    """Return the compiled `AttestationMinter`."""
    return compile_contract("issuance/AttestationMinter.vy")


@dataclass(frozen=True)
class UsdRateLimit:
    """A limit in USD and the USD per second its used amount decays by (the contract's `RateLimit`)."""

    limit: Usd
    decay_per_second: Usd

    def __post_init__(self) -> None:
        if self.limit.units <= 0 or self.decay_per_second.units < 0:
            raise ValueError(
                f"a rate limit needs a positive limit and a non-negative decay, not {self.limit} "
                f"decaying {self.decay_per_second}/s"
            )

    @classmethod
    def per_day(cls, dollars: str) -> "UsdRateLimit":
        """Return a limit of `dollars` that decays to nothing in a day."""
        limit = Usd.parse(dollars)
        return cls(limit, Usd(max(limit.units // DAY_SECONDS, 1)))


@dataclass(frozen=True)
class MinterSettings:
    """The minter's constructor and limit settings (see `AttestationMinter.__init__`)."""

    max_ttl: int = 120
    max_deviation_bps: int = 100
    max_age: int = 3_600
    min_answer: int = 1
    max_answer: int = 10**8 * 10**8  # 100 million dollars a share, in the feed's 8 decimals
    user_limit: UsdRateLimit = field(default_factory=lambda: UsdRateLimit.per_day("1000000"))
    token_limit: UsdRateLimit = field(default_factory=lambda: UsdRateLimit.per_day("20000000"))


@dataclass(frozen=True)
class MinterDeployment:
    """The attestation minters of one EVM chain, by ticker, and the signer they accept quotes from."""

    chain_id: int
    signer: str
    minters: Mapping[str, str]

    def minter(self, ticker: str) -> str:
        """Return the minter of `ticker`; raise KeyError naming the chain if there is none."""
        if ticker not in self.minters:
            raise KeyError(f"{ticker} has no attestation minter on chain {self.chain_id}")
        return self.minters[ticker]


def minter_records(directory: Path) -> JsonRecords[MinterDeployment]:
    """Return the minter deployments kept in `directory` (`attestation-chain-<id>.json`)."""

    def encode(deployment: MinterDeployment) -> dict[str, Any]:
        return {
            "chain_id": deployment.chain_id,
            "signer": deployment.signer,
            "minters": dict(deployment.minters),
        }

    def decode(data: dict[str, Any]) -> MinterDeployment:
        return MinterDeployment(int(data["chain_id"]), str(data["signer"]), dict(data["minters"]))

    return JsonRecords(directory, "attestation-", encode, decode)


def deploy_minters(
    chain: EvmChain,
    issuance: IssuanceDeployment,
    roles: IssuerRoles,
    usdc: str,
    signer: str,
    *,
    settings: MinterSettings | None = None,
    tickers: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> MinterDeployment:
    """Deploy a minter beside each token of `issuance` (or of `tickers`), quoting by `signer`, with the
    treasury at `roles.operator`; grant it the token's MINTER_ROLE and BURNER_ROLE, the pauser its
    PAUSER_ROLE, set both rate limits and let it move the treasury's USDC."""
    settings = settings or MinterSettings()
    unknown = set(tickers or ()) - {d.ticker for d in issuance.instruments}
    if unknown:
        raise KeyError(f"not deployed on chain {issuance.chain_id}: {', '.join(sorted(unknown))}")
    minters: dict[str, str] = {}
    admin = roles.admin
    stablecoin = chain.at(usdc, compile_contract("settlement/TestUSDC.vy"), "USDC")
    for deployed in issuance.instruments:
        if tickers is not None and deployed.ticker not in tickers:
            continue
        minter = chain.deploy_contract(
            minter_artifact(),
            deployed.token,
            usdc,
            roles.operator,
            deployed.price_feed,
            signer,
            settings.max_ttl,
            settings.max_deviation_bps,
            settings.max_age,
            settings.min_answer,
            settings.max_answer,
            sender=admin,
        )
        user, token_limit = settings.user_limit, settings.token_limit
        minter.set_user_rate_limit(user.limit.units, user.decay_per_second.units, sender=admin)
        minter.set_token_rate_limit(token_limit.limit.units, token_limit.decay_per_second.units, sender=admin)
        minter.grantRole(minter.PAUSER_ROLE(), roles.pauser, sender=admin)
        token = chain.at(deployed.token, compile_contract("token/StockToken.vy"), deployed.token_symbol)
        for role in ("MINTER_ROLE", "BURNER_ROLE"):
            token.grantRole(token.function(role)(), minter.address, sender=admin)
        stablecoin.approve(minter.address, MAX_UINT256, sender=roles.operator)
        minters[deployed.ticker] = minter.address
        if progress is not None:
            progress(f"{deployed.ticker} attestation minter at {minter.address}")
    return MinterDeployment(chain.chain_id, signer, minters)


def minter_at(chain: EvmChain, address: str, ticker: str) -> Contract:
    """Return the minter at `address`."""
    return chain.at(address, minter_artifact(), f"{ticker} attestation minter")
