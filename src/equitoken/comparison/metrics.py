"""The figures the report compares, computed from what the venues returned: a round trip's all-in
cost (paid minus received plus gas at an explicit gas and ETH price) and tracking error (the model's
price against the underlying's, in basis points: mean, 95th percentile, maximum).

Integers throughout: USDC units (1e-6 dollar), prices in 1e-8 dollar, gas in units, gas price in wei;
basis points are returned as tenths of a basis point rounded half up (`TENTHS`) so the report needs no
float to be deterministic.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from equitoken.model.quantities import Price

WEI_PER_ETH = 10**18
TENTHS = 10  # basis points are kept in tenths


@dataclass(frozen=True)
class Cost:
    """A round trip's all-in cost in USDC units and in tenths of a basis point of the amount bought."""

    trading: int  # paid minus received: fees, spread, price impact, funding or interest
    gas_usd: int
    total: int
    tenth_bps: int


def gas_cost(gas: int, gas_price_wei: int, eth_price: Price) -> int:
    """Return the USDC units `gas` costs at `gas_price_wei` and `eth_price` (rounded up)."""
    if gas < 0 or gas_price_wei < 0 or eth_price.units <= 0:
        raise ValueError(
            f"gas {gas}, gas price {gas_price_wei} wei and ETH price {eth_price} must be positive"
        )
    # gas x wei/gas x (1e-8 $/ETH) / (1e18 wei/ETH) in 1e-6 $ = gas x wei x units / 1e20.
    return -(-gas * gas_price_wei * eth_price.units // 10**20)


def round_trip_cost(paid: int, received: int, gas: int, gas_price_wei: int, eth_price: Price) -> Cost:
    """Return the cost of a round trip that paid `paid` USDC units and got `received` back, with its gas;
    in basis points of what was paid."""
    if paid <= 0 or received < 0:
        raise ValueError(
            f"a round trip pays a positive amount and gets a non-negative one, not {paid}, {received}"
        )
    trading = paid - received
    gas_usd = gas_cost(gas, gas_price_wei, eth_price)
    total = trading + gas_usd
    return Cost(trading, gas_usd, total, _ratio_tenths(total, paid))


def deviation_tenth_bps(model: Price, underlying: Price) -> int:
    """Return |model - underlying| / underlying in tenths of a basis point (rounded half up)."""
    if underlying.units <= 0:
        raise ValueError(f"the underlying's price must be positive, not {underlying}")
    return _ratio_tenths(abs(model.units - underlying.units), underlying.units)


@dataclass(frozen=True)
class Tracking:
    """Tracking error over the samples the model priced, in tenths of a basis point."""

    samples: int
    unpriced: int
    mean: int
    p95: int
    max: int


def tracking_error(pairs: Sequence[tuple[Price | None, Price]]) -> Tracking:
    """Return the tracking error of (model, underlying) pairs; a None model price counts as unpriced."""
    deviations = sorted(deviation_tenth_bps(m, u) for m, u in pairs if m is not None)
    unpriced = sum(1 for m, _ in pairs if m is None)
    if not deviations:
        return Tracking(0, unpriced, 0, 0, 0)
    n = len(deviations)
    # Nearest rank: the smallest value with at least 95% of the samples at or below it.
    rank = -(-95 * n // 100)
    mean = (2 * sum(deviations) + n) // (2 * n)
    return Tracking(n, unpriced, mean, deviations[rank - 1], deviations[-1])


def _ratio_tenths(numerator: int, denominator: int) -> int:
    scaled = numerator * 10_000 * TENTHS
    sign = -1 if scaled < 0 else 1
    return sign * ((2 * abs(scaled) + denominator) // (2 * denominator))
