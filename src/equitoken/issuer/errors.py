"""Errors a caller of the issuer can act on: each has a stable code and a message naming the problem."""


class IssuerError(Exception):
    """A request the issuer refuses; nothing was changed."""

    code = "issuer_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(IssuerError, ValueError):
    code = "invalid_request"


class UnknownInstrumentError(IssuerError, LookupError):
    code = "unknown_instrument"


class UnknownInvestorError(IssuerError, LookupError):
    code = "unknown_investor"


class UnknownRequestError(IssuerError, LookupError):
    code = "unknown_request"


class ComplianceError(IssuerError):
    code = "compliance"


class LimitExceededError(IssuerError):
    code = "limit_exceeded"


class InsufficientFundsError(IssuerError):
    code = "insufficient_funds"


class IdempotencyConflictError(IssuerError):
    code = "idempotency_conflict"


class MarketDataError(IssuerError):
    code = "market_data"
