"""The step machine: advance durable rows (a request, a corporate action, a withdrawal) one recorded
step at a time, so that a process killed between any two steps loses nothing and repeats nothing.

A row's state names the step that takes it further. Each step reads the row, does one thing, and
records that thing's effect in the same database transaction as the row's new state; what lives
outside the database is made idempotent (broker orders by client order id, transactions through the
outbox under a unique purpose). So after a restart, `process` reruns the step a row was in and finds
the work already done. Every move between states leaves an event row: the audit trail.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import EvmCall, Outbox
from equitoken.model.time import Clock
from equitoken.store.database import Database


class StepState(Protocol):
    """A row's state: its stored value, and whether the row has ended."""

    @property
    def value(self) -> str: ...

    @property
    def is_final(self) -> bool: ...


class CallOutbox(Protocol):
    """An outbox of any chain family: it runs a call built beforehand, and sends again what is pending."""

    def rebroadcast(self, database: Database) -> None: ...

    def run_call(
        self,
        database: Database,
        purpose: str,
        call: Any,
        *,
        owner: str | None,
        now: Callable[[], datetime],
        load: Callable[[Session], Any],
        on_confirmed: Callable[[Session, Any], None],
        on_failed: Callable[[Session, Any, str], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool: ...


RowT = TypeVar("RowT")
"""A table's row with `id`, `state`, `updated_at` and `reason` columns."""
Step = Callable[[str], bool]
"""Take the row with this id one step further; return whether anything was done."""


class StepMachine(ABC, Generic[RowT]):
    """Advance the open rows of one table through their steps, each recorded once."""

    row_type: type[RowT]
    owner_kind: str
    """How the outbox names the owner of a row's transactions: `<owner_kind>:<row id>`."""

    def __init__(self, database: Database, outbox: Outbox | None, clock: Clock) -> None:
        self.db = database
        self._outbox = outbox
        self.clock = clock

    @property
    def outbox(self) -> Outbox:
        """Return the outbox the rows' transactions go through; raise for a machine that sends none."""
        if self._outbox is None:
            raise RuntimeError(f"{type(self).__name__} sends no transactions: it has no outbox")
        return self._outbox

    # -- what each machine supplies

    @abstractmethod
    def open_ids(self, session: Session) -> list[str]:
        """Return the ids of the rows not ended, in the order they advance."""

    @abstractmethod
    def step_for(self, row: RowT) -> Step | None:
        """Return the step that takes `row` further from its state; None once it has ended."""

    def outboxes(self) -> Sequence[CallOutbox]:
        """Return the outboxes whose pending transactions `process` sends again first."""
        return [] if self._outbox is None else [self._outbox]

    def event(self, row: RowT, at: datetime, to_state: str, reason: str) -> object | None:
        """Return the audit row that records `row` moving to `to_state` (or staying, for a note); None
        for a table that keeps its outcome on the row alone."""
        return None

    # -- the loop

    def process(self) -> int:
        """Advance every open row as far as it can go now; return how many steps were taken."""
        for outbox in self.outboxes():
            outbox.rebroadcast(self.db)
        with self.db.transaction() as session:
            ids = self.open_ids(session)
        return sum(self.advance(row_id) for row_id in ids)

    def advance(self, row_id: str) -> int:
        """Take the row's steps until one does nothing; return how many were taken."""
        steps = 0
        while self.step(row_id):
            steps += 1
        return steps

    def step(self, row_id: str) -> bool:
        """Take the row's next step, if it has one; return whether anything was done."""
        with self.db.transaction() as session:
            step = self.step_for(self.load(session, row_id, lock=False))
        return False if step is None else step(row_id)

    # -- what the steps share

    def now(self) -> datetime:
        return self.clock.now()

    def load(self, session: Session, row_id: str, *, lock: bool = True) -> RowT:
        """Return the row, locked for the transaction unless `lock` is False."""
        row = session.get(self.row_type, row_id, with_for_update=lock)
        if row is None:
            raise LookupError(f"no {self.row_type.__name__} {row_id!r}")
        return row

    def move(self, session: Session, row: RowT, to: StepState, reason: str) -> None:
        """Move `row` to state `to` and record why; an ending's reason stays on the row."""
        now = self.now()
        self._record(session, self.event(row, now, to.value, reason))
        stepped: Any = row  # every stepped table has these columns; the ORM types them per table
        stepped.state = to.value
        stepped.updated_at = now
        if to.is_final:
            stepped.reason = reason

    def moves_to(self, to: StepState, why: str) -> Callable[[Session, RowT, str], None]:
        """Return an `on_failed` for `transact` that moves the row to `to`, saying `why`: <revert>."""

        def failed(session: Session, row: RowT, reason: str) -> None:
            self.move(session, row, to, f"{why}: {reason}")

        return failed

    def note(self, session: Session, row: RowT, reason: str) -> None:
        """Record an event that keeps the row's state (a fill, a mint, a cancellation asked)."""
        stepped: Any = row
        self._record(session, self.event(row, self.now(), stepped.state, reason))

    @staticmethod
    def _record(session: Session, event: object | None) -> None:
        if event is not None:
            session.add(event)

    def owner(self, row_id: str) -> str:
        return f"{self.owner_kind}:{row_id}"

    def transact(
        self,
        row_id: str,
        purpose: str,
        function: ContractFunction,
        args: tuple[Any, ...],
        sender: str,
        on_confirmed: Callable[[Session, RowT], None],
        on_failed: Callable[[Session, RowT, str], None],
        *,
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool:
        """Run one transaction through the outbox and record its effect on the row, once."""
        call = EvmCall(function, args, sender)
        return self.transact_call(
            self.outbox,
            row_id,
            purpose,
            call,
            on_confirmed,
            on_failed,
            crash_sent=crash_sent,
            crash_mined=crash_mined,
        )

    def transact_call(
        self,
        outbox: CallOutbox,
        row_id: str,
        purpose: str,
        call: object,
        on_confirmed: Callable[[Session, RowT], None],
        on_failed: Callable[[Session, RowT, str], None],
        *,
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool:
        """Run `call` (built for `outbox`'s chain family) and record its effect on the row, once."""
        return outbox.run_call(
            self.db,
            purpose,
            call,
            owner=self.owner(row_id),
            now=self.now,
            load=lambda session: self.load(session, row_id),
            on_confirmed=on_confirmed,
            on_failed=on_failed,
            crash_sent=crash_sent,
            crash_mined=crash_mined,
        )
