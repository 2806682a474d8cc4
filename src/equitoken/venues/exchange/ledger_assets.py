"""Ledger stock assets: an instrument's shares held only in the exchange's accounts, with no token.

`AAPL.L` is the ledger asset of AAPL: its unit is one `Shares` unit (10^-9 share), the precision the
issuer's custody and broker keep, so a ledger balance is exactly the shares custody holds for it. The
`.L` suffix is reserved: a share class named `L` cannot be listed as a token on the exchange.
"""

from equitoken.model.quantities import SHARE_DECIMALS

LEDGER_SUFFIX = ".L"
LEDGER_DECIMALS = SHARE_DECIMALS
"""A ledger asset's unit is 10^-LEDGER_DECIMALS share: one `Shares` unit."""


def ledger_asset(ticker: str) -> str:
    """Return the exchange asset that holds `ticker`'s shares as ledger balances (AAPL -> AAPL.L)."""
    return ticker + LEDGER_SUFFIX


def is_ledger_asset(asset: str) -> bool:
    """Return whether `asset` is a ledger stock asset (it has no on-chain token)."""
    return isinstance(asset, str) and asset.endswith(LEDGER_SUFFIX) and len(asset) > len(LEDGER_SUFFIX)


def underlying(asset: str) -> str:
    """Return the instrument whose shares a ledger asset holds (AAPL.L -> AAPL); other assets unchanged."""
    return asset[: -len(LEDGER_SUFFIX)] if is_ledger_asset(asset) else asset
