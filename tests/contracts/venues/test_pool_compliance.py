"""The stock token's own rules hold in the pool: a permissioned token trades only once the pool is a
registered wallet of the venue operator, and only with verified traders and recipients."""

from typing import Any

import boa
import pytest
from tests.support.contracts import PERMISSIONED, TokenFactory, register
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import OPEN, PRICE, SHARE, USDC, Funder, deadline, seed

VENUE_OPERATOR, PROVIDER, TRADER = 900, 1, 2


@pytest.fixture
def permissioned(deploy_token: TokenFactory) -> Any:
    return deploy_token(PERMISSIONED)


@pytest.fixture
def permissioned_pool(
    permissioned: Any, factory: Any, pool_deployer: Any, feed_for: Any, reporters: Any, admin: str
) -> Any:
    feed = feed_for(permissioned)
    transmit(feed, reporters, PRICE, OPEN)
    with boa.env.prank(admin):
        return pool_deployer.at(factory.create_pool(permissioned.address, feed.address))


def test_an_unregistered_pool_cannot_receive_the_token(
    permissioned_pool: Any, permissioned: Any, registry: Any, registrar: str, fund: Funder, provider: str
) -> None:
    register(registry, registrar, PROVIDER, provider)
    fund(permissioned, provider, 100 * SHARE, 20_000 * USDC, permissioned_pool.address)

    with boa.env.prank(provider), boa.reverts("receiver is not a verified investor"):
        seed(permissioned_pool, provider, 100 * SHARE, 20_000 * USDC)
    assert permissioned_pool.reserves() == (0, 0)


def test_verified_traders_trade_and_unverified_ones_do_not(
    permissioned_pool: Any,
    permissioned: Any,
    registry: Any,
    registrar: str,
    fund: Funder,
    provider: str,
    trader: str,
    receiver: str,
) -> None:
    register(registry, registrar, VENUE_OPERATOR, permissioned_pool.address)
    register(registry, registrar, PROVIDER, provider)
    fund(permissioned, provider, 100 * SHARE, 20_000 * USDC, permissioned_pool.address)
    seed(permissioned_pool, provider, 100 * SHARE, 20_000 * USDC)
    fund(permissioned, trader, 0, 2_000 * USDC, permissioned_pool.address)

    # Buying the stock delivers it to the trader: the token refuses an unverified receiver.
    with boa.env.prank(trader), boa.reverts("receiver is not a verified investor"):
        permissioned_pool.swap(1_000 * USDC, 0, False, trader, deadline())

    register(registry, registrar, TRADER, trader)
    with boa.env.prank(trader):
        bought = permissioned_pool.swap(1_000 * USDC, 0, False, trader, deadline())
    assert permissioned.balanceOf(trader) == bought > 0

    # Nor may a verified trader send the stock on to an unverified recipient through the pool.
    with boa.env.prank(trader), boa.reverts("receiver is not a verified investor"):
        permissioned_pool.swap(500 * USDC, 0, False, receiver, deadline())
