"""The settings of a synthetic's vault, and the defaults the venue is deployed with.

A vault lends a synthetic against USDC up to a minimum collateral ratio (collateral value over the
debt's value at the feed price) and lets anyone liquidate below it for a penalty, after Synthetix and
Mirror: a minimum ratio of 150% and a penalty of 10%. Every action but a deposit needs the stock's
market open and a price at most 60 s old (Mirror's oracle expiry while the market is in session).
"""

from dataclasses import dataclass
from decimal import Decimal

from equitoken.venues.synths.errors import SynthsError

__all__ = [
    "DEFAULT_LIQUIDATION_PENALTY",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_ANSWER",
    "DEFAULT_MIN_ANSWER",
    "DEFAULT_MIN_COLLATERAL_RATIO",
    "MAX_LIQUIDATION_PENALTY",
    "MAX_MIN_COLLATERAL_RATIO",
    "POOL_MAX_AGE",
    "SYNTH_DECIMALS",
    "USDC_DECIMALS",
    "VALUE_SCALE",
    "WAD",
    "SynthAmount",
    "SynthSettings",
]

WAD = 10**18
"""1.0 in the contracts' fixed point (collateral ratio, penalty)."""
SYNTH_DECIMALS = 18
USDC_DECIMALS = 6
VALUE_SCALE = 10**20
"""10**(synthetic decimals + feed decimals - USDC decimals): debt x price / VALUE_SCALE is USDC."""

DEFAULT_MIN_COLLATERAL_RATIO = 15 * WAD // 10
DEFAULT_LIQUIDATION_PENALTY = WAD // 10
MAX_MIN_COLLATERAL_RATIO = 10 * WAD
MAX_LIQUIDATION_PENALTY = WAD // 2
DEFAULT_MAX_AGE = 60
"""Seconds: the oldest observation the vault acts on (Mirror's 60 s price expiry in session)."""
DEFAULT_MIN_ANSWER = 1
DEFAULT_MAX_ANSWER = 2**104 - 1
POOL_MAX_AGE = 7_200
"""Seconds: the price age a synthetic/USDC pool accepts, the AMM's default."""


@dataclass(frozen=True, slots=True)
class SynthSettings:
    """A vault's risk settings (WAD) and price-guard limits (seconds; the feed's 8 decimals)."""

    min_collateral_ratio: int = DEFAULT_MIN_COLLATERAL_RATIO
    liquidation_penalty: int = DEFAULT_LIQUIDATION_PENALTY
    max_age: int = DEFAULT_MAX_AGE
    min_answer: int = DEFAULT_MIN_ANSWER
    max_answer: int = DEFAULT_MAX_ANSWER

    def __post_init__(self) -> None:
        if not 0 <= self.liquidation_penalty <= MAX_LIQUIDATION_PENALTY:
            raise SynthsError(
                f"the liquidation penalty is at most {MAX_LIQUIDATION_PENALTY} (50%), "
                f"not {self.liquidation_penalty}"
            )
        if not WAD + self.liquidation_penalty < self.min_collateral_ratio <= MAX_MIN_COLLATERAL_RATIO:
            raise SynthsError(
                "the minimum collateral ratio must exceed 1 + the liquidation penalty and be at most 10 "
                f"(WAD), not {self.min_collateral_ratio}"
            )
        if not 0 < self.max_age < 2**48:
            raise SynthsError(f"the price's max age must be 1 s to 2**48 - 1 s, not {self.max_age}")
        if not 0 < self.min_answer <= self.max_answer < 2**104:
            raise SynthsError(
                "the price band must satisfy 0 < min <= max < 2**104, "
                f"not [{self.min_answer}, {self.max_answer}]"
            )


@dataclass(frozen=True, order=True, slots=True)
class SynthAmount:
    """An amount of a synthetic in its smallest units (10⁻¹⁸ of a synthetic share of the token)."""

    units: int

    def __post_init__(self) -> None:
        if not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 0:
            raise SynthsError(f"a synthetic amount is a non-negative integer of units, not {self.units!r}")

    @classmethod
    def parse(cls, text: str | Decimal | int) -> "SynthAmount":
        """Read a decimal number of whole synthetics ("1.5"), rejecting more than 18 decimals."""
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise SynthsError(f"not a synthetic amount: {text!r}") from None
        scaled = value.scaleb(SYNTH_DECIMALS)
        if not value.is_finite() or scaled != scaled.to_integral_value():
            raise SynthsError(f"a synthetic amount has at most {SYNTH_DECIMALS} decimals, not {text!r}")
        return cls(int(scaled))

    def to_decimal(self) -> Decimal:
        """Return the amount in whole synthetics, for display."""
        return Decimal(self.units).scaleb(-SYNTH_DECIMALS)

    def __str__(self) -> str:
        return f"{self.to_decimal().normalize():f}"
