"""StockOracle: the stock token's guarded price in Morpho Blue's scale, with the stock market's rules.

Every adapter state through `state()` and every action through `quote(action)` in each of them, the
price scale, a split, the settings and their bounds. The market is driven by rounds the real
reporters sign; staleness by moving the clock; the reserves by the token's real reserve feed.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE, TokenFactory, attest, mint
from tests.support.contracts.lending import (
    ACTIONS,
    BORROW,
    CLOSED_CUT,
    GRACE,
    LIQUIDATE,
    MAX_AGE,
    MAX_ANSWER,
    PRICE,
    PRICE_SCALE,
    STATE_CLOSED,
    STATE_GRACE,
    STATE_HALTED,
    STATE_NO_PRICE,
    STATE_OPEN,
    STATE_RESERVE_PAUSED,
    WAD,
    WITHDRAW_COLLATERAL,
    ZERO,
    now,
    oracle_price,
    publish,
)
from tests.support.contracts.oracle import deploy_price_feed, transmit
from tests.support.contracts.venues import CLOSED, HALTED, OPEN, SHARE, USDC

HOLDING = 10 * SHARE


@pytest.fixture
def supplied(token: Any, oracle: Any, reserve_feed: Any, attester: str, minter: str, borrower: str) -> Any:
    """The oracle of a token with a supply, fully reserved."""
    mint(token, reserve_feed, attester, minter, borrower, HOLDING)
    return oracle


def quotes(oracle: Any) -> list[tuple[int, int]]:
    return [tuple(oracle.quote(action)) for action in ACTIONS]


def assert_every_action_reverts(oracle: Any, reason: str) -> None:
    for action in (*ACTIONS, 0, 4):
        with boa.reverts(reason):
            oracle.quote(action)
    with boa.reverts(reason):
        oracle.price()


# ------------------------------------------------------------------------------- construction


def test_construction_records_the_feed_the_token_and_the_settings(
    oracle: Any, feed: Any, token: Any, admin: str
) -> None:
    assert oracle.price_feed() == feed.address
    assert oracle.token() == token.address
    assert oracle.owner() == admin
    assert oracle.guard_limits() == (MAX_AGE, 1, MAX_ANSWER)
    assert (oracle.closed_ltv_cut(), oracle.grace_period()) == (CLOSED_CUT, GRACE)
    assert oracle.price_scale() == PRICE_SCALE == 10**26
    assert (oracle.ACTION_BORROW(), oracle.ACTION_WITHDRAW_COLLATERAL(), oracle.ACTION_LIQUIDATE()) == ACTIONS
    states = (oracle.STATE_OPEN(), oracle.STATE_CLOSED(), oracle.STATE_HALTED(), oracle.STATE_GRACE())
    assert states == (STATE_OPEN, STATE_CLOSED, STATE_HALTED, STATE_GRACE)
    assert (oracle.STATE_RESERVE_PAUSED(), oracle.STATE_NO_PRICE()) == (STATE_RESERVE_PAUSED, STATE_NO_PRICE)
    assert oracle.MAX_GRACE_PERIOD() == 86_400


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"owner": ZERO}, "oracle: zero owner"),
        ({"cut": WAD}, "oracle: cut too large"),
        ({"grace": 86_401}, "oracle: grace too long"),
        ({"max_age": 0}, "guard: zero max age"),
        ({"min_answer": 2, "max_answer": 1}, "guard: min answer above max"),
    ],
)
def test_construction_rejects_bad_settings(
    stock_oracle_deployer: Any, feed: Any, admin: str, overrides: dict[str, Any], reason: str
) -> None:
    args: dict[str, Any] = {"loan_decimals": 6, "max_age": MAX_AGE, "min_answer": 1, "max_answer": MAX_ANSWER}
    args |= {"cut": CLOSED_CUT, "grace": GRACE, "owner": admin}
    args |= overrides
    with boa.reverts(reason):
        stock_oracle_deployer.deploy(feed.address, *args.values())


def test_construction_rejects_a_share_price_feed(
    stock_oracle_deployer: Any, price_feed_deployer: Any, reporters: list[LocalAccount], admin: str
) -> None:
    share_feed = deploy_price_feed(price_feed_deployer, admin, reporters, 3)

    with boa.reverts("oracle: feed has no token"):
        stock_oracle_deployer.deploy(share_feed.address, 6, MAX_AGE, 1, MAX_ANSWER, CLOSED_CUT, GRACE, admin)


def test_construction_rejects_decimals_the_scale_cannot_hold(
    stock_oracle_deployer: Any,
    price_feed_deployer: Any,
    token: Any,
    reporters: list[LocalAccount],
    admin: str,
) -> None:
    with boa.env.prank(admin):
        wide = price_feed_deployer.deploy(29, "AAPLx / USD", token.address, [r.address for r in reporters], 3)

    # 8 token decimals + 29 feed decimals > 36 + 0 loan decimals.
    with boa.reverts("oracle: decimals too large"):
        stock_oracle_deployer.deploy(wide.address, 0, MAX_AGE, 1, MAX_ANSWER, CLOSED_CUT, GRACE, admin)


# ----------------------------------------------------------------------------- open and scale


def test_open_market_quotes_every_action_at_the_feed_price_without_a_cut(supplied: Any) -> None:
    assert supplied.state() == STATE_OPEN
    assert quotes(supplied) == [(PRICE * 10**26, 0)] * 3
    assert supplied.price() == PRICE * 10**26


def test_price_is_raw_usdc_per_raw_token_times_1e36(supplied: Any, feed: Any, token: Any) -> None:
    # AAPLx has 8 decimals, the feed 8, USDC 6: one token at $200 is worth 200 USDC.
    assert (token.decimals(), feed.decimals()) == (8, 8)
    assert SHARE * supplied.price() // 10**36 == 200 * USDC
    assert supplied.price() == feed.latestRoundData()[1] * 10 ** (36 + 6 - 8 - 8)


def test_a_split_moves_nothing(
    supplied: Any,
    feed: Any,
    token: Any,
    reporters: list[LocalAccount],
    multiplier_updater: str,
    borrower: str,
) -> None:
    before = supplied.price()
    split_at = now() + 60
    token.setUIMultiplier(4 * ONE, split_at, sender=multiplier_updater)
    boa.env.time_travel(seconds=60)

    # Reporters observe the share price, a quarter of the old one; the feed answers the token price.
    transmit(feed, reporters, PRICE // 4, OPEN)

    assert token.uiMultiplier() == 4 * ONE
    assert feed.latestRoundData()[1] == PRICE
    assert supplied.price() == before
    assert quotes(supplied) == [(before, 0)] * 3
    assert token.balanceOf(borrower) == HOLDING


# ------------------------------------------------------------------------------------ closed


def test_closed_market_cuts_borrows_and_withdrawals_and_liquidates_at_the_close(
    supplied: Any, feed: Any, reporters: list[LocalAccount]
) -> None:
    publish(feed, reporters, PRICE, CLOSED)

    assert supplied.state() == STATE_CLOSED
    price = oracle_price(PRICE)
    assert quotes(supplied) == [(price, CLOSED_CUT), (price, CLOSED_CUT), (price, 0)]
    assert supplied.price() == price


def test_a_new_cut_applies_to_the_next_quote(
    supplied: Any, feed: Any, reporters: list[LocalAccount], admin: str
) -> None:
    publish(feed, reporters, PRICE, CLOSED)

    supplied.set_closed_ltv_cut(WAD // 5, sender=admin)

    assert supplied.quote(BORROW)[1] == supplied.quote(WITHDRAW_COLLATERAL)[1] == WAD // 5


# ------------------------------------------------------------------------------ no usable price


def test_halted_market_refuses_every_action(supplied: Any, feed: Any, reporters: list[LocalAccount]) -> None:
    publish(feed, reporters, PRICE, HALTED)

    assert supplied.state() == STATE_HALTED
    assert_every_action_reverts(supplied, "guard: market halted")


def test_stale_price_refuses_every_action_after_max_age(
    supplied: Any, feed: Any, token: Any, reserve_feed: Any, attester: str
) -> None:
    observed_at = feed.latestRoundData()[2]
    boa.env.time_travel(seconds=observed_at + MAX_AGE - now())
    attest(reserve_feed, attester, token.totalSupply())
    assert supplied.state() == STATE_OPEN
    assert quotes(supplied) == [(oracle_price(PRICE), 0)] * 3

    boa.env.time_travel(seconds=1)

    assert supplied.state() == STATE_NO_PRICE
    assert_every_action_reverts(supplied, "guard: stale price")


@pytest.mark.parametrize("limits", [(PRICE + 1, MAX_ANSWER), (1, PRICE - 1)], ids=["below", "above"])
def test_price_out_of_band_refuses_every_action(supplied: Any, admin: str, limits: tuple[int, int]) -> None:
    supplied.set_price_limits(MAX_AGE, *limits, sender=admin)

    assert supplied.state() == STATE_NO_PRICE
    assert_every_action_reverts(supplied, "guard: price out of band")


def test_a_feed_without_a_round_refuses_every_action(
    oracle_for: Callable[[Any], Any], feed_for: Callable[[Any], Any], token: Any
) -> None:
    silent = oracle_for(feed_for(token))

    assert silent.state() == STATE_NO_PRICE
    assert_every_action_reverts(silent, "guard: no price")


# ------------------------------------------------------------------------------- reopening grace


@pytest.mark.parametrize("paused", [CLOSED, HALTED], ids=["after_a_close", "after_a_halt"])
def test_reopening_holds_liquidations_for_the_grace_period(
    supplied: Any,
    feed: Any,
    reporters: list[LocalAccount],
    token: Any,
    reserve_feed: Any,
    attester: str,
    paused: int,
) -> None:
    publish(feed, reporters, PRICE, paused)
    boa.env.time_travel(seconds=3_600)
    attest(reserve_feed, attester, token.totalSupply())
    # The reopening round was observed 30 s before it reached the chain: the grace counts from then.
    reopened_at = now() - 30
    transmit(feed, reporters, PRICE, OPEN, reopened_at)
    assert supplied.reopened_at() == reopened_at

    assert supplied.state() == STATE_GRACE
    with boa.reverts("oracle: reopening grace"):
        supplied.quote(LIQUIDATE)
    assert supplied.quote(BORROW) == supplied.quote(WITHDRAW_COLLATERAL) == (oracle_price(PRICE), 0)

    # Another open round during the grace does not restart it.
    boa.env.time_travel(seconds=reopened_at + GRACE - 1 - now())
    transmit(feed, reporters, PRICE + 1, OPEN)
    assert supplied.reopened_at() == reopened_at
    with boa.reverts("oracle: reopening grace"):
        supplied.quote(LIQUIDATE)
    assert supplied.state() == STATE_GRACE

    boa.env.time_travel(seconds=1)

    assert supplied.state() == STATE_OPEN
    assert supplied.quote(LIQUIDATE) == (oracle_price(PRICE + 1), 0)


def test_a_grace_is_shorter_when_the_owner_shortens_it(
    supplied: Any, feed: Any, reporters: list[LocalAccount], admin: str
) -> None:
    publish(feed, reporters, PRICE, CLOSED)
    publish(feed, reporters, PRICE, OPEN, after=60)

    supplied.set_grace_period(0, sender=admin)

    assert supplied.state() == STATE_OPEN
    assert supplied.quote(LIQUIDATE) == (oracle_price(PRICE), 0)


# ---------------------------------------------------------------------------------- reserves


def test_reserves_below_supply_pause_borrows_only(
    supplied: Any, token: Any, reserve_feed: Any, attester: str
) -> None:
    attest(reserve_feed, attester, token.totalSupply() - 1)

    assert supplied.state() == STATE_RESERVE_PAUSED
    with boa.reverts("oracle: reserves below supply"):
        supplied.quote(BORROW)
    assert supplied.quote(WITHDRAW_COLLATERAL) == supplied.quote(LIQUIDATE) == (oracle_price(PRICE), 0)

    attest(reserve_feed, attester, token.totalSupply())

    assert supplied.state() == STATE_OPEN
    assert supplied.quote(BORROW) == (oracle_price(PRICE), 0)


def test_a_stale_reserve_round_pauses_borrows_only(
    supplied: Any, token: Any, reserve_feed: Any, attester: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    heartbeat = token.reserve_heartbeat()
    observed_at = reserve_feed.latestRoundData()[2]
    boa.env.time_travel(seconds=observed_at + heartbeat - now())
    publish(feed, reporters, PRICE, OPEN, after=0)
    assert supplied.state() == STATE_OPEN

    boa.env.time_travel(seconds=1)

    assert supplied.state() == STATE_RESERVE_PAUSED
    with boa.reverts("oracle: reserve stale"):
        supplied.quote(BORROW)
    assert supplied.quote(WITHDRAW_COLLATERAL) == supplied.quote(LIQUIDATE) == (oracle_price(PRICE), 0)


def test_a_token_without_a_reserve_feed_pauses_borrows_only(
    deploy_token: TokenFactory,
    open_feed: Callable[[Any], Any],
    oracle_for: Callable[[Any], Any],
    admin: str,
    minter: str,
    borrower: str,
) -> None:
    unreserved = deploy_token(reserve_feed_address=ZERO)
    unreserved.set_secure_mint_enabled(False, sender=admin)
    unreserved.mint(borrower, HOLDING, sender=minter)
    oracle = oracle_for(open_feed(unreserved))

    assert oracle.state() == STATE_RESERVE_PAUSED
    with boa.reverts("oracle: no reserve feed"):
        oracle.quote(BORROW)
    assert oracle.quote(WITHDRAW_COLLATERAL) == oracle.quote(LIQUIDATE) == (oracle_price(PRICE), 0)


def test_a_reserve_feed_without_a_round_pauses_borrows_only(
    supplied: Any, token: Any, reserve_feed_deployer: Any, admin: str
) -> None:
    with boa.env.prank(admin):
        silent = reserve_feed_deployer.deploy(8, "AAPLx reserves, new custodian")
        token.set_reserve_feed(silent.address, token.reserve_heartbeat())

    assert supplied.state() == STATE_RESERVE_PAUSED
    with boa.reverts("oracle: reserve stale"):
        supplied.quote(BORROW)
    assert supplied.quote(WITHDRAW_COLLATERAL) == supplied.quote(LIQUIDATE) == (oracle_price(PRICE), 0)


def test_short_reserves_keep_the_closed_cut_for_withdrawals(
    supplied: Any, token: Any, reserve_feed: Any, attester: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    publish(feed, reporters, PRICE, CLOSED)
    attest(reserve_feed, attester, token.totalSupply() - 1)

    assert supplied.state() == STATE_RESERVE_PAUSED
    with boa.reverts("oracle: reserves below supply"):
        supplied.quote(BORROW)
    assert supplied.quote(WITHDRAW_COLLATERAL) == (oracle_price(PRICE), CLOSED_CUT)
    assert supplied.quote(LIQUIDATE) == (oracle_price(PRICE), 0)


# ---------------------------------------------------------------------------------- priorities


def test_state_reports_the_most_restrictive_condition(
    supplied: Any, token: Any, reserve_feed: Any, attester: str, feed: Any, reporters: list[LocalAccount]
) -> None:
    # Reserves short during a reopening grace: reserve-paused first.
    publish(feed, reporters, PRICE, CLOSED)
    publish(feed, reporters, PRICE, OPEN)
    attest(reserve_feed, attester, token.totalSupply() - 1)
    assert supplied.state() == STATE_RESERVE_PAUSED

    # A halt with short reserves: halted.
    publish(feed, reporters, PRICE, HALTED)
    assert supplied.state() == STATE_HALTED

    # A stale price with short reserves: no price.
    publish(feed, reporters, PRICE, OPEN)
    boa.env.time_travel(seconds=MAX_AGE + 1)
    assert supplied.state() == STATE_NO_PRICE


def test_an_unknown_action_is_refused(supplied: Any) -> None:
    for action in (0, 4, 255):
        with boa.reverts("oracle: unknown action"):
            supplied.quote(action)


# ------------------------------------------------------------------------------------- settings


def test_the_owner_sets_the_cut_the_grace_and_the_limits(supplied: Any, admin: str) -> None:
    supplied.set_closed_ltv_cut(WAD - 1, sender=admin)
    assert [type(e).__name__ for e in supplied.get_logs()] == ["ClosedLtvCutSet"]
    supplied.set_grace_period(86_400, sender=admin)
    supplied.set_price_limits(60, 10, 20, sender=admin)

    assert (supplied.closed_ltv_cut(), supplied.grace_period()) == (WAD - 1, 86_400)
    assert supplied.guard_limits() == (60, 10, 20)


def _settings(oracle: Any) -> tuple[Any, ...]:
    return (oracle.closed_ltv_cut(), oracle.grace_period(), oracle.guard_limits(), oracle.owner())


@pytest.mark.parametrize(
    ("setter", "args", "reason"),
    [
        ("set_closed_ltv_cut", (WAD,), "oracle: cut too large"),
        ("set_grace_period", (86_401,), "oracle: grace too long"),
        ("set_price_limits", (0, 1, 2), "guard: zero max age"),
        ("set_price_limits", (60, 0, 2), "guard: zero min answer"),
        ("set_price_limits", (60, 3, 2), "guard: min answer above max"),
        ("set_price_limits", (60, 1, 2**104), "guard: max answer too large"),
    ],
)
def test_setters_refuse_values_out_of_bounds_and_change_nothing(
    supplied: Any, admin: str, setter: str, args: tuple[int, ...], reason: str
) -> None:
    before = _settings(supplied)

    with boa.reverts(reason):
        getattr(supplied, setter)(*args, sender=admin)

    assert _settings(supplied) == before


@pytest.mark.parametrize(
    ("setter", "args"),
    [
        ("set_closed_ltv_cut", (0,)),
        ("set_grace_period", (0,)),
        ("set_price_limits", (60, 1, 2)),
        ("transfer_ownership", (ZERO.replace("00", "11", 1),)),
        ("renounce_ownership", ()),
    ],
)
def test_setters_are_the_owners_alone(
    supplied: Any, non_owner: str, setter: str, args: tuple[Any, ...]
) -> None:
    before = _settings(supplied)

    with boa.reverts("ownable: caller is not the owner"):
        getattr(supplied, setter)(*args, sender=non_owner)

    assert _settings(supplied) == before
