"""Follow the token, settlement-token, registry and feed events of every configured chain into the store.

``Indexer(database, [IndexedChain(chain, deployment, settlement_tokens={"USDC": usdc})]).poll()``
indexes newly confirmed blocks; the reads (``holders``, ``balances_of``, ``supply``,
``supply_history``, ``multiplier_history``, ``transfers_to``, ``cursor``...) come from
``IndexReader``, which also works without a node. See ``docs/indexer.md``.
"""

from equitoken.indexer.errors import (
    ChainReplacedError,
    IndexerConfigError,
    IndexerError,
    UnindexedTickerError,
    UnknownChainError,
)
from equitoken.indexer.indexer import ChainProgress, Indexer, IndexReport, Reorg
from equitoken.indexer.sources import IndexedChain
from equitoken.indexer.views import (
    ChainMultiplier,
    ChainSupply,
    Cursor,
    FeedRound,
    IndexedTransfer,
    IndexReader,
    RegisteredWallet,
    SupplyPoint,
    TokenBalance,
)

__all__ = [
    "ChainMultiplier",
    "ChainProgress",
    "ChainReplacedError",
    "ChainSupply",
    "Cursor",
    "FeedRound",
    "IndexReader",
    "IndexReport",
    "IndexedChain",
    "IndexedTransfer",
    "Indexer",
    "IndexerConfigError",
    "IndexerError",
    "RegisteredWallet",
    "Reorg",
    "SupplyPoint",
    "TokenBalance",
    "UnindexedTickerError",
    "UnknownChainError",
]
