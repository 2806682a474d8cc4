"""Fixtures of the attestation tests: an in-process chain and an SQLite database (the desk adds no
database-specific SQL; the workflow's tests cover PostgreSQL)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.platform import ACCOUNTS, GENESIS

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.store.database import Database, sqlite_url


@pytest.fixture
def inproc_chain() -> InProcessChain:
    return InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(sqlite_url(tmp_path / "equitoken.sqlite"))
    db.migrate()
    yield db
    db.close()
