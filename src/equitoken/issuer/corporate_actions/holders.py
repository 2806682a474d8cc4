"""Holders of record: who held a token, and how many raw units, at the end of a given block."""

from collections.abc import Sequence
from typing import Protocol

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.holders import read_holder_balances
from equitoken.issuer.onchain import IssuerChain
from equitoken.model.holders import HolderBalance


class HolderSource(Protocol):
    """Where the holders of a token at a block come from (the indexer, or the chain's own logs)."""

    def __call__(self, ticker: str, chain_id: int, block: int) -> Sequence[HolderBalance]:
        """Return every holder of `ticker` on `chain_id` with a positive balance after `block`."""
        ...


class ChainHolders:
    """Holders read from the chain's `Transfer` events up to the block."""

    def __init__(self, onchain: IssuerChain) -> None:
        self.onchain = onchain

    def __call__(self, ticker: str, chain_id: int, block: int) -> Sequence[HolderBalance]:
        """Return every holder of `ticker` with a positive balance after `block`, by checksummed address."""
        if chain_id != self.onchain.chain_id:
            raise ValueError(f"this source reads chain {self.onchain.chain_id}, not {chain_id}")
        return read_holder_balances(chain_id, self.onchain.token(ticker), block)


def last_block_before(chain: EvmChain, timestamp: int) -> int:
    """Return the last block mined before `timestamp` (chain time): the state holders of record see."""
    low, high = 0, chain.block_number()
    if chain.timestamp(high) < timestamp:
        return high
    if chain.timestamp(0) >= timestamp:
        raise ValueError(f"every block of chain {chain.chain_id} is at or after {timestamp}")
    # Invariant: block `low` is before `timestamp`, block `high` is not.
    while high - low > 1:
        middle = (low + high) // 2
        if chain.timestamp(middle) < timestamp:
            low = middle
        else:
            high = middle
    return low
