"""An order processor's order and fee quote as the contract takes them, and the EIP-712 signature of a
quote (`contracts/issuance/order_processor.vy`: the domain "Equitoken OrderProcessor", version "1").

Units are the processor's: token raw units for quantities, USDC raw units (6 decimals) for payments and
fees, USDC raw units per whole token for a limit price.
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

DOMAIN_NAME = "Equitoken OrderProcessor"
DOMAIN_VERSION = "1"


class ProcessorOrderType(IntEnum):
    MARKET = 0
    LIMIT = 1


class ProcessorTimeInForce(IntEnum):
    DAY = 0
    GTC = 1
    IOC = 2
    FOK = 3


class ProcessorStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    FILLED = 2
    CANCELLED = 3


@dataclass(frozen=True)
class ProcessorOrder:
    """What a requester asks the processor for: `asset_quantity` counts for sells and limit buys,
    `payment_quantity` (USDC to spend) for market buys; the other is zero."""

    recipient: str
    token: str
    sell: bool
    order_type: ProcessorOrderType
    asset_quantity: int
    payment_quantity: int
    limit_price: int
    time_in_force: ProcessorTimeInForce

    @property
    def notional_order(self) -> bool:
        """A market buy: its quantity is the USDC to spend, not the stock to get."""
        return not self.sell and self.order_type is ProcessorOrderType.MARKET

    def as_tuple(self) -> tuple[Any, ...]:
        """Return the order as the contract's `Order` struct."""
        return (
            self.recipient,
            self.token,
            self.sell,
            int(self.order_type),
            self.asset_quantity,
            self.payment_quantity,
            self.limit_price,
            int(self.time_in_force),
        )

    @classmethod
    def from_tuple(cls, values: tuple[Any, ...]) -> "ProcessorOrder":
        """Return the order the contract's `order(id)` view returned."""
        recipient, token, sell, order_type, asset, payment, limit, tif = values
        return cls(
            recipient,
            token,
            bool(sell),
            ProcessorOrderType(order_type),
            int(asset),
            int(payment),
            int(limit),
            ProcessorTimeInForce(tif),
        )


@dataclass(frozen=True)
class FeeQuote:
    """The fee the issuer quotes one requester for one order, usable once (its nonce) until `deadline`."""

    nonce: int
    requester: str
    fee: int
    deadline: int

    def as_tuple(self) -> tuple[int, str, int, int]:
        return (self.nonce, self.requester, self.fee, self.deadline)


@dataclass(frozen=True)
class SignedFeeQuote:
    """A quote with the order it covers and the fee signer's signature: what `create_order` takes."""

    order: ProcessorOrder
    quote: FeeQuote
    signature: bytes


def quote_typed_data(chain_id: int, processor: str, order: ProcessorOrder, quote: FeeQuote) -> dict[str, Any]:
    """Return the EIP-712 typed data of `quote` for `order` on the processor at `processor`."""
    order_fields = [
        {"name": "recipient", "type": "address"},
        {"name": "token", "type": "address"},
        {"name": "sell", "type": "bool"},
        {"name": "orderType", "type": "uint8"},
        {"name": "assetQuantity", "type": "uint256"},
        {"name": "paymentQuantity", "type": "uint256"},
        {"name": "limitPrice", "type": "uint256"},
        {"name": "timeInForce", "type": "uint8"},
    ]
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": order_fields,
            "FeeQuote": [
                {"name": "nonce", "type": "uint256"},
                {"name": "requester", "type": "address"},
                {"name": "order", "type": "Order"},
                {"name": "fee", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "FeeQuote",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": processor,
        },
        "message": {
            "nonce": quote.nonce,
            "requester": quote.requester,
            "order": {
                "recipient": order.recipient,
                "token": order.token,
                "sell": order.sell,
                "orderType": int(order.order_type),
                "assetQuantity": order.asset_quantity,
                "paymentQuantity": order.payment_quantity,
                "limitPrice": order.limit_price,
                "timeInForce": int(order.time_in_force),
            },
            "fee": quote.fee,
            "deadline": quote.deadline,
        },
    }


def sign_fee_quote(
    signer: LocalAccount, chain_id: int, processor: str, order: ProcessorOrder, quote: FeeQuote
) -> SignedFeeQuote:
    """Return `quote` for `order` signed by `signer` (the processor's fee signer)."""
    message = encode_typed_data(full_message=quote_typed_data(chain_id, processor, order, quote))
    return SignedFeeQuote(order, quote, bytes(signer.sign_message(message).signature))
