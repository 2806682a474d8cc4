"""What a reporter says a share is worth while its market is closed: the feed's closed-market policies.

`FROZEN` (1): the last regular close, unchanged until the next session opens; the feed accepts no
other price for a closed round after a closed round.

`INTERNAL` (2): the close moved by the trades on our own venues since, within `band_bps` of it.

Glossary of the internal price (all integers; prices in `Price` units, times in microseconds):
- c          the last regular close, at time t_0 (the session's close);
- (p_i, t_i) our venues' trades since t_0, oldest first, i = 1..n;
- H          the half-life: after H, a new trade has replaced half of the old average;
- d_i        2^(-(t_i - t_(i-1)) / H), the weight the average keeps over the gap before trade i;
- e_0 = c,   e_i = d_i * e_(i-1) + (1 - d_i) * p_i   (a time-weighted exponential moving average);
- price      e_n clamped to [c * (1 - band), c * (1 + band)], rounded inwards.
Invariant: every e_i is a weighted average of c and the p_i, and the result lies within the band
around c (and around the feed's own last close when the transmitter states it), so a trade far off
on a thin venue moves the price by at most the band. Quantities do not weigh in: the band, not the
volume, bounds what one trade can do.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from equitoken.model.bps import BPS
from equitoken.model.quantities import Price
from equitoken.model.time import require_aware
from equitoken.oracle.trades import TradeTape, VenueTrade

ONE = 10**18
DEFAULT_BAND_BPS = 1_000
DEFAULT_HALF_LIFE = timedelta(minutes=30)
_MICROSECOND = timedelta(microseconds=1)
# Binary digits of the exponent's fraction; 2^(-2^-60) rounds to 1.0 at 18 decimals.
_FRACTION_BITS = 60


def _halving_roots() -> tuple[int, ...]:
    # roots[k] = 2^(-1 / 2^(k+1)) at 18 decimals, by repeated integer square roots.
    roots = [math.isqrt(ONE * ONE // 2)]
    for _ in range(_FRACTION_BITS - 1):
        roots.append(math.isqrt(roots[-1] * ONE))
    return tuple(roots)


_ROOTS = _halving_roots()


class ClosedPolicy(IntEnum):
    """How a closed market is priced; the same numbers as `PriceFeed.closed_policy()`."""

    FROZEN = 1
    INTERNAL = 2


@dataclass(frozen=True, slots=True)
class ClosedTerms:
    """The feed's closed-market policy and band, and its last close when the transmitter states it."""

    policy: ClosedPolicy = ClosedPolicy.FROZEN
    band_bps: int = DEFAULT_BAND_BPS
    last_close: Price | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", ClosedPolicy(self.policy))
        if not 0 <= self.band_bps <= BPS:
            raise ValueError(f"closed-market band must be 0 to {BPS} basis points, not {self.band_bps}")
        if self.last_close is not None and self.last_close.units <= 0:
            raise ValueError(f"last close {self.last_close} is not positive")


def decay(elapsed: timedelta, half_life: timedelta) -> int:
    """Return 2^(-elapsed / half_life) at 18 decimals (1e18 = 1.0), rounded down."""
    if half_life <= timedelta(0):
        raise ValueError(f"half-life must be positive, not {half_life}")
    if elapsed < timedelta(0):
        raise ValueError(f"elapsed time must not be negative, not {elapsed}")
    whole, rest = divmod(elapsed // _MICROSECOND, half_life // _MICROSECOND)
    if whole >= ONE.bit_length():
        return 0
    value = ONE
    span = half_life // _MICROSECOND
    for root in _ROOTS:
        rest *= 2
        if rest >= span:
            rest -= span
            value = value * root // ONE
    return value >> whole


def moving_average(
    close: Price, since: datetime, trades: Sequence[VenueTrade], half_life: timedelta
) -> Price:
    """Return the time-weighted EMA of `trades` starting from `close` at `since` (see the glossary)."""
    average = close.units * ONE  # carried at 36 decimals so the steps do not accumulate rounding
    previous = require_aware(since, "since")
    for trade in trades:
        if trade.traded_at < previous:
            raise ValueError(f"trades out of order: {trade.trade_id} at {trade.traded_at} after {previous}")
        kept = decay(trade.traded_at - previous, half_life)
        average = (average * kept + trade.price.units * ONE * (ONE - kept)) // ONE
        previous = trade.traded_at
    return Price(average // ONE)


def clamp_to_band(price: Price, reference: Price, band_bps: int) -> Price:
    """Return `price` moved into `band_bps` of `reference`, the bounds rounded inwards."""
    low = -(-reference.units * (BPS - band_bps) // BPS)
    high = reference.units * (BPS + band_bps) // BPS
    return Price(min(max(price.units, low), high))


class ClosedPricing:
    """Price a closed market by the feed's policy, from the last close and our venues' trade tape."""

    def __init__(self, tape: TradeTape | None = None, half_life: timedelta = DEFAULT_HALF_LIFE) -> None:
        if half_life <= timedelta(0):
            raise ValueError(f"half-life must be positive, not {half_life}")
        self._tape = tape
        self.half_life = half_life

    def price(
        self, ticker: str, terms: ClosedTerms, close: Price, closed_at: datetime, at: datetime
    ) -> Price:
        """Return the price of `ticker` at `at`, the market having closed at `closed_at` at `close`."""
        if terms.policy is ClosedPolicy.FROZEN:
            return close
        trades = self._tape.trades(ticker, closed_at, at) if self._tape is not None else ()
        price = clamp_to_band(moving_average(close, closed_at, trades, self.half_life), close, terms.band_bps)
        if terms.last_close is not None:
            # The feed checks the band around its own last close: stay inside that one too.
            price = clamp_to_band(price, terms.last_close, terms.band_bps)
        return price
