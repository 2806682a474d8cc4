"""The issuer's commercial and compliance settings."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from equitoken.model.quantities import Usd

# Defaults (amounts are immutable, so sharing them between instances is safe).
DEFAULT_FLAT_FEE = Usd.parse("1")
DEFAULT_MIN_ORDER = Usd.parse("10")
DEFAULT_MAX_ORDER = Usd.parse("5000000")
DEFAULT_DAILY_LIMIT = Usd.parse("20000000")


@dataclass(frozen=True)
class FeeSchedule:
    """A flat fee plus basis points of the filled notional, charged per request."""

    flat: Usd = DEFAULT_FLAT_FEE
    bps: int = 10

    def __post_init__(self) -> None:
        if self.flat.units < 0 or not 0 <= self.bps <= 1_000:
            raise ValueError(f"fee schedule out of range: flat {self.flat}, {self.bps} bps (0..1000)")

    def fee(self, notional: Usd) -> Usd:
        """Return the fee on `notional` (nothing when nothing was traded)."""
        return self.flat + notional.bps(self.bps) if notional.units > 0 else Usd.zero()


@dataclass(frozen=True)
class IssuerConfig:
    """Limits, fees and compliance rules of the issuer; per-instrument fee overrides by ticker."""

    fees: FeeSchedule = field(default_factory=FeeSchedule)
    instrument_fees: Mapping[str, FeeSchedule] = field(default_factory=dict)
    min_order: Usd = DEFAULT_MIN_ORDER
    max_order: Usd = DEFAULT_MAX_ORDER
    daily_limit_per_investor: Usd = DEFAULT_DAILY_LIMIT
    # A mint's buy order is a limit this far above the quote; the escrow covers it, so a fill can
    # never cost more than the participant paid.
    price_buffer_bps: int = 200
    request_ttl: timedelta = timedelta(days=3)
    blocked_jurisdictions: frozenset[str] = frozenset({"US"})
    sanctioned_wallets: frozenset[str] = frozenset()

    def fees_for(self, ticker: str) -> FeeSchedule:
        """Return the fee schedule of `ticker`."""
        return self.instrument_fees.get(ticker, self.fees)
