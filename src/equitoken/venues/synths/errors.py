"""The errors of the synthetic stocks: each names the problem and what to do, and sends nothing.

Every action checks its input against the chain's state before it signs anything, so an error raised
here means no transaction was stored or broadcast (`SynthTransactionError` excepted: the chain
refused or reverted the transaction itself, and its reason is in the message).
"""

from equitoken.model.errors import EquitokenError, InsufficientFundsError

__all__ = [
    "NotPositionOwnerError",
    "PositionClosedError",
    "SynthAmountError",
    "SynthFundsError",
    "SynthSuspendedError",
    "SynthTransactionError",
    "SynthsError",
    "UndercollateralisedError",
    "UnknownSynthError",
]


class SynthsError(EquitokenError, ValueError):
    """The synthetic-stock venue cannot do what was asked; the message names the vault or setting."""

    code = "synths_error"


class UnknownSynthError(SynthsError, LookupError):
    """No synthetic for the ticker in this deployment."""

    code = "synths_unknown_synth"


class SynthAmountError(SynthsError):
    """An amount that is not positive, has the wrong decimals, or exceeds what the position holds."""

    code = "synths_invalid_amount"


class SynthFundsError(InsufficientFundsError, SynthsError):
    """The wallet holds less USDC or synthetic than the action needs."""


class UndercollateralisedError(SynthsError):
    """The action would leave the position below the vault's minimum collateral ratio."""

    code = "synths_below_minimum_ratio"


class SynthSuspendedError(SynthsError):
    """The vault refuses the action now: the stock's market is closed or halted, or the price stale."""

    code = "synths_suspended"


class PositionClosedError(SynthsError, LookupError):
    """The position was closed, or never opened."""

    code = "synths_position_closed"


class NotPositionOwnerError(SynthsError):
    """Only the position's owner may withdraw, mint or close."""

    code = "synths_not_owner"


class SynthTransactionError(SynthsError):
    """The chain refused or reverted the action's transaction; its reason is in the message."""

    code = "synths_reverted"
