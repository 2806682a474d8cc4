"""What a node's call tracer says about a mined transaction, as text a failed test can show.

A transaction can revert with no reason at all (a frame that ran out of gas returns no data, and the
caller's ``require`` or bubbling passes nothing on), so the receipt alone says nothing about which
contract failed. Anvil's ``debug_traceTransaction`` with the ``callTracer`` replays it in its block
and returns the tree of calls, each with its gas, the gas it used and its error::

    print(format_call_trace(chain.request("debug_traceTransaction", tx_hash, {"tracer": "callTracer"})))
"""

from collections.abc import Mapping
from typing import Any

from equitoken.chain.errors import ChainError
from equitoken.chain.evm.abi import decode_revert_reason
from equitoken.chain.evm.jsonrpc import JsonRpcChain

__all__ = ["describe_transaction", "format_call_trace"]


def describe_transaction(chain: JsonRpcChain, tx_hash: str) -> str:
    """Return the call tree of a mined transaction, or why the node could not trace it."""
    try:
        trace = chain.request("debug_traceTransaction", tx_hash, {"tracer": "callTracer"}, retry=False)
    except ChainError as exc:  # a node without the debug namespace: say so, keep the test's own error
        return f"debug_traceTransaction {tx_hash} failed: {exc}"
    return format_call_trace(trace)


def format_call_trace(frame: Mapping[str, Any], depth: int = 0) -> str:
    """Return one line per call frame, indented by depth: kind, target, selector, gas, and any error."""
    gas, used = int(frame.get("gas", "0x0"), 16), int(frame.get("gasUsed", "0x0"), 16)
    line = f"{'  ' * depth}{frame.get('type', '?')} {frame.get('to')} {str(frame.get('input', ''))[:10]}"
    line += f" gas {gas} used {used}"
    if "error" in frame:
        output = bytes.fromhex(str(frame.get("output") or "0x").removeprefix("0x"))
        reason = frame.get("revertReason") or decode_revert_reason(output)
        line += f" ERROR {frame['error']}" + (f": {reason}" if reason else "")
    lines = [line] + [format_call_trace(call, depth + 1) for call in frame.get("calls", [])]
    return "\n".join(lines)
