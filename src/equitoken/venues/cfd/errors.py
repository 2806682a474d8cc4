"""What the CFD venue refuses: each a named error with a code; a refused command changes nothing."""

from equitoken.model.errors import EquitokenError, InsufficientFundsError


class CfdError(EquitokenError, ValueError):
    """A CFD command the venue refused before it changed anything."""

    code = "cfd_error"


class UnknownCfdInstrumentError(CfdError, LookupError):
    """An instrument the venue does not quote."""

    code = "cfd_unknown_instrument"


class UnknownCfdAccountError(CfdError, LookupError):
    """An account that never deposited with the CFD venue."""

    code = "cfd_unknown_account"


class UnknownPositionError(CfdError, LookupError):
    """A position id that is not open, or not the account's."""

    code = "cfd_unknown_position"


class InvalidSizeError(CfdError):
    """A size or amount that is not a positive integer (or below the instrument's minimum)."""

    code = "cfd_invalid_size"


class InvalidCommandError(CfdError):
    """A command with a malformed field (side, status, id, ratio); the message names it."""

    code = "cfd_invalid_command"


class LeverageTooHighError(CfdError):
    """A leverage that is not between 1 and the instrument's maximum."""

    code = "cfd_leverage_too_high"


class InsufficientMarginError(CfdError, InsufficientFundsError):
    """The account's free margin does not cover the order's margin, or the withdrawal."""

    code = "cfd_insufficient_margin"


class MarketClosedError(CfdError):
    """The underlying's session is not open (regular hours, or extended hours when enabled)."""

    code = "cfd_market_closed"


class MarketHaltedError(CfdError):
    """The oracle reports the underlying halted."""

    code = "cfd_market_halted"


class StalePriceError(CfdError):
    """No price yet, or the last price is older than the instrument's maximum age."""

    code = "cfd_stale_price"


class OutOfOrderPriceError(CfdError):
    """A price observed before the instrument's last price."""

    code = "cfd_out_of_order_price"


class CloseTooLargeError(CfdError):
    """A close of more than the position holds."""

    code = "cfd_close_too_large"


class FinancingAlreadyChargedError(CfdError):
    """The session's overnight financing was already charged, or no session has closed yet."""

    code = "cfd_financing_already_charged"


class ConflictingOrderError(CfdError):
    """A client order id already used for an order with other parameters (account, instrument, side, size,
    leverage or position); choose a new order id for a new order."""

    code = "cfd_conflicting_order"
