"""Bid and ask around the oracle price: half the spread on each side, rounded against the trader.

bid = floor(mid * (20000 - spread) / 20000), ask = ceil(mid * (20000 + spread) / 20000), so the
venue never quotes tighter than its spread. A long opens at the ask and is valued and closed at
the bid; a short opens at the bid and is valued and closed at the ask.
"""

from typing import NamedTuple

from equitoken.venues.cfd.instruments import NOTIONAL_DIVISOR


class Quote(NamedTuple):
    """The venue's prices for one instrument, in 10^-8 USD per share."""

    bid: int
    mid: int
    ask: int


def quote(mid: int, spread_bps: int) -> Quote:
    """Return the bid and ask around `mid` for a spread of `spread_bps`."""
    return Quote(mid * (20_000 - spread_bps) // 20_000, mid, -(-mid * (20_000 + spread_bps) // 20_000))


def notional(size: int, price: int) -> int:
    """Return the USDC value of `size` at `price`, rounded down."""
    return size * price // NOTIONAL_DIVISOR
