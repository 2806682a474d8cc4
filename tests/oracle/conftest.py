"""Fixtures for the oracle: a real database (SQLite or PostgreSQL), the NYSE calendar, replayed prices."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "oracle.sqlite")
    else:
        url = request.getfixturevalue("postgres").create_database()
    db = Database(url)
    db.migrate()
    yield db
    db.close()


@pytest.fixture(scope="session")
def calendar() -> MarketCalendar:
    return MarketCalendar("XNYS")


@pytest.fixture(scope="session")
def prices(calendar: MarketCalendar) -> ReplayPriceSource:
    return ReplayPriceSource.default(calendar)
