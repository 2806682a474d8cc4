"""The compiled contracts of the lending venue: the market, its rate model and the oracle adapter."""

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.compiler import compile_contract


def market_artifact() -> Artifact:
    """Return the compiled ``LendingMarket`` (every market in one contract)."""
    return compile_contract("venues/lending/LendingMarket.vy")


def irm_artifact() -> Artifact:
    """Return the compiled ``AdaptiveCurveIrm``."""
    return compile_contract("venues/lending/AdaptiveCurveIrm.vy")


def oracle_artifact() -> Artifact:
    """Return the compiled ``StockOracle`` (one per stock token)."""
    return compile_contract("venues/lending/StockOracle.vy")


def stock_artifact() -> Artifact:
    """Return the compiled ``StockToken`` (the collateral)."""
    return compile_contract("token/StockToken.vy")


def usdc_artifact() -> Artifact:
    """Return the compiled test USDC (the loan asset)."""
    return compile_contract("settlement/TestUSDC.vy")
