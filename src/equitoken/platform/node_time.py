"""Keep a local node's block time in step with the simulated market clock."""

from datetime import datetime

from equitoken.chain.jsonrpc import JsonRpcChain


def advance_node_time(chain: JsonRpcChain, market_now: datetime) -> int:
    """Move the node's clock forward to `market_now` (never back); return the node's time after.

    Anvil stamps the next block with the time set here plus the wall-clock time since, so on-chain
    times (feed freshness, KYC expiry, multiplier effective times) agree with market time.
    """
    target = int(market_now.timestamp())
    latest = chain.timestamp()
    if target <= latest:
        return latest
    chain.request("evm_setTime", target)
    return target
