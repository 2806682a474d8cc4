"""The errors of the lending venue: each names the problem and what to do, and sends nothing.

Every action checks its input against the chain's state before it signs anything, so an error raised
here means no transaction was stored or broadcast (`LendingTransactionError` excepted: the chain
refused or reverted the transaction itself, and its reason is in the message).
"""

from equitoken.model.errors import EquitokenError, InsufficientFundsError


class LendingError(EquitokenError, ValueError):
    """The lending venue cannot do what was asked; the message names the market or the setting."""

    code = "lending_error"


class UnknownMarketError(LendingError, LookupError):
    """No lending market for the ticker in this deployment."""

    code = "lending_unknown_market"


class LendingAmountError(LendingError):
    """An amount that is not positive, has the wrong decimals, or exceeds what the position holds."""

    code = "lending_invalid_amount"


class LendingFundsError(InsufficientFundsError, LendingError):
    """The wallet holds less USDC or collateral than the action needs."""


class InsufficientLiquidityError(LendingError):
    """The market has less USDC free (supplied less borrowed) than the action takes out."""

    code = "lending_insufficient_liquidity"


class UnhealthyPositionError(LendingError):
    """The action would leave the position beyond its borrow limit."""

    code = "lending_unhealthy"


class MarketUnavailableError(LendingError):
    """The market's oracle adapter refuses the action now (halted, stale or no price, reserves short)."""

    code = "lending_market_unavailable"


class CollateralTransferRefusedError(LendingError):
    """The stock token's compliance rules refuse the collateral transfer the action needs."""

    code = "lending_transfer_refused"


class LendingTransactionError(LendingError):
    """The chain refused or reverted the action's transaction; its reason is in the message."""

    code = "lending_reverted"
