"""Brokers the issuer buys and sells shares through: one interface, a simulated and a real one."""

from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import (
    BrokerError,
    BrokerUnavailableError,
    DuplicateClientOrderIdError,
    InvalidOrderError,
    OrderRejectedError,
    UnknownOrderError,
)
from equitoken.brokers.orders import (
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

__all__ = [
    "Broker",
    "BrokerError",
    "BrokerOrder",
    "BrokerUnavailableError",
    "DuplicateClientOrderIdError",
    "Fill",
    "InvalidOrderError",
    "OrderRejectedError",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "UnknownOrderError",
]
