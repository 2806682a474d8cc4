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
from typing import Any, Self

from eth_utils.crypto import keccak

from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.evm.abi import (
    AbiError,
    AbiItem,
    abi_of,
    decode_event,
    decode_output,
    encode_args,
    encode_call,
    event_topic,
    find_function,
)
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.types import Event, Log, Receipt, SignedTransaction
from equitoken.chain.records import BlockHeader, BlockId
from equitoken.model.address import checksum
from equitoken.model.time import Clock

_NONCE_CONFLICT_MARKERS = ("nonce too low", "replacement transaction underpriced", "already used")
DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei
"""The tip offered when the chain does not suggest one."""


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
        events_abi = [i for i in abi_of(abi) if i.get("type") == "event" and not i.get("anonymous")]
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
        return Contract(self, address, abi_of(abi), label)

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
        return find_function(abi_of(abi), fn, len(args), name)

    def _sender_lock(self, address: str) -> threading.Lock:
        with self._locks_lock:
            return self._sender_locks.setdefault(address, threading.Lock())


# --------------------------------------------------------------------------------------------- contract
