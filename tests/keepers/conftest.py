"""The replayed week, run once for every keeper test that reads it."""

from collections.abc import Iterator

import pytest
from tests.keepers.week import Market, Week, close, run_week


@pytest.fixture(scope="session")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    replay = run_week(tmp_path_factory.mktemp("keeper-week"))
    yield replay
    close(replay.market)


@pytest.fixture
def after_week(week: Week) -> Iterator[Market]:
    """The week's market, its chain put back after the test (the exchange is not rewound)."""
    snapshot = week.market.chain.snapshot()
    yield week.market
    week.market.chain.revert_to(snapshot)
