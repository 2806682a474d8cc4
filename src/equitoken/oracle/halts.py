"""Trading halts: while one is in force during the regular session, reporters say HALTED.

A halt runs from `start` until `end`, or until it is lifted when declared open-ended. Declaring the
same halt again (same ticker, start, end and reason) changes nothing, so an operator or a feed of
exchange notices can repeat itself safely; a halt overlapping another of the same ticker is refused.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equitoken.model.errors import EquitokenError
from equitoken.model.time import require_aware
from equitoken.store.database import Database
from equitoken.store.schema import TradingHaltRow

MAX_REASON_LENGTH = 200


class HaltError(EquitokenError, ValueError):
    """A halt that cannot be declared or lifted; the message says why."""

    code = "invalid_halt"


class UnservedTickerError(HaltError):
    """A ticker the halt book does not serve."""

    code = "unknown_ticker"


class HaltConflictError(HaltError):
    """A declaration overlapping another halt of the same ticker."""

    code = "halt_conflict"


class NoHaltError(HaltError):
    """No halt of the ticker is in force at the time given."""

    code = "no_halt"


@dataclass(frozen=True, slots=True)
class Halt:
    """A trading halt of one instrument: from `start`, until `end` (None: until lifted)."""

    ticker: str
    start: datetime
    end: datetime | None
    reason: str

    def covers(self, at: datetime) -> bool:
        """Tell whether the halt is in force at `at`."""
        return self.start <= at and (self.end is None or at < self.end)


class HaltBook:
    """The `trading_halts` table for the instruments in `tickers`."""

    def __init__(self, database: Database, tickers: Iterable[str]) -> None:
        self._database = database
        self.tickers = frozenset(tickers)

    def declare(self, ticker: str, start: datetime, end: datetime | None, reason: str) -> Halt:
        """Record a halt of `ticker` and return it; the same declaration again returns the stored one."""
        self._check_ticker(ticker)
        start = require_aware(start, "halt start")
        end = None if end is None else require_aware(end, "halt end")
        if end is not None and end <= start:
            raise HaltError(
                f"halt of {ticker} ends at {end.isoformat()}, not after its start {start.isoformat()}"
            )
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_LENGTH:
            raise HaltError(f"halt reason must be 1 to {MAX_REASON_LENGTH} characters, not {len(reason)}")
        halt = Halt(ticker, start, end, reason)
        try:
            with self._database.transaction() as session:
                stored = self._existing(session, halt)
                if stored is None:
                    session.add(TradingHaltRow(ticker=ticker, starts_at=start, ends_at=end, reason=reason))
                    return halt
                return stored
        except IntegrityError:
            # Another process declared a halt with the same start in between: the same one or a conflict.
            with self._database.transaction() as session:
                stored = self._existing(session, halt)
                if stored is None:
                    raise
                return stored

    def lift(self, ticker: str, at: datetime) -> Halt:
        """End the halt of `ticker` in force at `at`, from `at` on; return it as it now stands."""
        self._check_ticker(ticker)
        at = require_aware(at, "lift time")
        with self._database.transaction() as session:
            row = self._row_in_force(session, ticker, at)
            if row is None:
                raise NoHaltError(f"no halt of {ticker} is in force at {at.isoformat()}")
            if row.starts_at == at:
                raise HaltError(f"a halt of {ticker} cannot be lifted at its own start {at.isoformat()}")
            row.ends_at = at
            return _halt(row)

    def in_force(self, ticker: str, at: datetime) -> Halt | None:
        """Return the halt of `ticker` in force at `at`, or None."""
        self._check_ticker(ticker)
        at = require_aware(at, "time")
        with self._database.transaction() as session:
            row = self._row_in_force(session, ticker, at)
            return None if row is None else _halt(row)

    def halts(self, ticker: str) -> list[Halt]:
        """Return every halt of `ticker`, oldest first."""
        self._check_ticker(ticker)
        with self._database.transaction() as session:
            rows = session.scalars(
                select(TradingHaltRow)
                .where(TradingHaltRow.ticker == ticker)
                .order_by(TradingHaltRow.starts_at)
            ).all()
            return [_halt(row) for row in rows]

    def _check_ticker(self, ticker: str) -> None:
        if ticker not in self.tickers:
            raise UnservedTickerError(
                f"unknown ticker {ticker!r}; halts are kept for: {', '.join(sorted(self.tickers))}"
            )

    @staticmethod
    def _row_in_force(session: Session, ticker: str, at: datetime) -> TradingHaltRow | None:
        return session.scalars(
            select(TradingHaltRow).where(
                TradingHaltRow.ticker == ticker,
                TradingHaltRow.starts_at <= at,
                or_(TradingHaltRow.ends_at.is_(None), TradingHaltRow.ends_at > at),
            )
        ).first()

    @staticmethod
    def _existing(session: Session, halt: Halt) -> Halt | None:
        # The stored halt this declaration repeats (an open-ended one may have been lifted since), or
        # None when there is none; a halt overlapping it otherwise is a conflict.
        conditions = [
            TradingHaltRow.ticker == halt.ticker,
            or_(TradingHaltRow.ends_at.is_(None), TradingHaltRow.ends_at > halt.start),
        ]
        if halt.end is not None:
            conditions.append(TradingHaltRow.starts_at < halt.end)
        overlapping = [_halt(row) for row in session.scalars(select(TradingHaltRow).where(*conditions)).all()]
        for stored in overlapping:
            repeated = stored.start == halt.start and stored.reason == halt.reason
            if repeated and halt.end in (None, stored.end):
                return stored
        if overlapping:
            raise HaltConflictError(f"halt {_describe(halt)} overlaps the halt {_describe(overlapping[0])}")
        return None


def _halt(row: TradingHaltRow) -> Halt:
    return Halt(row.ticker, row.starts_at, row.ends_at, row.reason)


def _describe(halt: Halt) -> str:
    until = halt.end.isoformat() if halt.end is not None else "lifted"
    return f"of {halt.ticker} from {halt.start.isoformat()} until {until} ({halt.reason})"
