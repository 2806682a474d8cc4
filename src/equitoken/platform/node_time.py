"""Keep a local node's block time in step with the simulated market clock."""

from datetime import datetime

from equitoken.chain.evm.jsonrpc import JsonRpcChain

# Smaller gaps are left to the node's own clock, which runs at wall speed after the last setting.
TOLERANCE_SECONDS = 5


def advance_node_time(chain: JsonRpcChain, market_now: datetime) -> int:
    """Move the node's clock forward to `market_now` (never back); return the latest block's time.

    Anvil stamps later blocks with the time set here plus the wall-clock time since, so on-chain
    times (feed freshness, KYC expiry, multiplier effective times) agree with market time. A block
    is mined at the new time, so that the latest block's time, which the workflow and the price
    feeds report observations at, is never far behind market time.
    """
    target = int(market_now.timestamp())
    latest = chain.timestamp()
    if target <= latest + TOLERANCE_SECONDS:
        return latest
    chain.request("evm_setTime", target)
    chain.mine()
    return chain.timestamp()
