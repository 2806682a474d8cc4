"""The closed form of a constant-product pool with a fee: what it pays, and what moves it to a price.

Glossary: `x`, `y` the input and output reserves (raw units); `d` the input; `B = 10_000`;
`G = B - f` for a fee of `f` bps. A swap pays `⌊d·G·y / (x·B + d·G)⌋` (Uniswap v2's `getAmountOut`,
the pool's own rounding), after which the reserves are `x + d` and `x·y·B / (x·B + d·G)`.

Selling `d` of the input moves the price of the input, `y / x`, to `y·x·B / ((x + d)(x·B + d·G))`.
Setting that equal to a target `p` gives the quadratic `G·d² + x(B + G)·d + B(x² − x·y/p) = 0`,
whose positive root is `d = (√(x²(B − G)² + 4·G·B·x·y/p) − x(B + G)) / (2G)`.
"""

from math import isqrt

from equitoken.model.bps import BPS

__all__ = ["amount_out", "input_to_price"]


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Return what the pool pays for exactly `amount_in` at a fee of `fee_bps`, rounded down."""
    traded = amount_in * (BPS - fee_bps)
    return traded * reserve_out // (reserve_in * BPS + traded)


def input_to_price(
    reserve_in: int, reserve_out: int, fee_bps: int, target_numerator: int, target_denominator: int
) -> int:
    """Return the least input that lowers the input's pool price `reserve_out / reserve_in` to the target.

    The target is `target_numerator / target_denominator` output units per input unit; an input
    already at or below it needs nothing (0). The root is rounded up, so the price ends at or just
    below the target (a unit of rounding at most).
    """
    if reserve_in <= 0 or reserve_out <= 0:
        raise ValueError(f"reserves must be positive, got {reserve_in} and {reserve_out}")
    if target_numerator <= 0 or target_denominator <= 0:
        raise ValueError(f"the target price {target_numerator}/{target_denominator} is not positive")
    if not 0 <= fee_bps < BPS:
        raise ValueError(f"a fee of {fee_bps} bps is not in [0, {BPS})")
    if reserve_out * target_denominator <= reserve_in * target_numerator:
        return 0
    kept = BPS - fee_bps
    # x·y/p with p = n/m is x·y·m/n; rounding it up keeps the root from falling short.
    product_at_target = -(-reserve_in * reserve_out * target_denominator // target_numerator)
    discriminant = reserve_in**2 * fee_bps**2 + 4 * kept * BPS * product_at_target
    root = isqrt(discriminant)
    if root * root < discriminant:
        root += 1
    return max(0, -(-(root - reserve_in * (BPS + kept)) // (2 * kept)))
