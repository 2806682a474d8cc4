"""The order processor as the API and the platform see it: where it is, what it serves, its fee quotes,
its orders, and orders placed for the wallets whose keys the platform holds.

A wallet app places an order itself with a quote. For a custodied wallet (a retail investor of a
broker-style app such as Robinhood's EU tracker tokens) the platform does it: it quotes the order,
approves the processor for what the order escrows and calls `create_order`, each transaction once per
request key through the outbox, so a retry after a crash finds what was sent.
"""

from dataclasses import dataclass

from equitoken.durable.outboxed import Outboxed
from equitoken.issuer.errors import InvalidRequestError, IssuerError
from equitoken.issuer.orders.operator import OrderView, ProcessorOperator
from equitoken.issuer.orders.quoter import FeeQuoter, OrderAsk
from equitoken.issuer.orders.terms import ProcessorOrderType, SignedFeeQuote


class ProcessorTransactionError(IssuerError):
    """The chain refused or reverted an order's transaction; its reason is in the message."""

    code = "processor_transaction"


@dataclass(frozen=True)
class PlacedOrder:
    """An order the platform placed for a custodied wallet: the processor's id and the transaction."""

    order_id: int
    tx_hash: str
    fee: int


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

    def place(self, wallet: str, ask: OrderAsk, *, key: str, recipient: str | None = None) -> PlacedOrder:
        """Quote `ask` for custodied `wallet` and place it, once per request `key`; refuse, naming why, an
        order the issuer will not fill, a wallet whose key the platform does not hold, or one the chain
        refuses (e.g. not enough USDC)."""
        sent = self._outboxed()
        sender = sent.sender(self.quoter.onchain.parse_wallet(wallet), key)
        purpose = sent.purpose(sender, ask.ticker, "place", key)
        processor = self.operator.processor
        if sent.stored(purpose):
            outcome = sent.run(purpose, processor.create_order, (), sender, "order")
        else:
            signed = self.quote(sender, ask, recipient=recipient)
            order, quote = signed.order, signed.quote
            onchain = self.quoter.onchain
            if order.sell:
                token = onchain.token(ask.ticker)
                sent.approve(
                    f"{purpose}:token", token, processor.address, order.asset_quantity, sender, "escrow"
                )
            usdc = quote.fee + self._escrowed_usdc(signed)
            sent.approve(f"{purpose}:usdc", onchain.usdc, processor.address, usdc, sender, "payment")
            arguments = (order.as_tuple(), quote.as_tuple(), signed.signature)
            outcome = sent.run(purpose, processor.create_order, arguments, sender, "order")
        receipt = sent.mined(outcome)
        created = next(e for e in processor.decode_logs(receipt) if e.name == "OrderCreated")
        return PlacedOrder(int(created.args["order_id"]), outcome.tx_hash, int(created.args["fee"]))

    def request_cancel(self, wallet: str, order_id: int, *, key: str) -> str:
        """Ask the operator to cancel custodied `wallet`'s open order, once per request `key`; return the
        transaction hash."""
        sent = self._outboxed()
        sender = sent.sender(self.quoter.onchain.parse_wallet(wallet), key)
        processor = self.operator.processor
        if int(processor.order_status(order_id)) != 1 or processor.order_requester(order_id) != sender:
            raise InvalidRequestError(f"{sender} has no open order {order_id}")
        purpose = sent.purpose(sender, str(order_id), "cancel", key)
        return sent.run(purpose, processor.request_cancel, (order_id,), sender, "cancel request").tx_hash

    def _outboxed(self) -> Outboxed:
        operator = self.operator
        return Outboxed(
            "processor",
            operator.onchain.chain,
            operator.db,
            operator.onchain.outbox,
            operator.clock,
            InvalidRequestError,
            ProcessorTransactionError,
        )

    def _escrowed_usdc(self, signed: SignedFeeQuote) -> int:
        """Return the USDC `create_order` escrows besides the fee: a buy's payment, as the processor
        computes it."""
        order = signed.order
        if order.sell:
            return 0
        if order.order_type is ProcessorOrderType.MARKET:
            return order.payment_quantity
        ticker = next(d.ticker for d in self.quoter.onchain.deployment.instruments if d.token == order.token)
        unit = 10 ** self.quoter.instruments[ticker].token_decimals
        escrow: int = -(-order.asset_quantity * order.limit_price // unit)
        return escrow
