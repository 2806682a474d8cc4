"""Corporate actions on a CFD's underlying: no shareholder rights, but splits keep positions whole.

A split of n new shares for d old ones multiplies every position's size by n/d (rounded down: the
trader never gains a fraction of a unit) and its entry price by d/n (rounded against the trader: up
for a long, down for a short), and the instrument's last price by d/n, so each position's value and
profit are unchanged up to that rounding. A dividend is recorded (`DividendIgnored`) and pays nothing.
"""

from equitoken.venues.cfd.positions import CfdSide, Position


def split_size(size: int, numerator: int, denominator: int) -> int:
    """Return a size after a split of `numerator` for `denominator`."""
    return size * numerator // denominator


def split_entry(position: Position, numerator: int, denominator: int) -> int:
    """Return a position's entry price after a split, rounded against the trader."""
    scaled = position.entry_price * denominator
    if position.side is CfdSide.LONG:
        return -(-scaled // numerator)
    return scaled // numerator


def split_price(price: int, numerator: int, denominator: int) -> int:
    """Return a quoted price after a split (at least one unit)."""
    return max(1, price * denominator // numerator)
