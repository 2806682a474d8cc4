"""Locate the Vyper sources that make up the on-chain issuance layer, and describe compiled contracts."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REPO_CONTRACTS = Path(__file__).resolve().parents[4] / "contracts"
_PACKAGED_CONTRACTS = Path(__file__).resolve().parents[2] / "_contracts"

CONTRACTS_DIR = _REPO_CONTRACTS if _REPO_CONTRACTS.is_dir() else _PACKAGED_CONTRACTS


def contract_path(relative: str) -> Path:
    """Return the path of a contract source, e.g. ``token/StockToken.vy``."""
    path = CONTRACTS_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"no contract source at {path}")
    return path


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: what a chain needs to deploy it and talk to it.

    ``source`` is the path relative to ``contracts/`` (e.g. ``compliance/SanctionsList.vy``);
    ``bytecode`` is the init code (constructor arguments are appended at deployment);
    ``runtime_bytecode`` is the code the chain stores.
    """

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_bytecode: bytes

    @property
    def runtime_size(self) -> int:
        """Return the size in bytes of the deployed code (EIP-170 caps it at 24,576)."""
        return len(self.runtime_bytecode)

    def to_json(self) -> str:
        """Serialise to JSON (bytes as 0x-hex)."""
        return json.dumps(
            {
                "name": self.name,
                "source": self.source,
                "abi": self.abi,
                "bytecode": "0x" + self.bytecode.hex(),
                "runtime_bytecode": "0x" + self.runtime_bytecode.hex(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> "Artifact":
        """Read an artifact written by :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            name=data["name"],
            source=data["source"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
            runtime_bytecode=bytes.fromhex(data["runtime_bytecode"].removeprefix("0x")),
        )
