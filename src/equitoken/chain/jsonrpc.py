"""The EVM JSON-RPC path: talk to anvil locally and to any EVM network in production.

``JsonRpcChain`` reads state (``call``, ``get_logs``, balances, blocks), and sends transactions that
it builds (EIP-1559), signs locally (``accounts.SignerRegistry``) and broadcasts raw. Per sender it
keeps a nonce counter seeded from the node's ``pending`` count and resynced when the node says the
nonce is too low. A broadcast that fails in transport is retried with the same signed bytes, so one
intent never spends two nonces. A revert raises ``RevertError`` carrying the decoded reason.

``chain.at(address, artifact)`` wraps a deployed contract so that ABI functions read as methods:
``token.balanceOf(holder)`` calls a view, ``token.transfer(to, amount, sender=holder)`` sends.
"""

import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from equitoken.chain.accounts import SignerRegistry, UnknownSignerError, checksum
from equitoken.chain.artifacts import Artifact

__all__ = [
    "AbiError",
    "BlockId",
    "ChainError",
    "Contract",
    "ContractFunction",
    "Event",
    "JsonRpcChain",
    "Log",
    "Receipt",
    "RevertError",
    "RpcError",
    "RpcUnavailableError",
    "SignedTransaction",
    "TransactionTimeoutError",
    "UnknownSignerError",
    "decode_revert_reason",
]

BlockId = int | str
"""A block number, or a tag: ``"latest"``, ``"pending"``, ``"earliest"``, ``"safe"``, ``"finalized"``."""

AbiItem = dict[str, Any]

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_NONCE_CONFLICT_MARKERS = ("nonce too low", "replacement transaction underpriced", "already used")
_IN_POOL_MARKERS = ("already known", "known transaction", "already imported")
_DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei, when the node has no eth_maxPriorityFeePerGas


# ----------------------------------------------------------------------------------------------- errors


class ChainError(Exception):
    """Base of the errors raised by the chain layer; ``code`` is stable, the message says what to do."""

    code = "chain_error"


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


class AbiError(ChainError, ValueError):
    """A call does not fit the contract's ABI: unknown function or event, wrong arguments."""

    code = "abi_error"


class UnknownFunctionError(AbiError, AttributeError):
    """The contract's ABI has no function of that name."""

    code = "unknown_function"


class RevertError(ChainError):
    """A call or transaction reverted; ``reason`` is the decoded ``Error(string)``/``Panic`` if any."""

    code = "reverted"

    def __init__(
        self,
        reason: str | None,
        data: bytes = b"",
        *,
        context: str = "",
        tx_hash: str | None = None,
        receipt: "Receipt | None" = None,
    ) -> None:
        shown = reason if reason is not None else "no reason given"
        where = f"{context} " if context else ""
        tail = f" (tx {tx_hash})" if tx_hash else ""
        super().__init__(f"{where}reverted: {shown}{tail}")
        self.reason = reason
        self.data = data
        self.tx_hash = tx_hash
        self.receipt = receipt


class TransactionTimeoutError(ChainError):
    """No receipt arrived in time. The transaction may still be mined: look it up by ``tx_hash``."""

    code = "tx_timeout"

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(f"no receipt for {tx_hash} after {timeout:g}s; it may still be mined")
        self.tx_hash = tx_hash


# ------------------------------------------------------------------------------------------ value types


@dataclass(frozen=True)
class Log:
    """A raw log entry."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class Event:
    """A log decoded against an event ABI."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class Receipt:
    """The outcome of a mined transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    logs: tuple[Log, ...]
    contract_address: str | None = None
    effective_gas_price: int = 0
    sender: str = ""
    to: str | None = None

    @property
    def succeeded(self) -> bool:
        """Return whether the transaction succeeded (status 1)."""
        return self.status == 1


@dataclass(frozen=True)
class SignedTransaction:
    """A signed transaction, ready for ``send_raw``; ``tx`` is the unsigned fields it was built from."""

    raw: bytes
    tx_hash: str
    sender: str
    nonce: int
    tx: Mapping[str, Any] = field(repr=False)


# ------------------------------------------------------------------------------------------------- ABI


def abi_type(param: Mapping[str, Any]) -> str:
    """Return the canonical type of an ABI parameter, expanding tuples: ``(address,uint256)[]``."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: Mapping[str, Any]) -> str:
    """Return ``name(type,...)`` for a function, event or error ABI item."""
    name = item.get("name") or item.get("type", "")
    return f"{name}({','.join(abi_type(p) for p in item.get('inputs', []))})"


def selector(item: Mapping[str, Any]) -> bytes:
    """Return the 4-byte selector of a function ABI item."""
    return keccak(text=signature(item))[:4]


def event_topic(item: Mapping[str, Any]) -> bytes:
    """Return topic 0 of an event ABI item."""
    return keccak(text=signature(item))


def _normalize(param: Mapping[str, Any], value: Any) -> Any:
    """Shape a decoded value: checksum addresses, tuples for structs, lists for arrays."""
    kind = str(param["type"])
    if kind.endswith("]"):
        element = dict(param, type=kind[: kind.rindex("[")])
        return [_normalize(element, v) for v in value]
    if kind == "tuple":
        return tuple(_normalize(c, v) for c, v in zip(param.get("components", []), value, strict=True))
    if kind == "address":
        return str(to_checksum_address(value))
    return value


def _abi_of(source: "Artifact | Sequence[AbiItem]") -> list[AbiItem]:
    return list(source.abi) if isinstance(source, Artifact) else list(source)


def find_function(abi: Sequence[AbiItem], name: str, nargs: int, contract: str = "contract") -> AbiItem:
    """Return the function ``name`` taking ``nargs`` arguments; raise ``AbiError`` naming the problem."""
    candidates = [item for item in abi if item.get("type") == "function" and item.get("name") == name]
    if not candidates:
        known = sorted({str(i["name"]) for i in abi if i.get("type") == "function"})
        raise UnknownFunctionError(f"{contract} has no function {name!r}; it has: {', '.join(known)}")
    for item in candidates:
        if len(item.get("inputs", [])) == nargs:
            return item
    expected = " or ".join(signature(c) for c in candidates)
    raise AbiError(f"{contract}.{name} takes {expected}, got {nargs} argument{'s' * (nargs != 1)}")


def find_event(abi: Sequence[AbiItem], name: str, contract: str = "contract") -> AbiItem:
    """Return the event ``name``; raise ``AbiError`` listing the known events if there is none."""
    for item in abi:
        if item.get("type") == "event" and item.get("name") == name:
            return item
    known = sorted(str(i["name"]) for i in abi if i.get("type") == "event")
    raise AbiError(f"{contract} has no event {name!r}; it has: {', '.join(known) or 'none'}")


def _encode_args(item: Mapping[str, Any], args: Sequence[Any], what: str) -> bytes:
    inputs = item.get("inputs", [])
    if len(inputs) != len(args):
        raise AbiError(f"{what} takes {len(inputs)} arguments ({signature(item)}), got {len(args)}")
    try:
        return abi_encode([abi_type(p) for p in inputs], list(args))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        for param, arg in zip(inputs, args, strict=True):
            try:
                abi_encode([abi_type(param)], [arg])
            except (EncodingError, TypeError, ValueError, OverflowError):
                label = param.get("name") or "argument"
                raise AbiError(
                    f"{what}: {label} must be {abi_type(param)}, got {type(arg).__name__} {arg!r}"
                ) from exc
        raise AbiError(f"{what}: cannot encode arguments {args!r}: {exc}") from exc


def encode_call(item: Mapping[str, Any], args: Sequence[Any]) -> bytes:
    """Return the calldata for a function ABI item and its arguments."""
    return selector(item) + _encode_args(item, args, str(item.get("name", "function")))


def decode_output(item: Mapping[str, Any], data: bytes) -> Any:
    """Decode a function's return data: one value, a tuple of values, or ``None`` for no outputs."""
    outputs = item.get("outputs", [])
    if not outputs:
        return None
    try:
        values = abi_decode([abi_type(p) for p in outputs], data)
    except DecodingError as exc:
        raise AbiError(f"cannot decode the result of {signature(item)} from {data.hex() or 'empty'}") from exc
    shaped = tuple(_normalize(p, v) for p, v in zip(outputs, values, strict=True))
    return shaped[0] if len(shaped) == 1 else shaped


def decode_revert_reason(data: bytes) -> str | None:
    """Decode ``Error(string)`` or ``Panic(uint256)`` revert data; ``None`` if it is neither."""
    try:
        if data[:4] == _ERROR_SELECTOR:
            return str(abi_decode(["string"], data[4:])[0])
        if data[:4] == _PANIC_SELECTOR:
            return f"panic 0x{abi_decode(['uint256'], data[4:])[0]:02x}"
    except DecodingError:
        return None
    return None


def decode_event(item: Mapping[str, Any], log: Log) -> Event:
    """Decode a raw log with an event ABI. Indexed dynamic values come back as their 32-byte hash."""
    inputs = item.get("inputs", [])
    topics = list(log.topics if item.get("anonymous") else log.topics[1:])
    indexed = [p for p in inputs if p.get("indexed")]
    plain = [p for p in inputs if not p.get("indexed")]
    if len(topics) != len(indexed):
        raise AbiError(f"log does not match event {signature(item)}: {len(topics)} indexed topics")
    args: dict[str, Any] = {}
    try:
        for param, topic in zip(indexed, topics, strict=True):
            kind = abi_type(param)
            dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
            args[param["name"]] = topic if dynamic else _normalize(param, abi_decode([kind], topic)[0])
        values = abi_decode([abi_type(p) for p in plain], log.data)
    except DecodingError as exc:
        raise AbiError(f"log does not match event {signature(item)}") from exc
    for param, value in zip(plain, values, strict=True):
        args[param["name"]] = _normalize(param, value)
    ordered = {p["name"]: args[p["name"]] for p in inputs}
    return Event(str(item["name"]), ordered, log.address, log.block_number, log.tx_hash, log.log_index)


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


class JsonRpcChain:
    """An EVM chain reached over JSON-RPC (HTTP), with local signing. Thread-safe."""

    def __init__(
        self,
        url: str,
        signers: SignerRegistry | None = None,
        *,
        timeout: float = 10.0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.05,
        gas_margin: float = 1.2,
        retries: int = 3,
        retry_backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.signers = signers if signers is not None else SignerRegistry()
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.gas_margin = gas_margin
        self.retries = retries
        self.retry_backoff = retry_backoff
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._chain_id: int | None = None
        self._nonces: dict[str, int] = {}
        self._sender_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # -- lifecycle

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    @property
    def accounts(self) -> list[str]:
        """Return the addresses this chain can sign for."""
        return self.signers.addresses

    def block_number(self) -> int:
        """Return the number of the latest block."""
        return int(self.request("eth_blockNumber"), 16)

    def get_block(self, block: BlockId = "latest") -> dict[str, Any]:
        """Return a block header (without transaction bodies), as the node sends it."""
        result = self.request("eth_getBlockByNumber", _block(block), False)
        if result is None:
            raise ChainError(f"no block {block!r}")
        return dict(result)

    def timestamp(self, block: BlockId = "latest") -> int:
        """Return a block's timestamp in seconds."""
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

    def call(
        self,
        address: str,
        fn: str | Mapping[str, Any],
        args: Sequence[Any] = (),
        *,
        abi: "Artifact | Sequence[AbiItem] | None" = None,
        sender: str | None = None,
        value: int = 0,
        block: BlockId = "latest",
    ) -> Any:
        """Call a function with ``eth_call`` and return its decoded result.

        ``fn`` is the function's ABI item, or its name together with ``abi``.
        """
        item = self._function(fn, args, abi)
        data = self.call_raw(
            address,
            encode_call(item, args),
            sender=sender,
            value=value,
            block=block,
            context=f"{item['name']}",
        )
        return decode_output(item, data)

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

    def get_logs(
        self,
        address: str | None,
        event: Mapping[str, Any],
        from_block: BlockId = 0,
        to_block: BlockId = "latest",
    ) -> list[Event]:
        """Return the decoded ``event`` logs emitted by ``address`` (any address if ``None``)."""
        topics: list[bytes | None] = [] if event.get("anonymous") else [event_topic(event)]
        raw = self.get_raw_logs(address, topics, from_block, to_block)
        return [decode_event(event, log) for log in raw]

    def decode_logs(
        self, receipt: Receipt, abi: "Artifact | Sequence[AbiItem]", address: str | None = None
    ) -> list[Event]:
        """Decode the logs of a receipt that match events in ``abi`` (and ``address``, if given)."""
        events_abi = [i for i in _abi_of(abi) if i.get("type") == "event" and not i.get("anonymous")]
        by_topic = {event_topic(i): i for i in events_abi}
        wanted = checksum(address) if address is not None else None
        events = []
        for log in receipt.logs:
            item = by_topic.get(log.topics[0]) if log.topics else None
            if item is not None and (wanted is None or log.address == wanted):
                events.append(decode_event(item, log))
        return events

    # -- transactions

    def estimate_gas(
        self, to: str | None, data: bytes, *, sender: str, value: int = 0, context: str = ""
    ) -> int:
        """Estimate gas for a transaction; raise ``RevertError`` with the reason if it would revert."""
        tx: dict[str, Any] = {"from": checksum(sender), "data": "0x" + data.hex(), "value": _hex(value)}
        if to is not None:
            tx["to"] = checksum(to)
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
            tip = _DEFAULT_PRIORITY_FEE
        return {"maxFeePerGas": 2 * int(base, 16) + tip, "maxPriorityFeePerGas": tip}

    def build_transaction(
        self,
        to: str | None,
        data: bytes,
        *,
        sender: str,
        value: int = 0,
        gas: int | None = None,
        context: str = "",
    ) -> dict[str, Any]:
        """Return the unsigned fields of a transaction, without nonce: gas estimated with the margin."""
        if gas is None:
            gas = int(
                self.estimate_gas(to, data, sender=sender, value=value, context=context) * self.gas_margin
            )
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "value": value,
            "data": data,
            "gas": gas,
            **self.fees(),
        }
        if "maxFeePerGas" in tx:
            tx["type"] = 2
        if to is not None:
            tx["to"] = checksum(to)
        return tx

    def sign(self, tx: Mapping[str, Any], *, sender: str, nonce: int) -> SignedTransaction:
        """Sign ``tx`` with ``nonce`` using the sender's registered key."""
        account = self.signers.get(sender)
        fields = dict(tx, nonce=nonce)
        signed = account.sign_transaction(fields)
        raw = bytes(signed.raw_transaction)
        return SignedTransaction(raw, "0x" + keccak(raw).hex(), str(account.address), nonce, fields)

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction and return its hash.

        A transport failure re-sends the same bytes; if the node then says the transaction is
        known (or its nonce used), the hash is looked up to confirm it was accepted.
        """
        tx_hash = "0x" + keccak(raw).hex()
        payload = "0x" + raw.hex()
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
                if attempt and "nonce too low" in message and self._known(tx_hash):
                    return tx_hash  # an earlier attempt arrived and has been mined
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def submit(
        self,
        to: str | None,
        data: bytes,
        *,
        sender: str,
        value: int = 0,
        gas: int | None = None,
        context: str = "",
    ) -> SignedTransaction:
        """Build, sign and broadcast a transaction; return it without waiting for the receipt."""
        address = self.signers.get(sender).address
        tx = self.build_transaction(to, data, sender=address, value=value, gas=gas, context=context)
        with self._sender_lock(address):
            for _ in range(3):
                nonce = self._nonces.get(address)
                if nonce is None:
                    nonce = self.nonce(address, "pending")
                signed = self.sign(tx, sender=address, nonce=nonce)
                try:
                    self.send_raw(signed.raw)
                except RpcError as exc:
                    self._nonces.pop(address, None)
                    if any(m in exc.rpc_message.lower() for m in _NONCE_CONFLICT_MARKERS):
                        continue  # our counter was behind the node's: resync from "pending" and re-sign
                    raise
                except BaseException:
                    self._nonces.pop(address, None)  # it may or may not have arrived: resync next time
                    raise
                self._nonces[address] = nonce + 1
                return signed
        raise ChainError(f"{address}: the node kept rejecting nonces as used; is another process sending?")

    def transact(
        self,
        to: str | None,
        data: bytes,
        *,
        sender: str,
        value: int = 0,
        gas: int | None = None,
        timeout: float | None = None,
        context: str = "",
    ) -> Receipt:
        """Submit a transaction and wait for it; raise ``RevertError`` (with the reason) if it reverted."""
        signed = self.submit(to, data, sender=sender, value=value, gas=gas, context=context)
        receipt = self.wait_for_receipt(signed.tx_hash, timeout)
        if not receipt.succeeded:
            self._raise_revert(signed, receipt, context)
        return receipt

    def send(
        self,
        address: str,
        fn: str | Mapping[str, Any],
        args: Sequence[Any] = (),
        *,
        sender: str,
        abi: "Artifact | Sequence[AbiItem] | None" = None,
        value: int = 0,
        gas: int | None = None,
        timeout: float | None = None,
    ) -> Receipt:
        """Call a function in a transaction from ``sender`` and return the receipt once mined.

        ``fn`` is the function's ABI item, or its name together with ``abi``.
        """
        item = self._function(fn, args, abi)
        data = encode_call(item, args)
        return self.transact(
            address, data, sender=sender, value=value, gas=gas, timeout=timeout, context=str(item["name"])
        )

    def deploy(
        self,
        artifact: Artifact,
        *args: Any,
        sender: str,
        value: int = 0,
        gas: int | None = None,
        timeout: float | None = None,
    ) -> str:
        """Deploy ``artifact`` with constructor ``args``; return the new contract's address."""
        return (
            self.deploy_with_receipt(
                artifact, *args, sender=sender, value=value, gas=gas, timeout=timeout
            ).contract_address
            or ""
        )

    def deploy_with_receipt(
        self,
        artifact: Artifact,
        *args: Any,
        sender: str,
        value: int = 0,
        gas: int | None = None,
        timeout: float | None = None,
    ) -> Receipt:
        """Deploy ``artifact`` and return the receipt (``contract_address`` is the new contract)."""
        ctor: AbiItem = next((i for i in artifact.abi if i.get("type") == "constructor"), {"inputs": []})
        data = artifact.bytecode + _encode_args(ctor, args, f"{artifact.name} constructor")
        receipt = self.transact(
            None,
            data,
            sender=sender,
            value=value,
            gas=gas,
            timeout=timeout,
            context=f"deploying {artifact.name}",
        )
        if receipt.contract_address is None:
            raise ChainError(f"deploying {artifact.name}: the receipt has no contract address")
        return receipt

    def deploy_contract(self, artifact: Artifact, *args: Any, sender: str, value: int = 0) -> "Contract":
        """Deploy ``artifact`` and return a :class:`Contract` wrapper for it."""
        return self.at(self.deploy(artifact, *args, sender=sender, value=value), artifact)

    def at(self, address: str, abi: "Artifact | Sequence[AbiItem]", name: str | None = None) -> "Contract":
        """Wrap the contract at ``address`` so its ABI functions read as methods."""
        label = name or (abi.name if isinstance(abi, Artifact) else "contract")
        return Contract(self, address, _abi_of(abi), label)

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Poll for a transaction's receipt; raise ``TransactionTimeoutError`` after ``timeout`` seconds."""
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        interval = self.poll_interval
        while True:
            raw = self.request("eth_getTransactionReceipt", tx_hash)
            if raw is not None and raw.get("blockNumber") is not None:
                return _receipt(raw)
            if time.monotonic() >= deadline:
                raise TransactionTimeoutError(tx_hash, limit)
            time.sleep(interval)
            interval = min(interval * 1.5, 1.0)

    # -- anvil (and hardhat) test RPCs

    def increase_time(self, seconds: int) -> None:
        """Move the clock of the next block forward by ``seconds`` (``evm_increaseTime``)."""
        self.request("evm_increaseTime", _hex(seconds), retry=False)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Fix the timestamp of the next block (``evm_setNextBlockTimestamp``)."""
        self.request("evm_setNextBlockTimestamp", _hex(timestamp), retry=False)

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now (``anvil_mine``)."""
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
        with self._locks_lock:
            self._nonces.clear()
        return bool(self.request("evm_revert", snapshot_id, retry=False))

    # -- internals

    def _function(
        self, fn: str | Mapping[str, Any], args: Sequence[Any], abi: "Artifact | Sequence[AbiItem] | None"
    ) -> AbiItem:
        if not isinstance(fn, str):
            return dict(fn)
        if abi is None:
            raise AbiError(f"function {fn!r} given by name: pass abi= (an Artifact or ABI list) too")
        name = abi.name if isinstance(abi, Artifact) else "contract"
        return find_function(_abi_of(abi), fn, len(args), name)

    def _sender_lock(self, address: str) -> threading.Lock:
        with self._locks_lock:
            return self._sender_locks.setdefault(address, threading.Lock())

    def _known(self, tx_hash: str) -> bool:
        try:
            return self.request("eth_getTransactionByHash", tx_hash) is not None
        except ChainError:
            return False

    def _raise_revert(self, signed: SignedTransaction, receipt: Receipt, context: str) -> None:
        tx = signed.tx
        to = tx.get("to")
        data = bytes(tx.get("data", b""))
        reason: str | None = None
        revert = b""
        if to is not None:
            try:
                self.call_raw(
                    to,
                    data,
                    sender=signed.sender,
                    value=int(tx.get("value", 0)),
                    gas=int(tx["gas"]),
                    block=receipt.block_number,
                )
            except RevertError as exc:
                reason, revert = exc.reason, exc.data
            except ChainError:
                pass
        if reason is None and receipt.gas_used >= int(tx["gas"]):
            reason = f"out of gas (used all {receipt.gas_used} gas)"
        raise RevertError(reason, revert, context=context, tx_hash=signed.tx_hash, receipt=receipt)


# --------------------------------------------------------------------------------------------- contract


class ContractFunction:
    """One ABI function of a deployed contract. Calling it reads a view or sends a transaction."""

    def __init__(self, contract: "Contract", name: str) -> None:
        self.contract = contract
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.contract.name}.{self.name} at {self.contract.address}>"

    def abi_for(self, nargs: int) -> AbiItem:
        """Return the ABI item of this function for ``nargs`` arguments."""
        return find_function(self.contract.abi, self.name, nargs, self.contract.name)

    def __call__(self, *args: Any, sender: str | None = None, value: int = 0, gas: int | None = None) -> Any:
        """Call a view/pure function, or send a transaction from ``sender`` for any other function."""
        item = self.abi_for(len(args))
        if item.get("stateMutability") in ("view", "pure"):
            return self.contract.chain.call(self.contract.address, item, args, sender=sender)
        if sender is None:
            raise AbiError(
                f"{self.contract.name}.{self.name} changes state: pass sender=<address> to send it, "
                "or use .call(...) to simulate it"
            )
        return self.contract.chain.send(
            self.contract.address, item, args, sender=sender, value=value, gas=gas
        )

    def call(self, *args: Any, sender: str | None = None, value: int = 0, block: BlockId = "latest") -> Any:
        """Run the function with ``eth_call`` (no transaction), even if it is not a view."""
        item = self.abi_for(len(args))
        return self.contract.chain.call(
            self.contract.address, item, args, sender=sender, value=value, block=block
        )

    def transact(self, *args: Any, sender: str, value: int = 0, gas: int | None = None) -> Receipt:
        """Send the function in a transaction and return the receipt."""
        item = self.abi_for(len(args))
        return self.contract.chain.send(
            self.contract.address, item, args, sender=sender, value=value, gas=gas
        )

    def estimate_gas(self, *args: Any, sender: str, value: int = 0) -> int:
        """Estimate the gas a transaction calling the function would use."""
        data = self.encode(*args)
        return self.contract.chain.estimate_gas(
            self.contract.address, data, sender=sender, value=value, context=self.name
        )

    def encode(self, *args: Any) -> bytes:
        """Return the calldata for ``args``."""
        return encode_call(self.abi_for(len(args)), args)


class Contract:
    """A deployed contract: ABI functions are attributes (``token.balanceOf(holder)``)."""

    def __init__(
        self, chain: JsonRpcChain, address: str, abi: Sequence[AbiItem], name: str = "contract"
    ) -> None:
        self.chain = chain
        self.address = checksum(address)
        self.abi = list(abi)
        self.name = name
        self._functions = {str(i["name"]) for i in self.abi if i.get("type") == "function"}

    def __repr__(self) -> str:
        return f"<{self.name} at {self.address}>"

    @property
    def functions(self) -> list[str]:
        """Return the names of the contract's functions."""
        return sorted(self._functions)

    def __getattr__(self, name: str) -> ContractFunction:
        if name.startswith("_") or name not in self._functions:
            if name.startswith("__"):
                raise AttributeError(name)
            raise self._unknown(name)
        return ContractFunction(self, name)

    def function(self, name: str) -> ContractFunction:
        """Return a function by name (for names that clash with this class's attributes)."""
        if name not in self._functions:
            raise self._unknown(name)
        return ContractFunction(self, name)

    def _unknown(self, name: str) -> UnknownFunctionError:
        return UnknownFunctionError(
            f"{self.name} has no function {name!r}; it has: {', '.join(self.functions)}"
        )

    def get_logs(self, event: str, from_block: BlockId = 0, to_block: BlockId = "latest") -> list[Event]:
        """Return the contract's ``event`` logs in a block range, decoded."""
        return self.chain.get_logs(self.address, find_event(self.abi, event, self.name), from_block, to_block)

    def decode_logs(self, receipt: Receipt) -> list[Event]:
        """Return the events this contract emitted in ``receipt``, decoded."""
        return self.chain.decode_logs(receipt, self.abi, self.address)
