"""What a perpetual market allows, as its `mark_price()` state says.

- OPEN: the stock's market is open; everything trades at the guarded price.
- CLOSED: the CLOSED policy (gTrade) while the stock's market is closed: no trading, no liquidation, no
  triggers; opens and closes queue as orders (`request_open`, `request_close`) that anyone executes
  at the reopening price. The price shown is the frozen close.
- DISCOVERY: the DISCOVERY policy (trade.xyz) while the stock's market is closed: trading,
  triggers and liquidations go on at the feed's price clamped to the close +- 1 / max leverage.
- HALTED: the stock is halted: nothing trades or liquidates; margin may not be added.
- NO_PRICE: the guard has no usable price (stale, out of band, no round): nothing trades.
"""

from enum import IntEnum

__all__ = ["MarketState"]


class MarketState(IntEnum):
    """A market's state (`PerpMarket.mark_price()[1]`), with the label the dashboard shows."""

    OPEN = 1
    CLOSED = 2
    DISCOVERY = 3
    HALTED = 4
    NO_PRICE = 5

    @property
    def label(self) -> str:
        """Return the state as traders read it."""
        return _LABELS[self]

    @property
    def trades(self) -> bool:
        """Return whether positions open, close, trigger and liquidate now."""
        return self in (MarketState.OPEN, MarketState.DISCOVERY)


_LABELS = {
    MarketState.OPEN: "open",
    MarketState.CLOSED: "closed (orders queue)",
    MarketState.DISCOVERY: "closed (price discovery)",
    MarketState.HALTED: "halted",
    MarketState.NO_PRICE: "without a usable price",
}
