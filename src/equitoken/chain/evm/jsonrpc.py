"""The EVM JSON-RPC path: talk to anvil locally and to any EVM network in production.

``JsonRpcChain`` implements the ``evm.EvmChain`` primitives over HTTP: reads (``eth_call``,
``eth_getLogs``, balances, blocks), gas estimation, raw broadcast and receipts, and anvil's test
RPCs. Transactions are built (EIP-1559) and signed locally by ``EvmChain``. A broadcast that fails
in transport is retried with the same signed bytes, so one intent never spends two nonces. A revert
raises ``RevertError`` carrying the decoded reason.

The chain-independent names (``Contract``, ``Receipt``, ``RevertError``, the ABI helpers...) live in
``equitoken.chain.evm``.
"""

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from eth_utils.crypto import keccak

from equitoken.chain.confirmation import wait_for
from equitoken.chain.errors import ChainError, RevertError, TransactionTimeoutError
from equitoken.chain.evm.abi import decode_revert_reason
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import DEFAULT_PRIORITY_FEE, EvmChain
from equitoken.chain.evm.types import Log, Receipt, SignedTransaction
from equitoken.chain.records import BlockHeader, BlockId
from equitoken.model.address import checksum
from equitoken.model.time import Clock

_IN_POOL_MARKERS = ("already known", "known transaction", "already imported")


# ----------------------------------------------------------------------------------------------- errors


class RpcUnavailableError(ChainError):
    """The node could not be reached, or kept failing in transport, after the retries."""

    code = "rpc_unavailable"


class RpcError(ChainError):
    """The node answered a JSON-RPC request with an error."""

    code = "rpc_error"

    def __init__(self, method: str, rpc_code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method} failed: {message} (JSON-RPC error {rpc_code})")
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = message
        self.data = data


# ------------------------------------------------------------------------------------------ conversions


def _hex(value: int) -> str:
    return hex(value)


def _block(block: BlockId) -> str:
    return hex(block) if isinstance(block, int) else block


def _bytes(value: str | None) -> bytes:
    return bytes.fromhex(value[2:] if value and value.startswith("0x") else (value or ""))


def _log(raw: Mapping[str, Any]) -> Log:
    return Log(
        address=checksum(raw["address"]),
        topics=tuple(_bytes(t) for t in raw.get("topics", [])),
        data=_bytes(raw.get("data")),
        block_number=int(raw.get("blockNumber") or "0x0", 16),
        tx_hash=str(raw.get("transactionHash") or ""),
        log_index=int(raw.get("logIndex") or "0x0", 16),
        block_hash=str(raw.get("blockHash") or ""),
    )


def _receipt(raw: Mapping[str, Any]) -> Receipt:
    created = raw.get("contractAddress")
    to = raw.get("to")
    return Receipt(
        tx_hash=str(raw["transactionHash"]),
        block_number=int(raw["blockNumber"], 16),
        gas_used=int(raw["gasUsed"], 16),
        status=int(raw.get("status") or "0x0", 16),
        logs=tuple(_log(entry) for entry in raw.get("logs", [])),
        contract_address=checksum(created) if created else None,
        effective_gas_price=int(raw.get("effectiveGasPrice") or "0x0", 16),
        sender=checksum(raw["from"]) if raw.get("from") else "",
        to=checksum(to) if to else None,
    )


def _revert_data(error: RpcError) -> bytes | None:
    """Return the revert data in an RPC error, or ``None`` if the error is not a revert."""
    data = error.data
    if isinstance(data, Mapping):
        data = data.get("data")
    is_revert = error.rpc_code == 3 or "revert" in error.rpc_message.lower()
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return _bytes(data)
        except ValueError:
            return b"" if is_revert else None
    return b"" if is_revert else None


def _reason_from(error: RpcError, data: bytes) -> str | None:
    reason = decode_revert_reason(data)
    if reason is None and not data:
        message = error.rpc_message
        prefix = "execution reverted: "
        if message.lower().startswith(prefix) and len(message) > len(prefix):
            reason = message[len(prefix) :]
    return reason


# ------------------------------------------------------------------------------------------------ chain


class JsonRpcChain(EvmChain):
    """An EVM chain reached over JSON-RPC (HTTP), with local signing. Thread-safe."""

    def __init__(
        self,
        url: str,
        signers: SignerRegistry | None = None,
        *,
        timeout: float = 10.0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.005,
        gas_margin: float = 1.2,
        retries: int = 3,
        retry_backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            signers if signers is not None else SignerRegistry(), gas_margin=gas_margin, clock=clock
        )
        self.url = url
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.retries = retries
        self.retry_backoff = retry_backoff
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._chain_id: int | None = None

    # -- lifecycle

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __repr__(self) -> str:
        return f"JsonRpcChain({self.url!r})"

    # -- transport

    def request(self, method: str, *params: Any, retry: bool = True) -> Any:
        """Send one JSON-RPC request and return its ``result``.

        Transport failures (connection refused or reset, timeouts, HTTP 429/5xx) are retried when
        ``retry`` is true; pass ``retry=False`` for requests that must not run twice.
        """
        payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        attempts = 1 + (self.retries if retry else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.retry_backoff * 2 ** (attempt - 1))
            try:
                response = self._client.post(self.url, json=payload)
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = httpx.HTTPStatusError(
                    f"HTTP {response.status_code}", request=response.request, response=response
                )
                continue
            try:
                body = response.json()
            except ValueError as exc:
                raise RpcUnavailableError(
                    f"{method}: {self.url} answered HTTP {response.status_code} with a non-JSON body"
                ) from exc
            if not isinstance(body, dict):
                raise RpcUnavailableError(f"{method}: unexpected JSON-RPC response from {self.url}: {body!r}")
            error = body.get("error")
            if error is not None:
                code, message = int(error.get("code", 0)), str(error.get("message", ""))
                raise RpcError(method, code, message, error.get("data"))
            return body.get("result")
        raise RpcUnavailableError(
            f"{method}: cannot reach the node at {self.url} after {attempts} attempts: {last}"
        ) from last

    # -- reads

    @property
    def chain_id(self) -> int:
        """Return the chain id (asked once, then cached)."""
        if self._chain_id is None:
            self._chain_id = int(self.request("eth_chainId"), 16)
        return self._chain_id

    def block_number(self) -> int:
        """Return the number of the latest block."""
        return int(self.request("eth_blockNumber"), 16)

    def get_block(self, block: BlockId = "latest") -> dict[str, Any]:
        """Return a block header (without transaction bodies), as the node sends it."""
        result = self.request("eth_getBlockByNumber", _block(block), False)
        if result is None:
            raise ChainError(f"no block {block!r}")
        return dict(result)

    def block_header(self, block: BlockId = "latest") -> BlockHeader:
        """Return a block's number, hash, parent hash and timestamp; raise ``ChainError`` if there is none."""
        raw = self.get_block(block)
        return BlockHeader(
            number=int(raw["number"], 16),
            hash=str(raw["hash"]),
            parent_hash=str(raw["parentHash"]),
            timestamp=int(raw["timestamp"], 16),
        )

    def timestamp(self, block: BlockId = "latest") -> int:
        """Return a block's timestamp in seconds (``pending``: the next block's, if mined now)."""
        if block == "pending" and self.clock is not None:
            # The next block is stamped with the clock's time, unless the chain is already past it.
            return max(int(self.clock.now().timestamp()), self.timestamp("latest"))
        return int(self.get_block(block)["timestamp"], 16)

    def balance(self, address: str, block: BlockId = "latest") -> int:
        """Return the native balance of ``address`` in wei."""
        return int(self.request("eth_getBalance", checksum(address), _block(block)), 16)

    def nonce(self, address: str, block: BlockId = "pending") -> int:
        """Return the transaction count of ``address`` (``pending`` includes the mempool)."""
        return int(self.request("eth_getTransactionCount", checksum(address), _block(block)), 16)

    def code(self, address: str, block: BlockId = "latest") -> bytes:
        """Return the runtime code at ``address`` (empty for accounts without code)."""
        return _bytes(self.request("eth_getCode", checksum(address), _block(block)))

    def call_raw(
        self,
        to: str,
        data: bytes,
        *,
        sender: str | None = None,
        value: int = 0,
        gas: int | None = None,
        block: BlockId = "latest",
        context: str = "",
    ) -> bytes:
        """Run ``eth_call`` with raw calldata; raise ``RevertError`` with the decoded reason on revert."""
        tx: dict[str, Any] = {"to": checksum(to), "data": "0x" + data.hex()}
        if sender is not None:
            tx["from"] = checksum(sender)
        if value:
            tx["value"] = _hex(value)
        if gas is not None:
            tx["gas"] = _hex(gas)
        if block == "pending":
            self._follow_clock()  # the next block's time is the clock's
        try:
            return _bytes(self.request("eth_call", tx, _block(block)))
        except RpcError as exc:
            revert = _revert_data(exc)
            if revert is None:
                raise
            raise RevertError(_reason_from(exc, revert), revert, context=context) from exc

    def get_raw_logs(
        self,
        address: str | Sequence[str] | None = None,
        topics: Sequence[bytes | None] = (),
        from_block: BlockId = 0,
        to_block: BlockId = "latest",
    ) -> list[Log]:
        """Return raw logs matching ``address`` and ``topics`` (``None`` matches any) in a block range."""
        query: dict[str, Any] = {"fromBlock": _block(from_block), "toBlock": _block(to_block)}
        if isinstance(address, str):
            query["address"] = checksum(address)
        elif address is not None:
            query["address"] = [checksum(a) for a in address]
        if topics:
            query["topics"] = [None if t is None else "0x" + t.hex() for t in topics]
        return [_log(entry) for entry in self.request("eth_getLogs", query)]

    # -- transactions

    def estimate_gas(
        self, to: str | None, data: bytes, *, sender: str, value: int = 0, context: str = ""
    ) -> int:
        """Estimate gas for a transaction; raise ``RevertError`` with the reason if it would revert."""
        tx: dict[str, Any] = {"from": checksum(sender), "data": "0x" + data.hex(), "value": _hex(value)}
        if to is not None:
            tx["to"] = checksum(to)
        self._follow_clock()  # the estimate runs in the next block, at the time it will be mined
        try:
            return int(self.request("eth_estimateGas", tx), 16)
        except RpcError as exc:
            revert = _revert_data(exc)
            if revert is None:
                raise
            raise RevertError(_reason_from(exc, revert), revert, context=context) from exc

    def fees(self) -> dict[str, int]:
        """Return EIP-1559 fee fields for a new transaction (or ``gasPrice`` on pre-London chains)."""
        base = self.get_block("latest").get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(self.request("eth_gasPrice"), 16)}
        try:
            tip = int(self.request("eth_maxPriorityFeePerGas"), 16)
        except RpcError:
            tip = DEFAULT_PRIORITY_FEE
        return {"maxFeePerGas": 2 * int(base, 16) + tip, "maxPriorityFeePerGas": tip}

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction and return its hash.

        Sending the same bytes again is harmless: a transport failure re-sends them, and if the node
        says the transaction is known (or its nonce used), the hash is looked up to confirm it was
        accepted, by this call or an earlier one.
        """
        tx_hash = "0x" + keccak(raw).hex()
        payload = "0x" + raw.hex()
        self._follow_clock()
        for attempt in range(1 + self.retries):
            try:
                self.request("eth_sendRawTransaction", payload, retry=False)
                return tx_hash
            except RpcUnavailableError:
                if attempt == self.retries:
                    raise
                time.sleep(self.retry_backoff * 2**attempt)
            except RpcError as exc:
                message = exc.rpc_message.lower()
                if any(m in message for m in _IN_POOL_MARKERS):
                    return tx_hash  # these very bytes are already in the node's pool
                if "nonce too low" in message and self._known(tx_hash):
                    return tx_hash  # these very bytes arrived earlier (this call or another) and were mined
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def receipt(self, tx_hash: str) -> Receipt | None:
        """Return the receipt of a mined transaction, or ``None`` while it is unknown or pending."""
        raw = self.request("eth_getTransactionReceipt", tx_hash)
        if raw is None or raw.get("blockNumber") is None:
            return None
        return _receipt(raw)

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Poll for a transaction's receipt; raise ``TransactionTimeoutError`` after ``timeout`` seconds."""
        limit = self.receipt_timeout if timeout is None else timeout
        receipt = wait_for(lambda: self.receipt(tx_hash), limit, self.poll_interval)
        if receipt is None:
            raise TransactionTimeoutError(tx_hash, limit)
        return receipt

    # -- anvil (and hardhat) test RPCs

    def increase_time(self, seconds: int) -> None:
        """Move the clock of the next block forward by ``seconds`` (``evm_increaseTime``)."""
        self.request("evm_increaseTime", _hex(seconds), retry=False)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Fix the timestamp of the next block (``evm_setNextBlockTimestamp``)."""
        self.request("evm_setNextBlockTimestamp", _hex(timestamp), retry=False)

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now (``anvil_mine``)."""
        self._follow_clock()
        self.request("anvil_mine", _hex(blocks), retry=False)

    def set_balance(self, address: str, wei: int) -> None:
        """Set the native balance of ``address`` (``anvil_setBalance``)."""
        self.request("anvil_setBalance", checksum(address), _hex(wei))

    def set_automine(self, enabled: bool) -> None:
        """Turn mining of each transaction on arrival on or off (``evm_setAutomine``)."""
        self.request("evm_setAutomine", enabled)

    def snapshot(self) -> str:
        """Take a snapshot of the chain state; return its id for :meth:`revert_to`."""
        return str(self.request("evm_snapshot", retry=False))

    def revert_to(self, snapshot_id: str) -> bool:
        """Return the chain to a snapshot (which is then used up); forget cached nonces."""
        self._forget_nonces()
        return bool(self.request("evm_revert", snapshot_id, retry=False))

    # -- internals

    def _follow_clock(self) -> None:
        # Stamp the next block with the clock's time. A node already past it (another client mined
        # later, or the test moved the chain ahead) refuses, and its next block comes after its latest.
        if self.clock is None:
            return
        target = int(self.clock.now().timestamp())
        try:
            self.request("evm_setNextBlockTimestamp", _hex(target), retry=False)
        except RpcError as exc:
            if "lower than previous" not in exc.rpc_message:
                raise

    def _known(self, tx_hash: str) -> bool:
        try:
            return self.request("eth_getTransactionByHash", tx_hash) is not None
        except ChainError:
            return False

    def _revert_reason(self, signed: SignedTransaction, receipt: Receipt) -> tuple[str | None, bytes]:
        # A node keeps no revert data in receipts: replay the call in the block it was mined in.
        tx = signed.tx
        to = tx.get("to")
        if to is None:
            return None, b""
        try:
            self.call_raw(
                to,
                bytes(tx.get("data", b"")),
                sender=signed.sender,
                value=int(tx.get("value", 0)),
                gas=int(tx["gas"]),
                block=receipt.block_number,
            )
        except RevertError as exc:
            return exc.reason, exc.data
        except ChainError:
            pass
        return None, b""
