"""Per-instrument CFD terms: leverage, spread, overnight financing, minimum size, price freshness.

Units: sizes in 10^-18 share (`SIZE_ONE` is one share); prices in 10^-8 USD per share (`PRICE_ONE`);
money in USDC units (10^-6 USD); rates in basis points per year; the spread in basis points of the
oracle (mid) price, half of it on each side.

Financing rates (per year, charged per night at the session close, see `financing.py`):
- a long pays `benchmark_bps + markup_bps`;
- a short receives `benchmark_bps - markup_bps` (pays it when negative, the usual case).
"""

from dataclasses import asdict, dataclass
from typing import Any

SIZE_ONE = 10**18
PRICE_ONE = 10**8
USDC_ONE = 10**6
NOTIONAL_DIVISOR = SIZE_ONE * PRICE_ONE // USDC_ONE
"""size * price // NOTIONAL_DIVISOR is a notional in USDC units."""

DEFAULT_MAX_LEVERAGE = 5
DEFAULT_SPREAD_BPS = 10
DEFAULT_BENCHMARK_BPS = 430
DEFAULT_MARKUP_BPS = 250
DEFAULT_MIN_SIZE = SIZE_ONE // 100
DEFAULT_MAX_PRICE_AGE_S = 60
DEFAULT_MARGIN_CALL_BPS = 10_000
DEFAULT_STOP_OUT_BPS = 5_000
MAX_LEVERAGE_CAP = 100


@dataclass(frozen=True, slots=True)
class CfdInstrument:
    """One CFD's terms; the symbol is the underlying's ticker."""

    symbol: str
    max_leverage: int = DEFAULT_MAX_LEVERAGE
    spread_bps: int = DEFAULT_SPREAD_BPS
    benchmark_bps: int = DEFAULT_BENCHMARK_BPS
    markup_bps: int = DEFAULT_MARKUP_BPS
    min_size: int = DEFAULT_MIN_SIZE
    max_price_age_s: int = DEFAULT_MAX_PRICE_AGE_S

    def __post_init__(self) -> None:
        if not (isinstance(self.symbol, str) and self.symbol.replace(".", "").isalnum()):
            raise ValueError(f"symbol {self.symbol!r} must be letters and digits (and a dot)")
        if not 1 <= self.max_leverage <= MAX_LEVERAGE_CAP:
            raise ValueError(f"max leverage {self.max_leverage} must be 1 to {MAX_LEVERAGE_CAP}")
        if not 0 <= self.spread_bps < 10_000:
            raise ValueError(f"spread {self.spread_bps} bps must be 0 to 9999")
        if self.markup_bps < 0 or self.min_size <= 0 or self.max_price_age_s <= 0:
            raise ValueError("markup must be >= 0; minimum size and maximum price age must be positive")

    @property
    def long_rate_bps(self) -> int:
        """Return what a long pays per year, in bps of its notional."""
        return self.benchmark_bps + self.markup_bps

    @property
    def short_rate_bps(self) -> int:
        """Return what a short receives per year (negative: pays), in bps of its notional."""
        return self.benchmark_bps - self.markup_bps

    def state(self) -> dict[str, Any]:
        """Return the terms as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CfdSettings:
    """Venue-wide settings: margin call and stop-out levels (bps of used margin), hours, calendar."""

    margin_call_bps: int = DEFAULT_MARGIN_CALL_BPS
    stop_out_bps: int = DEFAULT_STOP_OUT_BPS
    extended_hours: bool = False
    exchange: str = "XNYS"

    def __post_init__(self) -> None:
        if not 0 < self.stop_out_bps <= self.margin_call_bps:
            raise ValueError(
                f"stop-out {self.stop_out_bps} bps must be positive and at most the margin call "
                f"{self.margin_call_bps} bps"
            )

    def state(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)


def instrument_from_state(state: dict[str, Any]) -> CfdInstrument:
    """Rebuild an instrument from `CfdInstrument.state`."""
    return CfdInstrument(**state)


def settings_from_state(state: dict[str, Any]) -> CfdSettings:
    """Rebuild settings from `CfdSettings.state`."""
    return CfdSettings(**state)
