"""The outbox for Solana: every transaction is signed and stored before it is sent, once per purpose.

The same table and the same promise as the EVM outbox (`outbox`), with Solana's way of making a
transaction unique: no nonce, but a recent blockhash. A stored transaction is looked up by its
signature; if it has not landed and its blockhash has expired it never can, so the same work is
signed again with a fresh blockhash and the row is replaced (its purpose still names one
transaction that may take effect). Until then the same bytes are sent again, which the cluster
refuses to run twice.
"""

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.transaction import Transaction
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.chain.confirmation import wait_for
from equitoken.chain.errors import RevertError, TransactionTimeoutError
from equitoken.chain.solana.chain import SolanaChain
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.outbox import StoredTransactions, TxOutcome, TxStatus, record_on_row
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class SolanaCall:
    """Instructions to run in one transaction, paid by `payer` and signed by those of `signers` needed."""

    instructions: Sequence[Instruction]
    payer: Keypair
    signers: Sequence[Keypair] = ()


class SolanaOutbox(StoredTransactions):
    """Sign, store, send and confirm Solana transactions, exactly once per purpose."""

    def __init__(self, chain: SolanaChain, *, landing_timeout: float = 60.0) -> None:
        self.chain = chain
        self.landing_timeout = landing_timeout

    def run(
        self,
        database: Database,
        purpose: str,
        call: SolanaCall,
        *,
        owner: str | None,
        now: Callable[[], datetime],
        record: Callable[[Session, TxOutcome], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> TxOutcome:
        """Sign (once), send and confirm `call` for `purpose`; `record` its outcome, the first time only,
        in the database transaction that stores it."""
        with database.transaction() as session:
            row = self.find(session, purpose)
            signed_now = row is None
            if row is None:
                row = self._store(session, purpose, call, owner, now())
            session.expunge(row)
        if signed_now:
            checkpoint("solana_signed")
        if row.status in (TxStatus.CONFIRMED, TxStatus.FAILED):
            return outcome_of(row)
        landed = self.chain.landed(row.tx_hash)
        error: str | None = None
        if landed is None:
            transaction = Transaction.from_bytes(row.raw)
            # Expired first, then still not landed: it never can (asked the other way round, it could
            # land between the two questions).
            expired = not self.chain.blockhash_valid(transaction.message.recent_blockhash)
            if expired and self.chain.landed(row.tx_hash) is None:
                # The work is still to do, under a new signature.
                transaction = self._resign(database, row.id, call)
            try:
                self.chain.send_raw(transaction)
            except RevertError as exc:
                # Refused, unless it is refused because it landed meanwhile (AlreadyProcessed).
                landed = self.chain.landed(str(transaction.signatures[0]))
                error = None if landed is not None else str(exc)
            else:
                if crash_sent:
                    checkpoint(crash_sent)
                signature = str(transaction.signatures[0])
                landed = wait_for(lambda: self.chain.landed(signature), self.landing_timeout)
                if landed is None:
                    raise TransactionTimeoutError(signature, self.landing_timeout)
        if crash_mined:
            checkpoint(crash_mined)
        if landed is not None:
            error = landed.error
        with database.transaction() as session:
            stored = session.get(ChainTransactionRow, row.id, with_for_update=True)
            assert stored is not None
            if stored.status in (TxStatus.CONFIRMED, TxStatus.FAILED):  # another run recorded it
                return outcome_of(stored)
            stored.status = TxStatus.FAILED if error is not None else TxStatus.CONFIRMED
            stored.error = error
            stored.block_number = None if landed is None else landed.slot
            stored.confirmed_at = now()
            outcome = TxOutcome(purpose, stored.tx_hash, TxStatus(stored.status), error, new=True)
            record(session, outcome)
        return outcome

    def run_call(
        self,
        database: Database,
        purpose: str,
        call: SolanaCall,
        *,
        owner: str | None,
        now: Callable[[], datetime],
        load: Callable[[Session], RowT],
        on_confirmed: Callable[[Session, RowT], None],
        on_failed: Callable[[Session, RowT, str], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool:
        """Run `call` as `run` does, recording its effect on the row `load` returns, once; return
        whether this call recorded it (False: an earlier run had)."""

        outcome = self.run(
            database,
            purpose,
            call,
            owner=owner,
            now=now,
            record=record_on_row(purpose, load, on_confirmed, on_failed),
            crash_sent=crash_sent,
            crash_mined=crash_mined,
        )
        return outcome.new

    def rebroadcast(self, database: Database) -> None:
        """Send again every stored transaction of this chain that has not landed and still can."""
        with database.transaction() as session:
            pending = list(
                session.scalars(
                    select(ChainTransactionRow)
                    .where(ChainTransactionRow.status == TxStatus.SIGNED)
                    .where(ChainTransactionRow.chain_id == self.chain.chain_id)
                    .order_by(ChainTransactionRow.id)
                )
            )
        for row in pending:
            transaction = Transaction.from_bytes(row.raw)
            if self.chain.landed(row.tx_hash) is None and self.chain.blockhash_valid(
                transaction.message.recent_blockhash
            ):
                # A refusal is seen and recorded by the transaction's step when it runs.
                with suppress(RevertError):
                    self.chain.send_raw(transaction)

    # -- internals

    def _store(
        self, session: Session, purpose: str, call: SolanaCall, owner: str | None, now: datetime
    ) -> ChainTransactionRow:
        transaction = self._sign(call, purpose)
        payer = str(call.payer.pubkey())
        last = session.scalar(
            select(func.max(ChainTransactionRow.nonce)).where(
                ChainTransactionRow.chain_id == self.chain.chain_id, ChainTransactionRow.sender == payer
            )
        )
        row = ChainTransactionRow(
            purpose=purpose,
            owner=owner,
            chain_id=self.chain.chain_id,
            sender=payer,
            # Solana has no nonce: the payer's transactions are numbered in the order they were stored.
            nonce=0 if last is None else last + 1,
            to=str(call.instructions[0].program_id),
            data=bytes(transaction.message),
            raw=bytes(transaction),
            tx_hash=str(transaction.signatures[0]),
            status=TxStatus.SIGNED,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row

    def _sign(self, call: SolanaCall, purpose: str) -> Transaction:
        return self.chain.sign(call.instructions, call.payer, *call.signers, context=purpose)

    def _resign(self, database: Database, row_id: int, call: SolanaCall) -> Transaction:
        with database.transaction() as session:
            row = session.get(ChainTransactionRow, row_id, with_for_update=True)
            assert row is not None
            transaction = self._sign(call, row.purpose)
            row.data, row.raw = bytes(transaction.message), bytes(transaction)
            row.tx_hash = str(transaction.signatures[0])
        checkpoint("solana_resigned")
        return transaction


def outcome_of(row: ChainTransactionRow) -> TxOutcome:
    """Return a stored transaction's outcome as the EVM outbox reports it."""
    return TxOutcome(row.purpose, row.tx_hash, TxStatus(row.status), row.error, new=False)
