"""Deployers and actors for the AMM: a real stock token, its real quorum `PriceFeed`, test USDC, the
pool blueprint, the factory, the router, and a funder of traders and providers.

The units, the model of Uniswap v2's maths and the helpers live in ``tests.support.contracts.venues``.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import OPEN as PROFILE_OPEN
from tests.support.contracts import TokenFactory, mint
from tests.support.contracts.oracle import QUORUM, deploy_price_feed, reporter_key, transmit
from tests.support.contracts.venues import OPEN, PRICE, Funder

from equitoken.chain.evm.artifacts import contract_path

# ------------------------------------------------------------------------------------ deployers


@pytest.fixture(scope="session")
def pool_deployer() -> Any:
    return boa.load_partial(str(contract_path("venues/StockPool.vy")))


@pytest.fixture(scope="session")
def factory_deployer() -> Any:
    return boa.load_partial(str(contract_path("venues/PoolFactory.vy")))


@pytest.fixture(scope="session")
def router_deployer() -> Any:
    return boa.load_partial(str(contract_path("venues/PoolRouter.vy")))


@pytest.fixture(scope="session")
def usdc_deployer() -> Any:
    return boa.load_partial(str(contract_path("settlement/TestUSDC.vy")))


@pytest.fixture(scope="session")
def price_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))


@pytest.fixture(scope="session")
def reporters() -> list[LocalAccount]:
    """The quorum of reporters that signs every round here."""
    return [reporter_key(i) for i in range(QUORUM)]


@pytest.fixture(scope="module")
def trader() -> str:
    return str(boa.env.generate_address("trader"))


@pytest.fixture(scope="module")
def provider() -> str:
    return str(boa.env.generate_address("liquidity_provider"))


@pytest.fixture(scope="module")
def usdc(usdc_deployer: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return usdc_deployer.deploy()


@pytest.fixture(scope="module")
def feed_for(price_feed_deployer: Any, admin: str) -> Callable[[Any], Any]:
    """Deploy the quorum price feed of a token: 4 reporters, quorum 3."""

    def deploy(token: Any) -> Any:
        return deploy_price_feed(
            price_feed_deployer, admin, [reporter_key(i) for i in range(4)], QUORUM, token.address
        )

    return deploy


@pytest.fixture(scope="module")
def pool_blueprint(pool_deployer: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return pool_deployer.deploy_as_blueprint()


@pytest.fixture(scope="module")
def factory(factory_deployer: Any, pool_blueprint: Any, usdc: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return factory_deployer.deploy(pool_blueprint.address, usdc.address)


@pytest.fixture(scope="module")
def router(router_deployer: Any, factory: Any) -> Any:
    return router_deployer.deploy(factory.address)


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory) -> Any:
    return deploy_token(PROFILE_OPEN)


@pytest.fixture(scope="module")
def feed(feed_for: Callable[[Any], Any], token: Any, reporters: list[LocalAccount]) -> Any:
    feed = feed_for(token)
    transmit(feed, reporters, PRICE, OPEN)
    return feed


@pytest.fixture
def pool(factory: Any, pool_deployer: Any, token: Any, feed: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        address = factory.create_pool(token.address, feed.address)
    return pool_deployer.at(address)


# ------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def fund(usdc: Any, reserve_feed: Any, attester: str, minter: str, admin: str) -> Funder:
    """Give `holder` `stock` of `token` and `dollars` of USDC, and approve `spender` for all of it."""

    def give(token: Any, holder: str, stock: int, dollars: int, spender: str | None = None) -> None:
        if stock:
            mint(token, reserve_feed, attester, minter, holder, stock)
        if dollars:
            with boa.env.prank(admin):
                usdc.mint(holder, dollars)
        if spender is not None:
            with boa.env.prank(holder):
                token.approve(spender, 2**256 - 1)
                usdc.approve(spender, 2**256 - 1)

    return give
