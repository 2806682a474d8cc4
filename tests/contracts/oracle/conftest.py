"""Fixtures for the oracle feeds: compiled sources, actors by role, reporters, deployed feeds.

Rounds are signed and pushed with `transmit` from ``tests.support.contracts.oracle``.
"""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import (
    QUORUM,
    REPORTER_COUNT,
    RESERVE_DECIMALS,
    by_address,
    deploy_price_feed,
    reporter_key,
)

from equitoken.chain.evm.artifacts import contract_path


@pytest.fixture(scope="session")
def price_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))


@pytest.fixture(scope="session")
def reserve_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/ReserveFeed.vy")))


@pytest.fixture(scope="session")
def consumer_deployer() -> Any:
    return boa.load_partial(str(contract_path("mocks/FeedConsumer.vy")))


@pytest.fixture(scope="module")
def admin() -> Any:
    return boa.env.generate_address("admin")


@pytest.fixture(scope="module")
def updater() -> Any:
    return boa.env.generate_address("updater")


@pytest.fixture(scope="module")
def non_updater() -> Any:
    return boa.env.generate_address("non_updater")


@pytest.fixture(scope="module")
def transmitter() -> Any:
    """Whoever relays a signed round: anyone may."""
    return boa.env.generate_address("transmitter")


@pytest.fixture(scope="session")
def reporter_accounts() -> list[LocalAccount]:
    """The feed's reporters, sorted by address; `price_feed` needs `QUORUM` of them."""
    return by_address([reporter_key(i) for i in range(REPORTER_COUNT)])


@pytest.fixture(scope="session")
def outsider_account() -> LocalAccount:
    """A key that is no reporter of any feed."""
    return reporter_key(REPORTER_COUNT + 100)


@pytest.fixture
def price_feed(price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount]) -> Any:
    """A share price feed (no token): 4 reporters, quorum 3, Backed's default bounds."""
    return deploy_price_feed(price_feed_deployer, admin, reporter_accounts, QUORUM)


@pytest.fixture(scope="module")
def reserve_feed(reserve_feed_deployer: Any, admin: Any, updater: Any) -> Any:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(RESERVE_DECIMALS, "bAAPL reserves")
        feed.grantRole(feed.UPDATER_ROLE(), updater)
    return feed


@pytest.fixture(params=["price", "reserve"])
def any_feed(request: pytest.FixtureRequest) -> Any:
    """Each feed in turn, for behaviour the two share."""
    return request.getfixturevalue(f"{request.param}_feed")
