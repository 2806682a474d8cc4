"""Settings and fixtures shared by the whole suite."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from equitoken.store.database import Database, sqlite_url
from equitoken.store.postgres import EmbeddedPostgres

# Long random runs in CI, quicker ones while developing; both stay well
# inside the suite's time budget.
settings.register_profile(
    "ci", max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev",
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL server for the session (per xdist worker); tests create their own databases."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of each kind: an SQLite file, and a fresh database on the real server."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "equitoken.sqlite")
    else:
        url = request.getfixturevalue("postgres").create_database()
    db = Database(url)
    db.migrate()
    yield db
    db.close()
