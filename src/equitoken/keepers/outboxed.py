"""A keeper's transactions, stored and finished through the durable outbox.

Every transaction a keeper sends is an outbox row whose purpose starts with the keeper's `_prefix`
and ":" and names a ticker as its fourth part. Each tick first finishes the rows an earlier run
stored and did not see mined (`_finish_stored`), then sends new ones (`_send`), and reports each
ticker it left alone in a `Tick`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from equitoken.chain.errors import RevertError, TransactionTimeoutError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract, ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome, TxStatus
from equitoken.keepers.rules import Refusal, RefusalReason, RefusedError
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow

__all__ = ["OutboxedKeeper", "Tick"]

_log = logging.getLogger(__name__)


@dataclass
class Tick:
    """The refusals of one tick of `keeper` so far, each logged as it comes."""

    keeper: str
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, ticker: str, refused: RefusedError) -> None:
        """Report `ticker` left alone this tick, for the reason `refused` gives."""
        _log.info("%s leaves %s alone: %s (%s)", self.keeper, ticker, refused.detail, refused.reason)
        self.refusals.append(Refusal(ticker, refused.reason, refused.detail))


class OutboxedKeeper:
    """A keeper that sends from `account` through `outbox`, storing each transaction as `owner`."""

    _prefix: str  # every purpose of the keeper starts with it and ":"

    def __init__(
        self,
        chain: EvmChain,
        account: str,
        database: Database,
        clock: Clock,
        outbox: Outbox | None,
        owner: str,
    ) -> None:
        self.chain = chain
        self.account = chain.signers.get(account).address
        self.db = database
        self.clock = clock
        self.outbox = outbox or Outbox(chain)
        self._owner = owner

    def _rows(self, prefix: str | None = None) -> list[ChainTransactionRow]:
        """Return this keeper's stored transactions whose purpose starts with `prefix` (all of them by
        default), oldest first."""
        with self.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(ChainTransactionRow)
                    .where(
                        ChainTransactionRow.purpose.startswith(prefix or self._prefix + ":", autoescape=True)
                    )
                    .order_by(ChainTransactionRow.id)
                )
            )
            for row in rows:
                session.expunge(row)
        return rows

    def _finish_stored(
        self,
        tick: Tick,
        function: Callable[[str], ContractFunction],
        finished: Callable[[str, str], None],
        *,
        refused: RefusalReason = RefusalReason.VENUE_REFUSED,
        crash_sent: str | None = None,
    ) -> None:
        """Broadcast every transaction stored by an earlier run and not known mined, record its outcome,
        and pass the purpose and hash of each it confirms to `finished`."""
        self.outbox.rebroadcast(self.db)
        for row in self._rows():
            if row.status != TxStatus.SIGNED:
                continue
            part = row.purpose.split(":")[3]
            ticker = "" if part == "approve" else part
            try:
                # The stored row carries its own call: `function(ticker)` only signs new rows.
                outcome = self._run(row.purpose, function(ticker), (), crash_sent, refused)
                if outcome.new and outcome.confirmed:
                    finished(row.purpose, outcome.tx_hash)
            except RefusedError as refusal:
                tick.refuse(ticker, refusal)

    def _send(
        self,
        purpose: str,
        function: ContractFunction,
        args: tuple[object, ...],
        crash_sent: str | None = None,
        refused: RefusalReason = RefusalReason.VENUE_REFUSED,
    ) -> TxOutcome:
        """Run the transaction for `purpose`; raise RefusedError(`refused`) unless it is confirmed."""
        outcome = self._run(purpose, function, args, crash_sent, refused)
        if not outcome.confirmed:
            raise RefusedError(refused, f"{purpose} reverted: {outcome.error}")
        return outcome

    def _run(
        self,
        purpose: str,
        function: ContractFunction,
        args: tuple[object, ...],
        crash_sent: str | None,
        refused: RefusalReason,
    ) -> TxOutcome:
        try:
            return self.outbox.run(
                self.db,
                purpose,
                function,
                args,
                sender=self.account,
                owner=self._owner,
                now=self.clock.now,
                record=lambda _session, _outcome: None,
                crash_sent=crash_sent,
            )
        except RevertError as exc:  # the node says it would revert: nothing was stored or sent
            raise RefusedError(refused, f"{purpose} would revert: {exc.reason or exc}") from None
        except TransactionTimeoutError:  # stored and sent: the next tick finishes it
            raise RefusedError(RefusalReason.IN_FLIGHT, f"{purpose} is sent but not mined yet") from None

    def _events(self, tx_hash: str, contract: Contract) -> dict[str, dict[str, Any]]:
        receipt = self.chain.receipt(tx_hash)
        if receipt is None:
            raise RefusedError(RefusalReason.IN_FLIGHT, f"transaction {tx_hash} is not mined yet")
        return {e.name: dict(e.args) for e in contract.decode_logs(receipt)}
