"""Raw token amounts: what a chain counts, together with the token's decimals.

Glossary (see `multiplier` and `quantities`): a token with `d` decimals (0 to 9) counts raw units;
under the UI multiplier `m`, `raw` units show as `raw * m // MULTIPLIER_ONE` token steps, and a
token step is 10^(9-d) `Shares` units. Invariant the conversions keep: what the issuer creates
for shares rounds down (`for_shares`, `backed_by`) and what it takes back rounds up
(`for_shares(round_up=True)`), so raw units outstanding x m never stand for more than the shares held.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Self

from equitoken.model.multiplier import MULTIPLIER_ONE, Multiplier
from equitoken.model.quantities import InvalidAmountError, Shares


def _positive(multiplier: int) -> int:
    if type(multiplier) is not int or multiplier <= 0:
        raise InvalidAmountError(f"UI multiplier {multiplier!r} must be a positive integer")
    return multiplier


@dataclass(frozen=True, order=True, slots=True)
class TokenAmount:
    """`raw` smallest units of a token with `decimals` decimals."""

    raw: int
    decimals: int

    def __post_init__(self) -> None:
        if type(self.raw) is not int or self.raw < 0:
            raise InvalidAmountError(f"a raw token amount must be a non-negative integer, not {self.raw!r}")
        Shares.token_step(self.decimals)  # refuses decimals outside 0 to 9

    @classmethod
    def for_shares(cls, shares: Shares, decimals: int, multiplier: int, *, round_up: bool = False) -> Self:
        """Return the raw units standing for exactly `shares` (whole token steps) under `multiplier`.

        Rounded down (what may be created for shares bought) unless `round_up` (what must be taken
        back for shares sold).
        """
        steps = shares.to_token_units(decimals)
        return cls(Multiplier(_positive(multiplier)).raw(steps, round_up=round_up), decimals)

    @classmethod
    def backed_by(cls, shares: Shares, decimals: int, multiplier: int) -> Self:
        """Return the most raw units `shares` fully back: their whole token steps, rounded down."""
        steps = shares.floor_to_token_units(decimals)
        return cls(Multiplier(_positive(multiplier)).raw(steps), decimals)

    def token_steps(self, multiplier: int = MULTIPLIER_ONE) -> int:
        """Return the token steps these units show as under `multiplier`, rounded down as the token does."""
        return Multiplier(_positive(multiplier)).ui(self.raw)

    def shares(self, multiplier: int = MULTIPLIER_ONE) -> Shares:
        """Return the shares these units stand for under `multiplier` (whole token steps, rounded down)."""
        return Shares(self.token_steps(multiplier) * Shares.token_step(self.decimals))

    def __str__(self) -> str:
        return f"{Decimal(self.raw).scaleb(-self.decimals).normalize():f}"
