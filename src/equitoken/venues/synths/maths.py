"""The vault's arithmetic in integers, as `SynthVault.vy` does it.

Units: collateral in USDC units (6 decimals), debt in synthetic units (18), the price the feed's
answer (8 decimals, dollars per whole token); ratios and the penalty in WAD.
"""

from dataclasses import dataclass

from equitoken.venues.synths.parameters import VALUE_SCALE, WAD

__all__ = [
    "LiquidationSize",
    "collateral_ratio",
    "debt_value",
    "is_healthy",
    "liquidation_price",
    "max_debt",
    "seized_for",
    "size_liquidation",
]


def debt_value(debt: int, price: int) -> int:
    """Return the debt's value in USDC units, rounded down."""
    return debt * price // VALUE_SCALE


def is_healthy(collateral: int, debt: int, price: int, min_ratio: int) -> bool:
    """Return C x S x WAD >= m x D x p, the vault's exact test."""
    return collateral * VALUE_SCALE * WAD >= min_ratio * debt * price


def collateral_ratio(collateral: int, debt: int, price: int) -> int | None:
    """Return the collateral ratio (WAD, rounded down); None without debt."""
    if debt == 0:
        return None
    return collateral * VALUE_SCALE * WAD // (debt * price)


def max_debt(collateral: int, price: int, min_ratio: int) -> int:
    """Return the most synthetic `collateral` carries at `price` and `min_ratio`."""
    return collateral * VALUE_SCALE * WAD // (min_ratio * price)


def liquidation_price(collateral: int, debt: int, min_ratio: int) -> int | None:
    """Return the highest price at which the position stays healthy (8 decimals), None without debt;
    above it the position may be liquidated."""
    if debt == 0:
        return None
    return collateral * VALUE_SCALE * WAD // (min_ratio * debt)


def seized_for(amount: int, price: int, penalty: int, collateral: int) -> int:
    """Return the USDC a liquidation of `amount` synthetic pays: its value plus the penalty, capped."""
    return min(amount * price * (WAD + penalty) // (VALUE_SCALE * WAD), collateral)


@dataclass(frozen=True, slots=True)
class LiquidationSize:
    """What a liquidation burns and what it seizes; `restores` says whether it brings the position back
    to the minimum ratio (else it is the whole debt, or all the liquidator holds)."""

    amount: int
    seized: int
    restores: bool


def size_liquidation(
    collateral: int, debt: int, price: int, min_ratio: int, penalty: int, available: int
) -> LiquidationSize | None:
    """Return the liquidation of an unhealthy position the vault accepts with `available` synthetic:
    the least that restores the minimum ratio, else the whole debt (at or below 1 + penalty a
    liquidation lowers the ratio, so it takes everything), each capped at `available`. None when the
    position is healthy or nothing is available."""
    if debt == 0 or available == 0 or is_healthy(collateral, debt, price, min_ratio):
        return None
    # After burning x: C - x p (1 + q) / S >= m p (D - x) / S  <=>  x >= (m p D - C S) / (p (m - 1 - q)).
    shortfall = min_ratio * price * debt - collateral * VALUE_SCALE * WAD
    per_unit = price * (min_ratio - WAD - penalty)
    amount = debt
    if collateral * VALUE_SCALE * WAD > (WAD + penalty) * debt * price:
        amount = min(debt, -(-shortfall // per_unit) + 1)
        while amount < debt and not is_healthy(
            collateral - seized_for(amount, price, penalty, collateral), debt - amount, price, min_ratio
        ):
            amount = min(debt, amount + max(1, amount // 1_000_000))
    amount = min(amount, available)
    seized = seized_for(amount, price, penalty, collateral)
    left = collateral - seized
    restores = amount == debt or is_healthy(left, debt - amount, price, min_ratio)
    return LiquidationSize(amount, seized, restores)
