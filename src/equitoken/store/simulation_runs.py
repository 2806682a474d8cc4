"""Finished simulation runs, kept so the dashboard can show them (`equitoken simulate` records each)."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from equitoken.model.errors import EquitokenError
from equitoken.model.time import require_aware
from equitoken.store.database import Database
from equitoken.store.schema import SimulationRunRow

__all__ = ["SimulationRun", "SimulationRuns", "UnknownSimulationRunError"]


class UnknownSimulationRunError(EquitokenError, LookupError):
    """No simulation run has the id asked for."""

    code = "unknown_simulation_run"


@dataclass(frozen=True)
class SimulationRun:
    """One finished run: its seed, population and week, when it ran, and its report."""

    id: int
    seed: int
    agents: int
    week: date
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime
    report: dict[str, Any]

    @classmethod
    def of(cls, row: SimulationRunRow) -> "SimulationRun":
        """Return the run a row holds."""
        return cls(
            row.id,
            row.seed,
            row.agents,
            row.week,
            json.loads(row.parameters),
            row.started_at,
            row.finished_at,
            json.loads(row.report),
        )


class SimulationRuns:
    """Record finished runs and read them back, newest first."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        *,
        seed: int,
        agents: int,
        week: date,
        parameters: dict[str, Any],
        started_at: datetime,
        finished_at: datetime,
        report: dict[str, Any],
    ) -> SimulationRun:
        """Store a finished run and return it with its id."""
        started_at = require_aware(started_at, "started_at")
        finished_at = require_aware(finished_at, "finished_at")
        if finished_at < started_at:
            raise ValueError(f"the run finished ({finished_at}) before it started ({started_at})")
        row = SimulationRunRow(
            seed=seed,
            agents=agents,
            week=week,
            parameters=json.dumps(parameters, sort_keys=True),
            started_at=started_at,
            finished_at=finished_at,
            report=json.dumps(report),
        )
        with self.database.transaction() as session:
            session.add(row)
            session.flush()
            return SimulationRun.of(row)

    def list(self, limit: int = 50) -> list[SimulationRun]:
        """Return up to `limit` runs, the latest finished first."""
        query = select(SimulationRunRow).order_by(
            SimulationRunRow.finished_at.desc(), SimulationRunRow.id.desc()
        )
        with self.database.transaction() as session:
            return [SimulationRun.of(row) for row in session.scalars(query.limit(limit))]

    def get(self, run_id: int) -> SimulationRun:
        """Return run `run_id`, or raise `UnknownSimulationRunError`."""
        with self.database.transaction() as session:
            row = session.get(SimulationRunRow, run_id)
            if row is None:
                raise UnknownSimulationRunError(f"no simulation run has id {run_id}")
            return SimulationRun.of(row)

    def latest(self) -> SimulationRun | None:
        """Return the run that finished last, or None before any."""
        runs = self.list(limit=1)
        return runs[0] if runs else None
