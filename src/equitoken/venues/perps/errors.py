"""The errors of the perpetuals venue: each names the problem and what to do, and sends nothing.

Every action checks its input against the chain's state before it signs anything, so an error raised
here means no transaction was stored or broadcast (`PerpTransactionError` excepted: the chain refused
or reverted the transaction itself, and its reason is in the message).
"""

from equitoken.model.errors import EquitokenError, InsufficientFundsError


class PerpError(EquitokenError, ValueError):
    """The perpetuals venue cannot do what was asked; the message names the market or the setting."""

    code = "perp_error"


class UnknownMarketError(PerpError, LookupError):
    """No perpetual market for the ticker in this deployment."""

    code = "perp_unknown_market"


class PerpAmountError(PerpError):
    """A margin, size, leverage or price that is not positive, below the minimum or beyond the limit."""

    code = "perp_invalid_amount"


class PerpFundsError(InsufficientFundsError, PerpError):
    """The wallet holds less USDC (or fewer vault shares) than the action needs."""


class UnknownPositionError(PerpError, LookupError):
    """No open position (or pending order) with that id, or it belongs to another wallet."""

    code = "perp_unknown_position"


class MarketClosedError(PerpError):
    """The market does not trade now (the stock's market is closed, halted, or has no usable price);
    under the CLOSED policy a request queues an order for the reopening instead."""

    code = "perp_market_closed"


class PerpLimitError(PerpError):
    """The action would exceed a market limit: open interest, vault liquidity, or the acceptable price."""

    code = "perp_limit"


class InvalidTriggerError(PerpError):
    """A take-profit or stop-loss on the wrong side of the price."""

    code = "perp_invalid_trigger"


class PerpTransactionError(PerpError):
    """The chain refused or reverted the action's transaction; its reason is in the message."""

    code = "perp_reverted"
