"""PoolFactory: one pool per stock token from the blueprint, and the tokens and feeds it refuses."""

from typing import Any

import boa
from tests.support.contracts import PERMISSIONED, RESTRICTED, TokenFactory
from tests.support.contracts.venues import FEE_CLOSED, FEE_OPEN


def test_creates_one_pool_per_token_and_records_it(
    factory: Any, pool_deployer: Any, token: Any, feed: Any, usdc: Any, admin: str
) -> None:
    with boa.env.prank(admin):
        address = factory.create_pool(token.address, feed.address)
    logged = [
        (type(log).__name__, {k: v for k, v in log._asdict().items() if k != "address"})
        for log in factory.get_logs()
        if type(log).__name__ == "PoolCreated"
    ]

    pool = pool_deployer.at(address)
    assert logged == [
        ("PoolCreated", {"token": token.address, "pool": address, "price_feed": feed.address, "index": 0})
    ]
    assert factory.pool_of(token.address) == address
    assert (factory.pool_count(), factory.pools(0)) == (1, address)
    assert (pool.stock(), pool.usdc(), pool.owner()) == (token.address, usdc.address, admin)
    assert pool.fees() == (FEE_OPEN, FEE_CLOSED)


def test_refuses_a_second_pool_for_a_token(
    pool: Any, factory: Any, token: Any, feed: Any, admin: str
) -> None:
    with boa.env.prank(admin), boa.reverts("factory: pool exists"):
        factory.create_pool(token.address, feed.address)
    assert factory.pool_count() == 1


def test_refuses_a_restricted_token(
    factory: Any, deploy_token: TokenFactory, feed_for: Any, admin: str
) -> None:
    restricted = deploy_token(RESTRICTED)
    with boa.env.prank(admin), boa.reverts("factory: restricted token cannot be pooled"):
        factory.create_pool(restricted.address, feed_for(restricted).address)
    assert factory.pool_count() == 0


def test_accepts_a_permissioned_token(
    factory: Any, deploy_token: TokenFactory, feed_for: Any, admin: str
) -> None:
    permissioned = deploy_token(PERMISSIONED)
    with boa.env.prank(admin):
        factory.create_pool(permissioned.address, feed_for(permissioned).address)
    assert factory.pool_of(permissioned.address) != "0x" + "00" * 20


def test_refuses_a_missing_or_foreign_feed(
    factory: Any, token: Any, feed_for: Any, deploy_token: TokenFactory, admin: str
) -> None:
    other = deploy_token(symbol_="MSFTx")
    with boa.env.prank(admin), boa.reverts("factory: no price feed"):
        factory.create_pool(token.address, "0x" + "00" * 20)
    with boa.env.prank(admin), boa.reverts("factory: feed prices another token"):
        factory.create_pool(token.address, feed_for(other).address)
    assert factory.pool_count() == 0


def test_refuses_the_quote_token_and_zero(factory: Any, usdc: Any, feed: Any, admin: str) -> None:
    with boa.env.prank(admin), boa.reverts("factory: token is the quote token"):
        factory.create_pool(usdc.address, feed.address)
    with boa.env.prank(admin), boa.reverts("factory: zero token"):
        factory.create_pool("0x" + "00" * 20, feed.address)


def test_only_the_owner_creates_pools(factory: Any, token: Any, feed: Any, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        factory.create_pool(token.address, feed.address)


def test_the_constructor_refuses_zero_addresses(factory_deployer: Any, usdc: Any) -> None:
    with boa.reverts("factory: zero address"):
        factory_deployer.deploy("0x" + "00" * 20, usdc.address)
