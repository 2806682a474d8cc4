"""Wiring the bridge over an issuer's chains: the ends, the deliveries, the attesters' configuration
and the relayer, the same way for `equitoken up` and for the tests."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

from equitoken.bridge.attester_client import AttesterClient
from equitoken.bridge.delivery import Delivery, EvmDelivery, SolanaDelivery
from equitoken.bridge.deployment import PoolDeployment, join, pool_words
from equitoken.bridge.ends import BridgeEnd, EvmEnd, Network, SolanaEnd
from equitoken.bridge.relayer import Allotments, AttesterSet, Relayer
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.model.time import Clock
from equitoken.store.database import Database


@dataclass(frozen=True)
class EvmSide:
    """An EVM chain of the issuer, its pools, its confirmation depth and the URL attesters read it at."""

    chain: IssuerChain
    pools: PoolDeployment
    rpc_url: str
    confirmations: int = 0


@dataclass(frozen=True)
class SolanaSide:
    """The issuer's Solana, its confirmation depth, the URL attesters read it at, and the key of the
    wallet held and returned transfers pass through."""

    chain: SolanaIssuerChain
    rpc_url: str
    hold: Keypair
    confirmations: int = 0


def network(evm: Sequence[EvmSide], solana: SolanaSide | None) -> Network:
    """Return the ends of the issuer's chains, over the issuer's own connections."""
    ends: dict[int, BridgeEnd] = {
        side.chain.chain_id: EvmEnd(side.chain.chain, side.pools.pools, side.confirmations) for side in evm
    }
    if solana is not None:
        mints = solana.chain.deployment.mints
        ends[solana.chain.chain_id] = SolanaEnd(solana.chain.chain, mints, solana.confirmations)
    return Network(ends)


def join_all(evm: Sequence[EvmSide], solana: SolanaSide | None) -> None:
    """Join every pool to the same ticker's pool on each other EVM chain and to its Solana mint."""
    remotes: dict[int, tuple[Mapping[str, bytes], bool]] = {
        side.chain.chain_id: (pool_words(side.pools), True) for side in evm
    }
    if solana is not None:
        mints = {t: bytes(m) for t, m in solana.chain.deployment.mints.items()}
        remotes[solana.chain.chain_id] = (mints, False)
    for side in evm:
        join(side.chain.chain, side.pools, side.chain.roles.admin, remotes)


def attester_config(evm: Sequence[EvmSide], solana: SolanaSide | None) -> dict[str, Any]:
    """Return the configuration attester processes read the chains by (`bridge.json`)."""
    chains: list[dict[str, Any]] = [
        {
            "chain_id": side.chain.chain_id,
            "family": "EVM",
            "rpc_url": side.rpc_url,
            "confirmations": side.confirmations,
            "pools": dict(side.pools.pools),
        }
        for side in evm
    ]
    if solana is not None:
        chains.append(
            {
                "chain_id": solana.chain.chain_id,
                "family": "Solana",
                "rpc_url": solana.rpc_url,
                "confirmations": solana.confirmations,
                "pools": {t: str(m) for t, m in solana.chain.deployment.mints.items()},
            }
        )
    return {"chains": chains}


def relayer(
    database: Database,
    clock: Clock,
    evm: Sequence[EvmSide],
    solana: SolanaSide | None,
    attesters: Sequence[AttesterClient],
    attester_set: AttesterSet,
    allotments: Allotments,
    sanctioned: Sequence[str] = (),
) -> Relayer:
    """Return the relayer over the issuer's chains: it sends as the issuer's minter and settles held
    transfers as its compliance agent."""
    joined = network(evm, solana)
    deliveries: dict[int, Delivery] = {}
    for side in evm:
        end = joined.ends[side.chain.chain_id]
        assert isinstance(end, EvmEnd)
        roles = side.chain.roles
        deliveries[end.chain_id] = EvmDelivery(end, side.chain.outbox, roles.minter, roles.compliance_agent)
    if solana is not None:
        end = joined.ends[solana.chain.chain_id]
        assert isinstance(end, SolanaEnd)
        deliveries[end.chain_id] = SolanaDelivery(end, solana.chain, solana.hold, sanctioned)
    return Relayer(database, clock, joined, deliveries, attesters, attester_set, allotments)


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write the attesters' configuration to `path` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path
