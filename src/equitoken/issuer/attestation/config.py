"""The attestation desk's settings: its spread, how long a quote lives, the smallest quote, and the
inventory of unissued shares it keeps in custody per ticker."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from equitoken.model.quantities import Shares, Usd

DEFAULT_MIN_NOTIONAL = Usd.parse("1")


@dataclass(frozen=True)
class AttestationConfig:
    """Spread in basis points on each side of the market price; quotes live `quote_ttl` (capped by
    the minter's `max_ttl` and the session's close); a quote under `min_notional` is dust."""

    spread_bps: int = 10
    quote_ttl: timedelta = timedelta(seconds=60)
    min_notional: Usd = DEFAULT_MIN_NOTIONAL
    inventory_target: Mapping[str, Shares] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.spread_bps < 1_000:
            raise ValueError(f"spread must be 0 to 999 basis points, not {self.spread_bps}")
        if self.quote_ttl <= timedelta(0):
            raise ValueError(f"quote_ttl must be positive, not {self.quote_ttl}")
        if self.min_notional.units <= 0:
            raise ValueError(f"min_notional must be positive, not {self.min_notional}")
        for ticker, target in self.inventory_target.items():
            if target.units < 0:
                raise ValueError(f"inventory target of {ticker} is negative: {target}")
