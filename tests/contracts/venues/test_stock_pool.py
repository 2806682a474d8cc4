"""StockPool: deposits, withdrawals and swaps against Uniswap v2's maths, the fee schedule that follows
the market's status, the guard's refusals, and every revert path of its public functions."""

import math
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.contracts import events
from tests.support.contracts.venues import (
    CLOSED,
    DEAD,
    FAR,
    FEE_CLOSED,
    FEE_OPEN,
    HALTED,
    MAX_AGE,
    MINIMUM_LIQUIDITY,
    OPEN,
    SHARE,
    USDC,
    Funder,
    balances,
    deadline,
    model_amount_in,
    model_amount_out,
    seed,
    set_status,
)

STOCK_RESERVE = 1_000 * SHARE
USDC_RESERVE = 200_000 * USDC


@pytest.fixture
def seeded(pool: Any, token: Any, fund: Funder, provider: str, trader: str) -> Any:
    fund(token, provider, STOCK_RESERVE * 10, USDC_RESERVE * 10, pool.address)
    fund(token, trader, 100 * SHARE, 100_000 * USDC, pool.address)
    seed(pool, provider)
    return pool


# ------------------------------------------------------------------------------- construction


def test_a_new_pool_has_the_pair_the_owner_and_the_default_fees(
    pool: Any, token: Any, usdc: Any, feed: Any, admin: str
) -> None:
    assert (pool.stock(), pool.usdc(), pool.price_feed()) == (token.address, usdc.address, feed.address)
    assert pool.owner() == admin
    assert pool.fees() == (FEE_OPEN, FEE_CLOSED)
    assert pool.reserves() == (0, 0)
    assert (pool.name(), pool.symbol(), pool.decimals()) == ("AAPLx-USDC LP", "EQ-LP", 18)
    assert pool.guard_limits() == (MAX_AGE, 1, 2**104 - 1)
    assert pool.fee_bps() == FEE_OPEN


def test_the_constructor_refuses_a_broken_pair(pool_deployer: Any, token: Any, usdc: Any, feed: Any) -> None:
    owner = boa.env.generate_address("owner")
    zero = "0x" + "00" * 20
    args = (feed.address, owner, "X", MAX_AGE, 1, 10**20)
    with boa.reverts("pool: zero address"):
        pool_deployer.deploy(zero, usdc.address, *args)
    with boa.reverts("pool: identical tokens"):
        pool_deployer.deploy(usdc.address, usdc.address, *args)
    with boa.reverts("pool: zero owner"):
        pool_deployer.deploy(token.address, usdc.address, feed.address, zero, "X", MAX_AGE, 1, 10**20)
    with boa.reverts("guard: zero max age"):
        pool_deployer.deploy(token.address, usdc.address, feed.address, owner, "X", 0, 1, 10**20)


# ---------------------------------------------------------------------------------- liquidity


def test_the_first_deposit_mints_the_square_root_and_locks_the_minimum(
    pool: Any, token: Any, usdc: Any, fund: Funder, provider: str
) -> None:
    fund(token, provider, STOCK_RESERVE, USDC_RESERVE, pool.address)

    with boa.env.prank(provider):
        result = pool.add_liquidity(
            STOCK_RESERVE, USDC_RESERVE, STOCK_RESERVE, USDC_RESERVE, provider, deadline()
        )
    logged = events(pool)

    total = math.isqrt(STOCK_RESERVE * USDC_RESERVE)
    assert result == (STOCK_RESERVE, USDC_RESERVE, total - MINIMUM_LIQUIDITY)
    assert pool.balanceOf(provider) == total - MINIMUM_LIQUIDITY
    assert pool.balanceOf(DEAD) == MINIMUM_LIQUIDITY
    assert pool.totalSupply() == total
    assert pool.reserves() == (STOCK_RESERVE, USDC_RESERVE) == balances(pool, token, usdc)
    assert ("LiquidityAdded", {
        "provider": provider, "recipient": provider, "amount_stock": STOCK_RESERVE,
        "amount_usdc": USDC_RESERVE, "shares": total - MINIMUM_LIQUIDITY,
    }) in logged  # fmt: skip


def test_a_later_deposit_keeps_the_ratio_and_takes_only_what_it_needs(
    seeded: Any, token: Any, usdc: Any, provider: str
) -> None:
    supply = seeded.totalSupply()

    with boa.env.prank(provider):
        # Twice the USDC the ratio needs: the stock is used in full.
        stock, dollars, shares = seeded.add_liquidity(10 * SHARE, 4_000 * USDC, 0, 0, provider, deadline())
        # Twice the stock: the USDC is used in full.
        stock2, dollars2, _ = seeded.add_liquidity(20 * SHARE, 2_000 * USDC, 0, 0, provider, deadline())

    assert (stock, dollars) == (10 * SHARE, 2_000 * USDC)
    assert shares == 10 * SHARE * supply // STOCK_RESERVE
    assert (stock2, dollars2) == (10 * SHARE, 2_000 * USDC)
    assert seeded.reserves() == balances(seeded, token, usdc)


def test_a_deposit_below_the_minimums_reverts(seeded: Any, provider: str) -> None:
    with boa.env.prank(provider), boa.reverts("pool: slippage"):
        seeded.add_liquidity(10 * SHARE, 4_000 * USDC, 0, 2_001 * USDC, provider, deadline())
    with boa.env.prank(provider), boa.reverts("pool: slippage"):
        seeded.add_liquidity(20 * SHARE, 2_000 * USDC, 11 * SHARE, 0, provider, deadline())


def test_a_deposit_of_nothing_or_dust_reverts(pool: Any, token: Any, fund: Funder, provider: str) -> None:
    fund(token, provider, SHARE, 1_000 * USDC, pool.address)
    with boa.env.prank(provider), boa.reverts("pool: zero amount"):
        pool.add_liquidity(0, 1_000 * USDC, 0, 0, provider, deadline())
    with boa.env.prank(provider), boa.reverts("amm: insufficient liquidity minted"):
        pool.add_liquidity(1_000, 1_000, 0, 0, provider, deadline())


def test_a_withdrawal_pays_a_proportional_share_rounded_down(
    seeded: Any, token: Any, usdc: Any, provider: str
) -> None:
    shares = seeded.balanceOf(provider) // 3
    supply = seeded.totalSupply()
    stock_before, usdc_before = token.balanceOf(provider), usdc.balanceOf(provider)

    with boa.env.prank(provider):
        stock, dollars = seeded.remove_liquidity(shares, 0, 0, provider, deadline())

    assert (stock, dollars) == (shares * STOCK_RESERVE // supply, shares * USDC_RESERVE // supply)
    assert token.balanceOf(provider) - stock_before == stock
    assert usdc.balanceOf(provider) - usdc_before == dollars
    assert seeded.totalSupply() == supply - shares
    assert (
        seeded.reserves() == balances(seeded, token, usdc) == (STOCK_RESERVE - stock, USDC_RESERVE - dollars)
    )


def test_a_withdrawal_refuses_slippage_zero_and_foreign_shares(
    seeded: Any, provider: str, trader: str
) -> None:
    shares = seeded.balanceOf(provider)
    with boa.env.prank(provider), boa.reverts("pool: slippage"):
        seeded.remove_liquidity(shares, STOCK_RESERVE, 0, provider, deadline())
    with boa.env.prank(provider), boa.reverts("pool: zero amount"):
        seeded.remove_liquidity(0, 0, 0, provider, deadline())
    with boa.env.prank(provider), boa.reverts("pool: insufficient liquidity burned"):
        seeded.remove_liquidity(1, 0, 0, provider, deadline())
    with boa.env.prank(trader), boa.reverts("pool: shares exceed balance"):
        seeded.remove_liquidity(1, 0, 0, trader, deadline())


def test_all_shares_but_the_locked_ones_can_leave(seeded: Any, provider: str) -> None:
    with boa.env.prank(provider):
        seeded.remove_liquidity(seeded.balanceOf(provider), 0, 0, provider, deadline())

    assert seeded.totalSupply() == MINIMUM_LIQUIDITY
    stock, dollars = seeded.reserves()
    assert stock > 0
    assert dollars > 0


# -------------------------------------------------------------------------------------- swaps


def test_a_swap_pays_the_model_and_pulls_the_input(seeded: Any, token: Any, usdc: Any, trader: str) -> None:
    expected = model_amount_out(10 * SHARE, STOCK_RESERVE, USDC_RESERVE, FEE_OPEN)
    assert seeded.get_amount_out(10 * SHARE, True) == expected
    usdc_before = usdc.balanceOf(trader)

    with boa.env.prank(trader):
        out = seeded.swap(10 * SHARE, expected, True, trader, deadline())
    logged = events(seeded)

    assert out == expected
    assert usdc.balanceOf(trader) - usdc_before == expected
    assert seeded.reserves() == (STOCK_RESERVE + 10 * SHARE, USDC_RESERVE - expected)
    assert seeded.reserves() == balances(seeded, token, usdc)
    assert ("Swap", {
        "sender": trader, "recipient": trader, "stock_in": True, "amount_in": 10 * SHARE,
        "amount_out": expected, "fee_bps": FEE_OPEN,
    }) in logged  # fmt: skip


def test_a_swap_pays_another_recipient(seeded: Any, token: Any, trader: str, receiver: str) -> None:
    with boa.env.prank(trader):
        out = seeded.swap(1_000 * USDC, 0, False, receiver, deadline())

    assert (
        token.balanceOf(receiver)
        == out
        == model_amount_out(1_000 * USDC, USDC_RESERVE, STOCK_RESERVE, FEE_OPEN)
    )


def test_an_exact_out_swap_takes_the_model_rounded_up(
    seeded: Any, token: Any, usdc: Any, trader: str
) -> None:
    expected = model_amount_in(SHARE, USDC_RESERVE, STOCK_RESERVE, FEE_OPEN)
    assert seeded.get_amount_in(SHARE, False) == expected
    usdc_before = usdc.balanceOf(trader)

    with boa.env.prank(trader):
        taken = seeded.swap_exact_out(SHARE, expected, False, trader, deadline())

    assert taken == expected
    assert usdc_before - usdc.balanceOf(trader) == expected
    assert (
        seeded.reserves() == (STOCK_RESERVE - SHARE, USDC_RESERVE + expected) == balances(seeded, token, usdc)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=st.integers(min_value=1, max_value=10**14),
    stock_in=st.booleans(),
    fee_open=st.integers(min_value=0, max_value=1_000),
)
def test_every_quote_equals_uniswap_v2(
    seeded: Any, admin: str, amount: int, stock_in: bool, fee_open: int
) -> None:
    with boa.env.anchor():
        with boa.env.prank(admin):
            seeded.set_fees(fee_open, FEE_CLOSED)
        reserve_in, reserve_out = (STOCK_RESERVE, USDC_RESERVE) if stock_in else (USDC_RESERVE, STOCK_RESERVE)

        assert seeded.get_amount_out(amount, stock_in) == model_amount_out(
            amount, reserve_in, reserve_out, fee_open
        )
        if amount < reserve_out:
            assert seeded.get_amount_in(amount, stock_in) == model_amount_in(
                amount, reserve_in, reserve_out, fee_open
            )
        else:
            with boa.reverts("amm: insufficient liquidity"):
                seeded.get_amount_in(amount, stock_in)


def test_swaps_refuse_slippage(seeded: Any, trader: str) -> None:
    expected = seeded.get_amount_out(SHARE, True)
    with boa.env.prank(trader), boa.reverts("pool: slippage"):
        seeded.swap(SHARE, expected + 1, True, trader, deadline())
    cost = seeded.get_amount_in(SHARE, False)
    with boa.env.prank(trader), boa.reverts("pool: slippage"):
        seeded.swap_exact_out(SHARE, cost - 1, False, trader, deadline())


def test_swaps_refuse_an_expired_deadline(seeded: Any, trader: str, provider: str) -> None:
    past = int(boa.env.evm.patch.timestamp) - 1
    with boa.env.prank(trader), boa.reverts("pool: expired"):
        seeded.swap(SHARE, 0, True, trader, past)
    with boa.env.prank(trader), boa.reverts("pool: expired"):
        seeded.swap_exact_out(SHARE, FAR, True, trader, past)
    with boa.env.prank(provider), boa.reverts("pool: expired"):
        seeded.add_liquidity(SHARE, USDC, 0, 0, provider, past)
    with boa.env.prank(provider), boa.reverts("pool: expired"):
        seeded.remove_liquidity(1, 0, 0, provider, past)


def test_swaps_refuse_zero_and_dust(seeded: Any, trader: str) -> None:
    with boa.env.prank(trader), boa.reverts("amm: zero amount"):
        seeded.swap(0, 0, True, trader, deadline())
    with boa.env.prank(trader), boa.reverts("amm: zero amount"):
        seeded.swap_exact_out(0, FAR, True, trader, deadline())
    # One raw unit of USDC buys less than one raw unit of stock.
    with boa.env.prank(trader), boa.reverts("pool: zero output"):
        seeded.swap(1, 0, False, trader, deadline())


def test_swaps_need_liquidity(pool: Any, token: Any, fund: Funder, trader: str) -> None:
    fund(token, trader, SHARE, 1_000 * USDC, pool.address)
    with boa.env.prank(trader), boa.reverts("amm: insufficient liquidity"):
        pool.swap(SHARE, 0, True, trader, deadline())
    with boa.env.prank(trader), boa.reverts("amm: insufficient liquidity"):
        pool.swap_exact_out(SHARE, FAR, False, trader, deadline())


def test_an_exact_out_swap_cannot_empty_a_reserve(seeded: Any, trader: str) -> None:
    with boa.env.prank(trader), boa.reverts("amm: insufficient liquidity"):
        seeded.swap_exact_out(STOCK_RESERVE, FAR, False, trader, deadline())


def test_a_swap_without_allowance_or_balance_changes_nothing(seeded: Any, token: Any, usdc: Any) -> None:
    stranger = boa.env.generate_address("stranger")
    before = seeded.reserves()
    with boa.env.prank(stranger), boa.reverts():
        seeded.swap(SHARE, 0, True, stranger, deadline())
    assert seeded.reserves() == before == balances(seeded, token, usdc)


def test_a_swap_that_overflows_a_reserve_reverts(seeded: Any, trader: str) -> None:
    with boa.env.prank(trader), boa.reverts("pool: reserve overflow"):
        seeded.swap(2**112, 0, True, trader, deadline())


# --------------------------------------------------------------------------- the market's status


def test_the_fee_widens_exactly_when_the_market_closes(
    seeded: Any, feed: Any, reporters: list[LocalAccount], trader: str
) -> None:
    open_quote = seeded.get_amount_out(SHARE, True)
    assert open_quote == model_amount_out(SHARE, STOCK_RESERVE, USDC_RESERVE, FEE_OPEN)

    set_status(feed, reporters, CLOSED)

    assert seeded.fee_bps() == FEE_CLOSED
    with boa.env.prank(trader):
        out = seeded.swap(SHARE, 0, True, trader, deadline())
    assert out == model_amount_out(SHARE, STOCK_RESERVE, USDC_RESERVE, FEE_CLOSED) < open_quote
    assert events(seeded)[-1][1]["fee_bps"] == FEE_CLOSED

    set_status(feed, reporters, OPEN)

    assert seeded.fee_bps() == FEE_OPEN


def test_a_halt_stops_swaps_and_liquidity_changes(
    seeded: Any, feed: Any, reporters: list[LocalAccount], trader: str, provider: str
) -> None:
    set_status(feed, reporters, HALTED)

    with boa.env.prank(trader), boa.reverts("guard: market halted"):
        seeded.swap(SHARE, 0, True, trader, deadline())
    with boa.env.prank(trader), boa.reverts("guard: market halted"):
        seeded.swap_exact_out(SHARE, FAR, True, trader, deadline())
    with boa.env.prank(provider), boa.reverts("guard: market halted"):
        seeded.add_liquidity(SHARE, 200 * USDC, 0, 0, provider, deadline())
    with boa.env.prank(provider), boa.reverts("guard: market halted"):
        seeded.remove_liquidity(10**6, 0, 0, provider, deadline())
    with boa.reverts("guard: market halted"):
        seeded.get_amount_out(SHARE, True)

    set_status(feed, reporters, OPEN)

    with boa.env.prank(trader):
        assert seeded.swap(SHARE, 0, True, trader, deadline()) > 0


def test_a_stale_price_stops_the_pool(seeded: Any, trader: str, provider: str) -> None:
    boa.env.time_travel(seconds=MAX_AGE + 1)

    with boa.env.prank(trader), boa.reverts("guard: stale price"):
        seeded.swap(SHARE, 0, True, trader, deadline())
    with boa.env.prank(provider), boa.reverts("guard: stale price"):
        seeded.add_liquidity(SHARE, 200 * USDC, 0, 0, provider, deadline())


def test_a_pool_without_a_round_refuses_everything(
    factory: Any,
    pool_deployer: Any,
    deploy_token: Any,
    feed_for: Any,
    admin: str,
    fund: Funder,
    provider: str,
) -> None:
    other = deploy_token(symbol_="MSFTx", ticker_="MSFT")
    silent_feed = feed_for(other)
    with boa.env.prank(admin):
        pool = pool_deployer.at(factory.create_pool(other.address, silent_feed.address))
    fund(other, provider, SHARE, 1_000 * USDC, pool.address)

    with boa.env.prank(provider), boa.reverts("guard: no price"):
        pool.add_liquidity(SHARE, 200 * USDC, 0, 0, provider, deadline())


# -------------------------------------------------------------------------------------- admin


def test_the_owner_sets_the_fee_schedule_within_bounds(seeded: Any, admin: str) -> None:
    with boa.env.prank(admin):
        seeded.set_fees(5, 1_000)

    assert events(seeded) == [("FeesUpdated", {"fee_open_bps": 5, "fee_closed_bps": 1_000})]
    assert seeded.fees() == (5, 1_000)
    assert seeded.reserves() == (STOCK_RESERVE, USDC_RESERVE)
    with boa.env.prank(admin), boa.reverts("pool: fee too high"):
        seeded.set_fees(1_001, 100)
    with boa.env.prank(admin), boa.reverts("pool: fee too high"):
        seeded.set_fees(30, 1_001)
    assert seeded.fees() == (5, 1_000)


def test_only_the_owner_administers_the_pool(seeded: Any, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        seeded.set_fees(10, 10)
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        seeded.set_price_limits(60, 1, 10**20)
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        seeded.skim(non_owner)
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        seeded.transfer_ownership(non_owner)


def test_the_owner_narrows_the_price_band(seeded: Any, admin: str, trader: str) -> None:
    with boa.env.prank(admin):
        seeded.set_price_limits(MAX_AGE, 1, 100 * 10**8)

    assert seeded.guard_limits() == (MAX_AGE, 1, 100 * 10**8)
    with boa.env.prank(trader), boa.reverts("guard: price out of band"):
        seeded.swap(SHARE, 0, True, trader, deadline())


def test_skim_returns_a_donation_and_leaves_the_reserves(
    seeded: Any, token: Any, usdc: Any, admin: str, trader: str, receiver: str
) -> None:
    with boa.env.prank(trader):
        token.transfer(seeded.address, SHARE)
        usdc.transfer(seeded.address, 5 * USDC)
    quote = seeded.get_amount_out(SHARE, True)

    with boa.env.prank(admin):
        seeded.skim(receiver)

    assert (token.balanceOf(receiver), usdc.balanceOf(receiver)) == (SHARE, 5 * USDC)
    assert seeded.reserves() == balances(seeded, token, usdc) == (STOCK_RESERVE, USDC_RESERVE)
    assert seeded.get_amount_out(SHARE, True) == quote
