"""The transaction outbox: every on-chain transaction is signed and stored before it is broadcast.

A step that needs a transaction calls `Outbox.run(purpose, ...)`. The purpose names what the
transaction does (e.g. "mint:<fill id>") and is unique, so however often the step runs, and whatever
crash came before, at most one transaction exists for it:
- no row yet: sign it with the sender's next nonce and store it, then broadcast it;
- a stored row: broadcast the same bytes again unless the node has mined them, and read the receipt.
The receipt's status and the step's effect are written in one database transaction, so the effect is
recorded exactly once. A transaction mined but reverted is kept as `failed` with the reason. Each
transaction names its `owner`, the durable thing it serves ("request:<id>", "corporate-action:<id>",
"withdrawal:<id>", ...), so an operator can list what a request or an action sent.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.crashpoints import checkpoint
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow

RowT = TypeVar("RowT")


class TxStatus(StrEnum):
    SIGNED = "signed"  # stored; maybe broadcast, not known to be mined
    CONFIRMED = "confirmed"
    FAILED = "failed"


_FINAL = (TxStatus.CONFIRMED, TxStatus.FAILED)


@dataclass(frozen=True)
class TxOutcome:
    """Where a stored transaction stands after the outbox looked at it."""

    purpose: str
    tx_hash: str
    status: TxStatus
    error: str | None
    # False when an earlier run already recorded this outcome (and its effect).
    new: bool

    @property
    def confirmed(self) -> bool:
        return self.status is TxStatus.CONFIRMED

    @property
    def failed(self) -> bool:
        return self.status is TxStatus.FAILED


@dataclass(frozen=True)
class EvmCall:
    """A contract call to send as a transaction from `sender`."""

    function: ContractFunction
    args: tuple[object, ...]
    sender: str


def release_failed(session: Session, owner: str) -> list[str]:
    """Free the purposes of `owner`'s reverted transactions (any chain), so a retried step can send again.

    Each keeps its row, renamed `<purpose>:failed:<row id>`: the revert stays on record, and a
    purpose still names at most one transaction that may take effect. Return the purposes freed.
    """
    rows = session.scalars(
        select(ChainTransactionRow)
        .where(ChainTransactionRow.owner == owner, ChainTransactionRow.status == TxStatus.FAILED)
        .where(ChainTransactionRow.purpose.not_like("%:failed:%"))
        .order_by(ChainTransactionRow.id)
        .with_for_update()
    )
    freed = []
    for row in rows:
        freed.append(row.purpose)
        row.purpose = f"{row.purpose}:failed:{row.id}"
    return freed


class StoredTransactions:
    """What every family's outbox reads of the one table of stored transactions."""

    def find(self, session: Session, purpose: str) -> ChainTransactionRow | None:
        """Return the stored transaction for `purpose`, if any."""
        return session.scalars(
            select(ChainTransactionRow).where(ChainTransactionRow.purpose == purpose)
        ).one_or_none()

    def release_failed(self, session: Session, owner: str) -> list[str]:
        """Free the purposes of `owner`'s reverted transactions, so a retried step can send again."""
        return release_failed(session, owner)


def record_on_row(
    purpose: str,
    load: Callable[[Session], RowT],
    on_confirmed: Callable[[Session, RowT], None],
    on_failed: Callable[[Session, RowT, str], None],
) -> Callable[[Session, TxOutcome], None]:
    """Return a `record` that hands a transaction's outcome to the row `load` returns."""

    def record(session: Session, outcome: TxOutcome) -> None:
        row = load(session)
        if outcome.confirmed:
            on_confirmed(session, row)
        else:
            on_failed(session, row, f"{purpose} reverted: {outcome.error}")

    return record


class Outbox(StoredTransactions):
    """Sign, store, broadcast and confirm transactions on one chain, exactly once per purpose."""

    def __init__(self, chain: EvmChain, *, receipt_timeout: float = 60.0) -> None:
        self.chain = chain
        self.receipt_timeout = receipt_timeout

    def sign(
        self,
        session: Session,
        purpose: str,
        function: ContractFunction,
        *args: object,
        sender: str,
        owner: str | None,
        now: datetime,
    ) -> ChainTransactionRow:
        """Sign a call of `function` and store it under `purpose`, in the caller's transaction.

        Raises `RevertError` (nothing stored) when the node says the call would revert.
        """
        to = function.contract.address
        data = function.encode(*args)
        nonce = self._next_nonce(session, sender)
        signed = self.chain.prepare(to, data, sender=sender, nonce=nonce, context=f"{purpose}")
        row = ChainTransactionRow(
            purpose=purpose,
            owner=owner,
            chain_id=self.chain.chain_id,
            sender=signed.sender,
            nonce=nonce,
            to=to,
            data=data,
            raw=signed.raw,
            tx_hash=signed.tx_hash,
            status=TxStatus.SIGNED,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row

    def run(
        self,
        database: Database,
        purpose: str,
        function: ContractFunction,
        args: tuple[object, ...],
        *,
        sender: str,
        owner: str | None,
        now: Callable[[], datetime],
        record: Callable[[Session, TxOutcome], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> TxOutcome:
        """Sign (once), broadcast and confirm the transaction for `purpose`; `record` its effect.

        `record` runs in the database transaction that stores the outcome, and only the first time.
        Raises `RevertError` (nothing stored or sent) when the node says the call would revert.
        """
        with database.transaction() as session:
            row = self.find(session, purpose)
            if row is None:
                row = self.sign(session, purpose, function, *args, sender=sender, owner=owner, now=now())
            session.expunge(row)
        if row.status in _FINAL:
            return TxOutcome(purpose, row.tx_hash, TxStatus(row.status), row.error, new=False)
        receipt = self.chain.receipt(row.tx_hash)
        if receipt is None:
            self.chain.send_raw(row.raw)
            if crash_sent:
                checkpoint(crash_sent)
            receipt = self.chain.wait_for_receipt(row.tx_hash, self.receipt_timeout)
        if crash_mined:
            checkpoint(crash_mined)
        error = None if receipt.succeeded else self._revert_reason(row, receipt.block_number)
        with database.transaction() as session:
            stored = session.get(ChainTransactionRow, row.id, with_for_update=True)
            assert stored is not None
            if stored.status in _FINAL:  # another run recorded it meanwhile
                return TxOutcome(purpose, stored.tx_hash, TxStatus(stored.status), stored.error, new=False)
            stored.status = TxStatus.CONFIRMED if receipt.succeeded else TxStatus.FAILED
            stored.error = error
            stored.block_number = receipt.block_number
            stored.confirmed_at = now()
            outcome = TxOutcome(purpose, stored.tx_hash, TxStatus(stored.status), error, new=True)
            record(session, outcome)
        return outcome

    def run_call(
        self,
        database: Database,
        purpose: str,
        call: EvmCall,
        *,
        owner: str | None,
        now: Callable[[], datetime],
        load: Callable[[Session], RowT],
        on_confirmed: Callable[[Session, RowT], None],
        on_failed: Callable[[Session, RowT, str], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool:
        """Run `call` for `purpose` as `run` does, recording its effect on the row `load` returns, once.

        A revert (mined, or foreseen by the node) goes to `on_failed` with its reason. Return
        whether this call took the step: False when an earlier run had recorded it already.
        """
        try:
            outcome = self.run(
                database,
                purpose,
                call.function,
                call.args,
                sender=call.sender,
                owner=owner,
                now=now,
                record=record_on_row(purpose, load, on_confirmed, on_failed),
                crash_sent=crash_sent,
                crash_mined=crash_mined,
            )
        except RevertError as exc:  # the node says it would revert: nothing was stored or sent
            with database.transaction() as session:
                on_failed(session, load(session), f"{purpose}: {exc}")
            return True
        return outcome.new

    def rebroadcast(self, database: Database) -> None:
        """Broadcast every stored transaction the node has not mined, oldest nonce first.

        A crash can leave signed transactions unsent; the node must have them, in nonce order, before
        any later nonce of the same sender can be mined.
        """
        with database.transaction() as session:
            pending = list(
                session.scalars(
                    select(ChainTransactionRow)
                    .where(ChainTransactionRow.status == TxStatus.SIGNED)
                    .where(ChainTransactionRow.chain_id == self.chain.chain_id)
                    .order_by(ChainTransactionRow.sender, ChainTransactionRow.nonce)
                )
            )
        for row in pending:
            if self.chain.receipt(row.tx_hash) is None:
                self.chain.send_raw(row.raw)

    def _next_nonce(self, session: Session, sender: str) -> int:
        # Stored-but-unmined transactions hold nonces the node may not have seen yet.
        stored = session.scalar(
            select(func.max(ChainTransactionRow.nonce)).where(
                ChainTransactionRow.chain_id == self.chain.chain_id,
                func.lower(ChainTransactionRow.sender) == sender.lower(),
            )
        )
        on_chain = self.chain.nonce(sender, "pending")
        return max(on_chain, -1 if stored is None else stored + 1)

    def _revert_reason(self, row: ChainTransactionRow, block_number: int) -> str:
        # Replaying the call at the block before tells why it reverted.
        block = max(block_number - 1, 0)
        try:
            self.chain.call_raw(row.to, row.data, sender=row.sender, block=block)
        except RevertError as exc:
            return str(exc)
        except ChainError:  # a chain that keeps no history (in-process) cannot replay the past
            return "reverted (the chain cannot replay it for a reason)"
        return "reverted (no reason given)"
