"""The EVM family: chains reached over JSON-RPC or run in process, their ABI, contracts and nodes.

``EvmChain`` holds what does not depend on the transport: ABI coding, calls and transactions built
from ABI items, local signing (``accounts.SignerRegistry``), a per-sender nonce counter, revert
decoding, logs, and the ``Contract`` wrapper. A subclass supplies a small set of primitives (read
state, run a call, estimate gas, broadcast raw bytes, fetch receipts, control time):
``jsonrpc.JsonRpcChain`` over HTTP to anvil or any network, ``inprocess.InProcessChain`` on py-evm
for tests and simulations.

Every transaction can be split in two steps so that it is sent exactly once: ``prepare`` builds and
signs it without broadcasting (the caller stores ``raw``), ``send_raw`` broadcasts those bytes, and
is harmless to repeat; ``receipt`` says whether it has been mined.

``chain.at(address, artifact)`` wraps a deployed contract so that ABI functions read as methods:
``token.balanceOf(holder)`` calls a view, ``token.transfer(to, amount, sender=holder)`` sends.
"""
