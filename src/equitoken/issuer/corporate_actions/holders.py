"""Holders of record: who held a token, and how many raw units, at the end of a given block."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from equitoken.chain.accounts import checksum
from equitoken.chain.evm import EvmChain
from equitoken.issuer.onchain import IssuerChain

_ZERO = checksum("0x" + "00" * 20)


@dataclass(frozen=True)
class HolderBalance:
    """A holder's raw token balance on one chain."""

    chain_id: int
    holder: str
    raw: int


class HolderSource(Protocol):
    """Where the holders of a token at a block come from (the indexer, or the chain's own logs)."""

    def __call__(self, ticker: str, chain_id: int, block: int) -> Sequence[HolderBalance]:
        """Return every holder of `ticker` on `chain_id` with a positive balance after `block`."""
        ...


class ChainHolders:
    """Holders read from the chain: every `Transfer` of the token up to the block, summed per address.

    Balances of an ERC-20 change only through `Transfer` events (a mint is a transfer from the zero
    address, a burn one to it), so the sum is the balance at that block on any node, including one
    that keeps no historical state.
    """

    def __init__(self, onchain: IssuerChain) -> None:
        self.onchain = onchain

    def __call__(self, ticker: str, chain_id: int, block: int) -> Sequence[HolderBalance]:
        """Return every holder of `ticker` with a positive balance after `block`, by checksummed address."""
        if chain_id != self.onchain.chain_id:
            raise ValueError(f"this source reads chain {self.onchain.chain_id}, not {chain_id}")
        balances: dict[str, int] = defaultdict(int)
        for event in self.onchain.token(ticker).get_logs("Transfer", 0, block):
            sender, receiver, value = (event.args[k] for k in ("sender", "receiver", "value"))
            balances[checksum(sender)] -= value
            balances[checksum(receiver)] += value
        balances.pop(_ZERO, None)
        return [HolderBalance(chain_id, h, raw) for h, raw in sorted(balances.items()) if raw > 0]


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
