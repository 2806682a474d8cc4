"""The hashes of the liabilities tree: leaves, nodes, padding and the published root.

`merkle_sum` documents the construction; this module holds the few functions a verifier needs, so
that checking a proof depends on nothing but SHA-256 and these byte layouts (big-endian integers):

- leaf      = SHA-256(0x00 || nonce[32] || chain_id[8] || holder[20 or 32] || balance[16])
  (holder: an EVM address's 20 bytes, or a Solana address's 32; the preimage's length tells which)
- node      = SHA-256(0x01 || left_hash[32] || left_sum[32] || right_hash[32] || right_sum[32])
- padding   = SHA-256(0x02), with sum 0
- root      = SHA-256(0x03 || len(ticker)[1] || ticker || leaf_count[8] || top_hash[32] || top_sum[32])
"""

import hashlib

from eth_utils.address import is_address

from equitoken.chain.solana.base58 import b58decode, b58encode

HASH_BYTES = 32
NONCE_BYTES = 32
ADDRESS_BYTES = 20
SOLANA_ADDRESS_BYTES = 32
CHAIN_ID_BYTES = 8
BALANCE_BYTES = 16
SUM_BYTES = 32
COUNT_BYTES = 8
LEAF_KEY_BYTES = CHAIN_ID_BYTES + ADDRESS_BYTES

BALANCE_LIMIT = 2**128
"""Every leaf balance is below this; a subtree of 2^h leaves therefore sums below 2^(128+h)."""
CHAIN_ID_LIMIT = 2**64
LEAF_COUNT_LIMIT = 2**64

LEAF_TAG = b"\x00"
NODE_TAG = b"\x01"
PADDING_TAG = b"\x02"
ROOT_TAG = b"\x03"

PADDING_HASH = hashlib.sha256(PADDING_TAG).digest()
"""The hash of an empty subtree, which stands in for the missing right child of an odd level."""


def holder_bytes(holder: str) -> bytes:
    """Return a holder's address as the tree commits to it: the 20 bytes of a 0x-prefixed EVM address,
    or the 32 of a Solana address (base58, in its one canonical spelling); raise ValueError."""
    if isinstance(holder, str) and holder[:2] == "0x" and is_address(holder):
        return bytes.fromhex(holder[2:])
    try:
        decoded = b58decode(holder) if isinstance(holder, str) else b""
    except ValueError:
        decoded = b""
    if len(decoded) != SOLANA_ADDRESS_BYTES or b58encode(decoded) != holder:
        raise ValueError(
            f"holder {holder!r} is neither a 0x-prefixed 20-byte address nor a base58 32-byte Solana address"
        )
    return decoded


def leaf_key(chain_id: int, holder: bytes) -> bytes:
    """Return the bytes that name a holder on a chain inside the tree (28, or 40 for Solana)."""
    return chain_id.to_bytes(CHAIN_ID_BYTES, "big") + holder


def leaf_hash(nonce: bytes, key: bytes, balance: int) -> bytes:
    """Return the commitment to one holder's balance, hidden behind its nonce."""
    return hashlib.sha256(LEAF_TAG + nonce + key + balance.to_bytes(BALANCE_BYTES, "big")).digest()


def node_hash(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    """Return the hash of an internal node, committing to both children's hashes and sums."""
    return hashlib.sha256(
        NODE_TAG + left + left_sum.to_bytes(SUM_BYTES, "big") + right + right_sum.to_bytes(SUM_BYTES, "big")
    ).digest()


def root_hash(ticker: str, leaf_count: int, top: bytes, total: int) -> bytes:
    """Return the published root: the top node bound to its instrument, leaf count and total."""
    name = ticker.encode("ascii")
    return hashlib.sha256(
        ROOT_TAG
        + len(name).to_bytes(1, "big")
        + name
        + leaf_count.to_bytes(COUNT_BYTES, "big")
        + top
        + total.to_bytes(SUM_BYTES, "big")
    ).digest()


def level_sizes(leaf_count: int) -> list[int]:
    """Return the number of real nodes on each level, leaves first, up to (not including) the top."""
    sizes = []
    size = leaf_count
    while size > 1:
        sizes.append(size)
        size = (size + 1) // 2
    return sizes
