"""A bridge message: what a burn on one chain asks the other to mint, its id, and its attestations.

The wire format is the EVM token pool's (`contracts/bridge/TokenPool.vy`); every chain family and
every attester encodes it the same way:

    source_chain uint64, source_pool bytes32, dest_chain uint64, dest_pool bytes32, nonce uint64,
    sender bytes32, receiver bytes32, amount uint64, salt bytes32

A pool or a Solana mint, a wallet or a pubkey, is 32 bytes (an EVM address left-padded). `amount`
is in shared decimals (8), whatever the token's decimals at either end. `nonce` is the source pool's
outbound counter on EVM and 0 on Solana, where `salt` (sha256 of the burn's signature) makes the
message unique instead. The id is keccak256 of the nine words ABI-encoded; an attestation is an
EIP-712 signature of the message under the domain {name: "Equitoken Bridge", version: "1"}: the
message names both ends, so the domain needs neither a chain nor a contract, and the destination
refuses an id it has seen.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from equitoken.model.address import checksum

SHARED_DECIMALS = 8
DOMAIN = {"name": "Equitoken Bridge", "version": "1"}
SIGNATURE_BYTES = 65
_UINT64 = 2**64

_FIELDS = [
    ("sourceChain", "uint64"),
    ("sourcePool", "bytes32"),
    ("destChain", "uint64"),
    ("destPool", "bytes32"),
    ("nonce", "uint64"),
    ("sender", "bytes32"),
    ("receiver", "bytes32"),
    ("amount", "uint64"),
    ("salt", "bytes32"),
]
_TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
    "BridgeMessage": [{"name": name, "type": kind} for name, kind in _FIELDS],
}


class MessageError(ValueError):
    """A message or an attestation that does not hold together."""


def word(data: bytes | str) -> bytes:
    """Return `data` (bytes, 0x-hex of an EVM address or of 32 bytes) as 32 bytes, left-padded."""
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
    if len(raw) not in (20, 32):
        raise MessageError(f"an address is 20 or 32 bytes, not {len(raw)}")
    return raw.rjust(32, b"\0")


def evm_address(data: bytes) -> str | None:
    """Return the EVM address a 32-byte word holds; None if its high 12 bytes are not zero."""
    if len(data) != 32 or any(data[:12]):
        return None
    return checksum("0x" + data[12:].hex())


def to_shared(raw: int, decimals: int) -> int:
    """Return `raw` token units of a token with `decimals` in shared decimals; raise on dust."""
    if decimals < SHARED_DECIMALS:
        raise MessageError(f"a bridged token has at least {SHARED_DECIMALS} decimals, not {decimals}")
    scale = 10 ** (decimals - SHARED_DECIMALS)
    if raw <= 0 or raw % scale:
        raise MessageError(
            f"{raw} units of a {decimals}-decimal token is not a positive multiple of {scale} "
            f"(the bridge moves {SHARED_DECIMALS} decimals; dust is refused, never burned)"
        )
    return int(raw // scale)


@dataclass(frozen=True)
class BridgeMessage:
    """One transfer: burned at the source, to be minted once at the destination."""

    source_chain: int
    source_pool: bytes
    dest_chain: int
    dest_pool: bytes
    nonce: int
    sender: bytes
    receiver: bytes
    amount: int
    salt: bytes = bytes(32)

    def __post_init__(self) -> None:
        for name in ("source_pool", "dest_pool", "sender", "receiver", "salt"):
            if len(getattr(self, name)) != 32:
                raise MessageError(f"{name} must be 32 bytes")
        for name in ("source_chain", "dest_chain", "nonce", "amount"):
            if not 0 <= getattr(self, name) < _UINT64:
                raise MessageError(f"{name} must fit 64 bits")
        if self.amount == 0:
            raise MessageError("a message moves a positive amount")

    def as_tuple(self) -> tuple[Any, ...]:
        """Return the fields in wire order (the pool's `Message` struct)."""
        return (
            self.source_chain,
            self.source_pool,
            self.dest_chain,
            self.dest_pool,
            self.nonce,
            self.sender,
            self.receiver,
            self.amount,
            self.salt,
        )

    @property
    def id(self) -> bytes:
        return keccak(encode([kind for _, kind in _FIELDS], list(self.as_tuple())))

    @property
    def id_hex(self) -> str:
        return "0x" + self.id.hex()

    def signable(self) -> SignableMessage:
        """Return the EIP-712 message attesters sign."""
        values = dict(zip((name for name, _ in _FIELDS), self.as_tuple(), strict=True))
        return encode_typed_data(
            full_message={
                "types": _TYPES,
                "primaryType": "BridgeMessage",
                "domain": DOMAIN,
                "message": values,
            }
        )

    def sign(self, key: LocalAccount) -> bytes:
        """Return `key`'s attestation of this message (65 bytes, r‖s‖v)."""
        return bytes(key.sign_message(self.signable()).signature)

    def signer(self, signature: bytes) -> str:
        """Return the address that made `signature`; raise MessageError if it is not one."""
        if len(signature) != SIGNATURE_BYTES:
            raise MessageError(f"an attestation is {SIGNATURE_BYTES} bytes, not {len(signature)}")
        try:
            return checksum(Account.recover_message(self.signable(), signature=signature))
        except Exception as error:  # eth_keys raises several types for a malformed signature
            raise MessageError(f"not a signature: {error}") from None

    def to_json(self) -> dict[str, Any]:
        """Return the message as JSON, byte fields as 0x-hex."""
        return {
            "source_chain": self.source_chain,
            "source_pool": "0x" + self.source_pool.hex(),
            "dest_chain": self.dest_chain,
            "dest_pool": "0x" + self.dest_pool.hex(),
            "nonce": self.nonce,
            "sender": "0x" + self.sender.hex(),
            "receiver": "0x" + self.receiver.hex(),
            "amount": self.amount,
            "salt": "0x" + self.salt.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> "BridgeMessage":
        """Return the message `to_json` wrote; raise MessageError naming what is wrong."""
        if not isinstance(data, dict):
            raise MessageError("a message is a JSON object")
        try:
            return cls(
                source_chain=_int(data["source_chain"]),
                source_pool=_bytes32(data["source_pool"]),
                dest_chain=_int(data["dest_chain"]),
                dest_pool=_bytes32(data["dest_pool"]),
                nonce=_int(data["nonce"]),
                sender=_bytes32(data["sender"]),
                receiver=_bytes32(data["receiver"]),
                amount=_int(data["amount"]),
                salt=_bytes32(data["salt"]),
            )
        except KeyError as missing:
            raise MessageError(f"a message needs {missing}") from None


def quorum(message: BridgeMessage, signatures: Iterable[bytes], attesters: Sequence[str]) -> list[bytes]:
    """Return the valid attestations of `message` by distinct `attesters`, ordered by signer as the pool
    wants them; what is not a signature of one of them is left out."""
    members = {a.lower() for a in attesters}
    by_signer: dict[str, bytes] = {}
    for signature in signatures:
        try:
            signer = message.signer(signature).lower()
        except MessageError:
            continue
        if signer in members:
            by_signer.setdefault(signer, signature)
    return [by_signer[s] for s in sorted(by_signer, key=lambda s: int(s, 16))]


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MessageError(f"{value!r} is not an integer")
    return value


def _bytes32(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise MessageError(f"{value!r} is not 0x-hex of 32 bytes")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise MessageError(f"{value!r} is not hex") from None
