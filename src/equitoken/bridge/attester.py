"""An attester: one independent key that signs a bridge message once it has seen the burn itself.

Asked about a burn (its source chain, transaction and log index), an attester reads the source chain
over its own connection, rebuilds the message from the burn alone, and signs it only if the burn is
buried under the chain's confirmation depth and both ends are pools the bridge knows. It never signs
what a caller tells it: a relayer can only point at a burn, so a lying relayer, or a minority of
lying attesters, cannot make a quorum for a message no burn made.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from solders.pubkey import Pubkey

from equitoken.bridge.ends import BridgeEnd, EvmEnd, Network, SolanaEnd, SourceBurn
from equitoken.bridge.message import BridgeMessage
from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError


class AttestationRefusedError(EquitokenError, ValueError):
    """The attester will not sign: no such burn, not final yet, or an end it does not know."""

    code = "attestation_refused"


class MalformedClaimError(EquitokenError, ValueError):
    """A claim that is not one: not an object, or a field of the wrong type."""

    code = "malformed"


@dataclass(frozen=True)
class BurnClaim:
    """Where a relayer says a bridge burn is."""

    source_chain: int
    tx: str
    log_index: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"source_chain": self.source_chain, "tx": self.tx, "log_index": self.log_index}

    @classmethod
    def from_json(cls, data: Any) -> "BurnClaim":
        """Return the claim `to_json` wrote; raise MalformedClaimError naming what is wrong."""
        if not isinstance(data, dict):
            raise MalformedClaimError("a claim is a JSON object")
        chain, tx, index = data.get("source_chain"), data.get("tx"), data.get("log_index", 0)
        if not isinstance(chain, int) or not isinstance(index, int) or index < 0:
            raise MalformedClaimError("source_chain and log_index must be non-negative integers")
        if not isinstance(tx, str) or not 1 <= len(tx) <= 90:
            raise MalformedClaimError("tx must be a transaction hash or a signature")
        return cls(chain, tx, index)


@dataclass(frozen=True)
class Attestation:
    """A signed message, and who signed it."""

    message: BridgeMessage
    signature: bytes
    attester: str

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message.to_json(),
            "signature": "0x" + self.signature.hex(),
            "attester": self.attester,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Attestation":
        """Return the attestation `to_json` wrote; raise ValueError naming what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("signature"), str):
            raise ValueError("an attestation is an object with a message, a signature and an attester")
        return cls(
            BridgeMessage.from_json(data.get("message")),
            bytes.fromhex(data["signature"].removeprefix("0x")),
            checksum(str(data.get("attester"))),
        )


class Attester:
    """Sign the messages of final burns on the ends of `network`."""

    def __init__(self, key: LocalAccount, network: Network) -> None:
        self.key = key
        self.network = network

    @property
    def address(self) -> str:
        return checksum(self.key.address)

    def attest(self, claim: BurnClaim) -> Attestation:
        """Return this attester's signature of the message the claimed burn made; raise
        AttestationRefusedError saying why not."""
        burn = self.final_burn(claim)
        return Attestation(burn.message, burn.message.sign(self.key), self.address)

    def final_burn(self, claim: BurnClaim) -> SourceBurn:
        """Return the claimed burn, read from its chain; raise AttestationRefusedError unless it is
        there, final, and between two pools of the same token."""
        try:
            end = self.network.end(claim.source_chain)
        except LookupError as error:
            raise AttestationRefusedError(str(error)) from None
        burn = end.burn(claim.tx, claim.log_index, self.network)
        if burn is None:
            raise AttestationRefusedError(
                f"no bridge burn at {claim.tx} (log {claim.log_index}) on chain {claim.source_chain}"
            )
        depth = end.head() - burn.block
        if depth < end.confirmations:
            raise AttestationRefusedError(
                f"the burn has {depth} confirmations on chain {claim.source_chain}, "
                f"the bridge waits for {end.confirmations}"
            )
        wanted = self.network.pool(burn.message.dest_chain, burn.ticker)
        if wanted is None or wanted != burn.message.dest_pool:
            raise AttestationRefusedError(
                f"chain {burn.message.dest_chain} has no {burn.ticker} pool at the message's destination"
            )
        return burn


def network_from_config(config: Mapping[str, Any]) -> Network:
    """Return the ends a bridge configuration (`bridge.json`) names, each over its JSON-RPC URL."""
    from equitoken.chain.evm.jsonrpc import JsonRpcChain
    from equitoken.chain.solana.rpc import SolanaRpcChain

    ends: dict[int, BridgeEnd] = {}
    for chain in config["chains"]:
        chain_id, url, depth = int(chain["chain_id"]), str(chain["rpc_url"]), int(chain["confirmations"])
        if chain["family"] == "EVM":
            ends[chain_id] = EvmEnd(JsonRpcChain(url), dict(chain["pools"]), depth)
        elif chain["family"] == "Solana":
            mints = {t: Pubkey.from_string(m) for t, m in chain["pools"].items()}
            ends[chain_id] = SolanaEnd(SolanaRpcChain(url, chain_id), mints, depth)
        else:
            raise ValueError(f"chain {chain_id}: unknown family {chain['family']!r}")
    return Network(ends)


def load_config(path: Path) -> dict[str, Any]:
    """Return the bridge configuration at `path`; raise ValueError naming what is wrong."""
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the bridge configuration {path}: {error}") from None
    if not isinstance(config, dict) or not isinstance(config.get("chains"), list):
        raise ValueError(f"{path} is not a bridge configuration (no chains)")
    return config
