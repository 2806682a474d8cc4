"""Fixed-precision amounts: shares, US dollars and share prices, each an integer of smallest units.

Glossary:
- `Shares`: 10^-9 of a share, the precision brokers quote fractional shares in (Alpaca: 9 decimals).
  A token with `d` decimals represents `Shares` in steps of 10^(9-d).
- `Usd`: 10^-6 dollar, the precision of USDC, the settlement stablecoin.
- `Price`: 10^-8 dollar per share, the precision of the on-chain price feeds.
- Raw token units under the UI multiplier: see `token_amount`.
Notional: `shares * price` is exact in 10^-17 dollars; converting it to `Usd` rounds explicitly
(a participant's payment rounds up, the issuer's payout rounds down, so the issuer never owes dust).
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar, Self

from equitoken.model.bps import BPS, fee_on
from equitoken.model.errors import EquitokenError

SHARE_DECIMALS = 9
USD_DECIMALS = 6
PRICE_DECIMALS = 8
_NOTIONAL_SCALE = 10 ** (SHARE_DECIMALS + PRICE_DECIMALS - USD_DECIMALS)


class InvalidAmountError(EquitokenError, ValueError):
    """An amount that is not a number, has too many decimals or is out of range."""


def _parse(text: str | Decimal | int, decimals: int, what: str) -> int:
    try:
        value = Decimal(text) if not isinstance(text, Decimal) else text
    except (InvalidOperation, ValueError):
        raise InvalidAmountError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidAmountError(f"{what} {text!r} is not a finite number")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidAmountError(f"{what} {text} has more than {decimals} decimals")
    return int(scaled)


@dataclass(frozen=True, order=True, slots=True)
class _Amount:
    units: int

    DECIMALS: ClassVar[int]
    NAME: ClassVar[str]

    def __post_init__(self) -> None:
        if not isinstance(self.units, int) or isinstance(self.units, bool):
            raise InvalidAmountError(f"{self.NAME} units must be an integer, not {self.units!r}")

    @classmethod
    def parse(cls, text: str | Decimal | int) -> Self:
        """Read a decimal number of whole units ("1.5" shares, "100.25" dollars), rejecting extra decimals."""
        return cls(_parse(text, cls.DECIMALS, cls.NAME))

    @classmethod
    def zero(cls) -> Self:
        return cls(0)

    def to_decimal(self) -> Decimal:
        """Return the amount in whole units, for display."""
        return Decimal(self.units).scaleb(-self.DECIMALS)

    def __str__(self) -> str:
        return f"{self.to_decimal().normalize():f}"

    def __add__(self, other: Self) -> Self:
        self._same(other)
        return type(self)(self.units + other.units)

    def __sub__(self, other: Self) -> Self:
        self._same(other)
        return type(self)(self.units - other.units)

    def __neg__(self) -> Self:
        return type(self)(-self.units)

    def __bool__(self) -> bool:
        return self.units != 0

    def _same(self, other: object) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")


class Shares(_Amount):
    """A number of shares in units of 10^-9 share."""

    DECIMALS = SHARE_DECIMALS
    NAME = "share quantity"

    def to_token_units(self, token_decimals: int) -> int:
        """Return the token amount for exactly these shares; raise if they are finer than the token's step."""
        step = self.token_step(token_decimals)
        if self.units % step:
            raise InvalidAmountError(f"{self} shares has more than {token_decimals} decimals")
        return self.units // step

    def floor_to_token_units(self, token_decimals: int) -> int:
        """Return the largest token amount these shares fully back."""
        return self.units // self.token_step(token_decimals)

    @classmethod
    def from_token_units(cls, amount: int, token_decimals: int) -> "Shares":
        """Return the shares that `amount` raw token units stand for."""
        return cls(amount * cls.token_step(token_decimals))

    @staticmethod
    def token_step(token_decimals: int) -> int:
        if not 0 <= token_decimals <= SHARE_DECIMALS:
            raise InvalidAmountError(f"token decimals must be 0 to {SHARE_DECIMALS}, not {token_decimals}")
        step: int = 10 ** (SHARE_DECIMALS - token_decimals)
        return step


class Usd(_Amount):
    """US dollars in units of 10^-6 (one USDC raw unit)."""

    DECIMALS = USD_DECIMALS
    NAME = "dollar amount"

    def bps(self, basis_points: int) -> "Usd":
        """Return `basis_points`/10,000 of the amount, rounded up (fees never round in the payer's favour)."""
        return Usd(fee_on(self.units, basis_points))


class Price(_Amount):
    """Dollars per share in units of 10^-8 (the price feeds' decimals)."""

    DECIMALS = PRICE_DECIMALS
    NAME = "price"

    def notional(self, shares: Shares, *, round_up: bool) -> Usd:
        """Return the dollar value of `shares` at this price, rounded up or down to a USDC unit."""
        exact = self.units * shares.units
        return Usd(-(-exact // _NOTIONAL_SCALE) if round_up else exact // _NOTIONAL_SCALE)

    def shares_for(self, amount: Usd) -> Shares:
        """Return the most shares `amount` buys at this price (rounded down)."""
        if self.units <= 0:
            raise InvalidAmountError(f"price {self} is not positive")
        return Shares(amount.units * _NOTIONAL_SCALE // self.units)

    def scaled_bps(self, basis_points: int) -> "Price":
        """Return the price moved by `basis_points` (positive up, negative down), rounded outwards."""
        moved = self.units * (BPS + basis_points)
        return Price(-(-moved // BPS) if basis_points >= 0 else moved // BPS)
