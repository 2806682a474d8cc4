"""Settings and fixtures shared by the whole suite: the databases, the EVM chains an issuer runs on (in
process and on a real anvil node), the NYSE calendar and the replayed prices."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
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


@pytest.fixture(scope="session")
def shared_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    log_file = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilNode(accounts=ACCOUNTS, log_file=log_file, timestamp=GENESIS) as node:
        yield node


@pytest.fixture(params=["inproc", pytest.param("anvil", marks=pytest.mark.anvil)])
def evm_chain(request: pytest.FixtureRequest) -> Iterator[EvmChain]:
    signers = SignerRegistry.anvil(ACCOUNTS)
    if request.param == "inproc":
        from equitoken.chain.evm.inprocess import InProcessChain

        yield InProcessChain(signers, genesis_timestamp=GENESIS)
        return
    node: AnvilNode = request.getfixturevalue("shared_anvil")
    # Each test starts from the same empty chain, and a new client so no nonce is cached.
    setup = node.chain()
    snapshot = setup.snapshot()
    with node.chain() as chain:
        chain.signers = signers
        yield chain
    setup.revert_to(snapshot)
    setup.close()


@pytest.fixture(scope="session")
def calendar() -> MarketCalendar:
    return MarketCalendar("XNYS")


@pytest.fixture(scope="session")
def prices(calendar: MarketCalendar) -> ReplayPriceSource:
    return ReplayPriceSource.default(calendar)


@pytest.fixture
def platform(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    """An issuer wired by the platform's builder on the test's chain and database."""
    return build_platform(evm_chain, database, prices, calendar, tmp_path)
