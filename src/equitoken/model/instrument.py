"""Instruments: the securities a stock token can stand for."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from equitoken.model.errors import EquitokenError

_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")


class InvalidInstrumentError(EquitokenError, ValueError):
    """An instrument field that cannot be right, with the field named."""


class UnknownInstrumentError(EquitokenError, LookupError):
    """A ticker the catalogue, the issuer or a venue does not hold; the message offers close matches."""

    code = "unknown_instrument"

    def __init__(self, message: str, *, ticker: str = "", suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.ticker = ticker
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        # LookupError would otherwise print like a KeyError, with the message quoted.
        return self.message


class ComplianceProfile(IntEnum):
    """Who may hold and move a token; the values are the contract's profile codes."""

    OPEN = 0
    PERMISSIONED = 1
    RESTRICTED = 2


@dataclass(frozen=True, slots=True)
class Isin:
    """An ISO 6166 securities identifier, check digit verified."""

    value: str

    def __post_init__(self) -> None:
        if not _ISIN.match(self.value):
            raise InvalidInstrumentError(f"ISIN {self.value!r} is not 2 letters, 9 alphanumerics and a digit")
        if _isin_check_digit(self.value[:-1]) != int(self.value[-1]):
            raise InvalidInstrumentError(f"ISIN {self.value!r} has a wrong check digit")

    def __str__(self) -> str:
        return self.value


def _isin_check_digit(body: str) -> int:
    # Letters become two digits (A=10 ... Z=35), then the Luhn algorithm
    # runs over the digit string.
    digits = "".join(str(int(c, 36)) for c in body)
    total = 0
    for position, digit in enumerate(reversed(digits)):
        n = int(digit) * (2 if position % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


@dataclass(frozen=True, slots=True)
class Instrument:
    """A listed US stock or ETF and the token that stands for it."""

    ticker: str
    name: str
    isin: Isin
    exchange: str
    kind: str
    token_symbol: str
    token_decimals: int
    profile: ComplianceProfile

    def __post_init__(self) -> None:
        if not _TICKER.match(self.ticker):
            raise InvalidInstrumentError(f"ticker {self.ticker!r} is not 1-10 capitals, digits or dots")
        if not 0 < len(self.name) <= 50:
            raise InvalidInstrumentError(f"{self.ticker}: name must have 1 to 50 characters")
        if not 0 < len(self.token_symbol) <= 16:
            raise InvalidInstrumentError(f"{self.ticker}: token symbol must have 1 to 16 characters")
        if not 0 <= self.token_decimals <= 18:
            raise InvalidInstrumentError(f"{self.ticker}: token decimals must be 0 to 18")
        if self.kind not in ("stock", "etf"):
            raise InvalidInstrumentError(f"{self.ticker}: kind must be 'stock' or 'etf', not {self.kind!r}")
