"""A Python model of the adaptive curve interest-rate model (``venues/lending/AdaptiveCurveIrm.vy``).

Integers throughout, rounded as the contract rounds: the utilisation down, every signed WAD product
and quotient toward zero (the EVM's ``sdiv``, not Python's floor), the rate at target's growth down.
Only ``exp`` is computed differently: exactly, with ``decimal`` at 80 digits and then floored, rather
than with snekmate's rational approximation, so the model checks the contract's exponential too. The
two agree to a few wei of a WAD, and that difference vanishes when the product with a rate at target
(about 1e9) is divided by a WAD, so the model and the contract agree exactly.

The model does not cap the argument of ``exp``: that the contract's cap changes nothing is one of
the things the comparison shows.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal

WAD = 10**18
YEAR = 365 * 86_400

CURVE_STEEPNESS = 4 * WAD
ADJUSTMENT_SPEED = 50 * WAD // YEAR
TARGET_UTILISATION = 9 * WAD // 10
INITIAL_RATE_AT_TARGET = 4 * WAD // 100 // YEAR
MIN_RATE_AT_TARGET = WAD // 1_000 // YEAR
MAX_RATE_AT_TARGET = 2 * WAD // YEAR

_EXACT = Context(prec=80, Emax=10**9, Emin=-(10**9))


def div_to_zero(numerator: int, denominator: int) -> int:
    """Divide, rounding toward zero as the EVM's signed division does."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def wad_exp(x: int) -> int:
    """Return floor(e^(x / 1e18) * 1e18)."""
    value = _EXACT.exp(_EXACT.divide(Decimal(x), Decimal(WAD)))
    return int(_EXACT.multiply(value, Decimal(WAD)).to_integral_value(rounding=ROUND_FLOOR))


def utilisation(total_supply_assets: int, total_borrow_assets: int) -> int:
    """Return B / S in WAD, rounded down, 0 without supply and at most 1."""
    if total_supply_assets == 0:
        return 0
    return min(total_borrow_assets * WAD // total_supply_assets, WAD)


def utilisation_error(total_supply_assets: int, total_borrow_assets: int) -> int:
    """Return e in WAD: (u - u*) over u* below the target, over 1 - u* above it."""
    u = utilisation(total_supply_assets, total_borrow_assets)
    norm = WAD - TARGET_UTILISATION if u > TARGET_UTILISATION else TARGET_UTILISATION
    return div_to_zero((u - TARGET_UTILISATION) * WAD, norm)


def curve(rate_at_target: int, err: int) -> int:
    """Return the rate the curve gives for `err` around `rate_at_target`."""
    coefficient = WAD - div_to_zero(WAD * WAD, CURVE_STEEPNESS) if err < 0 else CURVE_STEEPNESS - WAD
    return div_to_zero((div_to_zero(coefficient * err, WAD) + WAD) * rate_at_target, WAD)


def adapted(start: int, linear_adaptation: int) -> int:
    """Return start * e^linear_adaptation, rounded down and kept within the bounds."""
    grown = div_to_zero(start * wad_exp(linear_adaptation), WAD)
    return max(min(grown, MAX_RATE_AT_TARGET), MIN_RATE_AT_TARGET)


@dataclass(frozen=True)
class Accrual:
    """What one call of `borrow_rate` returns and leaves behind."""

    borrow_rate: int
    rate_at_target: int


def borrow_rate(start: int, total_supply_assets: int, total_borrow_assets: int, elapsed: int) -> Accrual:
    """Return the average rate over `elapsed` seconds from the rate at target `start`, 0 before any call."""
    err = utilisation_error(total_supply_assets, total_borrow_assets)
    if start == 0:
        return Accrual(curve(INITIAL_RATE_AT_TARGET, err), INITIAL_RATE_AT_TARGET)
    linear_adaptation = div_to_zero(ADJUSTMENT_SPEED * err, WAD) * elapsed
    if linear_adaptation == 0:
        return Accrual(curve(start, err), start)
    end = adapted(start, linear_adaptation)
    mid = adapted(start, div_to_zero(linear_adaptation, 2))
    return Accrual(curve((start + 2 * mid + end) // 4, err), end)


def per_year(rate_per_second: int) -> float:
    """Return a per-second WAD rate as a simple yearly fraction (for readable assertions)."""
    return rate_per_second * YEAR / WAD
