"""Price quotes and the protocol every price source implements."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price


@dataclass(frozen=True, slots=True)
class Quote:
    """The last trade price of `ticker` known at a time.

    `at` is when that price was traded (never after the time asked for): the end of a 1-minute bar,
    the session close when the market is closed, or the asked time on a synthetic intraday path.
    """

    ticker: str
    price: Price
    at: datetime
    source: str


class NoPriceError(EquitokenError, LookupError):
    """No price for a ticker at a time: unknown ticker, before the data starts or long after it ends."""

    code = "no_price"

    def __init__(self, ticker: str, at: datetime, reason: str) -> None:
        super().__init__(f"no price for {ticker} at {at.isoformat()}: {reason}")
        self.ticker = ticker
        self.at = at
        self.reason = reason


class PriceSource(Protocol):
    """Where prices come from (replayed history, a broker's market data)."""

    def quote(self, ticker: str, at: datetime) -> Quote:
        """Return the last trade price at or before `at`.

        When the market is closed at `at` this is the last session's close. Raise NoPriceError for an
        unknown ticker, a time before the data starts, or one more than a session after it ends.
        """
        ...

    def tickers(self) -> frozenset[str]:
        """Return the tickers this source can price."""
        ...
