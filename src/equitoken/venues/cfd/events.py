"""What the CFD venue answers each command with: tuples of integers and strings, journaled.

A refused command raises and yields nothing. Money is in USDC units (signed: what the trader
gained), sizes in 10^-18 share, prices in 10^-8 USD, levels in bps (10_000 = 100%).
"""

from typing import NamedTuple


class Deposited(NamedTuple):
    """USDC credited; `balance` after."""

    account: int
    amount: int
    deposit_id: str
    balance: int


class Withdrew(NamedTuple):
    """USDC debited; `balance` after."""

    account: int
    amount: int
    withdrawal_id: str
    balance: int


class Opened(NamedTuple):
    """A new position; `margin` is what it used at the open."""

    position_id: int
    account: int
    symbol: str
    side: int
    size: int
    entry_price: int
    leverage: int
    margin: int


class Closed(NamedTuple):
    """`size` of a position closed at `exit_price` for `pnl`; `remaining` is what is left open."""

    position_id: int
    account: int
    symbol: str
    size: int
    exit_price: int
    pnl: int
    reason: int
    remaining: int


class MarginCall(NamedTuple):
    """The account's margin level fell below the margin call level."""

    account: int
    level_bps: int


class StopOut(NamedTuple):
    """The account's margin level fell below the stop-out level: its `Closed` events follow."""

    account: int
    level_bps: int
    equity: int
    used_margin: int


class BalanceReset(NamedTuple):
    """Negative balance protection: the venue wrote off `amount` the stopped-out account owed."""

    account: int
    amount: int


class FinancingCharged(NamedTuple):
    """Overnight financing of one position for `nights` nights (`amount` < 0: the trader paid)."""

    position_id: int
    account: int
    symbol: str
    nights: int
    amount: int


class SessionClosed(NamedTuple):
    """The financing of session `session` (ISO date) was charged, for `nights` nights."""

    session: str
    nights: int


class SplitApplied(NamedTuple):
    """A split of `numerator` for `denominator` adjusted the instrument's positions and price."""

    symbol: str
    numerator: int
    denominator: int
    price: int


class PositionAdjusted(NamedTuple):
    """A position's size and entry price after a split."""

    position_id: int
    account: int
    size: int
    entry_price: int


class DividendIgnored(NamedTuple):
    """A dividend on the underlying: CFD holders have no shareholder rights, so nothing is paid."""

    symbol: str
    amount_per_share: int


Event = (
    Deposited
    | Withdrew
    | Opened
    | Closed
    | MarginCall
    | StopOut
    | BalanceReset
    | FinancingCharged
    | SessionClosed
    | SplitApplied
    | PositionAdjusted
    | DividendIgnored
)
EVENTS: dict[str, type[Event]] = {
    e.__name__: e
    for e in (
        Deposited,
        Withdrew,
        Opened,
        Closed,
        MarginCall,
        StopOut,
        BalanceReset,
        FinancingCharged,
        SessionClosed,
        SplitApplied,
        PositionAdjusted,
        DividendIgnored,
    )
}
