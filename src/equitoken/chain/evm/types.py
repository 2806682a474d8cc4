"""What an EVM chain hands back: raw logs, decoded events, receipts, signed transactions."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Log:
    """A raw log entry."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    tx_hash: str
    log_index: int
    block_hash: str = ""
    """The hash of the block the log is in, so a reader can tell which fork it came from."""


@dataclass(frozen=True)
class Event:
    """A log decoded against an event ABI."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class Receipt:
    """The outcome of a mined transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    logs: tuple[Log, ...]
    contract_address: str | None = None
    effective_gas_price: int = 0
    sender: str = ""
    to: str | None = None

    @property
    def succeeded(self) -> bool:
        """Return whether the transaction succeeded (status 1)."""
        return self.status == 1


@dataclass(frozen=True)
class SignedTransaction:
    """A signed transaction, ready for ``send_raw``; ``tx`` is the unsigned fields it was built from."""

    raw: bytes
    tx_hash: str
    sender: str
    nonce: int
    tx: Mapping[str, Any] = field(repr=False)
