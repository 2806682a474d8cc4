"""Fixtures for the API over a real issuer: the in-process chain, SQLite or PostgreSQL, the paper broker on
replayed prices, the indexer and the liabilities built from it; keys for an operator, two authorised
participants and a retail investor (`Api` and `build_api`: ``tests.support.api``)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.api import Api, build_api
from tests.support.platform import ACCOUNTS, GENESIS, build_platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url


@pytest.fixture(params=["sqlite"])
def api_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "api.sqlite")
    else:
        url = request.getfixturevalue("postgres").create_database()
    db = Database(url)
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def api(api_database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path) -> Api:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    platform = build_platform(chain, api_database, prices, calendar, tmp_path)
    return build_api(platform, api_database, calendar, prices)
