"""Margin: what positions use, what an account is worth, and when it is stopped out.

Glossary (USDC units):
- used margin of a position: its notional at the mid price divided by its leverage, rounded up;
- equity: balance + the unrealized profit of every position (valued at its closing price);
- free margin: equity - used margin; margin level: equity / used margin (bps; none without positions).

Levels (Bybit MT5 defaults): below the margin call level (100%) the venue records a `MarginCall`;
below the stop-out level (50%) it closes the position with the largest loss first, then the next,
until the level is back at or above the stop-out level or nothing is left open. A stopped-out
account left with a negative balance and no positions has it written off (negative balance
protection), so an account's equity is never below zero after a command, and it only ever got
there through a recorded `StopOut`.
"""

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from equitoken.venues.cfd.instruments import NOTIONAL_DIVISOR
from equitoken.venues.cfd.positions import Position
from equitoken.venues.cfd.pricing import Quote


class AccountMargin(NamedTuple):
    """An account's balance, equity, used and free margin, and margin level (None: no positions)."""

    balance: int
    equity: int
    used_margin: int
    free_margin: int
    level_bps: int | None


def position_margin(size: int, mid: int, leverage: int) -> int:
    """Return the margin `size` at `mid` uses at `leverage`, rounded up."""
    return -(-size * mid // (NOTIONAL_DIVISOR * leverage))


def account_margin(balance: int, positions: Iterable[Position], quotes: Mapping[str, Quote]) -> AccountMargin:
    """Return an account's margin figures at `quotes`."""
    equity = balance
    used = 0
    for position in positions:
        q = quotes[position.symbol]
        equity += position.unrealized(q)
        used += position_margin(position.size, q.mid, position.leverage)
    level = equity * 10_000 // used if used else None
    return AccountMargin(balance, equity, used, equity - used, level)


def largest_loss(positions: Iterable[Position], quotes: Mapping[str, Quote]) -> Position:
    """Return the position to stop out first: the largest loss, the oldest (lowest id) on a tie."""
    return min(positions, key=lambda p: (p.unrealized(quotes[p.symbol]), p.position_id))
