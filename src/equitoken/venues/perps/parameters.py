"""The parameters of a perpetual market, and the defaults each ticker's market is deployed with.

`PerpParameters` mirrors the contract's `struct Parameters` field for field, in the contract's units:
- `max_leverage`          WAD (10e18 = 10x), 1x to 50x (`MAX_LEVERAGE_CAP`);
- `open_fee_bps`,
  `close_fee_bps`         of the notional, per side; gTrade charges stocks 0.08% a side;
- `base_spread_bps`       the half-spread every fill pays around the mark;
- `skew_scale`            token units (18 decimals): a skew of `skew_scale` tokens moves the fill 100%
                          and the funding velocity to its maximum (Synthetix v3's skew scale);
- `max_funding_velocity`  WAD per day: how fast the funding rate moves per day at a full skew;
- `max_oi_long`,
  `max_oi_short`          USDC (6 decimals) of notional at entry, per side;
- `max_profit_multiple`   WAD: a position's profit is capped at margin x this (gTrade's 900%), and the
                          vault reserves that much for it;
- `liquidation_fee_bps`   of the notional, to the liquidator, capped at the position's equity;
- `min_margin`            USDC (6 decimals);
- `closed_policy`         `ClosedPolicy.CLOSED` (gTrade: no trading while the stock's market is
                          closed, orders queue for the reopening) or `ClosedPolicy.DISCOVERY`
                          (trade.xyz: trading goes on at the feed's price clamped around the close).

The defaults size each market to its stock: `skew_scale` so that `IMPACT_DOLLARS` of skew (a 1% move of
the fill) is $5M for a single stock at its reference price ($20M for the index funds, $2M for MSTR),
and the open-interest caps in proportion.
"""

from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from types import MappingProxyType

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_ANSWER",
    "DEFAULT_MIN_ANSWER",
    "DEFAULT_PARAMETERS",
    "DEFAULT_VAULT_SEED",
    "MAX_LEVERAGE_CAP",
    "WAD",
    "ClosedPolicy",
    "GuardSettings",
    "PerpParameters",
    "default_parameters",
]

WAD = 10**18
"""1.0 in the contracts' fixed point (leverage, funding, profit multiple)."""
MAX_LEVERAGE_CAP = 50 * WAD
"""The highest `max_leverage` a market accepts (50x)."""
USDC = 10**6
TOKEN_UNIT = 10**18
"""One whole token in a position's size (sizes have 18 decimals whatever the stock token's)."""

DEFAULT_MAX_AGE = 7_200
"""The oldest price observation, in seconds, a market trades on (the AMM pools' and lending's default)."""
DEFAULT_MIN_ANSWER = 1
DEFAULT_MAX_ANSWER = (1 << 104) - 1
DEFAULT_VAULT_SEED = 1_000 * USDC
"""USDC the admin deposits into the vault at deployment, so it never starts empty (0: none)."""


class ClosedPolicy(IntEnum):
    """What a market does while its stock's market is closed."""

    CLOSED = 1  # gTrade: no trading; orders queue and execute at the reopening
    DISCOVERY = 2  # trade.xyz: trading at the feed's price clamped to a band around the close


@dataclass(frozen=True, slots=True)
class PerpParameters:
    """A market's parameters, in the contract's units and field order (`struct Parameters`)."""

    max_leverage: int = 10 * WAD
    open_fee_bps: int = 8
    close_fee_bps: int = 8
    base_spread_bps: int = 5
    skew_scale: int = 1_000_000 * TOKEN_UNIT
    max_funding_velocity: int = WAD // 100
    max_oi_long: int = 10_000_000 * USDC
    max_oi_short: int = 10_000_000 * USDC
    max_profit_multiple: int = 9 * WAD
    liquidation_fee_bps: int = 50
    min_margin: int = 10 * USDC
    closed_policy: ClosedPolicy = ClosedPolicy.CLOSED

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{item.name} must be a non-negative integer, not {value!r}")
        _within("max_leverage", self.max_leverage, WAD, MAX_LEVERAGE_CAP)
        _within("open_fee_bps", self.open_fee_bps, 0, 100)
        _within("close_fee_bps", self.close_fee_bps, 0, 100)
        _within("base_spread_bps", self.base_spread_bps, 0, 500)
        _within("skew_scale", self.skew_scale, 1, 2**128 - 1)
        _within("max_funding_velocity", self.max_funding_velocity, 0, WAD)
        _within("max_oi_long", self.max_oi_long, 0, 2**128 - 1)
        _within("max_oi_short", self.max_oi_short, 0, 2**128 - 1)
        _within("max_profit_multiple", self.max_profit_multiple, 1, 100 * WAD)
        _within("liquidation_fee_bps", self.liquidation_fee_bps, 0, 1_000)
        _within("min_margin", self.min_margin, 1, 2**40 - 1)
        if self.closed_policy not in tuple(ClosedPolicy):
            raise ValueError(f"closed_policy must be 1 (closed) or 2 (discovery), not {self.closed_policy}")
        object.__setattr__(self, "closed_policy", ClosedPolicy(self.closed_policy))

    @classmethod
    def of(cls, values: tuple[object, ...] | Mapping[str, object]) -> "PerpParameters":
        """Return the parameters from the contract's `parameters()` (a tuple or a named mapping)."""
        if isinstance(values, Mapping):
            return cls(**{f.name: int(values[f.name]) for f in fields(cls)})  # type: ignore[call-overload]
        return cls(*(int(v) for v in values))  # type: ignore[call-overload]

    def as_tuple(self) -> tuple[int, ...]:
        """Return the `struct Parameters` tuple `set_parameters` takes."""
        return tuple(int(v) for v in astuple(self))

    @property
    def leverage(self) -> int:
        """Return the maximum leverage in whole multiples, rounded down (10 for 10e18)."""
        return self.max_leverage // WAD


def _within(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low} to {high}, not {value}")


def default_parameters(
    reference_dollars: int,
    *,
    impact_dollars: int = 5_000_000,
    leverage: int = 10,
    oi_cap_dollars: int = 10_000_000,
    closed_policy: ClosedPolicy = ClosedPolicy.CLOSED,
) -> PerpParameters:
    """Return a market's parameters for a stock near `reference_dollars` a token: the skew scale so that
    `impact_dollars` of skew moves the fill 1%, `leverage`x at most, `oi_cap_dollars` a side."""
    return PerpParameters(
        max_leverage=leverage * WAD,
        skew_scale=100 * impact_dollars * TOKEN_UNIT // reference_dollars,
        max_oi_long=oi_cap_dollars * USDC,
        max_oi_short=oi_cap_dollars * USDC,
        closed_policy=closed_policy,
    )


DEFAULT_PARAMETERS: Mapping[str, PerpParameters] = MappingProxyType(
    {
        "SPY": default_parameters(600, impact_dollars=20_000_000, leverage=20, oi_cap_dollars=25_000_000),
        "QQQ": default_parameters(500, impact_dollars=20_000_000, leverage=20, oi_cap_dollars=25_000_000),
        "AAPL": default_parameters(230),
        "MSFT": default_parameters(500),
        "NVDA": default_parameters(180),
        "AMZN": default_parameters(220),
        "GOOGL": default_parameters(250),
        "META": default_parameters(700),
        "TSLA": default_parameters(400),
        "NFLX": default_parameters(1_200, impact_dollars=2_000_000, oi_cap_dollars=5_000_000),
        "AMD": default_parameters(160, impact_dollars=2_000_000, oi_cap_dollars=5_000_000),
        "PLTR": default_parameters(150, impact_dollars=2_000_000, leverage=5, oi_cap_dollars=5_000_000),
        "MSTR": default_parameters(350, impact_dollars=2_000_000, leverage=5, oi_cap_dollars=2_000_000),
        "COIN": default_parameters(300, impact_dollars=2_000_000, leverage=5, oi_cap_dollars=2_000_000),
        "JPM": default_parameters(250),
    }
)
"""Each ticker's market: leverage 10x (20x for the index funds, 5x for the most volatile), fees 8 bps
a side, $5M of skew per 1% of impact ($20M for SPY and QQQ, $2M for the smaller names), CLOSED policy."""


@dataclass(frozen=True, slots=True)
class GuardSettings:
    """The price guard of every market: the oldest observation and the answer band it trades on."""

    max_age: int = DEFAULT_MAX_AGE
    min_answer: int = DEFAULT_MIN_ANSWER
    max_answer: int = DEFAULT_MAX_ANSWER

    def __post_init__(self) -> None:
        if not 0 < self.max_age < 2**48:
            raise ValueError(f"max_age must be 1 to 2**48 - 1 seconds, not {self.max_age}")
        if not 0 < self.min_answer <= self.max_answer <= DEFAULT_MAX_ANSWER:
            raise ValueError(
                f"the answer band [{self.min_answer}, {self.max_answer}] must be positive, ordered and "
                "below 2**104"
            )
