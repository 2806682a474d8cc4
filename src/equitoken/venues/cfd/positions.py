"""Open CFD positions (hedging mode: every open is its own position) and their profit and loss.

A position's profit at exit price x: long `size * (x - entry)`, short `size * (entry - x)`, in
USDC units rounded down (toward minus infinity: the venue keeps the sub-unit).
"""

from dataclasses import dataclass
from enum import IntEnum

from equitoken.venues.cfd.instruments import NOTIONAL_DIVISOR
from equitoken.venues.cfd.pricing import Quote


class CfdSide(IntEnum):
    """Long or short."""

    LONG = 1
    SHORT = 2


class CloseReason(IntEnum):
    """Why a position (or part of it) closed."""

    TRADER = 1
    STOP_OUT = 2
    CORPORATE = 3


@dataclass(slots=True)
class Position:
    """One open position: size in 10^-18 share, entry price in 10^-8 USD, leverage 1:N."""

    position_id: int
    account: int
    symbol: str
    side: CfdSide
    size: int
    entry_price: int
    leverage: int
    opened_at_us: int

    def exit_price(self, q: Quote) -> int:
        """Return the price the position closes at: the bid for a long, the ask for a short."""
        return q.bid if self.side is CfdSide.LONG else q.ask

    def pnl(self, size: int, exit_price: int) -> int:
        """Return the profit (negative: loss) of closing `size` at `exit_price`, in USDC units."""
        move = exit_price - self.entry_price if self.side is CfdSide.LONG else self.entry_price - exit_price
        return size * move // NOTIONAL_DIVISOR

    def unrealized(self, q: Quote) -> int:
        """Return the profit of closing the whole position at `q`."""
        return self.pnl(self.size, self.exit_price(q))

    def state(self) -> list[int | str]:
        """Return the position as a JSON-ready row."""
        return [
            self.position_id,
            self.account,
            self.symbol,
            int(self.side),
            self.size,
            self.entry_price,
            self.leverage,
            self.opened_at_us,
        ]
