"""PoolRouter: multi-hop swaps through the factory's pools, with slippage, deadline and path checks."""

from typing import Any

import boa
import pytest
from tests.support.contracts import TokenFactory
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import (
    FEE_OPEN,
    OPEN,
    PRICE,
    SHARE,
    USDC,
    Funder,
    deadline,
    model_amount_out,
    seed,
)


@pytest.fixture
def second(deploy_token: TokenFactory) -> Any:
    return deploy_token(symbol_="MSFTx", ticker_="MSFT")


@pytest.fixture
def second_pool(
    second: Any, factory: Any, pool_deployer: Any, feed_for: Any, reporters: Any, admin: str
) -> Any:
    feed = feed_for(second)
    transmit(feed, reporters, PRICE, OPEN)
    with boa.env.prank(admin):
        return pool_deployer.at(factory.create_pool(second.address, feed.address))


@pytest.fixture
def pools(
    pool: Any,
    second_pool: Any,
    token: Any,
    second: Any,
    fund: Funder,
    provider: str,
    trader: str,
    router: Any,
) -> tuple[Any, Any]:
    fund(token, provider, 1_000 * SHARE, 200_000 * USDC, pool.address)
    seed(pool, provider)
    fund(second, provider, 2_000 * SHARE, 200_000 * USDC, second_pool.address)
    seed(second_pool, provider, 2_000 * SHARE, 200_000 * USDC)
    fund(token, trader, 10 * SHARE, 10_000 * USDC, router.address)
    return pool, second_pool


def test_two_hops_through_usdc_pay_the_chained_model(
    pools: tuple[Any, Any], router: Any, token: Any, second: Any, usdc: Any, trader: str, receiver: str
) -> None:
    path = [token.address, usdc.address, second.address]
    middle = model_amount_out(SHARE, 1_000 * SHARE, 200_000 * USDC, FEE_OPEN)
    final = model_amount_out(middle, 200_000 * USDC, 2_000 * SHARE, FEE_OPEN)
    assert router.get_amounts_out(SHARE, path) == [SHARE, middle, final]

    with boa.env.prank(trader):
        out = router.swap_exact_in(SHARE, final, path, receiver, deadline())

    assert out == final
    assert second.balanceOf(receiver) == final
    assert (token.balanceOf(router.address), usdc.balanceOf(router.address)) == (0, 0)
    assert second.balanceOf(router.address) == 0
    assert pools[0].reserves() == (1_001 * SHARE, 200_000 * USDC - middle)
    assert pools[1].reserves() == (2_000 * SHARE - final, 200_000 * USDC + middle)


def test_one_hop_buys_the_stock(
    pools: tuple[Any, Any], router: Any, token: Any, usdc: Any, trader: str
) -> None:
    before = token.balanceOf(trader)
    with boa.env.prank(trader):
        out = router.swap_exact_in(100 * USDC, 0, [usdc.address, token.address], trader, deadline())
    assert (
        token.balanceOf(trader) - before
        == out
        == model_amount_out(100 * USDC, 200_000 * USDC, 1_000 * SHARE, FEE_OPEN)
    )


def test_refuses_slippage_on_the_final_output(
    pools: tuple[Any, Any], router: Any, token: Any, second: Any, usdc: Any, trader: str
) -> None:
    path = [token.address, usdc.address, second.address]
    final = router.get_amounts_out(SHARE, path)[-1]
    with boa.env.prank(trader), boa.reverts("router: slippage"):
        router.swap_exact_in(SHARE, final + 1, path, trader, deadline())
    assert pools[0].reserves() == (1_000 * SHARE, 200_000 * USDC)


def test_refuses_bad_paths_deadlines_and_zero(
    pools: tuple[Any, Any], router: Any, token: Any, second: Any, usdc: Any, trader: str
) -> None:
    past = int(boa.env.evm.patch.timestamp) - 1
    with boa.env.prank(trader), boa.reverts("router: expired"):
        router.swap_exact_in(SHARE, 0, [token.address, usdc.address], trader, past)
    with boa.env.prank(trader), boa.reverts("router: path too short"):
        router.swap_exact_in(SHARE, 0, [token.address], trader, deadline())
    with boa.env.prank(trader), boa.reverts("router: zero amount"):
        router.swap_exact_in(0, 0, [token.address, usdc.address], trader, deadline())
    with boa.env.prank(trader), boa.reverts("router: hop must trade against USDC"):
        router.swap_exact_in(SHARE, 0, [token.address, second.address], trader, deadline())
    with boa.reverts("router: hop must trade against USDC"):
        router.get_amounts_out(SHARE, [token.address, second.address])
    stranger = boa.env.generate_address("unpooled")
    with boa.reverts("router: no pool"):
        router.get_amounts_out(SHARE, [usdc.address, stranger])


def test_knows_its_factory(router: Any, factory: Any, usdc: Any) -> None:
    assert (router.factory(), router.usdc()) == (factory.address, usdc.address)
