"""What a market's oracle adapter (`StockOracle`) allows, as its `state()` and `quote(action)` say.

`quote(action)` is the rule: it returns the price and the LTV cut for a borrow, a collateral
withdrawal or a liquidation, or reverts with the reason the action must wait. `state()` sums the
rules up for dashboards and keepers, the most restrictive first: halted, no usable price (stale, out
of band, none), reserve-paused (no new borrows), reopening grace (no liquidations), closed (borrows
and withdrawals to the LLTV less the closed-market cut), open.
"""

from enum import IntEnum


class OracleAction(IntEnum):
    """The actions a market asks its oracle for a price for (`quote(action)`)."""

    BORROW = 1
    WITHDRAW_COLLATERAL = 2
    LIQUIDATE = 3


class AdapterState(IntEnum):
    """The adapter's state (`StockOracle.state()`), with the label the dashboard shows."""

    OPEN = 1
    CLOSED = 2
    HALTED = 3
    GRACE = 4
    RESERVE_PAUSED = 5
    NO_PRICE = 6

    @property
    def label(self) -> str:
        """Return the state as users read it."""
        return _LABELS[self]


_LABELS = {
    AdapterState.OPEN: "open",
    AdapterState.CLOSED: "closed (LTV cut)",
    AdapterState.HALTED: "halted",
    AdapterState.GRACE: "grace",
    AdapterState.RESERVE_PAUSED: "reserve-paused",
    AdapterState.NO_PRICE: "no price",
}
