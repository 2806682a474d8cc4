"""An EVM chain inside this process, on py-evm through titanoboa: for tests and simulations.

``InProcessChain`` answers like a node behind ``JsonRpcChain``: transactions are real EIP-1559
transactions signed by the same ``SignerRegistry`` (anvil's dev accounts by default, funded with
ETH), decoded from their raw bytes and applied by py-evm with its signature, nonce, balance and gas
checks, so receipts, gas, logs and revert reasons look the same to the caller.

It differs from a node in a few deliberate ways:

* ``send_raw`` mines at once: every transaction is its own block, the block number grows by one and
  the timestamp is ``max(previous + 1, jump, clock)``; nothing is ever pending. Time starts at
  ``genesis_timestamp`` (the ``clock``'s time, or now, by default) and moves with the ``clock`` if
  one is given, and through ``increase_time`` and ``set_next_block_timestamp`` (a jump), so a
  simulation replays identically.
* A nonce ahead of the sender's next one is refused rather than queued.
* State is kept for the latest block only: reading an older block raises ``ChainError``. Block
  timestamps and logs are kept for the whole history.
* A block's hash is the keccak of its parent's hash, number, timestamp and transaction hash (there
  is no real header): the same history gives the same hashes, a different one (after
  ``revert_to``) different hashes from the first block that differs.

Each chain has its own ``boa.Env``, so a test can run several side by side.
"""

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boa
from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth.exceptions import OutOfGas, PyEVMError, Revert
from eth.vm.spoof import SpoofTransaction
from eth_keys.datatypes import PrivateKey
from eth_typing import Address
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from rlp.exceptions import RLPException  # type: ignore[import-untyped]

from equitoken.chain.errors import ChainError, NonceTooLowError, RevertError, TransactionTimeoutError
from equitoken.chain.evm.abi import decode_revert_reason
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import DEFAULT_PRIORITY_FEE, EvmChain
from equitoken.chain.evm.types import Log, Receipt, SignedTransaction
from equitoken.chain.records import BlockHeader, BlockId
from equitoken.model.address import checksum
from equitoken.model.time import Clock

__all__ = ["DEFAULT_BALANCE", "InProcessChain"]

DEFAULT_BALANCE = 10_000 * 10**18
"""The ETH each account starts with, as on anvil."""

ANVIL_CHAIN_ID = 31337
_ZERO_ADDRESS = b"\x00" * 20
_DRY_RUN_KEY = PrivateKey(keccak(b"equitoken in-process dry run"))
_NO_PARENT = "0x" + "00" * 32
_ESTIMATE_TOLERANCE = 1_000  # gas; the bisection stops within this of the least gas that succeeds


@dataclass(frozen=True)
class _Mined:
    """A transaction the chain executed: its receipt, and why it failed if it did."""

    receipt: Receipt
    reason: str | None
    revert: bytes


@dataclass(frozen=True)
class _Snapshot:
    """What ``revert_to`` restores: py-evm's journal checkpoint and the lengths of our histories."""

    state: Any
    blocks: int
    logs: int
    mined: int
    clock: int


# The precompiles at addresses 0x01 to 0x0a (Cancun).
_PRECOMPILES = 10


class InProcessChain(EvmChain):
    """An EVM chain executed in this process by py-evm (through titanoboa). Thread-safe."""

    def __init__(
        self,
        signers: SignerRegistry | None = None,
        *,
        chain_id: int = ANVIL_CHAIN_ID,
        balance: int = DEFAULT_BALANCE,
        genesis_timestamp: int | None = None,
        gas_margin: float = 1.2,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            signers if signers is not None else SignerRegistry.anvil(), gas_margin=gas_margin, clock=clock
        )
        self._env = boa.Env()
        self._chain_id = chain_id
        if genesis_timestamp is not None:
            start = genesis_timestamp
        else:
            start = int((clock.now().timestamp()) if clock is not None else time.time())
        self._timestamps = [start]  # block number -> timestamp, from block 0
        self._hashes = [_block_hash(_NO_PARENT, 0, start, chain_id.to_bytes(32, "big"))]
        self._clock = start
        self._logs: list[Log] = []
        self._mined: dict[str, _Mined] = {}
        self._snapshots: dict[str, _Snapshot] = {}
        self._snapshot_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._env.evm.patch.chain_id = chain_id
        self._enter_block(0, start)
        for address in self.signers.addresses:
            self._state.set_balance(_canonical(address), balance)
        # py-evm deletes a touched empty account (EIP-161) at the end of each transaction and reverts
        # across at most one such deletion: the precompiles every signed oracle round touches
        # (ecrecover) would break snapshots taken before two rounds. A wei each keeps them alive, as
        # on mainnet, where every precompile holds a balance.
        for precompile in range(1, _PRECOMPILES + 1):
            self._state.set_balance(_canonical(f"0x{precompile:040x}"), 1)

    def __repr__(self) -> str:
        return f"InProcessChain(chain_id={self._chain_id}, block={self.block_number()})"

    # -- reads

    @property
    def chain_id(self) -> int:
        """Return the chain id."""
        return self._chain_id

    def block_number(self) -> int:
        """Return the number of the latest block."""
        with self._lock:
            return len(self._timestamps) - 1

    def timestamp(self, block: BlockId = "latest") -> int:
        """Return a block's timestamp in seconds (``pending``: the next block's, if mined now)."""
        with self._lock:
            number = self._number(block)
            if number == len(self._timestamps):
                return self._next_timestamp()
            if not 0 <= number < len(self._timestamps):
                raise ChainError(f"no block {block!r}: the latest is {len(self._timestamps) - 1}")
            return self._timestamps[number]

    def block_header(self, block: BlockId = "latest") -> BlockHeader:
        """Return a block's number, hash, parent hash and timestamp; raise ``ChainError`` if there is none."""
        with self._lock:
            number = self._number(block)
            if not 0 <= number < len(self._timestamps):
                raise ChainError(f"no block {block!r}: the latest is {len(self._timestamps) - 1}")
            parent = self._hashes[number - 1] if number else _NO_PARENT
            return BlockHeader(number, self._hashes[number], parent, self._timestamps[number])

    def nonce(self, address: str, block: BlockId = "pending") -> int:
        """Return the transaction count of ``address`` (``pending`` is the same: nothing waits)."""
        with self._lock, self._at(block):
            return self._state.get_nonce(_canonical(address))

    def code(self, address: str, block: BlockId = "latest") -> bytes:
        """Return the runtime code at ``address`` (empty for accounts without code)."""
        with self._lock, self._at(block):
            return bytes(self._state.get_code(_canonical(address)))

    def balance(self, address: str, block: BlockId = "latest") -> int:
        """Return the native balance of ``address`` in wei."""
        with self._lock, self._at(block):
            return self._state.get_balance(_canonical(address))

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
        with self._lock, self._at(block):
            computation = self._env.execute_code(
                to_address=checksum(to),
                sender=_ZERO_ADDRESS if sender is None else checksum(sender),
                gas=gas,
                value=value,
                data=data,
                simulate=True,
            )
        if computation.is_error:
            if isinstance(computation.error, OutOfGas):
                raise RevertError("out of gas", context=context)
            reason, revert = _failure(computation)
            raise RevertError(reason, revert, context=context)
        return bytes(computation.output)

    def estimate_gas(
        self, to: str | None, data: bytes, *, sender: str, value: int = 0, context: str = ""
    ) -> int:
        """Estimate gas for a transaction; raise ``RevertError`` with the reason if it would revert.

        The transaction is run in the next block with all the gas the sender can pay for; the
        estimate is the gas it used plus the 1/64 a call keeps back, checked, or else bisected.
        """
        with self._lock, self._at("pending"):
            state = self._state
            base_fee = state.execution_context.base_fee_per_gas or 0
            origin = _canonical(sender)
            affordable = (state.get_balance(origin) - value) // base_fee if base_fee else state.gas_limit
            cap = max(0, min(state.gas_limit, affordable))

            def trial(gas: int) -> ComputationAPI:
                return self._dry_run(to, data, sender=origin, value=value, gas=gas, context=context)

            computation = trial(cap)
            if computation.is_error:
                if isinstance(computation.error, OutOfGas):
                    raise RevertError(f"out of gas (even with {cap} gas)", context=context)
                reason, revert = _failure(computation)
                raise RevertError(reason, revert, context=context)
            used = cap - computation.get_gas_remaining()
            guess = min(cap, used + used // 63)
            if _succeeds(trial, guess):
                return guess
            low, high = guess, cap
            while high - low > _ESTIMATE_TOLERANCE:
                middle = (low + high) // 2
                if _succeeds(trial, middle):
                    high = middle
                else:
                    low = middle
            return high

    def fees(self) -> dict[str, int]:
        """Return EIP-1559 fee fields for a new transaction (py-evm's base fee does not move)."""
        with self._lock:
            base = self._state.execution_context.base_fee_per_gas or 0
        return {"maxFeePerGas": 2 * base + DEFAULT_PRIORITY_FEE, "maxPriorityFeePerGas": DEFAULT_PRIORITY_FEE}

    def get_raw_logs(
        self,
        address: str | Sequence[str] | None = None,
        topics: Sequence[bytes | None] = (),
        from_block: BlockId = 0,
        to_block: BlockId = "latest",
    ) -> list[Log]:
        """Return raw logs matching ``address`` and ``topics`` (``None`` matches any) in a block range."""
        if isinstance(address, str):
            wanted: set[str] | None = {checksum(address)}
        else:
            wanted = None if address is None else {checksum(a) for a in address}
        with self._lock:
            low, high = self._number(from_block), self._number(to_block)
            return [
                log
                for log in self._logs
                if low <= log.block_number <= high
                and (wanted is None or log.address in wanted)
                and _topics_match(log.topics, topics)
            ]

    # -- transactions

    def send_raw(self, raw: bytes) -> str:
        """Execute a signed transaction in a new block and return its hash.

        The same bytes again return the same hash without running twice; another transaction with
        a used nonce is refused (``NonceTooLowError``), as a node refuses it.
        """
        tx_hash = "0x" + keccak(raw).hex()
        with self._lock:
            if tx_hash in self._mined:
                return tx_hash
            tx = self._decode(raw)
            sender = _address(tx.sender)
            expected = self._state.get_nonce(tx.sender)
            if tx.nonce < expected:
                raise NonceTooLowError(sender, tx.nonce, expected)
            if tx.nonce > expected:
                raise ChainError(
                    f"nonce too high: {sender} sent nonce {tx.nonce}, its next nonce is {expected}; "
                    "the in-process chain mines on arrival and queues nothing, so send the gap first"
                )
            if tx.chain_id != self._chain_id:
                raise ChainError(f"transaction for chain {tx.chain_id} sent to chain {self._chain_id}")
            number, timestamp = len(self._timestamps), self._next_timestamp()
            self._enter_block(number, timestamp)
            checkpoint = self._state.snapshot()
            try:
                self._forget_warm_accesses()
                computation = self._state.apply_transaction(tx)
            except ValidationError as exc:
                self._state.revert(checkpoint)
                self._enter_block(number - 1, self._timestamps[-1])
                raise ChainError(f"transaction rejected: {exc}") from exc
            self._state.commit(checkpoint)
            self._append_block(timestamp, bytes.fromhex(tx_hash[2:]))
            self._record(tx_hash, tx, computation, number)
        return tx_hash

    def receipt(self, tx_hash: str) -> Receipt | None:
        """Return the receipt of an executed transaction, or ``None`` if it was never sent."""
        with self._lock:
            mined = self._mined.get(tx_hash.lower())
        return None if mined is None else mined.receipt

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        """Return the receipt; raise ``TransactionTimeoutError`` at once if it was never sent.

        Nothing waits here: ``send_raw`` mines before it returns, so an unknown hash stays unknown.
        """
        receipt = self.receipt(tx_hash)
        if receipt is None:
            raise TransactionTimeoutError(tx_hash, timeout or 0.0)
        return receipt

    # -- test controls

    def increase_time(self, seconds: int) -> None:
        """Move the clock of the next block ``seconds`` past the latest block (or past an earlier jump)."""
        with self._lock:
            self._clock = max(self._clock, self._timestamps[-1]) + seconds

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Fix the timestamp of the next block; it must be later than the latest block's."""
        with self._lock:
            if timestamp <= self._timestamps[-1]:
                raise ChainError(
                    f"timestamp {timestamp} is not after the latest block's ({self._timestamps[-1]})"
                )
            self._clock = timestamp

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks."""
        with self._lock:
            for _ in range(blocks):
                self._append_block(self._next_timestamp(), b"")
            self._enter_block(len(self._timestamps) - 1, self._timestamps[-1])

    def set_balance(self, address: str, wei: int) -> None:
        """Set the native balance of ``address``."""
        with self._lock:
            self._state.set_balance(_canonical(address), wei)

    def snapshot(self) -> str:
        """Take a snapshot of the chain state; return its id for :meth:`revert_to`."""
        with self._lock:
            snapshot_id = hex(next(self._snapshot_ids))
            self._snapshots[snapshot_id] = _Snapshot(
                self._state.snapshot(), len(self._timestamps), len(self._logs), len(self._mined), self._clock
            )
            return snapshot_id

    def revert_to(self, snapshot_id: str) -> bool:
        """Return the chain to a snapshot; it and any later ones are used up, as on anvil."""
        with self._lock:
            taken = self._snapshots.get(snapshot_id)
            if taken is None:
                return False
            # py-evm's checkpoints nest: undoing this one undoes every later one too.
            order = int(snapshot_id, 16)
            self._snapshots = {k: v for k, v in self._snapshots.items() if int(k, 16) < order}
            self._state.revert(taken.state)
            del self._timestamps[taken.blocks :]
            del self._hashes[taken.blocks :]
            del self._logs[taken.logs :]
            self._mined = dict(itertools.islice(self._mined.items(), taken.mined))
            self._clock = taken.clock
            self._enter_block(len(self._timestamps) - 1, self._timestamps[-1])
        self._forget_nonces()
        return True

    # -- internals

    @property
    def _state(self) -> StateAPI:
        return self._env.evm.vm.state  # type: ignore[no-any-return]

    def _revert_reason(self, signed: SignedTransaction, receipt: Receipt) -> tuple[str | None, bytes]:
        mined = self._mined[receipt.tx_hash]
        return mined.reason, mined.revert

    def _number(self, block: BlockId) -> int:
        latest = len(self._timestamps) - 1
        if isinstance(block, int):
            return block
        if block == "earliest":
            return 0
        if block == "pending":
            return latest + 1
        if block in ("latest", "safe", "finalized"):
            return latest
        raise ChainError(f"unknown block tag {block!r}")

    def _append_block(self, timestamp: int, transaction: bytes) -> None:
        number = len(self._timestamps)
        self._hashes.append(_block_hash(self._hashes[-1], number, timestamp, transaction))
        self._timestamps.append(timestamp)

    def _next_timestamp(self) -> int:
        following = int(self.clock.now().timestamp()) if self.clock is not None else 0
        return max(self._timestamps[-1] + 1, self._clock, following)

    def _enter_block(self, number: int, timestamp: int) -> None:
        # Contracts read block.number and block.timestamp from the environment titanoboa patches.
        patch = self._env.evm.patch
        patch.block_number = number
        patch.timestamp = timestamp

    @contextmanager
    def _at(self, block: BlockId) -> Iterator[None]:
        # Reads run in the context of the latest block or, for "pending", of the next one.
        number = self._number(block)
        latest = len(self._timestamps) - 1
        if number == latest:
            yield
        elif number == latest + 1:
            self._enter_block(number, self._next_timestamp())
            try:
                yield
            finally:
                self._enter_block(latest, self._timestamps[-1])
        else:
            raise ChainError(
                f"block {block!r}: the in-process chain keeps state for the latest block ({latest}) only"
            )

    def _forget_warm_accesses(self) -> None:
        # EIP-2929: addresses and slots start cold in each transaction. py-evm resets them in
        # lock_changes(), which would also drop the journal that snapshots revert to; clearing the
        # (journaled) access record keeps both.
        account_db: Any = self._state._account_db  # type: ignore[attr-defined]
        account_db._journal_accessed_state.clear()

    def _decode(self, raw: bytes) -> SignedTransactionAPI:
        try:
            tx: SignedTransactionAPI = self._env.evm.vm.get_transaction_builder().decode(raw)
            tx.check_signature_validity()
        except (RLPException, PyEVMError, ValidationError, ValueError) as exc:
            raise ChainError(f"not a valid signed transaction: {exc}") from exc
        return tx

    def _dry_run(
        self, to: str | None, data: bytes, *, sender: Address, value: int, gas: int, context: str
    ) -> ComputationAPI:
        # Run a transaction from `sender` (no signature needed), undo it, return its computation.
        state = self._state
        builder = self._env.evm.vm.get_transaction_builder()
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            self._chain_id,
            state.get_nonce(sender),
            0,
            state.execution_context.base_fee_per_gas,
            gas,
            b"" if to is None else _canonical(to),
            value,
            data,
            [],
        )
        checkpoint = state.snapshot()
        try:
            self._forget_warm_accesses()
            # Signed by a throwaway key, then given the real sender: no one's key is needed to estimate.
            signed = unsigned.as_signed_transaction(_DRY_RUN_KEY)
            return state.apply_transaction(SpoofTransaction(signed, sender=sender))  # type: ignore[arg-type]
        except ValidationError as exc:
            where = f"{context}: " if context else ""
            raise ChainError(f"{where}the transaction is invalid: {exc}") from exc
        finally:
            state.revert(checkpoint)

    def _record(
        self, tx_hash: str, tx: SignedTransactionAPI, computation: ComputationAPI, number: int
    ) -> None:
        logs = tuple(
            Log(
                address=_address(address),
                topics=tuple(topic.to_bytes(32, "big") for topic in topics),
                data=bytes(data),
                block_number=number,
                tx_hash=tx_hash,
                log_index=index,
                block_hash=self._hashes[number],
            )
            for index, (address, topics, data) in enumerate(computation.get_log_entries())
        )
        created = None if tx.to else _address(generate_contract_address(tx.sender, tx.nonce))
        receipt = Receipt(
            tx_hash=tx_hash,
            block_number=number,
            gas_used=self._env.evm.vm.finalize_gas_used(tx, computation),
            status=0 if computation.is_error else 1,
            logs=logs,
            contract_address=created,
            effective_gas_price=self._state.get_gas_price(tx),
            sender=_address(tx.sender),
            to=_address(tx.to) if tx.to else None,
        )
        reason, revert = _failure(computation) if computation.is_error else (None, b"")
        self._logs.extend(logs)
        self._mined[tx_hash] = _Mined(receipt, reason, revert)


def _failure(computation: ComputationAPI) -> tuple[str | None, bytes]:
    """Return why a computation failed: the decoded revert reason and data; ``None`` for out of gas."""
    error = computation.error
    if isinstance(error, Revert):
        data = bytes(computation.output)
        return decode_revert_reason(data), data
    if isinstance(error, OutOfGas):
        return None, b""
    return f"{type(error).__name__}: {error}", b""


def _succeeds(trial: Callable[[int], ComputationAPI], gas: int) -> bool:
    try:
        return not trial(gas).is_error
    except ChainError:
        return False


def _block_hash(parent: str, number: int, timestamp: int, content: bytes) -> str:
    header = bytes.fromhex(parent[2:]) + number.to_bytes(32, "big") + timestamp.to_bytes(32, "big")
    return "0x" + keccak(header + content).hex()


def _topics_match(topics: tuple[bytes, ...], wanted: Sequence[bytes | None]) -> bool:
    return len(wanted) <= len(topics) and all(
        w is None or w == t for w, t in zip(wanted, topics, strict=False)
    )


def _canonical(address: str) -> Address:
    return Address(to_canonical_address(checksum(address)))


def _address(canonical: bytes) -> str:
    return checksum("0x" + canonical.hex())
