"""Fixtures for the oracle feeds: compiled sources, actors by role, deployed feeds."""

from typing import Any

import boa
import pytest

from equitoken.chain.artifacts import contract_path

PRICE_DECIMALS = 8
RESERVE_DECIMALS = 18


@pytest.fixture(scope="session")
def price_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))


@pytest.fixture(scope="session")
def reserve_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/ReserveFeed.vy")))


@pytest.fixture(scope="session")
def consumer_deployer() -> Any:
    return boa.load_partial(str(contract_path("mocks/FeedConsumer.vy")))


@pytest.fixture
def admin() -> Any:
    return boa.env.generate_address("admin")


@pytest.fixture
def updater() -> Any:
    return boa.env.generate_address("updater")


@pytest.fixture
def non_updater() -> Any:
    return boa.env.generate_address("non_updater")


@pytest.fixture
def price_feed(price_feed_deployer: Any, admin: Any, updater: Any) -> Any:
    with boa.env.prank(admin):
        feed = price_feed_deployer.deploy(PRICE_DECIMALS, "AAPL / USD")
        feed.grantRole(feed.UPDATER_ROLE(), updater)
    return feed


@pytest.fixture
def reserve_feed(reserve_feed_deployer: Any, admin: Any, updater: Any) -> Any:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(RESERVE_DECIMALS, "bAAPL reserves")
        feed.grantRole(feed.UPDATER_ROLE(), updater)
    return feed


@pytest.fixture(params=["price", "reserve"])
def any_feed(request: pytest.FixtureRequest) -> Any:
    """Each feed in turn, for behaviour the two share."""
    return request.getfixturevalue(f"{request.param}_feed")
