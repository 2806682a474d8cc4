"""The compiled contracts of the synthetic stocks: the synthetic token, its vault, and what they use."""

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.compiler import compile_contract

__all__ = ["pool_artifact", "synth_artifact", "usdc_artifact", "vault_artifact"]


def synth_artifact() -> Artifact:
    """Return the compiled ``Synth`` (one per synthetic)."""
    return compile_contract("venues/synths/Synth.vy")


def vault_artifact() -> Artifact:
    """Return the compiled ``SynthVault`` (one per synthetic, its only minter)."""
    return compile_contract("venues/synths/SynthVault.vy")


def usdc_artifact() -> Artifact:
    """Return the compiled test USDC (the collateral)."""
    return compile_contract("settlement/TestUSDC.vy")


def pool_artifact() -> Artifact:
    """Return the compiled ``StockPool`` (an optional synthetic/USDC pool)."""
    return compile_contract("venues/StockPool.vy")
