"""The parameters of a lending market, and the defaults the venue is deployed with.

A market lends USDC against one stock token up to two loan-to-value ratios (LTV: debt over the
collateral's value at the oracle price), after Kamino's distinction:
- `max_ltv_bps`, Kamino's "LTV": the most a borrow or a collateral withdrawal may take a position
  to, shown to users as their borrow limit (the venue's client refuses beyond it);
- `lltv_bps`, Kamino's "liquidation threshold": the market's LLTV, beyond which anyone may
  liquidate the position. It is part of the market's identity on-chain (WAD, governance-enabled).
The closed-market LTV cut (`OracleSettings.closed_ltv_cut`) is separate: while the stock's market is
closed, the oracle adapter takes it off the LLTV for borrows and withdrawals.

The defaults are Kamino Lend's xStocks market (lending market
5wJeMrUYECGq41fxRESKALVcHnNX26TAWy4W98yULsua on Solana), reserve configurations as of April 2026.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from equitoken.model.bps import BPS

__all__ = [
    "DEFAULT_CLOSED_LTV_CUT",
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_MARKET_PARAMETERS",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_ANSWER",
    "DEFAULT_MIN_ANSWER",
    "WAD",
    "MarketParameters",
    "OracleSettings",
    "wad_to_bps",
]

WAD = 10**18
"""1.0 in the contracts' fixed point (LLTV, LTV cut, fee)."""

DEFAULT_CLOSED_LTV_CUT = 10**17
"""LLTV points (WAD) taken off borrows and withdrawals while the stock's market is closed: 10 points."""
DEFAULT_GRACE_PERIOD = 300
"""Seconds without liquidations after the stock's market reopens."""
DEFAULT_MAX_AGE = 7_200
"""The oldest price observation, in seconds, the adapter accepts (the AMM pools' default)."""
DEFAULT_MIN_ANSWER = 1
"""The lowest feed answer the adapter accepts (the AMM pools' default: any positive price)."""
DEFAULT_MAX_ANSWER = (1 << 104) - 1
"""The highest feed answer the adapter accepts (the AMM pools' default: the guard's maximum)."""


def wad_to_bps(value: int) -> int:
    """Return a WAD fraction in basis points, rounded down."""
    return value * BPS // WAD


@dataclass(frozen=True, slots=True)
class MarketParameters:
    """The borrow limit and the liquidation threshold of one market, in basis points of LTV."""

    max_ltv_bps: int
    lltv_bps: int

    def __post_init__(self) -> None:
        for name, value in (("max_ltv_bps", self.max_ltv_bps), ("lltv_bps", self.lltv_bps)):
            if type(value) is not int or not 0 < value < BPS:
                raise ValueError(f"{name} must be an integer from 1 to {BPS - 1}, not {value!r}")
        if self.max_ltv_bps > self.lltv_bps:
            raise ValueError(
                f"the max LTV ({self.max_ltv_bps} bps) must not exceed the liquidation threshold "
                f"({self.lltv_bps} bps)"
            )

    @classmethod
    def percent(cls, max_ltv: int, lltv: int) -> "MarketParameters":
        """Return the parameters of whole-percent LTVs (Kamino's "73 / 75")."""
        return cls(max_ltv * BPS // 100, lltv * BPS // 100)

    @property
    def lltv(self) -> int:
        """Return the LLTV in WAD, as the market contract takes it."""
        return self.lltv_bps * WAD // BPS

    @property
    def max_ltv(self) -> int:
        """Return the max LTV in WAD."""
        return self.max_ltv_bps * WAD // BPS


DEFAULT_MARKET_PARAMETERS: Mapping[str, MarketParameters] = MappingProxyType(
    {
        "SPY": MarketParameters.percent(73, 75),
        "QQQ": MarketParameters.percent(70, 72),
        "GOOGL": MarketParameters.percent(60, 70),
        "TSLA": MarketParameters.percent(55, 65),
        "NVDA": MarketParameters.percent(55, 65),
        "AAPL": MarketParameters.percent(40, 50),
        "MSTR": MarketParameters.percent(30, 40),
    }
)
"""Kamino's xStocks parameters (LTV / liquidation threshold) by ticker."""


@dataclass(frozen=True, slots=True)
class OracleSettings:
    """The settings of each market's oracle adapter (`StockOracle`): its guard and its stock rules."""

    closed_ltv_cut: int = DEFAULT_CLOSED_LTV_CUT
    grace_period: int = DEFAULT_GRACE_PERIOD
    max_age: int = DEFAULT_MAX_AGE
    min_answer: int = DEFAULT_MIN_ANSWER
    max_answer: int = DEFAULT_MAX_ANSWER

    def __post_init__(self) -> None:
        if not 0 <= self.closed_ltv_cut < WAD:
            raise ValueError(f"closed_ltv_cut must be a WAD fraction below 1e18, not {self.closed_ltv_cut}")
        if not 0 <= self.grace_period <= 86_400:
            raise ValueError(f"grace_period must be 0 to 86400 seconds, not {self.grace_period}")
        if not 0 < self.max_age < 2**48:
            raise ValueError(f"max_age must be 1 to 2**48 - 1 seconds, not {self.max_age}")
        if not 0 < self.min_answer <= self.max_answer <= DEFAULT_MAX_ANSWER:
            raise ValueError(
                f"the answer band [{self.min_answer}, {self.max_answer}] must be positive, ordered and "
                f"below 2**104"
            )
