"""Why the quote desk refuses to sign: each a stable code and a message the user can act on."""

from equitoken.issuer.errors import ComplianceError, InvalidRequestError, IssuerError, LimitExceededError


class QuoteRefusedError(IssuerError):
    """A quote the desk will not sign; nothing was stored or signed."""

    code = "quote_refused"


class OutsideIssuanceHoursError(QuoteRefusedError):
    code = "outside_issuance_hours"


class UnknownTickerError(QuoteRefusedError, InvalidRequestError):
    code = "unknown_ticker"


class InvalidQuantityError(QuoteRefusedError, InvalidRequestError):
    code = "invalid_quantity"


class UserNotAcceptedError(QuoteRefusedError, ComplianceError):
    code = "user_not_accepted"


class PriceOutOfBandError(QuoteRefusedError):
    code = "price_out_of_band"


class InventoryExhaustedError(QuoteRefusedError, LimitExceededError):
    code = "inventory_exhausted"


class RateLimitedError(QuoteRefusedError, LimitExceededError):
    code = "rate_limited"


class TreasuryShortError(QuoteRefusedError, LimitExceededError):
    code = "treasury_short"


class MinterPausedError(QuoteRefusedError):
    code = "minter_paused"


class InsufficientBalanceError(QuoteRefusedError):
    code = "insufficient_balance"
