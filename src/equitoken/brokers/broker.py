"""The one interface the issuer's workflow uses to buy and sell shares.

Contract every implementation keeps, so the workflow can be exactly-once across process kills:
- `submit` is idempotent on the client order id: the same request returns the order already
  placed; a different request under a used id raises `DuplicateClientOrderIdError`.
- State lives with the broker, never in the caller's memory: a new broker object (after a
  restart) sees every order and fill placed through an old one.
- `cancel` is idempotent; fills made before the cancel stay.
"""

from typing import Protocol, runtime_checkable

from equitoken.brokers.orders import BrokerOrder, OrderRequest


@runtime_checkable
class Broker(Protocol):
    """A broker account the issuer buys and sells shares through."""

    def submit(self, request: OrderRequest) -> BrokerOrder:
        """Place the order, or return the order already placed under its client order id.

        Raise `DuplicateClientOrderIdError` if that id names a different order, and
        `OrderRejectedError` if the broker refuses it (then nothing is stored under the id).
        """
        ...

    def order(self, client_order_id: str) -> BrokerOrder | None:
        """Return the order with its fills as of now, or None if the id was never used."""
        ...

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Cancel what is not filled yet and return the order; return a final order unchanged.

        Raise `UnknownOrderError` if the id was never used.
        """
        ...

    def open_orders(self) -> list[BrokerOrder]:
        """Return every order that can still fill, oldest first."""
        ...
