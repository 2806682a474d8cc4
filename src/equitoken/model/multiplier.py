"""The UI multiplier of ERC-8056: what one raw token unit stands for after corporate actions.

Glossary (as in `contracts/token/ui_multiplier.vy`): a multiplier has 18 decimals and
`MULTIPLIER_ONE` is 1.0. `raw` token units show as `ui = raw * m // MULTIPLIER_ONE` units; a split of
`new` for `old` multiplies `m` by `new / old`, a reinvested dividend raises it, a management fee
lowers it. Invariant the issuer keeps: raw units outstanding x m / MULTIPLIER_ONE never exceed the
token steps of shares in custody, so conversions into raw units round down for what the issuer
creates and up for what it takes back.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from equitoken.model.errors import EquitokenError

MULTIPLIER_ONE = 10**18
"""The multiplier 1.0: one raw unit stands for one token step of a share."""


class InvalidMultiplierError(EquitokenError, ValueError):
    """A multiplier that is not a positive whole number of 1e-18 steps."""

    code = "invalid_multiplier"


@dataclass(frozen=True, order=True, slots=True)
class Multiplier:
    """A UI multiplier in 1e-18 steps."""

    value: int

    def __post_init__(self) -> None:
        if type(self.value) is not int or self.value <= 0:
            raise InvalidMultiplierError(f"UI multiplier {self.value!r} must be a positive integer")

    @classmethod
    def one(cls) -> "Multiplier":
        return cls(MULTIPLIER_ONE)

    def ui(self, raw: int) -> int:
        """Return the units `raw` token units show as (rounded down)."""
        return raw * self.value // MULTIPLIER_ONE

    def raw(self, ui: int, *, round_up: bool = False) -> int:
        """Return the raw token units that show as `ui` units, rounded down unless `round_up`."""
        scaled = ui * MULTIPLIER_ONE
        return -(-scaled // self.value) if round_up else scaled // self.value

    def scaled(self, numerator: int, denominator: int) -> "Multiplier":
        """Return this multiplier times `numerator / denominator`, rounded down (a split of 4 for 1: 4, 1)."""
        return Multiplier(self.value * numerator // denominator)

    def to_double(self) -> float:
        """Return the largest IEEE-754 double not above this multiplier (Solana's ScaledUiAmount).

        Rounded down, so a Solana holder's UI amount never stands for more than the same raw units on
        an EVM chain: the backing that holds for one holds for the other.
        """
        exact = Fraction(self.value, MULTIPLIER_ONE)
        double = float(exact)
        return double if Fraction(double) <= exact else math.nextafter(double, 0.0)

    @classmethod
    def from_double(cls, double: float) -> "Multiplier":
        """Return the multiplier in 1e-18 steps a ScaledUiAmount double stands for, rounded down."""
        if not math.isfinite(double) or double <= 0:
            raise InvalidMultiplierError(
                f"a ScaledUiAmount multiplier must be a positive number, not {double!r}"
            )
        return cls(math.floor(Fraction(double) * MULTIPLIER_ONE))

    def __str__(self) -> str:
        whole, fraction = divmod(self.value, MULTIPLIER_ONE)
        return f"{whole}.{fraction:018d}".rstrip("0").rstrip(".")
