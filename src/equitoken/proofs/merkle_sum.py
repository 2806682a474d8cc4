"""A Merkle-sum tree over the holders of one instrument: the issuer's liabilities, provable per holder.

Glossary:
- holder: one (chain id, address) with a raw token balance `b`, 0 < b < 2^128, of the instrument.
  Holders with a zero balance are left out: there is nothing to prove for them.
- nonce: 32 bytes per holder, HMAC-SHA256(secret, "equitoken/pol/nonce" || len(ticker) || ticker
  || chain_id || address). Only the issuer knows the secret; a holder learns its own nonce from its
  proof, and without the others' nonces a sibling's leaf hash reveals nothing about who it is.
- leaf: SHA-256(0x00 || nonce || chain_id || address || balance) with sum = balance.
- node: SHA-256(0x01 || left_hash || left_sum || right_hash || right_sum) with sum = left_sum +
  right_sum. Both child sums are hashed, not only their total: committing to the total alone lets
  an issuer give two siblings' proofs inconsistent sums and under-report (the flaw of Maxwell's
  original scheme, fixed as in Hu, Zhang and Guo's "Maxwell's Sum Tree Revisited").
- padding: a level with an odd number of nodes gets one more, SHA-256(0x02) with sum 0. Its tag
  differs from a leaf's, so padding can never pass for a holder, and a verifier knows from the leaf
  count exactly where padding may appear.
- root: SHA-256(0x03 || len(ticker) || ticker || leaf_count || top_hash || top_sum). Publishing it
  fixes the instrument, the number of holders and the total liabilities in one hash.
Layout (`commitments` has the exact bytes): integers are big-endian; chain id 8 bytes, balance 16,
sums 32, leaf count 8.

Leaves keep the order the balances arrive in (`read_holder_balances` sorts by address, so the same
chain state gives the same root). A proof's index therefore tells a holder its rank in that order,
nothing about who its neighbours are.

Invariant: every node's sum is the sum of the balances of the leaves below it, and every sum on a
path is committed to by the root. So a holder whose proof verifies knows that its exact balance is
counted in the published total, and no sibling sum can be negative or large enough to overflow:
a subtree of 2^h leaves sums below 2^(128+h), which the verifier checks level by level.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from equitoken.model.address import checksum
from equitoken.model.holders import HolderBalance
from equitoken.proofs.commitments import (
    ADDRESS_BYTES,
    BALANCE_BYTES,
    BALANCE_LIMIT,
    CHAIN_ID_BYTES,
    CHAIN_ID_LIMIT,
    LEAF_KEY_BYTES,
    LEAF_TAG,
    NODE_TAG,
    PADDING_HASH,
    SUM_BYTES,
    holder_bytes,
    leaf_key,
    root_hash,
)
from equitoken.proofs.errors import InvalidHolderBalanceError, UnknownHolderError

NONCE_DOMAIN = b"equitoken/pol/nonce"
MIN_SECRET_BYTES = 32
_HMAC_BLOCK = 64  # SHA-256's block size: HMAC pads the key to it (RFC 2104)
_MAX_TICKER = 32


@dataclass(frozen=True, slots=True)
class PathStep:
    """The sibling met on the way from a leaf to the top: its hash and its sum."""

    hash: bytes
    sum: int


@dataclass(frozen=True, slots=True)
class Leaf:
    """A holder's place in a tree: position, balance and the nonce that hides it."""

    index: int
    chain_id: int
    holder: str
    balance: int
    nonce: bytes


class MerkleSumTree:
    """The liabilities of one instrument to every holder on every chain, as a Merkle-sum tree."""

    def __init__(
        self,
        ticker: str,
        levels: list[tuple[list[bytes], list[int]]],
        positions: dict[bytes, int],
        nonces: "_NonceDeriver",
    ) -> None:
        self.ticker = ticker
        self._levels = levels
        self._positions = positions
        self._nonces = nonces
        self.leaf_count = len(positions)
        # The top level holds one node; an empty tree's top is the padding node.
        top, self.total = (levels[-1][0][0], levels[-1][1][0]) if levels else (PADDING_HASH, 0)
        self.root = root_hash(ticker, self.leaf_count, top, self.total)

    @classmethod
    def build(cls, ticker: str, balances: Iterable[HolderBalance], secret: bytes) -> "MerkleSumTree":
        """Build the tree of `ticker` from holder balances; refuse bad or duplicate holders."""
        _check_ticker(ticker)
        nonces = _NonceDeriver(ticker, secret)
        positions: dict[bytes, int] = {}
        sums: list[int] = []
        hashes: list[bytes] = []
        # The loop runs once per holder (10^6 in the benchmark): methods are bound to locals, and
        # the validating helpers only run to name what is wrong, or once per new chain id.
        add_sum, add_hash = sums.append, hashes.append
        inner, outer, sha256, from_hex = nonces.inner.copy, nonces.outer.copy, hashlib.sha256, bytes.fromhex
        prefixes: dict[int, bytes] = {}
        for item in balances:
            try:
                chain_id, holder, raw = item.chain_id, item.holder, item.raw
            except AttributeError:
                raise InvalidHolderBalanceError(
                    f"expected a HolderBalance, got {type(item).__name__}"
                ) from None
            if type(raw) is not int or not 0 <= raw < BALANCE_LIMIT:
                raise InvalidHolderBalanceError(
                    f"{holder} on chain {chain_id}: balance {raw!r} is not an integer in [0, 2**128)"
                )
            prefix = prefixes.get(chain_id) if type(chain_id) is int else None
            if prefix is None:
                prefix = prefixes[chain_id] = _chain_id(chain_id).to_bytes(CHAIN_ID_BYTES, "big")
            try:
                key = prefix + from_hex(holder[2:])
            except (TypeError, ValueError):
                key = b""
            if len(key) != LEAF_KEY_BYTES or len(holder) != 42 or holder[1] not in "xX" or holder[0] != "0":
                key = prefix + _address(holder)  # a Solana holder, or a bad one to name
            if not raw:
                continue
            if key in positions:
                raise InvalidHolderBalanceError(
                    f"{ticker}: holder {_display(holder)} on chain {chain_id} appears more than once"
                )
            positions[key] = len(hashes)
            # HMAC-SHA256 with the padded key absorbed once: the same bytes as hmac.digest, faster.
            mac = inner()
            mac.update(key)
            nonce = outer()
            nonce.update(mac.digest())
            add_sum(raw)
            add_hash(sha256(LEAF_TAG + nonce.digest() + key + raw.to_bytes(BALANCE_BYTES, "big")).digest())
        return cls(ticker, _build_levels(hashes, sums), positions, nonces)

    @property
    def root_hex(self) -> str:
        """Return the published root as 0x-prefixed hex."""
        return "0x" + self.root.hex()

    @property
    def depth(self) -> int:
        """Return the number of levels between a leaf and the top (the length of every path)."""
        return max(len(self._levels) - 1, 0)

    def leaf(self, chain_id: int, holder: str) -> Leaf:
        """Return the leaf of `holder` on `chain_id`; raise `UnknownHolderError` if it has none."""
        key = leaf_key(_chain_id(chain_id), _address(holder))
        index = self._positions.get(key)
        if index is None:
            raise UnknownHolderError(
                f"{holder} on chain {chain_id} has no {self.ticker} balance in this tree "
                f"({self.leaf_count} holders)"
            )
        balance = self._levels[0][1][index]
        return Leaf(index, chain_id, _display(holder), balance, self._nonces.nonce(key))

    def path(self, index: int) -> tuple[PathStep, ...]:
        """Return the siblings from leaf `index` up to the top."""
        if not 0 <= index < self.leaf_count:
            raise UnknownHolderError(f"no leaf {index} in a tree of {self.leaf_count} leaves")
        steps = []
        for hashes, sums in self._levels[:-1]:
            sibling = index ^ 1
            steps.append(PathStep(hashes[sibling], sums[sibling]))
            index >>= 1
        return tuple(steps)


class _NonceDeriver:
    """HMAC-SHA256 under the issuer's secret, with the key pads and the instrument absorbed once."""

    def __init__(self, ticker: str, secret: bytes) -> None:
        if not isinstance(secret, bytes) or not MIN_SECRET_BYTES <= len(secret) <= _HMAC_BLOCK:
            raise InvalidHolderBalanceError(
                f"the nonce secret must be {MIN_SECRET_BYTES} to {_HMAC_BLOCK} bytes, "
                f"not {len(secret) if isinstance(secret, bytes) else type(secret).__name__}"
            )
        key = secret.ljust(_HMAC_BLOCK, b"\x00")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.inner.update(NONCE_DOMAIN + len(ticker).to_bytes(1, "big") + ticker.encode("ascii"))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def nonce(self, key: bytes) -> bytes:
        mac = self.inner.copy()
        mac.update(key)
        outer = self.outer.copy()
        outer.update(mac.digest())
        return outer.digest()


def _build_levels(hashes: list[bytes], sums: list[int]) -> list[tuple[list[bytes], list[int]]]:
    if not hashes:
        return []
    sha256 = hashlib.sha256
    levels = []
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(PADDING_HASH)
            sums.append(0)
        levels.append((hashes, sums))
        encoded = [s.to_bytes(SUM_BYTES, "big") for s in sums]
        hashes = [
            sha256(b"".join((NODE_TAG, left, left_sum, right, right_sum))).digest()
            for left, left_sum, right, right_sum in zip(
                hashes[::2], encoded[::2], hashes[1::2], encoded[1::2], strict=True
            )
        ]
        sums = [left + right for left, right in zip(sums[::2], sums[1::2], strict=True)]
    levels.append((hashes, sums))
    return levels


def _chain_id(chain_id: int) -> int:
    if type(chain_id) is not int or not 0 < chain_id < CHAIN_ID_LIMIT:
        raise InvalidHolderBalanceError(f"chain id {chain_id!r} is not an integer in [1, 2**64)")
    return chain_id


def _address(holder: str) -> bytes:
    # bytes.fromhex skips spaces, so a full 20-byte result also proves there were none.
    if type(holder) is str and len(holder) == 42 and holder[:2] in ("0x", "0X"):
        try:
            address = bytes.fromhex(holder[2:])
        except ValueError:
            pass
        else:
            if len(address) == ADDRESS_BYTES:
                return address
    try:
        return holder_bytes(holder)
    except ValueError as exc:
        raise InvalidHolderBalanceError(str(exc)) from None


def _display(holder: str) -> str:
    """Return the holder as proofs spell it: EIP-55 for EVM, base58 as it is for Solana."""
    return checksum(holder) if holder[:2] in ("0x", "0X") else holder


def _check_ticker(ticker: str) -> None:
    if not isinstance(ticker, str) or not (
        0 < len(ticker) <= _MAX_TICKER and ticker.isascii() and ticker.isprintable()
    ):
        raise InvalidHolderBalanceError(
            f"ticker {ticker!r} is not 1 to {_MAX_TICKER} printable ASCII characters"
        )
