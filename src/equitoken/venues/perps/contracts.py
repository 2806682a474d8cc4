"""The compiled contracts of the perpetuals venue: the LP vault and the per-ticker market."""

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.compiler import compile_contract


def vault_artifact() -> Artifact:
    """Return the compiled ``PerpVault`` (one, the counterparty of every market)."""
    return compile_contract("venues/perps/PerpVault.vy")


def market_artifact() -> Artifact:
    """Return the compiled ``PerpMarket`` (one per ticker)."""
    return compile_contract("venues/perps/PerpMarket.vy")


def usdc_artifact() -> Artifact:
    """Return the compiled test USDC (the margin asset)."""
    return compile_contract("settlement/TestUSDC.vy")


def token_artifact() -> Artifact:
    """Return the compiled ``StockToken`` (the discovery band reads its UI multiplier)."""
    return compile_contract("token/StockToken.vy")


def feed_artifact() -> Artifact:
    """Return the compiled ``PriceFeed``."""
    return compile_contract("oracle/PriceFeed.vy")
