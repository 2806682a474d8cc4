"""The signed quote of an attestation mint or redemption: the EIP-712 `Quote` the minter verifies.

Glossary (see `contracts/issuance/attestation_quotes.vy`): `price` is USDC (6 decimals) per whole
token, `quantity` raw token units, `side` 0 buy (mint) or 1 sell (redeem), `expiry` unix seconds; the
domain is the minter's ("Equitoken AttestationMinter", version "1", its chain and address).
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount

DOMAIN_NAME = "Equitoken AttestationMinter"
DOMAIN_VERSION = "1"
QUOTE_TYPES = [
    {"name": "chain_id", "type": "uint256"},
    {"name": "attestation_id", "type": "bytes32"},
    {"name": "user", "type": "address"},
    {"name": "token", "type": "address"},
    {"name": "price", "type": "uint256"},
    {"name": "quantity", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "expiry", "type": "uint256"},
]
_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class Side(IntEnum):
    """The quote's side as the contract numbers it."""

    BUY = 0
    SELL = 1


@dataclass(frozen=True)
class Quote:
    """One attestation quote, its fields in the contract's order."""

    chain_id: int
    attestation_id: bytes
    user: str
    token: str
    price: int
    quantity: int
    side: Side
    expiry: int

    def as_tuple(self) -> tuple[int, bytes, str, str, int, int, int, int]:
        """Return the quote as the contract's `Quote` struct argument."""
        return (
            self.chain_id,
            self.attestation_id,
            self.user,
            self.token,
            self.price,
            self.quantity,
            int(self.side),
            self.expiry,
        )

    @property
    def id_hex(self) -> str:
        """Return the attestation id as 0x-hex, the key of its hedge row."""
        return "0x" + self.attestation_id.hex()


@dataclass(frozen=True)
class SignedQuote:
    """A quote and the desk's 65-byte signature of it, for the user's `mint_with_attestation` or
    `redeem_with_attestation` call on `minter`."""

    quote: Quote
    signature: bytes
    minter: str


def typed_quote(quote: Quote, minter: str) -> SignableMessage:
    """Return `quote` as the EIP-712 message of `minter`'s domain."""
    message: dict[str, Any] = {
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": quote.chain_id,
            "verifyingContract": minter,
        },
        "types": {"EIP712Domain": _DOMAIN_TYPES, "Quote": QUOTE_TYPES},
        "primaryType": "Quote",
        "message": {
            "chain_id": quote.chain_id,
            "attestation_id": quote.attestation_id,
            "user": quote.user,
            "token": quote.token,
            "price": quote.price,
            "quantity": quote.quantity,
            "side": int(quote.side),
            "expiry": quote.expiry,
        },
    }
    return encode_typed_data(full_message=message)


def sign_quote(quote: Quote, minter: str, signer: LocalAccount) -> SignedQuote:
    """Sign `quote` for `minter` with `signer`."""
    signature = bytes(signer.sign_message(typed_quote(quote, minter)).signature)
    return SignedQuote(quote, signature, minter)
