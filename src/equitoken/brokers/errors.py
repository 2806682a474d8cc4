"""Errors a broker raises: each a type with a stable code and a message a caller can act on."""

from equitoken.model.errors import EquitokenError


class BrokerError(EquitokenError):
    """A broker could not do what was asked."""

    code = "broker_error"


class InvalidOrderError(BrokerError, ValueError):
    """An order request that no broker would accept (quantity, price or id out of range)."""

    code = "invalid_order"


class OrderRejectedError(BrokerError):
    """The broker refused the order; nothing was stored under its client order id."""

    code = "order_rejected"


class DuplicateClientOrderIdError(BrokerError):
    """A client order id already names a different order."""

    code = "duplicate_client_order_id"


class UnknownOrderError(BrokerError):
    """No order has the given client order id."""

    code = "unknown_order"


class BrokerUnavailableError(BrokerError):
    """The broker did not answer or answered with something unexpected; retry with the same ids."""

    code = "broker_unavailable"
