"""The transaction outbox: every on-chain transaction is signed and stored before it is broadcast.

A step that needs a transaction calls `Outbox.ensure(purpose, ...)`. The purpose names what the
transaction does (e.g. "mint:<fill id>") and is unique, so however often the step runs, and whatever
crash came before, at most one live transaction exists for it:
- no row yet: sign it with the sender's next nonce, store it, then broadcast it;
- a stored row: broadcast the same bytes again (harmless if the node has them) and read the receipt.
A transaction that was mined but reverted is kept as `failed` with the reason; the step decides whether
to try again under a new attempt number.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.chain.evm import ChainError, ContractFunction, EvmChain, RevertError
from equitoken.store.schema import ChainTransactionRow


class TxStatus(StrEnum):
    SIGNED = "signed"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True)
class TxOutcome:
    """Where a stored transaction stands after the outbox looked at it."""

    purpose: str
    tx_hash: str
    status: TxStatus
    error: str | None

    @property
    def confirmed(self) -> bool:
        return self.status is TxStatus.CONFIRMED

    @property
    def failed(self) -> bool:
        return self.status is TxStatus.FAILED


class Outbox:
    """Sign, store, broadcast and confirm transactions on one chain, exactly once per purpose."""

    def __init__(self, chain: EvmChain, *, receipt_timeout: float = 60.0) -> None:
        self.chain = chain
        self.receipt_timeout = receipt_timeout

    def find(self, session: Session, purpose: str) -> ChainTransactionRow | None:
        """Return the stored transaction for `purpose`, if any."""
        return session.scalars(
            select(ChainTransactionRow).where(ChainTransactionRow.purpose == purpose)
        ).one_or_none()

    def sign(
        self,
        session: Session,
        purpose: str,
        function: ContractFunction,
        *args: object,
        sender: str,
        request_id: str | None,
        now: datetime,
    ) -> ChainTransactionRow:
        """Sign a call of `function` and store it under `purpose`; the caller commits, then `settle`s it.

        Raises `RevertError` (nothing stored) when the node says the call would revert.
        """
        to = function.contract.address
        data = function.encode(*args)
        nonce = self._next_nonce(session, sender)
        signed = self.chain.prepare(to, data, sender=sender, nonce=nonce, context=f"{purpose}")
        row = ChainTransactionRow(
            purpose=purpose,
            request_id=request_id,
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

    def settle(self, row: ChainTransactionRow, now: datetime) -> TxOutcome:
        """Broadcast a stored transaction (again, if need be) and wait for its receipt.

        Updates `row` in memory; the caller persists it in its own transaction together with the
        effect of the confirmation, so a crash in between re-reads the receipt instead of losing it.
        """
        if row.status in (TxStatus.SIGNED, TxStatus.SENT):
            receipt = self.chain.receipt(row.tx_hash)
            if receipt is None:
                self.chain.send_raw(row.raw)
                row.status = TxStatus.SENT
                receipt = self.chain.wait_for_receipt(row.tx_hash, self.receipt_timeout)
            row.block_number = receipt.block_number
            row.confirmed_at = now
            if receipt.succeeded:
                row.status = TxStatus.CONFIRMED
            else:
                row.status = TxStatus.FAILED
                row.error = self._revert_reason(row)
        return TxOutcome(row.purpose, row.tx_hash, TxStatus(row.status), row.error)

    def pending(self, session: Session) -> list[ChainTransactionRow]:
        """Return transactions stored but not yet known to be mined, oldest nonce first."""
        return list(
            session.scalars(
                select(ChainTransactionRow)
                .where(ChainTransactionRow.status.in_([TxStatus.SIGNED, TxStatus.SENT]))
                .where(ChainTransactionRow.chain_id == self.chain.chain_id)
                .order_by(ChainTransactionRow.sender, ChainTransactionRow.nonce)
            )
        )

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

    def _revert_reason(self, row: ChainTransactionRow) -> str:
        # Replaying the call at the block before tells why it reverted.
        block = (row.block_number or 1) - 1
        try:
            self.chain.call_raw(row.to, row.data, sender=row.sender, block=block)
        except RevertError as exc:
            return str(exc)
        except ChainError:  # a chain that keeps no history (in-process) cannot replay the past
            return "reverted (the chain cannot replay it for a reason)"
        return "reverted (no reason given)"
