"""Short comparisons shared by the module's tests (a full default run is the committed example in
docs/compare/, not a test): the two sessions from NFLX's split through the next day's round trips with
the AMM, the attestation mint, the perp and the CFD; and a weekend, Friday to Monday, with the perp
and the CFD."""

from datetime import date
from pathlib import Path

import pytest

from equitoken.comparison.probes.amm import AmmProbe
from equitoken.comparison.probes.attestation import AttestationProbe
from equitoken.comparison.probes.cfd import CfdProbe
from equitoken.comparison.probes.perp import PerpProbe
from equitoken.comparison.runner import Parameters, Run, run_comparison
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource


@pytest.fixture(scope="session")
def split_run(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Run:
    directory: Path = tmp_path_factory.mktemp("compare-split")
    return run_comparison(
        Parameters(date(2025, 11, 17), date(2025, 11, 18)),
        probes=[AmmProbe(), AttestationProbe(), PerpProbe(), CfdProbe()],
        directory=directory,
        prices=prices,
        calendar=calendar,
    )


@pytest.fixture(scope="session")
def weekend_run(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Run:
    return run_comparison(
        Parameters(date(2025, 11, 21), date(2025, 11, 24), ("MSFT",)),
        probes=[PerpProbe(), CfdProbe()],
        directory=tmp_path_factory.mktemp("compare-weekend"),
        prices=prices,
        calendar=calendar,
    )
