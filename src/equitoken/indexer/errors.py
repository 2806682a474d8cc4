"""What the indexer refuses or cannot do, each with a stable code and a message saying what to do."""

from equitoken.model.errors import EquitokenError


class IndexerError(EquitokenError):
    """Base of the indexer's errors; ``code`` is stable, the message names the problem."""

    code = "indexer_error"


class IndexerConfigError(IndexerError, ValueError):
    """The chains given to the indexer do not fit together (duplicate chain, wrong deployment, bad depth)."""

    code = "indexer_config"


class UnindexedTickerError(IndexerError, KeyError):
    """No indexed chain has a token for the ticker asked about."""

    code = "unknown_ticker"

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownChainError(IndexerError, KeyError):
    """The chain id asked about is not one the indexer follows."""

    code = "unknown_chain"

    def __str__(self) -> str:
        return str(self.args[0])


class ChainReplacedError(IndexerError):
    """The node now serves a chain with another genesis block than the one indexed: a different chain.

    Nothing is changed. If the new chain is meant (a local node started afresh), drop what was indexed
    of the old one with ``Indexer.reset(chain_id)``.
    """

    code = "chain_replaced"
