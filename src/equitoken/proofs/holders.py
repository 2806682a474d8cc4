"""Holder balances, the input of a liabilities tree, and reading them straight from a token.

Any source can feed a tree (an indexer, a snapshot file); `read_holder_balances` is the simplest
one: it replays a token's `Transfer` logs to find every address that ever received tokens and asks
the token for each one's balance.
"""

from dataclasses import dataclass

from equitoken.chain.evm import BlockId, Contract

_ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True, slots=True)
class HolderBalance:
    """One holder's raw token balance (smallest token units) of one instrument on one chain."""

    chain_id: int
    holder: str
    raw: int


def read_holder_balances(chain_id: int, token: Contract, block: BlockId = "latest") -> list[HolderBalance]:
    """Return the non-zero balance of every address that received `token`, as of `block`."""
    receivers: set[str] = set()
    for event in token.get_logs("Transfer", 0, block):
        receivers.add(str(event.args["receiver"]))
    receivers.discard(_ZERO_ADDRESS)
    balances = []
    for holder in sorted(receivers):
        raw = int(token.balanceOf.call(holder, block=block))
        if raw:
            balances.append(HolderBalance(chain_id, holder, raw))
    return balances
