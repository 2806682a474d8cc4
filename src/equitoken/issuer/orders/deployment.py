"""Deploying an order processor beside the issuer's stock tokens.

The processor mints on buys and burns on sells, so it holds MINTER_ROLE and BURNER_ROLE on each token it
serves; it holds sellers' tokens in escrow, so on a `permissioned` token it is a wallet of the verified
venue operator, and on a `restricted` one it also holds the token's OPERATOR_ROLE. The issuer's operator
fills and cancels (OPERATOR_ROLE on the processor) and pays sale proceeds, so it approves the processor
for USDC; the issuer's attester key signs fee quotes; payments and fees go to the operator's wallet, the
issuer's treasury on chain.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import register_wallet
from equitoken.chain.records import JsonRecords
from equitoken.issuer.onchain import IssuerChain

MINTER_ROLE = keccak(text="MINTER_ROLE")
BURNER_ROLE = keccak(text="BURNER_ROLE")
TOKEN_OPERATOR_ROLE = keccak(text="OPERATOR_ROLE")
UNLIMITED = 2**256 - 1


@cache
def processor_artifact() -> Artifact:
    """Return the compiled order processor."""
    return compile_contract("issuance/OrderProcessor.vy")


@dataclass(frozen=True)
class ProcessorDeployment:
    """An order processor on one chain and the tickers it serves."""

    chain_id: int
    processor: str
    tickers: tuple[str, ...]


def processor_records(directory: Path) -> JsonRecords[ProcessorDeployment]:
    """Return the processor deployments kept in `directory` (`order-processor-chain-<id>.json`)."""

    def encode(deployment: ProcessorDeployment) -> dict[str, Any]:
        return {
            "chain_id": deployment.chain_id,
            "processor": deployment.processor,
            "tickers": list(deployment.tickers),
        }

    def decode(data: dict[str, Any]) -> ProcessorDeployment:
        return ProcessorDeployment(int(data["chain_id"]), str(data["processor"]), tuple(data["tickers"]))

    return JsonRecords(directory, "order-processor-", encode, decode)


def deploy_processor(
    onchain: IssuerChain,
    *,
    tickers: Sequence[str] | None = None,
    venue_investor_id: int | None = None,
) -> ProcessorDeployment:
    """Deploy a processor for the tokens of `issuance` (or of `tickers`) and give it and the operator
    what they need; `venue_investor_id` names the verified venue operator whose wallet the processor
    becomes on `permissioned` and `restricted` tokens (required if any is served)."""
    chain, issuance, roles = onchain.chain, onchain.deployment, onchain.roles
    served = [d for d in issuance.instruments if tickers is None or d.ticker in tickers]
    unknown = sorted(set(tickers or ()) - {d.ticker for d in served})
    if unknown:
        raise ValueError(f"no token deployed for {', '.join(unknown)}")
    gated = [d.ticker for d in served if d.profile != "open"]
    if gated and venue_investor_id is None:
        raise ValueError(
            f"{', '.join(gated)} admit only verified holders: name the venue operator's investor id"
        )
    admin = roles.admin
    processor = chain.deploy_contract(
        processor_artifact(), onchain.usdc_address, roles.operator, roles.attester, sender=admin
    )
    processor.grantRole.transact(processor.OPERATOR_ROLE(), roles.operator, sender=admin)
    processor.grantRole.transact(processor.PAUSER_ROLE(), roles.pauser, sender=admin)
    token_artifact = compile_contract("token/StockToken.vy")
    for deployed in served:
        token = chain.at(deployed.token, token_artifact, deployed.ticker)
        roles_needed = [MINTER_ROLE, BURNER_ROLE]
        if deployed.profile == "restricted":
            roles_needed.append(TOKEN_OPERATOR_ROLE)
        for role in roles_needed:
            token.grantRole.transact(role, processor.address, sender=admin)
        if deployed.profile != "open":
            assert venue_investor_id is not None
            register_wallet(chain, issuance, venue_investor_id, processor.address, roles.registrar)
    onchain.usdc.approve.transact(processor.address, UNLIMITED, sender=roles.operator)
    return ProcessorDeployment(chain.chain_id, processor.address, tuple(d.ticker for d in served))


def processor_at(chain: EvmChain, deployment: ProcessorDeployment) -> Contract:
    """Return the deployed processor."""
    return chain.at(deployment.processor, processor_artifact(), "OrderProcessor")
