"""What every chain family reports of its blocks, and the record files that say where things are deployed."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

BlockId = int | str
"""A block number, or a tag: ``"latest"``, ``"pending"``, ``"earliest"``, ``"safe"``, ``"finalized"``."""

RecordT = TypeVar("RecordT")


@dataclass(frozen=True)
class BlockHeader:
    """What identifies a block: its number, hash, parent's hash and timestamp (Unix seconds)."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


class JsonRecords(Generic[RecordT]):
    """Records of one kind kept as one JSON file per chain id in a directory, each written atomically
    (a crash never leaves half a file): ``<directory>/<prefix>chain-<id>.json``."""

    def __init__(
        self,
        directory: Path,
        prefix: str,
        encode: Callable[[RecordT], dict[str, Any]],
        decode: Callable[[dict[str, Any]], RecordT],
    ) -> None:
        self.directory = directory
        self.prefix = prefix
        self._encode = encode
        self._decode = decode

    def path(self, chain_id: int) -> Path:
        """Return the file that holds chain `chain_id`'s record."""
        return self.directory / f"{self.prefix}chain-{chain_id}.json"

    def load(self, chain_id: int) -> RecordT | None:
        """Return the record for `chain_id`, or None if there is none."""
        path = self.path(chain_id)
        return self._decode(json.loads(path.read_text())) if path.is_file() else None

    def save(self, chain_id: int, record: RecordT) -> None:
        """Write the record for `chain_id` atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(chain_id)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self._encode(record), indent=2))
        partial.replace(path)
