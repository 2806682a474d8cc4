"""PerpMarket against a real stock token, its quorum PriceFeed, test USDC and the PerpVault: every
action's exact outcome from the model in ``tests.support.contracts.perps``, every refusal with its
reason and nothing changed, funding, liquidation, the profit and loss caps, the closed-market
policies, halts, stale prices and splits."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE
from tests.support.contracts.perps import (
    CLOSED,
    DAY,
    DEFAULTS,
    HALTED,
    MAX_AGE,
    OPEN,
    POLICY_DISCOVERY,
    PRICE,
    STATE_CLOSED,
    STATE_DISCOVERY,
    STATE_HALTED,
    STATE_NO_PRICE,
    STATE_OPEN,
    USDC,
    WAD,
    Params,
    close_fee,
    equity,
    fill,
    funding_owed,
    funding_step,
    liquidatable,
    open_model,
    pnl,
    publish,
    reverts_with,
)

MARGIN = 1_000 * USDC
LEV = 5 * WAD


def snapshot(market: Any, vault: Any, usdc: Any, *who: str) -> tuple[Any, ...]:
    ids = range(1, market.next_position_id())
    return (
        tuple(usdc.balanceOf(w) for w in (market.address, vault.address, *who)),
        vault.reserved(),
        market.open_interest(),
        market.open_interest_usd(),
        tuple(market.position(i) for i in ids),
        market.next_position_id(),
        market.escrowed_margin(),
    )


def open_(
    market: Any, trader: str, is_long: bool = True, margin: int = MARGIN, lev: int = LEV, **kw: int
) -> int:
    with boa.env.prank(trader):
        return int(
            market.open_position(
                is_long, margin, lev, kw.get("tp", 0), kw.get("sl", 0), kw.get("acceptable", 0)
            )
        )


# ------------------------------------------------------------------------------------------ open


def test_open_long_exact(funded: Any, vault: Any, usdc: Any, trader: str) -> None:
    market = funded
    expected = open_model(True, MARGIN, LEV, PRICE, 0)
    vault_before = usdc.balanceOf(vault.address)
    pid = open_(market, trader)
    pos = market.position(pid)
    assert pid == 1
    assert market.next_position_id() == 2
    assert (pos.owner, pos.is_long, pos.size, pos.entry_price, pos.margin) == (
        trader,
        True,
        expected.size,
        expected.price,
        expected.net,
    )
    assert expected.fee == MARGIN * 5 * 8 // 10_000  # 0.08% of the 5,000 USDC notional
    assert expected.price > PRICE
    assert usdc.balanceOf(market.address) == expected.net
    assert usdc.balanceOf(vault.address) == vault_before + expected.fee
    assert vault.reserved() == expected.reservation == market.position_reservation(pid)
    assert market.open_interest() == (expected.size, 0)
    assert market.open_interest_usd() == (expected.notional, 0)


def test_open_short_gets_less(funded: Any, trader: str) -> None:
    expected = open_model(False, MARGIN, LEV, PRICE, 0)
    pid = open_(funded, trader, False)
    assert funded.position(pid).entry_price == expected.price < PRICE
    assert funded.open_interest() == (0, expected.size)


def test_spread_widens_with_skew(funded: Any, trader: str, give: Callable[..., None]) -> None:
    market = funded
    big = 50_000 * USDC
    give(trader, big, market.address)
    open_(market, trader, True, big, 10 * WAD)
    skew = market.open_interest()[0]
    expected = open_model(True, MARGIN, LEV, PRICE, skew)
    base = open_model(True, MARGIN, LEV, PRICE, 0)
    pid = open_(market, trader, True)
    assert market.position(pid).entry_price == expected.price > base.price
    # a short reduces the skew: only the base spread
    short = open_model(False, MARGIN, LEV, PRICE, market.open_interest()[0])
    assert short.price == PRICE * (WAD - 5 * 10**14) // WAD
    assert market.fill_price(True, 10**18, True) == fill(PRICE, True, 10**18, market.open_interest()[0])


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((True, MARGIN, WAD - 1, 0, 0, 0), "perp: leverage out of range"),
        ((True, MARGIN, 10 * WAD + 1, 0, 0, 0), "perp: leverage out of range"),
        ((True, 10 * USDC - 1, LEV, 0, 0, 0), "perp: margin below minimum"),
        ((True, MARGIN, LEV, 0, 0, PRICE), "perp: price not acceptable"),
        ((False, MARGIN, LEV, 0, 0, PRICE), "perp: price not acceptable"),
        ((True, MARGIN, LEV, PRICE, 0, 0), "perp: take profit on the wrong side"),
        ((True, MARGIN, LEV, 0, PRICE + PRICE // 100, 0), "perp: stop loss on the wrong side"),
        ((False, MARGIN, LEV, PRICE + PRICE // 100, 0, 0), "perp: take profit on the wrong side"),
        ((False, MARGIN, LEV, 0, PRICE - PRICE // 100, 0), "perp: stop loss on the wrong side"),
    ],
)
def test_open_refused(
    funded: Any, vault: Any, usdc: Any, trader: str, args: tuple[Any, ...], reason: str
) -> None:
    before = snapshot(funded, vault, usdc, trader)
    with boa.env.prank(trader), boa.reverts(reason):
        funded.open_position(*args)
    assert snapshot(funded, vault, usdc, trader) == before


def test_open_interest_cap(funded: Any, vault: Any, usdc: Any, trader: str, admin: str) -> None:
    with boa.env.prank(admin):
        funded.set_parameters(Params(max_oi_long=4_000 * USDC).as_tuple())
    before = snapshot(funded, vault, usdc, trader)
    with boa.env.prank(trader), boa.reverts("perp: open interest cap"):
        funded.open_position(True, MARGIN, LEV, 0, 0, 0)
    assert snapshot(funded, vault, usdc, trader) == before
    open_(funded, trader, False)  # the other side is free


def test_vault_insufficient_liquidity(
    funded: Any, vault: Any, usdc: Any, trader: str, give: Callable[..., None]
) -> None:
    market = funded
    margin = 120_000 * USDC  # 9 x ~120,000 > the LP's 1,000,000
    give(trader, margin, market.address)
    before = snapshot(market, vault, usdc, trader)
    reverts_with(
        market,
        "open_position",
        True,
        margin,
        WAD,
        0,
        0,
        0,
        sender=trader,
        reason="vault: insufficient liquidity",
    )
    assert snapshot(market, vault, usdc, trader) == before


# ----------------------------------------------------------------------------------------- close


def test_close_exact_profit(
    funded: Any, vault: Any, usdc: Any, trader: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    market = funded
    pid = open_(market, trader)
    pos = market.position(pid)
    publish(feed, reporters, PRICE * 11 // 10)
    mark = PRICE * 11 // 10
    rate, accrued, _carry = funding_step(0, 0, 0, pos.size, 60, mark)
    exit_ = fill(mark, False, pos.size, pos.size)
    expected_pnl = pnl(True, pos.size, pos.entry_price, exit_)
    owed = funding_owed(True, pos.size, accrued - pos.funding_entry)
    fee = close_fee(pos.size, exit_)
    expected = pos.margin + expected_pnl - owed - fee
    trader_before, vault_before = usdc.balanceOf(trader), usdc.balanceOf(vault.address)
    with boa.env.prank(trader):
        market.close_position(pid, pos.size, 0)
    assert usdc.balanceOf(trader) - trader_before == expected
    assert vault_before - usdc.balanceOf(vault.address) == expected - pos.margin
    assert usdc.balanceOf(market.address) == 0
    assert vault.reserved() == 0
    assert market.open_interest() == (0, 0)
    assert market.open_interest_usd() == (0, 0)
    assert market.position(pid).owner == "0x0000000000000000000000000000000000000000"
    assert market.accrued_funding() == accrued
    assert rate > 0
    assert owed >= 0


def test_partial_close(funded: Any, vault: Any, usdc: Any, trader: str) -> None:
    market = funded
    pid = open_(market, trader)
    pos = market.position(pid)
    reservation = market.position_reservation(pid)
    half = pos.size // 3
    exit_ = fill(PRICE, False, half, pos.size)
    margin_part = pos.margin * half // pos.size
    value = margin_part + pnl(True, half, pos.entry_price, exit_) - close_fee(half, exit_)
    before = usdc.balanceOf(trader)
    with boa.env.prank(trader):
        market.close_position(pid, half, 0)
    after = market.position(pid)
    assert usdc.balanceOf(trader) - before == value
    assert after.size == pos.size - half
    assert after.margin == pos.margin - margin_part
    assert (
        market.position_reservation(pid) == reservation - reservation * half // pos.size == vault.reserved()
    )
    assert usdc.balanceOf(market.address) == after.margin


def test_a_close_that_would_leave_less_than_the_minimum_margin_closes_everything(
    funded: Any, vault: Any, usdc: Any, trader: str
) -> None:
    market = funded
    pid = open_(market, trader)
    pos = market.position(pid)
    minimum = funded.parameters().min_margin
    # All but a sliver whose share of the margin is below the minimum.
    sliver = pos.size * (minimum - 1) // pos.margin
    with boa.env.prank(trader):
        market.close_position(pid, pos.size - sliver, 0)
    assert market.position(pid).size == 0
    assert market.open_interest() == (0, 0)
    assert vault.reserved() == 0
    assert usdc.balanceOf(market.address) == 0


@pytest.mark.parametrize(
    ("size_of", "acceptable", "reason"),
    [
        (lambda s: 0, 0, "perp: zero size"),
        (lambda s: s + 1, 0, "perp: size above position"),
        (lambda s: s, PRICE, "perp: price not acceptable"),
    ],
)
def test_close_refused(
    funded: Any, vault: Any, usdc: Any, trader: str, size_of: Any, acceptable: int, reason: str
) -> None:
    pid = open_(funded, trader)
    size = funded.position(pid).size
    before = snapshot(funded, vault, usdc, trader)
    with boa.env.prank(trader), boa.reverts(reason):
        funded.close_position(pid, size_of(size), acceptable)
    assert snapshot(funded, vault, usdc, trader) == before


def test_close_by_other_refused(funded: Any, trader: str, non_owner: str) -> None:
    pid = open_(funded, trader)
    with boa.env.prank(non_owner), boa.reverts("perp: not the owner"):
        funded.close_position(pid, 1, 0)


def test_loss_capped_at_margin_and_profit_capped(
    funded: Any, vault: Any, usdc: Any, trader: str, feed: Any, reporters: list[LocalAccount], admin: str
) -> None:
    market = funded
    with boa.env.prank(admin):
        market.set_parameters(Params(max_profit_multiple=WAD // 2).as_tuple())
    long_id = open_(market, trader, True)
    reservation = market.position_reservation(long_id)
    assert reservation == market.position(long_id).margin // 2
    publish(feed, reporters, PRICE * 2)
    before = usdc.balanceOf(trader)
    with boa.env.prank(trader):
        market.close_position(long_id, market.position(long_id).size, 0)
    pos_margin = MARGIN - open_model(True, MARGIN, LEV, PRICE, 0).fee
    assert usdc.balanceOf(trader) - before == pos_margin + reservation  # capped
    # a loss beyond the margin costs just the margin
    short_id = open_(market, trader, False)
    margin = market.position(short_id).margin
    publish(feed, reporters, PRICE * 4)
    vault_before = usdc.balanceOf(vault.address)
    before = usdc.balanceOf(trader)
    with boa.env.prank(trader):
        market.close_position(short_id, market.position(short_id).size, 0)
    assert usdc.balanceOf(trader) == before
    assert usdc.balanceOf(vault.address) - vault_before == margin


# ------------------------------------------------------------------------------------ add margin


def test_add_margin(funded: Any, vault: Any, usdc: Any, trader: str, non_owner: str) -> None:
    pid = open_(funded, trader)
    pos = funded.position(pid)
    reserved = vault.reserved()
    with boa.env.prank(trader):
        funded.add_margin(pid, 100 * USDC)
    assert funded.position(pid).margin == pos.margin + 100 * USDC
    assert vault.reserved() == reserved + 900 * USDC == funded.position_reservation(pid)
    assert usdc.balanceOf(funded.address) == pos.margin + 100 * USDC
    with boa.env.prank(trader), boa.reverts("perp: zero amount"):
        funded.add_margin(pid, 0)
    with boa.env.prank(non_owner), boa.reverts("perp: not the owner"):
        funded.add_margin(pid, USDC)


# ------------------------------------------------------------------------------------- funding


def test_funding_longs_pay_when_long_heavy(
    funded: Any, trader: str, feed: Any, reporters: list[LocalAccount], give: Callable[..., None]
) -> None:
    market = funded
    give(trader, 50_000 * USDC, market.address)
    long_id = open_(market, trader, True, 20_000 * USDC, 5 * WAD)
    short_id = open_(market, trader, False, 1_000 * USDC, 5 * WAD)
    skew = market.position(long_id).size - market.position(short_id).size
    boa.env.time_travel(seconds=DAY)
    transmit_round(feed, reporters)
    rate, accrued, _ = funding_step(0, 0, 0, skew, DAY + 60 * 0, PRICE)
    assert market.funding_rate() == rate > 0
    assert rate == DEFAULTS.max_funding_velocity * skew // DEFAULTS.skew_scale  # a day of drift
    assert market.accrued_funding() == accrued
    assert market.position_funding(long_id) > 0 > market.position_funding(short_id)
    # average-rate accrual: half a day's drift over the day, times the price
    assert accrued == (rate * DAY * PRICE) // (2 * DAY * WAD * 100)


def transmit_round(feed: Any, reporters: list[LocalAccount], price: int = PRICE, status: int = OPEN) -> None:
    from tests.support.contracts.oracle import transmit

    transmit(feed, reporters, price, status)


def test_funding_vault_receives_net(
    funded: Any, vault: Any, usdc: Any, trader: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    market = funded
    pid = open_(market, trader, True, 10_000 * USDC, 10 * WAD)
    pos = market.position(pid)
    boa.env.time_travel(seconds=3 * DAY)
    transmit_round(feed, reporters)
    owed = market.position_funding(pid)
    assert owed > 0
    exit_ = fill(PRICE, False, pos.size, pos.size)
    expected = pos.margin + pnl(True, pos.size, pos.entry_price, exit_) - owed - close_fee(pos.size, exit_)
    before = usdc.balanceOf(trader)
    with boa.env.prank(trader):
        market.close_position(pid, pos.size, 0)
    assert usdc.balanceOf(trader) - before == expected


# ----------------------------------------------------------------------------------- liquidation


def test_liquidation_threshold_and_reward(
    funded: Any, vault: Any, usdc: Any, trader: str, liquidator: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    market = funded
    pid = open_(market, trader, True, MARGIN, 10 * WAD)
    pos = market.position(pid)
    # find the lowest share price at which the position is still healthy (the model)
    lo, hi = 1, PRICE
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if liquidatable(equity(pos, mid, 0), pos.size, mid):
            lo = mid
        else:
            hi = mid
    publish(feed, reporters, hi)
    assert not market.is_liquidatable(pid)
    with boa.env.prank(liquidator), boa.reverts("perp: not liquidatable"):
        market.liquidate(pid)
    publish(feed, reporters, lo)
    assert market.is_liquidatable(pid)
    accrued = market.accrued_funding()
    value = equity(pos, lo, accrued)
    notional = pos.size * lo // 10**20
    reward = min(max(value, 0), notional * 50 // 10_000, pos.margin)
    vault_before = usdc.balanceOf(vault.address)
    with boa.env.prank(liquidator):
        assert market.liquidate(pid) == reward
    assert usdc.balanceOf(liquidator) == reward
    assert usdc.balanceOf(vault.address) - vault_before == pos.margin - reward
    assert vault.reserved() == 0
    assert usdc.balanceOf(market.address) == 0


def test_liquidation_reward_capped_at_equity(
    funded: Any, usdc: Any, trader: str, liquidator: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    market = funded
    pid = open_(market, trader, True, MARGIN, 10 * WAD)
    pos = market.position(pid)
    mark = PRICE * 95 // 100
    while not 0 < equity(pos, mark, 0) < (pos.size * mark // 10**20) * 50 // 10_000:
        mark -= PRICE // 10_000  # down to equity above 0 but below the 0.5% fee
    publish(feed, reporters, mark)
    value = equity(pos, mark, market.accrued_funding())
    notional = pos.size * mark // 10**20
    assert 0 < value < notional * 50 // 10_000
    with boa.env.prank(liquidator):
        assert market.liquidate(pid) == value
    publish(feed, reporters, PRICE // 2)
    pid = open_(market, trader, True, MARGIN, 10 * WAD)
    publish(feed, reporters, PRICE // 4)
    with boa.env.prank(liquidator):
        assert market.liquidate(pid) == 0  # negative equity: nothing, the vault takes the margin


# ------------------------------------------------------------------------------------- triggers


def test_take_profit_and_stop_loss(
    funded: Any, trader: str, keeper: str, feed: Any, reporters: list[LocalAccount], non_owner: str
) -> None:
    market = funded
    tp, sl = PRICE * 105 // 100, PRICE * 95 // 100
    pid = open_(market, trader, True, tp=tp, sl=sl)
    reverts_with(market, "execute_trigger", pid, sender=keeper, reason="perp: trigger not reached")
    publish(feed, reporters, tp)
    with boa.env.prank(keeper):
        market.execute_trigger(pid)
    assert market.position(pid).size == 0
    pid = open_(market, trader, False)
    with boa.env.prank(non_owner), boa.reverts("perp: not the owner"):
        market.set_triggers(pid, 0, 0)
    with boa.env.prank(trader), boa.reverts("perp: stop loss on the wrong side"):
        market.set_triggers(pid, 0, tp // 2)
    with boa.env.prank(trader):
        market.set_triggers(pid, 0, tp * 11 // 10)
    publish(feed, reporters, tp * 11 // 10)
    with boa.env.prank(keeper):
        market.execute_trigger(pid)
    assert market.position(pid).size == 0


# ----------------------------------------------------------------------------- closed market


def test_closed_policy_orders(
    funded: Any,
    vault: Any,
    usdc: Any,
    trader: str,
    keeper: str,
    liquidator: str,
    feed: Any,
    reporters: list[LocalAccount],
) -> None:
    market = funded
    pid = open_(market, trader)
    publish(feed, reporters, PRICE, CLOSED)
    assert market.mark_price() == (PRICE, STATE_CLOSED)
    before = snapshot(market, vault, usdc, trader)
    reverts_with(
        market, "open_position", True, MARGIN, LEV, 0, 0, 0, sender=trader, reason="perp: market closed"
    )
    reverts_with(market, "close_position", pid, 1, 0, sender=trader, reason="perp: market closed")
    reverts_with(market, "liquidate", pid, sender=liquidator, reason="perp: market closed")
    assert snapshot(market, vault, usdc, trader) == before
    with boa.env.prank(trader):
        good = market.request_open(True, MARGIN, LEV, 0, 0, 0)
        bad = market.request_open(True, MARGIN, LEV, 0, 0, PRICE)  # a gap up refuses it
        close = market.request_close(pid, market.position(pid).size, 0)
    assert market.escrowed_margin() == 2 * MARGIN
    assert usdc.balanceOf(market.address) == market.position(pid).margin + 2 * MARGIN
    reverts_with(market, "execute_order", good, sender=keeper, reason="perp: market not open")
    reopen = PRICE * 102 // 100
    publish(feed, reporters, reopen, OPEN)
    skew = market.open_interest()[0]
    with boa.env.prank(keeper):
        market.execute_order(good)
    new = market.position(market.next_position_id() - 1)
    assert new.entry_price == open_model(True, MARGIN, LEV, reopen, skew).price
    balance = usdc.balanceOf(trader)
    with boa.env.prank(keeper):
        market.execute_order(bad)
    assert usdc.balanceOf(trader) == balance + MARGIN
    assert market.order(bad).owner == "0x0000000000000000000000000000000000000000"
    with boa.env.prank(keeper):
        market.execute_order(close)
    assert market.position(pid).size == 0
    assert market.escrowed_margin() == 0
    assert usdc.balanceOf(market.address) == new.margin


def test_cancel_order(
    funded: Any, usdc: Any, trader: str, non_owner: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    publish(feed, reporters, PRICE, CLOSED)
    before = usdc.balanceOf(trader)
    with boa.env.prank(trader):
        oid = funded.request_open(True, MARGIN, LEV, 0, 0, 0)
    with boa.env.prank(non_owner), boa.reverts("perp: not the owner"):
        funded.cancel_order(oid)
    with boa.env.prank(trader):
        funded.cancel_order(oid)
    assert usdc.balanceOf(trader) == before
    assert funded.escrowed_margin() == 0
    publish(feed, reporters, PRICE, OPEN)
    with boa.env.prank(trader), boa.reverts("perp: market not closed"):
        funded.request_open(True, MARGIN, LEV, 0, 0, 0)


def test_discovery_policy(
    funded: Any, trader: str, liquidator: str, feed: Any, reporters: list[LocalAccount], admin: str
) -> None:
    market = funded
    with boa.env.prank(admin):
        market.set_parameters(Params(closed_policy=POLICY_DISCOVERY).as_tuple())
        feed.set_closed_policy(2, 5_000)  # INTERNAL: the answer may move 50% around the close
    pid = open_(market, trader, True, MARGIN, 10 * WAD)
    publish(feed, reporters, PRICE, CLOSED)
    publish(feed, reporters, PRICE * 95 // 100, CLOSED)
    assert market.mark_price() == (PRICE * 95 // 100, STATE_DISCOVERY)
    # the answer far below the band: clamped to the close less 1/max leverage
    publish(feed, reporters, PRICE // 2, CLOSED)
    floor = PRICE - PRICE * WAD // (10 * WAD)
    assert market.mark_price() == (floor, STATE_DISCOVERY)
    pos = market.position(pid)
    expected = open_model(False, MARGIN, LEV, floor, pos.size)
    sid = open_(market, trader, False)
    assert market.position(sid).entry_price == expected.price
    # the 10x long is liquidatable at the clamped mark, not at the (lower) answer
    assert market.is_liquidatable(pid)
    with boa.env.prank(liquidator):
        market.liquidate(pid)
    assert market.position(pid).size == 0


def test_halted_and_stale_nothing_executes(
    funded: Any, vault: Any, usdc: Any, trader: str, liquidator: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    market = funded
    pid = open_(market, trader)
    publish(feed, reporters, PRICE, HALTED)
    assert market.mark_price() == (0, STATE_HALTED)
    before = snapshot(market, vault, usdc, trader)
    calls: tuple[Callable[[], Any], ...] = (
        lambda: market.open_position(True, MARGIN, LEV, 0, 0, 0),
        lambda: market.close_position(pid, 1, 0),
        lambda: market.add_margin(pid, USDC),
        lambda: market.liquidate(pid),
        lambda: market.execute_trigger(pid),
        lambda: market.request_open(True, MARGIN, LEV, 0, 0, 0),
    )
    with boa.env.prank(trader):
        for call in calls:
            with boa.reverts("guard: market halted"):
                call()
    publish(feed, reporters, PRICE, OPEN)
    boa.env.time_travel(seconds=MAX_AGE + 1)
    assert market.mark_price()[1] == STATE_NO_PRICE
    with boa.env.prank(trader):
        for call in (
            lambda: market.open_position(True, MARGIN, LEV, 0, 0, 0),
            lambda: market.close_position(pid, 1, 0),
            lambda: market.liquidate(pid),
        ):
            with boa.reverts("guard: stale price"):
                call()
    assert snapshot(market, vault, usdc, trader)[0] == before[0]


def test_split_changes_nothing(
    funded: Any, token: Any, trader: str, feed: Any, reporters: list[LocalAccount], multiplier_updater: str
) -> None:
    market = funded
    pid = open_(market, trader)
    pos = market.position(pid)
    value = market.equity(pid)
    split_at = int(boa.env.evm.patch.timestamp) + 30
    token.setUIMultiplier(4 * ONE, split_at, sender=multiplier_updater)
    boa.env.time_travel(seconds=60)
    from tests.support.contracts.oracle import transmit

    transmit(feed, reporters, PRICE // 4, OPEN)  # the share price falls by the ratio
    assert market.mark_price() == (PRICE, STATE_OPEN)
    assert market.position(pid) == pos
    assert abs(market.equity(pid) - value) <= 1


def test_parameters(funded: Any, admin: str, non_owner: str) -> None:
    assert tuple(funded.parameters()) == DEFAULTS.as_tuple()
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        funded.set_parameters(DEFAULTS.as_tuple())
    for bad, reason in [
        (Params(max_leverage=51 * WAD), "perp: max leverage out of range"),
        (Params(open_fee_bps=101), "perp: fee too large"),
        (Params(base_spread_bps=501), "perp: spread too large"),
        (Params(skew_scale=0), "perp: skew scale out of range"),
        (Params(max_funding_velocity=WAD + 1), "perp: funding velocity too large"),
        (Params(closed_policy=3), "perp: unknown closed policy"),
    ]:
        with boa.env.prank(admin), boa.reverts(reason):
            funded.set_parameters(bad.as_tuple())
    assert tuple(funded.parameters()) == DEFAULTS.as_tuple()
