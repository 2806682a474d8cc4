"""Simulation runs: the finished `equitoken simulate` runs in the platform's database, for operators."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import AwareDatetime, BaseModel

from equitoken.api.deps import ContextDep, OperatorDep
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.store.simulation_runs import SimulationRun, SimulationRuns, UnknownSimulationRunError

router = APIRouter(tags=["simulations"])

MAX_RUNS = 50


class SimulationRunOut(BaseModel):
    """A finished run: what it was asked for, when it ran, and its totals."""

    id: int
    seed: int
    agents: int
    week: str
    days: int
    started_at: AwareDatetime
    finished_at: AwareDatetime
    actions: int
    refused: int

    @classmethod
    def of(cls, run: SimulationRun) -> "SimulationRunOut":
        totals = run.report.get("totals", {})
        return cls(
            id=run.id,
            seed=run.seed,
            agents=run.agents,
            week=run.week.isoformat(),
            days=int(run.parameters.get("days", 7)),
            started_at=run.started_at,
            finished_at=run.finished_at,
            actions=int(totals.get("actions", 0)),
            refused=int(totals.get("refused", 0)),
        )


class SimulationReportOut(SimulationRunOut):
    """A finished run with its whole report (docs/simulation.md describes its figures)."""

    report: dict[str, Any]


async def get_runs(context: ContextDep) -> SimulationRuns:
    return SimulationRuns(context.database)


RunsDep = Annotated[SimulationRuns, Depends(get_runs)]


@router.get("/simulations", responses=problem_responses(403))
def list_simulations(_operator: OperatorDep, runs: RunsDep) -> list[SimulationRunOut]:
    """List the latest finished simulation runs, newest first."""
    return [SimulationRunOut.of(run) for run in runs.list(MAX_RUNS)]


@router.get("/simulations/{run_id}", responses=problem_responses(403, 404))
def get_simulation(
    _operator: OperatorDep, runs: RunsDep, run_id: Annotated[int, Path(ge=1, le=2**62)]
) -> SimulationReportOut:
    """Return one finished run with its report."""
    try:
        run = runs.get(run_id)
    except UnknownSimulationRunError as error:
        raise ProblemError(404, error.code, error.message) from None
    return SimulationReportOut(**SimulationRunOut.of(run).model_dump(), report=run.report)
