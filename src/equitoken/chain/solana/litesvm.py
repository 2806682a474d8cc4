"""An in-process Solana on LiteSVM, running the SPL Token-2022, Token and Associated Token Account
programs LiteSVM ships, on the platform's clock.

Every transaction is stamped with the clock's time (the Clock sysvar's `unix_timestamp`) and runs in
a slot of its own with a new blockhash. As on a cluster, a transaction may name any of the last
`RECENT_BLOCKHASHES` blockhashes (so a wallet that fetched one a few transactions ago is not refused),
and one sent twice is refused the second time (AlreadyProcessed). With a `snapshot`, the accounts each
confirmed transaction touched are written to disk before `send_raw` returns, and loaded again when
the chain is created: a killed process loses nothing it was told.
"""

import threading
from collections import deque
from collections.abc import Callable, Sequence
from functools import wraps
from typing import ParamSpec, TypeVar

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata
from solders.transaction_status import (
    InstructionErrorBorshIO,
    InstructionErrorCustom,
    TransactionErrorDuplicateInstruction,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
)

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.chain import SOLANA_LOCAL, Landed, Simulated, SolanaChain
from equitoken.chain.solana.snapshot import SvmSnapshot
from equitoken.chain.solana.token2022 import explain
from equitoken.model.time import Clock

LAMPORTS_PER_SOL = 1_000_000_000
RECENT_BLOCKHASHES = 150

AnyTransaction = Transaction | VersionedTransaction
P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    # The issuer's loop, the API and the JSON-RPC endpoint's threads share one LiteSVM.
    @wraps(method)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        chain = args[0]
        assert isinstance(chain, LiteSvmChain)
        with chain.lock:
            return method(*args, **kwargs)

    return locked


class TransactionRefusedError(RevertError):
    """A transaction LiteSVM refused: the reason, the cluster's JSON form of the error, the logs."""

    def __init__(self, reason: str, error: object, logs: Sequence[str] = (), *, tx_hash: str) -> None:
        super().__init__(reason, tx_hash=tx_hash)
        self.error = error
        self.logs = tuple(logs)


class LiteSvmChain(SolanaChain):
    """One LiteSVM instance behind the `SolanaChain` interface."""

    chain_id = SOLANA_LOCAL

    def __init__(self, clock: Clock, snapshot: SvmSnapshot | None = None) -> None:
        self.clock = clock
        self.snapshot = snapshot
        self.lock = threading.RLock()
        self._raw: dict[str, bytes] = {}
        # The age of a blockhash is checked here, against the recent ones, not by LiteSVM (which
        # accepts only the latest).
        self.svm = LiteSVM().with_blockhash_check(False)
        self._landed: dict[str, Landed] = {}
        self._blockhashes = 0  # how many times the blockhash changed since genesis
        if snapshot is not None:
            accounts, saved = snapshot.load()
            for address, account in accounts:
                self.svm.set_account(address, account)
            if saved is not None:
                self.svm.warp_to_slot(saved.slot + 1)
                # LiteSVM's blockhashes follow from genesis. Each start walks one past the last
                # saved, and saves that, so no blockhash a transaction signed before a restart
                # named is ever valid again: what was signed and not sent must be signed anew.
                for _ in range(saved.blockhashes + 1):
                    self.svm.expire_blockhash()
                self._blockhashes = saved.blockhashes + 1
                self._save([])
            self._landed = {landed.signature: landed for landed in snapshot.landed()}
        # Only the latest after a restart: what was signed before it must be signed again.
        self._recent: deque[Hash] = deque([self.svm.latest_blockhash()], maxlen=RECENT_BLOCKHASHES)

    @_locked
    def airdrop(self, to: Pubkey, lamports: int = 10 * LAMPORTS_PER_SOL) -> str:
        """Give `to` lamports (a local chain's faucet); return the transfer's signature, which lands
        like any transaction (its bytes, signed by LiteSVM's faucet, are not kept)."""
        self._stamp()
        outcome = self.svm.airdrop(to, lamports)
        if isinstance(outcome, FailedTransactionMetadata):
            raise RevertError(str(outcome.err()), context=f"airdrop to {to}")
        clock = self.svm.get_clock()
        signature = str(outcome.signature())
        landed = Landed(signature, clock.slot, clock.unix_timestamp, outcome.compute_units_consumed())
        self._landed[signature] = landed
        self._save([to], landed)
        self.svm.warp_to_slot(clock.slot + 1)
        return signature

    # -- SolanaChain

    @_locked
    def latest_blockhash(self) -> Hash:
        return self.svm.latest_blockhash()

    @_locked
    def blockhash_valid(self, blockhash: Hash) -> bool:
        return blockhash in self._recent

    @_locked
    def send_raw(self, transaction: AnyTransaction) -> None:
        """Run the transaction now; raise RevertError (nothing changes) if it fails."""
        self._stamp()
        signature = str(transaction.signatures[0])
        if signature in self._landed:
            raise TransactionRefusedError(
                "AlreadyProcessed: this transaction has landed already", "AlreadyProcessed", tx_hash=signature
            )
        if not self.blockhash_valid(transaction.message.recent_blockhash):
            raise TransactionRefusedError(
                "BlockhashNotFound: the blockhash has expired; sign again",
                "BlockhashNotFound",
                tx_hash=signature,
            )
        outcome = self.svm.send_transaction(transaction)
        if isinstance(outcome, FailedTransactionMetadata):
            error, logs = error_json(outcome.err()), outcome.meta().logs()
            raise TransactionRefusedError(failure_reason(outcome), error, logs, tx_hash=signature)
        clock = self.svm.get_clock()
        landed = Landed(signature, clock.slot, clock.unix_timestamp, outcome.compute_units_consumed())
        self._landed[signature] = landed
        self.svm.expire_blockhash()
        self._blockhashes += 1
        self._recent.append(self.svm.latest_blockhash())
        self._raw[signature] = bytes(transaction)
        self._save(transaction.message.account_keys, landed, self._raw[signature])
        self.svm.warp_to_slot(clock.slot + 1)  # each transaction in a slot of its own, as on a cluster

    @_locked
    def simulate(self, transaction: AnyTransaction) -> Simulated:
        self._stamp()
        outcome = self.svm.simulate_transaction(transaction)
        meta = outcome.meta()
        return Simulated(
            failure_reason(outcome) if isinstance(outcome, FailedTransactionMetadata) else None,
            tuple(meta.logs()),
            meta.compute_units_consumed(),
            bytes(meta.return_data().data),
            error_json(outcome.err()) if isinstance(outcome, FailedTransactionMetadata) else None,
        )

    @_locked
    def landed(self, signature: str) -> Landed | None:
        return self._landed.get(signature)

    @_locked
    def confirmed_transaction(self, signature: str) -> tuple[Landed, VersionedTransaction] | None:
        landed = self._landed.get(signature)
        found = self.transaction(signature)
        if landed is None or landed.error is not None or found is None:
            return None
        return landed, found[0]

    @_locked
    def account(self, address: Pubkey) -> Account | None:
        """Return the whole account at `address` (lamports, owner, data), or None."""
        return self.svm.get_account(address)

    def account_data(self, address: Pubkey) -> bytes | None:
        account = self.account(address)
        return None if account is None else bytes(account.data)

    @_locked
    def lamports(self, address: Pubkey) -> int:
        return self.svm.get_balance(address) or 0

    @_locked
    def rent_exempt(self, space: int) -> int:
        return self.svm.minimum_balance_for_rent_exemption(space)

    @_locked
    def timestamp(self) -> int:
        """Return the chain's unix time: the platform clock's, which the Clock sysvar takes up."""
        self._stamp()
        return self.svm.get_clock().unix_timestamp

    @_locked
    def transaction_count(self) -> int:
        """Return how many transactions have landed since genesis."""
        return len(self._landed)

    @_locked
    def slot(self) -> int:
        return self.svm.get_clock().slot

    @_locked
    def close(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()

    @_locked
    def program_accounts(self, program: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return every account `program` owns."""
        return list(self.svm.get_program_accounts(program))

    @_locked
    def history(self, after_slot: int, until_slot: int) -> list[tuple[Landed, VersionedTransaction]]:
        """Return the confirmed transactions of slots after `after_slot` up to `until_slot`, in order."""
        landed = sorted(
            (t for t in self._landed.values() if after_slot < t.slot <= until_slot), key=lambda t: t.slot
        )
        found = [(t, self.transaction(t.signature)) for t in landed]
        return [(t, tx[0]) for t, tx in found if tx is not None]

    @_locked
    def transaction(self, signature: str) -> tuple[VersionedTransaction, TransactionMetadata | None] | None:
        """Return a confirmed transaction as signed, with its logs if this run saw it land; None if none."""
        raw = self._raw.get(signature)
        if raw is None and self.snapshot is not None:
            raw = self.snapshot.raw_transaction(signature)
        if not raw:  # unknown, or an airdrop (whose bytes LiteSVM does not give)
            return None
        meta = self.svm.get_transaction(Signature.from_string(signature))
        return VersionedTransaction.from_bytes(raw), meta if isinstance(meta, TransactionMetadata) else None

    # -- internals

    def _save(self, addresses: Sequence[Pubkey], landed: Landed | None = None, raw: bytes = b"") -> None:
        if self.snapshot is not None:
            clock = self.svm.get_clock()
            accounts = [(address, self.svm.get_account(address)) for address in addresses]
            self.snapshot.save(accounts, clock.slot, clock.unix_timestamp, self._blockhashes, landed, raw)

    def _stamp(self) -> None:
        clock = self.svm.get_clock()
        clock.unix_timestamp = int(self.clock.now().timestamp())
        self.svm.set_clock(clock)


def failure_reason(outcome: FailedTransactionMetadata) -> str:
    """Return why a transaction failed: the Token program's error by name where it gave one."""
    logs = outcome.meta().logs()
    failure = next((line for line in reversed(logs) if "failed" in line or "Error" in line), None)
    reason = None if failure is None else explain(failure)
    return reason or str(outcome.err())


def error_json(error: object) -> object:
    """Return a transaction error as a cluster's JSON-RPC writes it (`{"InstructionError": [0, {"Custom":
    17}]}`, `"BlockhashNotFound"`, ...), which clients such as solders parse strictly."""
    if isinstance(error, TransactionErrorInstructionError):
        inner = error.err
        if isinstance(inner, InstructionErrorCustom):
            detail: object = {"Custom": inner.code}
        elif isinstance(inner, InstructionErrorBorshIO):
            detail = {"BorshIoError": inner.value}
        else:
            detail = str(inner).rsplit(".", 1)[-1]
        return {"InstructionError": [error.index, detail]}
    if isinstance(error, TransactionErrorInsufficientFundsForRent):
        return {"InsufficientFundsForRent": {"account_index": error.account_index}}
    if isinstance(error, TransactionErrorDuplicateInstruction):
        return {"DuplicateInstruction": error.index}
    return str(error).rsplit(".", 1)[-1]
