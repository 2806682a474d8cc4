"""A holder's proof that its balance is counted in the published liabilities, and its verification.

`verify` needs nothing but the proof and the published root: it recomputes the holder's leaf from
the balance and nonce, walks the sibling path up to the top (checking every sibling sum and every
place padding may appear), and compares the root this gives with the published one. JSON carries
big integers as decimal strings and bytes as 0x-hex, so any language can check a proof.
"""

import json
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from equitoken.proofs.commitments import (
    BALANCE_LIMIT,
    CHAIN_ID_LIMIT,
    HASH_BYTES,
    LEAF_COUNT_LIMIT,
    NONCE_BYTES,
    PADDING_HASH,
    holder_bytes,
    leaf_hash,
    leaf_key,
    level_sizes,
    node_hash,
    root_hash,
)
from equitoken.proofs.errors import InvalidProofError
from equitoken.proofs.merkle_sum import MerkleSumTree, PathStep

FORMAT = "equitoken-liabilities-proof/1"
_JSON_TYPES = {str: "string", int: "integer", list: "array"}


@dataclass(frozen=True)
class InclusionProof:
    """One holder's balance of one instrument on one chain, and the path that ties it to the root."""

    ticker: str
    chain_id: int
    holder: str
    balance: int
    nonce: bytes
    index: int
    leaf_count: int
    path: tuple[PathStep, ...]
    total: int
    root: bytes

    def __post_init__(self) -> None:
        _check_ticker(self.ticker)
        _check_int(self.chain_id, "chain_id", 1, CHAIN_ID_LIMIT)
        try:
            holder_bytes(self.holder)
        except ValueError as exc:
            raise InvalidProofError(f"the proof's {exc}") from None
        _check_int(self.balance, "balance", 0, BALANCE_LIMIT)
        _check_bytes(self.nonce, "nonce", NONCE_BYTES)
        _check_int(self.leaf_count, "leaf_count", 1, LEAF_COUNT_LIMIT)
        _check_int(self.index, "index", 0, self.leaf_count)
        for level, step in enumerate(self.path):
            _check_bytes(step.hash, f"hash of path step {level}", HASH_BYTES)
            # A sibling at `level` covers at most 2^level leaves, each below 2^128.
            _check_int(step.sum, f"sum of path step {level}", 0, BALANCE_LIMIT << level)
        _check_int(self.total, "total", 0, BALANCE_LIMIT << len(self.path))
        _check_bytes(self.root, "root", HASH_BYTES)

    @classmethod
    def of(cls, tree: MerkleSumTree, chain_id: int, holder: str) -> "InclusionProof":
        """Return the proof for `holder` on `chain_id`; raise `UnknownHolderError` if it has no balance."""
        leaf = tree.leaf(chain_id, holder)
        return cls(
            ticker=tree.ticker,
            chain_id=leaf.chain_id,
            holder=leaf.holder,
            balance=leaf.balance,
            nonce=leaf.nonce,
            index=leaf.index,
            leaf_count=tree.leaf_count,
            path=tree.path(leaf.index),
            total=tree.total,
            root=tree.root,
        )

    def to_json(self) -> str:
        """Serialise the proof (integers as decimal strings, bytes as 0x-hex)."""
        return json.dumps(
            {
                "format": FORMAT,
                "ticker": self.ticker,
                "chain_id": self.chain_id,
                "holder": self.holder,
                "balance": str(self.balance),
                "nonce": "0x" + self.nonce.hex(),
                "index": self.index,
                "leaf_count": self.leaf_count,
                "path": [{"hash": "0x" + step.hash.hex(), "sum": str(step.sum)} for step in self.path],
                "total": str(self.total),
                "root": "0x" + self.root.hex(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "InclusionProof":
        """Parse a proof written by `to_json`; raise `InvalidProofError` naming the first bad field."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as error:
            raise InvalidProofError(f"the proof is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidProofError(f"the proof must be a JSON object, not {type(data).__name__}")
        if data.get("format") != FORMAT:
            raise InvalidProofError(f"unknown proof format {data.get('format')!r}; expected {FORMAT!r}")
        return cls(
            ticker=_field(data, "ticker", str),
            chain_id=_field(data, "chain_id", int),
            holder=_holder(_field(data, "holder", str)),
            balance=_decimal(data, "balance"),
            nonce=_hex(data, "nonce"),
            index=_field(data, "index", int),
            leaf_count=_field(data, "leaf_count", int),
            path=tuple(_step(step, level) for level, step in enumerate(_field(data, "path", list))),
            total=_decimal(data, "total"),
            root=_hex(data, "root"),
        )


@dataclass(frozen=True)
class VerifiedProof:
    """What a valid proof establishes: this balance is counted in this total under this root."""

    ticker: str
    chain_id: int
    holder: str
    balance: int
    total: int
    leaf_count: int
    root: str


def verify(proof: InclusionProof, root_hex: str) -> VerifiedProof:
    """Check `proof` against the published root `root_hex`; raise `InvalidProofError` saying why not."""
    published = _parse_root(root_hex)
    if proof.root != published:
        raise InvalidProofError(
            f"the proof is for root 0x{proof.root.hex()}, not the published root 0x{published.hex()}"
        )
    sizes = level_sizes(proof.leaf_count)
    if len(proof.path) != len(sizes):
        raise InvalidProofError(
            f"the path has {len(proof.path)} steps; a tree of {proof.leaf_count} leaves needs {len(sizes)}"
        )
    current = leaf_hash(proof.nonce, leaf_key(proof.chain_id, holder_bytes(proof.holder)), proof.balance)
    total = proof.balance
    position = proof.index
    for level, (step, size) in enumerate(zip(proof.path, sizes, strict=True)):
        _check_step(step, level, position, size)
        if position % 2:
            current = node_hash(step.hash, step.sum, current, total)
        else:
            current = node_hash(current, total, step.hash, step.sum)
        total += step.sum
        position //= 2
    if root_hash(proof.ticker, proof.leaf_count, current, total) != published:
        raise InvalidProofError(
            f"the proof does not lead to the published root 0x{published.hex()}: its balance, nonce, "
            "holder, chain, index or a sibling hash or sum has been altered, or it belongs to another tree"
        )
    if proof.total != total:
        raise InvalidProofError(f"the proof states a total of {proof.total}, but its root commits to {total}")
    return VerifiedProof(
        proof.ticker,
        proof.chain_id,
        proof.holder,
        proof.balance,
        total,
        proof.leaf_count,
        "0x" + published.hex(),
    )


def _check_step(step: PathStep, level: int, position: int, size: int) -> None:
    is_padding = position == size - 1 and size % 2 == 1
    if is_padding and (step.hash != PADDING_HASH or step.sum != 0):
        raise InvalidProofError(f"the sibling at level {level} must be the padding node (the level is odd)")
    if not is_padding and step.hash == PADDING_HASH:
        raise InvalidProofError(f"the sibling at level {level} is padding where holders belong")


def _parse_root(root_hex: str) -> bytes:
    if isinstance(root_hex, str) and root_hex[:2] in ("0x", "0X") and len(root_hex) == 2 + 2 * HASH_BYTES:
        try:
            return bytes.fromhex(root_hex[2:])
        except ValueError:
            pass
    raise InvalidProofError(f"the published root {root_hex!r} is not 0x followed by 64 hex digits")


def _check_ticker(ticker: object) -> None:
    if not (isinstance(ticker, str) and 0 < len(ticker) <= 32 and ticker.isascii() and ticker.isprintable()):
        raise InvalidProofError(f"the ticker {ticker!r} is not 1 to 32 printable ASCII characters")


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if type(value) is not int:
        raise InvalidProofError(f"the {name} must be an integer, not {value!r}")
    if value < 0:
        raise InvalidProofError(f"the {name} is negative ({value})")
    if not low <= value < high:
        raise InvalidProofError(f"the {name} ({value}) is outside [{low}, {high})")


def _check_bytes(value: object, name: str, size: int) -> None:
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidProofError(f"the {name} must be {size} bytes, not {value!r}")


def _field(data: dict[str, Any], name: str, kind: type, where: str = "the proof") -> Any:
    if name not in data:
        raise InvalidProofError(f"{where} has no {name!r} field")
    value = data[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidProofError(f"{where}'s {name!r} must be a JSON {_JSON_TYPES[kind]}, not {value!r}")
    return value


def _decimal(data: dict[str, Any], name: str, where: str = "the proof") -> int:
    text = _field(data, name, str, where)
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        return -int(text[1:])  # out of range: the constructor names it
    if not (text.isascii() and text.isdigit()):
        raise InvalidProofError(f"{where}'s {name!r} must be a decimal string, not {text!r}")
    return int(text)


def _hex(data: dict[str, Any], name: str, where: str = "the proof") -> bytes:
    text = _field(data, name, str, where)
    if text[:2] == "0x":
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    raise InvalidProofError(f"{where}'s {name!r} must be 0x-prefixed hex, not {text!r}")


def _holder(holder: str) -> str:
    try:
        holder_bytes(holder)
    except ValueError as exc:
        raise InvalidProofError(f"the proof's {exc}") from None
    return str(to_checksum_address(holder)) if holder[:2] == "0x" else holder


def _step(step: object, level: int) -> PathStep:
    where = f"path step {level}"
    if not isinstance(step, dict):
        raise InvalidProofError(f"{where} must be an object with 'hash' and 'sum', not {step!r}")
    return PathStep(_hex(step, "hash", where), _decimal(step, "sum", where))
