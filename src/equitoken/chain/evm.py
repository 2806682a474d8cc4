"""An EVM chain as the platform sees it, whatever carries the requests.

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

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from equitoken.chain.accounts import SignerRegistry, UnknownSignerError, checksum
from equitoken.chain.artifacts import Artifact
from equitoken.model.time import Clock

__all__ = [
    "AbiError",
    "AbiItem",
    "BlockHeader",
    "BlockId",
    "ChainError",
    "Contract",
    "ContractFunction",
    "Event",
    "EvmChain",
    "Log",
    "NonceTooLowError",
    "Receipt",
    "RevertError",
    "SignedTransaction",
    "TransactionTimeoutError",
    "UnknownFunctionError",
    "UnknownSignerError",
    "abi_type",
    "decode_event",
    "decode_output",
    "decode_revert_reason",
    "encode_args",
    "encode_call",
    "event_topic",
    "find_event",
    "find_function",
    "selector",
    "signature",
]

BlockId = int | str
"""A block number, or a tag: ``"latest"``, ``"pending"``, ``"earliest"``, ``"safe"``, ``"finalized"``."""

AbiItem = dict[str, Any]

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_NONCE_CONFLICT_MARKERS = ("nonce too low", "replacement transaction underpriced", "already used")
DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei
"""The tip offered when the chain does not suggest one."""


# ----------------------------------------------------------------------------------------------- errors


class ChainError(Exception):
    """Base of the errors raised by the chain layer; ``code`` is stable, the message says what to do."""

    code = "chain_error"


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


class NonceTooLowError(ChainError):
    """The chain refused a transaction whose nonce its sender has already used."""

    code = "nonce_too_low"

    def __init__(self, sender: str, nonce: int, expected: int) -> None:
        super().__init__(
            f"nonce too low: {sender} sent nonce {nonce}, its next nonce is {expected}; "
            "re-sign the transaction with the next nonce"
        )
        self.sender = sender
        self.nonce = nonce
        self.expected = expected


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
    block_hash: str = ""
    """The hash of the block the log is in, so a reader can tell which fork it came from."""


@dataclass(frozen=True)
class BlockHeader:
    """What identifies a block: its number, hash, parent's hash and timestamp (Unix seconds)."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


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


def encode_args(item: Mapping[str, Any], args: Sequence[Any], what: str) -> bytes:
    """Return the ABI encoding of ``args`` for ``item``'s inputs; ``what`` names the call in errors."""
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
    return selector(item) + encode_args(item, args, str(item.get("name", "function")))


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


# ------------------------------------------------------------------------------------------------ chain


class EvmChain(ABC):
    """An EVM chain with local signing: calls, transactions, deployments and logs over a few primitives.

    Subclasses implement the primitives marked abstract. ``submit`` and the methods built on it are
    thread-safe as long as the primitives are. A chain given a ``clock`` stamps every block it mines
    or sends with the clock's time (or the latest block's, if that is later).
    """

    def __init__(
        self, signers: SignerRegistry, *, gas_margin: float = 1.2, clock: Clock | None = None
    ) -> None:
        self.signers = signers
        self.gas_margin = gas_margin
        # The platform's clock, on a chain the platform runs (a local node, the in-process chain):
        # each new block is stamped with its time, never earlier than the latest block's, so that the
        # contracts' time rules (KYC expiry, feed freshness) see the instant the issuer sees.
        self.clock = clock
        self._nonces: dict[str, int] = {}
        self._sender_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # -- lifecycle

    def close(self) -> None:  # noqa: B027 - an optional hook: only transports hold something to release
        """Release what the chain holds (connections); the default holds nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- primitives: reads

    @property
    @abstractmethod
    def chain_id(self) -> int:
        """Return the chain id."""

    @property
    def accounts(self) -> list[str]:
        """Return the addresses this chain can sign for."""
        return self.signers.addresses

    @abstractmethod
    def block_number(self) -> int:
        """Return the number of the latest block."""

    @abstractmethod
    def timestamp(self, block: BlockId = "latest") -> int:
        """Return a block's timestamp in seconds."""

    @abstractmethod
    def nonce(self, address: str, block: BlockId = "pending") -> int:
        """Return the transaction count of ``address`` (``pending`` includes transactions not yet mined)."""

    @abstractmethod
    def code(self, address: str, block: BlockId = "latest") -> bytes:
        """Return the runtime code at ``address`` (empty for accounts without code)."""

    @abstractmethod
    def balance(self, address: str, block: BlockId = "latest") -> int:
        """Return the native balance of ``address`` in wei."""

    @abstractmethod
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
        """Run a call without a transaction; raise ``RevertError`` with the decoded reason on revert."""

    @abstractmethod
    def estimate_gas(
        self, to: str | None, data: bytes, *, sender: str, value: int = 0, context: str = ""
    ) -> int:
        """Estimate gas for a transaction; raise ``RevertError`` with the reason if it would revert."""

    @abstractmethod
    def fees(self) -> dict[str, int]:
        """Return the fee fields of a new transaction (EIP-1559, or ``gasPrice`` without a base fee)."""

    @abstractmethod
    def block_header(self, block: BlockId = "latest") -> BlockHeader:
        """Return a block's number, hash, parent hash and timestamp; raise ``ChainError`` if there is none."""

    @abstractmethod
    def get_raw_logs(
        self,
        address: str | Sequence[str] | None = None,
        topics: Sequence[bytes | None] = (),
        from_block: BlockId = 0,
        to_block: BlockId = "latest",
    ) -> list[Log]:
        """Return raw logs matching ``address`` and ``topics`` (``None`` matches any) in a block range."""

    # -- primitives: transactions

    @abstractmethod
    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction and return its hash; sending the same bytes again is harmless."""

    @abstractmethod
    def receipt(self, tx_hash: str) -> Receipt | None:
        """Return the receipt of a mined transaction, or ``None`` while it is unknown or pending."""

    @abstractmethod
    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Wait for a transaction's receipt; raise ``TransactionTimeoutError`` after ``timeout`` seconds."""

    # -- primitives: test controls (anvil and the in-process chain)

    @abstractmethod
    def increase_time(self, seconds: int) -> None:
        """Move the clock of the next block forward by ``seconds``."""

    @abstractmethod
    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Fix the timestamp of the next block."""

    @abstractmethod
    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now."""

    @abstractmethod
    def set_balance(self, address: str, wei: int) -> None:
        """Set the native balance of ``address``."""

    @abstractmethod
    def snapshot(self) -> str:
        """Take a snapshot of the chain state; return its id for :meth:`revert_to`."""

    @abstractmethod
    def revert_to(self, snapshot_id: str) -> bool:
        """Return the chain to a snapshot, which is then used up; return whether it existed."""

    # -- reads built on the primitives

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
        """Call a function without a transaction and return its decoded result.

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

    # -- transactions built on the primitives

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

    def prepare(
        self,
        to: str | None,
        data: bytes,
        *,
        sender: str,
        nonce: int,
        value: int = 0,
        gas: int | None = None,
        context: str = "",
    ) -> SignedTransaction:
        """Build and sign a transaction with ``nonce``, without broadcasting it.

        Gas is estimated unless given, so a transaction that would revert raises ``RevertError``
        with the reason here, before the caller records anything. Broadcast it with ``send_raw``.
        """
        tx = self.build_transaction(to, data, sender=sender, value=value, gas=gas, context=context)
        return self.sign(tx, sender=sender, nonce=nonce)

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
        """Build, sign and broadcast a transaction; return it without waiting for the receipt.

        The sender's next nonce comes from a counter seeded from ``nonce(sender, "pending")`` and
        resynced whenever the chain says a nonce is already used (another client sent from it).
        """
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
                except ChainError as exc:
                    self._nonces.pop(address, None)
                    if any(m in str(exc).lower() for m in _NONCE_CONFLICT_MARKERS):
                        continue  # our counter was behind the chain's: resync from "pending" and re-sign
                    raise
                except BaseException:
                    self._nonces.pop(address, None)  # it may or may not have arrived: resync next time
                    raise
                self._nonces[address] = nonce + 1
                return signed
        raise ChainError(f"{address}: the chain kept rejecting nonces as used; is another process sending?")

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
            reason, revert = self._revert_reason(signed, receipt)
            if reason is None and receipt.gas_used >= int(signed.tx["gas"]):
                reason = f"out of gas (used all {receipt.gas_used} gas)"
            raise RevertError(reason, revert, context=context, tx_hash=signed.tx_hash, receipt=receipt)
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
        data = artifact.bytecode + encode_args(ctor, args, f"{artifact.name} constructor")
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

    # -- internals

    @abstractmethod
    def _revert_reason(self, signed: SignedTransaction, receipt: Receipt) -> tuple[str | None, bytes]:
        # Why a mined transaction failed: its decoded reason (None if unknown) and raw revert data.
        ...

    def _forget_nonces(self) -> None:
        # After the chain's state jumps (a snapshot restored), the counters would be wrong.
        with self._locks_lock:
            self._nonces.clear()

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
        """Run the function as a call (no transaction), even if it is not a view."""
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

    def __init__(self, chain: EvmChain, address: str, abi: Sequence[AbiItem], name: str = "contract") -> None:
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
