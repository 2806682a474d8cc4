"""Basis points: hundredths of a percent, for fees, bands, slippage and withholding rates.

`BPS` (10_000) is 100%. A fee is charged on the payer's side: `fee_on` rounds up, so a fee of any
positive rate on any positive amount is at least one smallest unit and the venue never undercharges
by rounding; `share_of` rounds down, for what the payer receives.
"""

BPS = 10_000
"""100% in basis points."""


def fee_on(units: int, basis_points: int) -> int:
    """Return `basis_points` of `units` rounded up: the fee charged on an amount in smallest units."""
    return -(-units * basis_points // BPS)


def share_of(units: int, basis_points: int) -> int:
    """Return `basis_points` of `units` rounded down."""
    return units * basis_points // BPS
