"""The migrations build exactly the schema the code declares, on SQLite and on a real PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import Base, InvestorRow


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "store.sqlite")
    else:
        url = request.getfixturevalue("postgres").create_database()
    db = Database(url)
    yield db
    db.close()


def test_migrations_match_the_declared_schema(database: Database) -> None:
    database.migrate()
    database.migrate()  # a second run finds nothing to do

    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_times_come_back_aware_in_utc(database: Database) -> None:
    database.migrate()
    paris = timezone(timedelta(hours=1))
    expiry = datetime(2027, 1, 2, 10, 30, tzinfo=paris)
    with database.transaction() as session:
        session.add(
            InvestorRow(
                id="inv-1",
                onchain_id=1,
                name="A",
                jurisdiction="FR",
                category="retail",
                accredited=False,
                kyc_status="approved",
                kyc_expires_at=expiry,
                created_at=datetime.now(UTC),
            )
        )
    with database.transaction() as session:
        stored = session.scalars(select(InvestorRow)).one()

    assert stored.kyc_expires_at == expiry
    assert stored.kyc_expires_at.utcoffset() == timedelta(0)


def test_naive_time_is_refused(database: Database) -> None:
    database.migrate()
    with pytest.raises(Exception, match="naive datetime"), database.transaction() as session:
        session.add(
            InvestorRow(
                id="inv-1",
                onchain_id=1,
                name="A",
                jurisdiction="FR",
                category="retail",
                accredited=False,
                kyc_status="approved",
                kyc_expires_at=datetime(2027, 1, 1),
                created_at=datetime.now(UTC),
            )
        )
    with database.transaction() as session:
        assert session.scalars(select(InvestorRow)).all() == []


def test_failed_transaction_leaves_no_half_written_rows(database: Database) -> None:
    database.migrate()
    with pytest.raises(RuntimeError), database.transaction() as session:  # noqa: PT012
        session.add(
            InvestorRow(
                id="inv-1",
                onchain_id=1,
                name="A",
                jurisdiction="FR",
                category="retail",
                accredited=False,
                kyc_status="approved",
                kyc_expires_at=datetime(2027, 1, 1, tzinfo=UTC),
                created_at=datetime.now(UTC),
            )
        )
        session.flush()
        raise RuntimeError("crash after the first write")
    with database.transaction() as session:
        assert session.scalars(select(InvestorRow)).all() == []
