"""Errors a caller of the issuer can act on: each has a stable code and a message naming the problem."""

from equitoken.model.errors import EquitokenError


class IssuerError(EquitokenError):
    """A request the issuer refuses; nothing was changed."""

    code = "issuer_error"


class InvalidRequestError(IssuerError, ValueError):
    code = "invalid_request"


class UnknownInvestorError(IssuerError, LookupError):
    code = "unknown_investor"


class UnknownRequestError(IssuerError, LookupError):
    code = "unknown_request"


class ComplianceError(IssuerError):
    code = "compliance"


class LimitExceededError(IssuerError):
    code = "limit_exceeded"


class IdempotencyConflictError(IssuerError):
    code = "idempotency_conflict"


class MarketDataError(IssuerError):
    code = "market_data"


class RequestNotHeldError(IssuerError):
    """A resolution for a request that is not held (never held, or resolved already)."""

    code = "request_not_held"
