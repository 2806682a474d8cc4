"""Locate the Vyper sources that make up the on-chain issuance layer."""

from pathlib import Path

_REPO_CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
_PACKAGED_CONTRACTS = Path(__file__).resolve().parents[1] / "_contracts"

CONTRACTS_DIR = _REPO_CONTRACTS if _REPO_CONTRACTS.is_dir() else _PACKAGED_CONTRACTS


def contract_path(relative: str) -> Path:
    """Return the path of a contract source, e.g. ``token/StockToken.vy``."""
    path = CONTRACTS_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"no contract source at {path}")
    return path
