"""Deploying the bridge: a token pool beside each stock token on every EVM chain, joined to the pools
of the other chains and to Solana's mints, with rate limits in both directions.

The pool mints and burns its token (MINTER_ROLE and BURNER_ROLE, granted by the token's admin), the
issuer's compliance agent settles held messages, its pauser pauses. Rate limits default to CCIP's
shape: a bucket per remote chain and direction, here `DEFAULT_CAPACITY_SHARES` shares refilled over
a day.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from equitoken.bridge.ends import pool_artifact, token_artifact
from equitoken.bridge.message import SHARED_DECIMALS, word
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.chain.records import JsonRecords

DEFAULT_CAPACITY_SHARES = 100_000
DAY_SECONDS = 86_400
MINTER_ROLE = keccak(text="MINTER_ROLE")
BURNER_ROLE = keccak(text="BURNER_ROLE")


@dataclass(frozen=True)
class RateLimit:
    """One token bucket: `capacity` and `rate` per second in shared decimals (CCIP's `Config`)."""

    capacity: int
    rate: int

    def __post_init__(self) -> None:
        if not 0 < self.rate <= self.capacity:
            raise ValueError(
                f"a rate limit needs 0 < rate <= capacity, not rate {self.rate}, capacity {self.capacity}"
            )

    @classmethod
    def shares_per_day(cls, shares: int) -> "RateLimit":
        """Return a bucket of `shares` whole shares refilled in a day."""
        capacity = shares * 10**SHARED_DECIMALS
        return cls(capacity, max(capacity // DAY_SECONDS, 1))


DEFAULT_LIMIT = RateLimit.shares_per_day(DEFAULT_CAPACITY_SHARES)


@dataclass(frozen=True)
class PoolDeployment:
    """The token pools of one EVM chain, by ticker."""

    chain_id: int
    pools: Mapping[str, str]


def pool_records(directory: Path) -> JsonRecords[PoolDeployment]:
    """Return the pool deployments kept in `directory` (`bridge-chain-<id>.json`)."""

    def encode(deployment: PoolDeployment) -> dict[str, Any]:
        return {"chain_id": deployment.chain_id, "pools": dict(deployment.pools)}

    def decode(data: dict[str, Any]) -> PoolDeployment:
        return PoolDeployment(int(data["chain_id"]), dict(data["pools"]))

    return JsonRecords(directory, "bridge-", encode, decode)


def deploy_pools(
    chain: EvmChain,
    issuance: IssuanceDeployment,
    roles: IssuerRoles,
    attesters: Sequence[str],
    threshold: int,
    *,
    tickers: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PoolDeployment:
    """Deploy a pool beside each token of `issuance` (or of `tickers`) and let it mint and burn."""
    pools: dict[str, str] = {}
    for deployed in issuance.instruments:
        if tickers is not None and deployed.ticker not in tickers:
            continue
        pool = chain.deploy_contract(
            pool_artifact(), deployed.token, list(attesters), threshold, sender=roles.admin
        )
        token = chain.at(deployed.token, token_artifact(), deployed.ticker)
        for role in (MINTER_ROLE, BURNER_ROLE):
            token.grantRole.transact(role, pool.address, sender=roles.admin)
        pool.grantRole.transact(pool.PAUSER_ROLE(), roles.pauser, sender=roles.admin)
        pool.grantRole.transact(pool.COMPLIANCE_AGENT_ROLE(), roles.compliance_agent, sender=roles.admin)
        pools[deployed.ticker] = pool.address
        if progress is not None:
            progress(f"{deployed.ticker} token pool at {pool.address}")
    return PoolDeployment(chain.chain_id, pools)


def join(
    chain: EvmChain,
    deployment: PoolDeployment,
    admin: str,
    remotes: Mapping[int, tuple[Mapping[str, bytes], bool]],
    limit: RateLimit = DEFAULT_LIMIT,
) -> None:
    """Join each pool of `deployment` to the same ticker's pool (or mint) on every remote chain, with
    `limit` in both directions. `remotes` maps a chain id to its pools as 32-byte words, and whether
    the chain is EVM."""
    for ticker, address in deployment.pools.items():
        pool = chain.at(address, pool_artifact(), f"{ticker} pool")
        for remote_chain, (remote_pools, is_evm) in remotes.items():
            if remote_chain == deployment.chain_id or ticker not in remote_pools:
                continue
            if bytes(pool.remote_pool(remote_chain)) != remote_pools[ticker]:
                pool.set_remote.transact(remote_chain, remote_pools[ticker], is_evm, sender=admin)
                pool.set_rate_limits.transact(
                    remote_chain,
                    True,
                    limit.capacity,
                    limit.rate,
                    True,
                    limit.capacity,
                    limit.rate,
                    sender=admin,
                )


def pool_words(deployment: PoolDeployment) -> dict[str, bytes]:
    """Return the pools of `deployment` as the 32-byte words messages name them by."""
    return {ticker: word(address) for ticker, address in deployment.pools.items()}
