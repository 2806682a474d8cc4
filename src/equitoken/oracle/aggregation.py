"""How the feed turns a quorum of observations into a round, computed off-chain exactly as on-chain.

Glossary (`PriceFeed.transmit`):
- n          the number of observations in the round, sorted by reporter address;
- median(x)  the upper median `sorted(x)[n // 2]`: with a majority of honest reporters it is always
             an honest value, however far off the others are;
- m(t)       the token's UI multiplier in force at time t, 18 decimals (1e18 = one share per token);
- answer     median(prices) * m(median(observed_at)) // 1e18: the TOKEN's price, so a split (the
             share price halves, the multiplier doubles) never shows as a jump.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import Price
from equitoken.oracle.observation import MarketStatus, SignedObservation


def upper_median(values: Sequence[int]) -> int:
    """Return `sorted(values)[len(values) // 2]`; raise ValueError for no values."""
    if not values:
        raise ValueError("the median of no values is undefined")
    return sorted(values)[len(values) // 2]


def token_answer(share_price: Price, multiplier: int) -> int:
    """Return the token's price in feed units: the share price times the UI multiplier, rounded down."""
    if multiplier <= 0:
        raise ValueError(f"UI multiplier {multiplier} is not positive")
    return share_price.units * multiplier // MULTIPLIER_ONE


@dataclass(frozen=True, slots=True)
class RoundValues:
    """The medians a set of observations makes a round of: share price, status and observation time."""

    price: Price
    status: MarketStatus
    observed_at: int

    @classmethod
    def of(cls, observations: Sequence[SignedObservation]) -> "RoundValues":
        """Return the upper medians of the observations' prices, statuses and times."""
        if not observations:
            raise ValueError("a round needs at least one observation")
        return cls(
            Price(upper_median([s.observation.price.units for s in observations])),
            MarketStatus(upper_median([int(s.observation.status) for s in observations])),
            upper_median([s.observation.observed_at for s in observations]),
        )
