"""An issuer valuation of a private company's shares: a price per share as of a date, and what it rests on.

It is not a market price: nobody quotes these shares. Consumers see its age from `as_of`.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from equitoken.issuer.errors import InvalidRequestError
from equitoken.model.quantities import Price

MAX_SOURCE_LENGTH = 128  # ValuationFeed's `source: String[128]`


class ValuationMethod(StrEnum):
    """How the price was determined; each has the valuation feed's method code."""

    APPRAISAL_409A = "409a"
    PRICED_ROUND = "priced_round"
    TENDER_OFFER = "tender_offer"
    BOARD = "board"

    @property
    def code(self) -> int:
        """Return the feed's METHOD_* code."""
        return list(ValuationMethod).index(self) + 1

    @classmethod
    def parse(cls, value: "ValuationMethod | str") -> "ValuationMethod":
        """Return the method named `value`, or raise `InvalidRequestError` listing the known ones."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(m.value for m in cls)
            raise InvalidRequestError(f"unknown valuation method {value!r}; use one of {known}") from None


@dataclass(frozen=True)
class Valuation:
    """A price per share of `ticker` as of `as_of`, by `method`, resting on `source`."""

    ticker: str
    price: Price
    as_of: datetime
    method: ValuationMethod
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.price, Price) or self.price.units <= 0:
            raise InvalidRequestError(f"a valuation's price must be a positive Price, not {self.price!r}")
        if not isinstance(self.as_of, datetime) or self.as_of.tzinfo is None:
            raise InvalidRequestError("a valuation's as-of time must be a datetime with a timezone")
        if not 0 < len(self.source.strip()) <= MAX_SOURCE_LENGTH or not self.source.isprintable():
            raise InvalidRequestError(
                f"a valuation's source must have 1 to {MAX_SOURCE_LENGTH} printable characters"
            )

    def age_seconds(self, now: datetime) -> int:
        """Return how old the valuation is at `now`, in whole seconds."""
        return int((now - self.as_of).total_seconds())
