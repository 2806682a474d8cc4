"""Every holder of an ERC-20 token at a block, from its `Transfer` events alone.

Balances of an ERC-20 change only through `Transfer` events (a mint is a transfer from the zero
address, a burn one to it), so summing them gives the balances at any block, on any node,
including one that keeps no historical state.
"""

from collections import defaultdict

from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import BlockId
from equitoken.model.address import checksum
from equitoken.model.holders import HolderBalance

_ZERO = checksum("0x" + "00" * 20)


def read_holder_balances(chain_id: int, token: Contract, block: BlockId = "latest") -> list[HolderBalance]:
    """Return every holder of `token` with a positive balance after `block`, by checksummed address."""
    balances: dict[str, int] = defaultdict(int)
    for event in token.get_logs("Transfer", 0, block):
        sender, receiver, value = (event.args[k] for k in ("sender", "receiver", "value"))
        balances[checksum(sender)] -= value
        balances[checksum(receiver)] += value
    balances.pop(_ZERO, None)
    return [HolderBalance(chain_id, h, raw) for h, raw in sorted(balances.items()) if raw > 0]
