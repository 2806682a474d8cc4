"""What a reporter observes: an instrument's share price and its market's status at one time.

The status is the REGULAR session's (pre- and post-market trading do not count): OPEN inside it,
CLOSED outside it, HALTED inside it while a trading halt is in force. The price is the last trade
while open, the last trade before the halt while halted, and the closed-market price
(`closed_market.ClosedPricing`, from the session's official close) while closed.
"""

from datetime import datetime
from typing import Protocol

from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.quantities import Price
from equitoken.model.time import require_aware
from equitoken.oracle.closed_market import ClosedPricing, ClosedTerms
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import MarketStatus


class ObservationSource(Protocol):
    """Where a reporter's observations come from."""

    def observe(self, ticker: str, at: datetime, closed: ClosedTerms) -> tuple[Price, MarketStatus]:
        """Return the share price of `ticker` and its market's status at `at`.

        `closed` is the feed's closed-market policy, applied when the market is closed at `at`.
        Raise `NoPriceError` when the price is unknown.
        """
        ...


class MarketObservationSource:
    """Observe a price source (replayed history, Alpaca) on the exchange calendar, with halts."""

    def __init__(
        self,
        prices: PriceSource,
        calendar: MarketCalendar,
        halts: HaltBook | None = None,
        closed: ClosedPricing | None = None,
    ) -> None:
        self.prices = prices
        self.calendar = calendar
        self.halts = halts
        self.closed = closed if closed is not None else ClosedPricing()

    def observe(self, ticker: str, at: datetime, closed: ClosedTerms) -> tuple[Price, MarketStatus]:
        """Return the share price of `ticker` and its market's status at `at` (see the module notes)."""
        at = require_aware(at, "observation time")
        if not self.calendar.is_open(at):
            # Outside the session a price source returns the session's official close, stamped at it.
            close = self.prices.quote(ticker, at)
            price = self.closed.price(ticker, closed, close.price, close.at, at)
            return price, MarketStatus.CLOSED
        last = self.prices.quote(ticker, at)  # first, so that an unknown ticker is a NoPriceError
        halt = self.halts.in_force(ticker, at) if self.halts is not None else None
        if halt is not None:
            return self.prices.quote(ticker, halt.start).price, MarketStatus.HALTED
        return last.price, MarketStatus.OPEN
