"""The order processor as the API and the platform see it: where it is, what it serves, its fee quotes
and its orders."""

from dataclasses import dataclass

from equitoken.issuer.orders.operator import OrderView, ProcessorOperator
from equitoken.issuer.orders.quoter import FeeQuoter, OrderAsk
from equitoken.issuer.orders.terms import SignedFeeQuote


@dataclass(frozen=True)
class ProcessorDesk:
    """One processor's quoter and operator."""

    quoter: FeeQuoter
    operator: ProcessorOperator

    @property
    def address(self) -> str:
        return self.operator.processor.address

    @property
    def chain_id(self) -> int:
        return self.operator.onchain.chain_id

    @property
    def tickers(self) -> list[str]:
        """Return the tickers the processor takes orders in."""
        return sorted(t for t in self.operator.onchain.tickers if t in self.operator.instruments)

    def quote(self, requester: str, ask: OrderAsk, *, recipient: str | None = None) -> SignedFeeQuote:
        """Return a signed fee quote for `requester`'s order; refuse, naming why, one not to fill."""
        return self.quoter.quote(requester, ask, recipient=recipient)

    def orders(self, *, requesters: set[str] | None = None) -> list[OrderView]:
        """Return the processor's orders, oldest first: those of `requesters` only, if given."""
        views = self.operator.orders()
        if requesters is None:
            return views
        wanted = {w.lower() for w in requesters}
        return [v for v in views if v.requester.lower() in wanted]
