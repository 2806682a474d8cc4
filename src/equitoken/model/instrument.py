"""Instruments: the securities a token can stand for, listed (a stock or an ETF) or private."""

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


class NoMarketDataError(EquitokenError, ValueError):
    """An instrument with no exchange listing asked for something that needs market data."""

    code = "no_market_data"


INSTRUMENT_KINDS = ("stock", "etf", "private")
"""Listed stocks and ETFs trade on an exchange; a private company's shares trade nowhere."""


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
    """A security and the token that stands for it: a listed US stock or ETF, or a private company's
    shares (kind "private": no exchange, no market data, priced by the issuer's valuation)."""

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
        if self.kind not in INSTRUMENT_KINDS:
            raise InvalidInstrumentError(
                f"{self.ticker}: kind must be 'stock', 'etf' or 'private', not {self.kind!r}"
            )
        if self.listed and not self.exchange:
            raise InvalidInstrumentError(f"{self.ticker}: a listed {self.kind} needs an exchange")
        if not self.listed and self.exchange:
            raise InvalidInstrumentError(
                f"{self.ticker}: a private company is unlisted, so it has no exchange, not {self.exchange!r}"
            )
        if not self.listed and self.profile is not ComplianceProfile.RESTRICTED:
            raise InvalidInstrumentError(
                f"{self.ticker}: a private company's shares are restricted (the transfer agent approves "
                f"every transfer), not {self.profile.name.lower()}"
            )

    @property
    def listed(self) -> bool:
        """Whether the instrument trades on an exchange and so has market data."""
        return self.kind != "private"

    def require_market_data(self, purpose: str) -> None:
        """Raise `NoMarketDataError` naming `purpose` unless the instrument has market data."""
        if not self.listed:
            raise NoMarketDataError(
                f"{self.ticker} is a private company: it has no exchange listing and no market data, "
                f"so {purpose} is not available for it (its price is the issuer's valuation)"
            )
