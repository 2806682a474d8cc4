"""Reporter observations and the EIP-712 signature the price feed checks.

A reporter observes one instrument's underlying share price and its market's status at one time,
for one round of one feed, and signs the EIP-712 hash of

    Observation(uint256 roundId,uint256 price,uint8 status,uint256 observedAt)

under the domain ``{name: "Equitoken PriceFeed", version: "1", chainId, verifyingContract: feed}``.
The feed (`contracts/oracle/PriceFeed.vy`) recovers the signer with the same hash, so a signature
is good for one round of one feed on one chain: it cannot be replayed elsewhere.
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount

from equitoken.model.address import checksum
from equitoken.model.quantities import Price

DOMAIN_NAME = "Equitoken PriceFeed"
DOMAIN_VERSION = "1"
SIGNATURE_BYTES = 65

_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Observation": [
        {"name": "roundId", "type": "uint256"},
        {"name": "price", "type": "uint256"},
        {"name": "status", "type": "uint8"},
        {"name": "observedAt", "type": "uint256"},
    ],
}


class MarketStatus(IntEnum):
    """The underlying market's status, as the feed stores it (`feed.vy`'s `MARKET_*`)."""

    OPEN = 1
    CLOSED = 2
    HALTED = 3


@dataclass(frozen=True, slots=True)
class FeedId:
    """Where a feed lives: the chain id and the feed's address."""

    chain_id: int
    address: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", checksum(self.address))


@dataclass(frozen=True, slots=True)
class Observation:
    """One reporter's view of an instrument for one round: the share price, the status and when."""

    feed: FeedId
    round_id: int
    price: Price
    status: MarketStatus
    observed_at: int

    def __post_init__(self) -> None:
        if self.round_id < 1:
            raise ValueError(f"round id {self.round_id} is not positive")
        if self.price.units <= 0:
            raise ValueError(f"observed price {self.price} is not positive")
        if self.observed_at < 0:
            raise ValueError(f"observation time {self.observed_at} is negative")

    def message(self) -> SignableMessage:
        """Return the EIP-712 message a reporter signs."""
        typed: dict[str, Any] = {
            "types": _TYPES,
            "primaryType": "Observation",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.feed.chain_id,
                "verifyingContract": self.feed.address,
            },
            "message": {
                "roundId": self.round_id,
                "price": self.price.units,
                "status": int(self.status),
                "observedAt": self.observed_at,
            },
        }
        return encode_typed_data(full_message=typed)

    def sign(self, reporter: LocalAccount) -> "SignedObservation":
        """Sign the observation with a reporter's key."""
        signed = reporter.sign_message(self.message())
        return SignedObservation(self, bytes(signed.signature), checksum(reporter.address))


@dataclass(frozen=True, slots=True)
class SignedObservation:
    """An observation, its 65-byte signature (r, s, v) and the reporter who signed it."""

    observation: Observation
    signature: bytes
    reporter: str

    def recover(self) -> str:
        """Return the address that produced the signature (not necessarily `reporter`)."""
        return checksum(Account.recover_message(self.observation.message(), signature=self.signature))

    def is_authentic(self) -> bool:
        """Tell whether the signature is well formed and was made by `reporter`."""
        if len(self.signature) != SIGNATURE_BYTES:
            return False
        try:
            return self.recover() == self.reporter
        except ValueError:
            return False

    def as_call_argument(self) -> tuple[int, int, int, bytes]:
        """Return the observation as `PriceFeed.transmit` takes it: (price, status, observedAt, signature)."""
        o = self.observation
        return (o.price.units, int(o.status), o.observed_at, self.signature)
