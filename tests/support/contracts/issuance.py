"""The order processor's units, order builders, fee quotes signed with real keys, and a desk that
places, fills and cancels orders and checks after every action that the processor holds exactly
what its open orders escrow.

Quotes are signed as the issuer's quoter signs them, with ``eth_account`` from the EIP-712
specification, independently of the contract, so a test that places an order also proves that the
contract checks the signature the issuer makes.
The deployments are fixtures in ``tests/contracts/issuance/order_processor/conftest.py``.
"""

from dataclasses import dataclass, field
from typing import Any, cast

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts import events

from equitoken.issuer.orders.terms import FeeQuote, ProcessorOrder, sign_fee_quote

USDC = 10**6
SHARE = 10**8  # the test stock token has 8 decimals
PRICE = 200 * USDC  # a limit price: USDC raw units per whole token
MARKET, LIMIT = 0, 1
DAY, GTC, IOC, FOK = 0, 1, 2, 3
NONE, ACTIVE, FILLED, CANCELLED = 0, 1, 2, 3
DOMAIN_NAME, DOMAIN_VERSION = "Equitoken OrderProcessor", "1"
QUOTE_TTL = 600

Order = tuple[str, str, bool, int, int, int, int, int]


def market_buy(token: Any, recipient: str, payment: int, tif: int = DAY) -> Order:
    """Return a market buy of `payment` USDC of `token` (a notional order)."""
    return (recipient, token.address, False, MARKET, 0, payment, 0, tif)


def limit_buy(token: Any, recipient: str, quantity: int, price: int = PRICE, tif: int = GTC) -> Order:
    """Return a buy of `quantity` raw units of `token` at no more than `price` per whole token."""
    return (recipient, token.address, False, LIMIT, quantity, 0, price, tif)


def market_sell(token: Any, recipient: str, quantity: int, tif: int = DAY) -> Order:
    """Return a market sell of `quantity` raw units of `token`."""
    return (recipient, token.address, True, MARKET, quantity, 0, 0, tif)


def limit_sell(token: Any, recipient: str, quantity: int, price: int = PRICE, tif: int = GTC) -> Order:
    """Return a sell of `quantity` raw units of `token` at no less than `price` per whole token."""
    return (recipient, token.address, True, LIMIT, quantity, 0, price, tif)


def deadline(seconds: int = QUOTE_TTL) -> int:
    """Return a quote deadline `seconds` from now."""
    return int(boa.env.evm.patch.timestamp) + seconds


def sign_quote(
    processor: Any, signer: LocalAccount, order: Order, requester: str, nonce: int, fee: int, until: int
) -> bytes:
    """Return `signer`'s EIP-712 signature of the fee quote (nonce, requester, order, fee, deadline), as
    the issuer's quoter signs it (`equitoken.issuer.orders.terms`, over eth_account's typed data)."""
    recipient, token, sell, order_type, asset, payment, limit, tif = order
    # Not `ProcessorOrder.from_tuple`: the refusal tests sign order types and times in force that do not
    # exist, for the contract to refuse.
    terms = ProcessorOrder(
        recipient, token, sell, cast(Any, order_type), asset, payment, limit, cast(Any, tif)
    )
    quote = FeeQuote(nonce, requester, fee, until)
    return sign_fee_quote(signer, boa.env.evm.patch.chain_id, processor.address, terms, quote).signature


@dataclass
class Desk:
    """Drives the processor as requesters and the operator, checking its books after every action."""

    processor: Any
    usdc: Any
    fee_signer: LocalAccount
    operator: str
    tokens: list[Any] = field(default_factory=list)
    logged: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def quote(
        self, requester: str, order: Order, fee: int, *, nonce: int | None = None, until: int | None = None
    ) -> tuple[tuple[int, str, int, int], bytes]:
        """Return a fee quote for `requester`'s next order and the fee signer's signature of it."""
        nonce = self.processor.nonces(requester) if nonce is None else nonce
        until = deadline() if until is None else until
        signature = sign_quote(self.processor, self.fee_signer, order, requester, nonce, fee, until)
        return (nonce, requester, fee, until), signature

    def place(self, requester: str, order: Order, fee: int) -> int:
        """Place `order` as `requester` with a fresh quote for `fee`; return its id."""
        quote, signature = self.quote(requester, order, fee)
        return self.create(requester, order, quote, signature)

    def create(self, requester: str, order: Order, quote: tuple[int, str, int, int], signature: bytes) -> int:
        """Call `create_order` as `requester`; return the order id."""
        with boa.env.prank(requester):
            order_id: int = self.processor.create_order(order, quote, signature)
            self.logged = events(self.processor)
        self.check()
        return order_id

    def fill(self, order_id: int, asset: int, payment: int) -> None:
        """Record a fill as the operator."""
        with boa.env.prank(self.operator):
            self.processor.fill_order(order_id, asset, payment)
            self.logged = events(self.processor)
        self.check()

    def cancel(self, order_id: int, reason: str = "requested") -> None:
        """Cancel as the operator."""
        with boa.env.prank(self.operator):
            self.processor.cancel_order(order_id, reason)
            self.logged = events(self.processor)
        self.check()

    def request_cancel(self, requester: str, order_id: int) -> None:
        """Ask to cancel as `requester`."""
        with boa.env.prank(requester):
            self.processor.request_cancel(order_id)
            self.logged = events(self.processor)
        self.check()

    def last(self) -> tuple[str, dict[str, Any]]:
        """Return the last event the last action emitted, as (name, arguments)."""
        return self.logged[-1]

    def check(self) -> None:
        """Assert the processor holds exactly the USDC and stock its open orders escrow."""
        ids = range(1, self.processor.next_order_id())
        assert self.usdc.balanceOf(self.processor.address) == sum(self.processor.escrowed(i)[0] for i in ids)
        for token in self.tokens:
            held = sum(
                self.processor.escrowed(i)[1] for i in ids if self.processor.order(i)[1] == token.address
            )
            assert token.balanceOf(self.processor.address) == held

    def snapshot(self, *accounts: str) -> tuple[Any, ...]:
        """Return every balance, supply and order state a refused call must leave unchanged."""
        ids = range(1, self.processor.next_order_id())
        holders = (self.processor.address, *accounts)
        return (
            tuple(self.usdc.balanceOf(a) for a in holders),
            tuple(t.balanceOf(a) for t in self.tokens for a in holders),
            tuple(t.totalSupply() for t in self.tokens),
            tuple(self.processor.nonces(a) for a in accounts),
            self.processor.next_order_id(),
            tuple(
                (
                    self.processor.order_status(i),
                    self.processor.unfilled(i),
                    self.processor.escrowed(i),
                    self.processor.fee_paid(i),
                )
                for i in ids
            ),
        )
