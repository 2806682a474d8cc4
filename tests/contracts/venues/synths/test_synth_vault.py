"""SynthVault: deployment and its refusals, every action's exact outcome, every bad input refused with
its reason and nothing changed, the suspension while the stock's market is closed or halted or the
price stale, the liquidation maths (partial, full, bad debt) and a split that moves nothing.

The price is $200 a token; 3,000 USDC carry at most 10 sAAPL (2,000 USDC of debt at 150%).
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE, actor
from tests.support.contracts.oracle import NO_TOKEN, deploy_price_feed
from tests.support.contracts.synths import (
    MAX_AGE,
    MAX_ANSWER,
    MAX_UINT,
    MIN_CR,
    PENALTY,
    PRICE,
    QUORUM,
    STATE_CLOSED,
    STATE_HALTED,
    STATE_NO_PRICE,
    STATE_OPEN,
    SYNTH,
    USDC,
    VALUE_SCALE,
    WAD,
    Snapshot,
    max_debt,
    now,
    publish,
    ratio,
    refused,
    seized,
    vault_events,
)
from tests.support.contracts.venues import CLOSED, HALTED, OPEN

COLLATERAL = 3_000 * USDC
DEBT = 10 * SYNTH  # exactly 150% at $200
ZERO = "0x" + "00" * 20


@pytest.fixture
def opened(vault: Any, writer: str) -> int:
    """The writer's position: 3,000 USDC, 10 sAAPL, exactly at the minimum ratio."""
    id_: int = vault.open_position(COLLATERAL, DEBT, sender=writer)
    return id_


# ------------------------------------------------------------------------------------ deployment


def test_deployment_defaults(vault: Any, synth: Any, usdc: Any, feed: Any, token: Any, admin: str) -> None:
    assert (vault.usdc(), vault.synth(), vault.price_feed(), vault.token()) == (
        usdc.address,
        synth.address,
        feed.address,
        token.address,
    )
    assert vault.owner() == admin
    assert (vault.min_collateral_ratio(), vault.liquidation_penalty()) == (MIN_CR, PENALTY)
    assert vault.value_scale() == VALUE_SCALE
    assert vault.guard_limits() == (MAX_AGE, 1, MAX_ANSWER)
    assert (vault.next_position_id(), vault.total_collateral(), vault.total_debt(), vault.bad_debt()) == (
        1,
        0,
        0,
        0,
    )
    assert vault.price() == (PRICE, STATE_OPEN)


def test_a_feed_of_another_token_is_refused(
    vault_deployer: Any,
    feed_of: Callable[[Any], Any],
    deploy_token: Callable[..., Any],
    price_feed_deployer: Any,
    all_reporters: list[LocalAccount],
    synth: Any,
    usdc: Any,
    token: Any,
    admin: str,
) -> None:
    other_feed = feed_of(deploy_token(symbol_="MSFTx", ticker_="MSFT"))
    share_feed = deploy_price_feed(price_feed_deployer, admin, all_reporters, QUORUM, NO_TOKEN)
    with boa.reverts("synth: feed prices another asset"):
        vault_deployer.deploy(
            usdc.address, synth.address, other_feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )
    with boa.reverts("synth: feed prices another asset"):
        vault_deployer.deploy(
            usdc.address, synth.address, share_feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )
    with boa.reverts("synth: feed not deployed here"):
        vault_deployer.deploy(
            usdc.address, synth.address, actor("nowhere"), token.address, MAX_AGE, 1, MAX_ANSWER
        )
    with boa.reverts("synth: token not deployed here"):
        vault_deployer.deploy(
            usdc.address, synth.address, share_feed.address, NO_TOKEN, MAX_AGE, 1, MAX_ANSWER
        )
    with boa.reverts("synth: zero address"):
        vault_deployer.deploy(ZERO, synth.address, other_feed.address, token.address, MAX_AGE, 1, MAX_ANSWER)
    with boa.reverts("guard: zero max age"):
        vault_deployer.deploy(
            usdc.address, synth.address, other_feed.address, other_feed.token(), 0, 1, MAX_ANSWER
        )


def test_set_risk_is_validated_and_owner_only(vault: Any, admin: str, non_owner: str) -> None:
    with boa.reverts("ownable: caller is not the owner"):
        vault.set_risk(2 * WAD, PENALTY, sender=non_owner)
    with boa.reverts("synth: ratio below 1 + penalty"):
        vault.set_risk(WAD + PENALTY, PENALTY, sender=admin)
    with boa.reverts("synth: penalty too large"):
        vault.set_risk(2 * WAD, WAD // 2 + 1, sender=admin)
    with boa.reverts("synth: ratio too large"):
        vault.set_risk(10 * WAD + 1, PENALTY, sender=admin)
    assert (vault.min_collateral_ratio(), vault.liquidation_penalty()) == (MIN_CR, PENALTY)

    vault.set_risk(2 * WAD, WAD // 20, sender=admin)

    assert vault_events(vault) == [
        ("RiskSet", {"min_collateral_ratio": 2 * WAD, "liquidation_penalty": WAD // 20})
    ]
    assert (vault.min_collateral_ratio(), vault.liquidation_penalty()) == (2 * WAD, WAD // 20)


def test_set_guard_limits_is_owner_only(vault: Any, admin: str, non_owner: str) -> None:
    with boa.reverts("ownable: caller is not the owner"):
        vault.set_guard_limits(120, 1, MAX_ANSWER, sender=non_owner)
    vault.set_guard_limits(120, 10, 10**12, sender=admin)
    assert vault.guard_limits() == (120, 10, 10**12)


# ------------------------------------------------------------------------------------ happy paths


def test_open_position_at_exactly_the_minimum_ratio(vault: Any, synth: Any, usdc: Any, writer: str) -> None:
    usdc_before = usdc.balanceOf(writer)

    id_ = vault.open_position(COLLATERAL, DEBT, sender=writer)

    assert id_ == 1
    assert vault_events(vault) == [
        ("PositionOpened", {"id": 1, "owner": writer, "collateral": COLLATERAL, "debt": DEBT, "price": PRICE})
    ]
    assert tuple(vault.position(1)) == (writer, COLLATERAL, DEBT)
    assert (vault.next_position_id(), vault.total_collateral(), vault.total_debt()) == (2, COLLATERAL, DEBT)
    assert (synth.balanceOf(writer), synth.totalSupply()) == (DEBT, DEBT)
    assert (usdc.balanceOf(writer), usdc.balanceOf(vault.address)) == (usdc_before - COLLATERAL, COLLATERAL)
    assert vault.collateral_ratio(1) == MIN_CR
    assert (vault.max_mint(1), vault.is_liquidatable(1)) == (0, False)


def test_open_one_wei_above_the_ratio_is_refused(vault: Any, state: Snapshot, writer: str) -> None:
    with refused(state, "synth: below minimum collateral ratio"):
        vault.open_position(COLLATERAL, DEBT + 1, sender=writer)
    with refused(state, "synth: zero amount"):
        vault.open_position(0, 0, sender=writer)


def test_open_without_debt_then_mint_up_to_max_mint(vault: Any, synth: Any, writer: str) -> None:
    id_ = vault.open_position(COLLATERAL, 0, sender=writer)
    assert vault.collateral_ratio(id_) == MAX_UINT
    assert vault.max_mint(id_) == DEBT == max_debt(COLLATERAL, PRICE)

    vault.mint(id_, 4 * SYNTH, sender=writer)

    assert vault_events(vault) == [("Minted", {"id": id_, "amount": 4 * SYNTH, "price": PRICE})]
    assert tuple(vault.position(id_)) == (writer, COLLATERAL, 4 * SYNTH)
    assert vault.collateral_ratio(id_) == ratio(COLLATERAL, 4 * SYNTH, PRICE) == 375 * WAD // 100
    assert vault.max_mint(id_) == 6 * SYNTH
    assert (vault.total_debt(), synth.totalSupply(), synth.balanceOf(writer)) == (4 * SYNTH,) * 3


def test_mint_refusals(vault: Any, opened: int, state: Snapshot, writer: str, other_writer: str) -> None:
    with refused(state, "synth: below minimum collateral ratio"):
        vault.mint(opened, 1, sender=writer)
    with refused(state, "synth: not the owner"):
        vault.mint(opened, 1, sender=other_writer)
    with refused(state, "synth: zero amount"):
        vault.mint(opened, 0, sender=writer)
    with refused(state, "synth: no such position"):
        vault.mint(2, 1, sender=writer)
    with refused(state, "synth: no such position"):
        vault.mint(0, 1, sender=writer)


def test_deposit_by_anyone_then_withdraw(
    vault: Any, opened: int, usdc: Any, writer: str, other_writer: str
) -> None:
    vault.deposit(opened, 1_000 * USDC, sender=other_writer)
    assert vault_events(vault) == [
        ("Deposited", {"id": opened, "payer": other_writer, "amount": 1_000 * USDC})
    ]
    assert tuple(vault.position(opened)) == (writer, 4_000 * USDC, DEBT)
    assert vault.total_collateral() == 4_000 * USDC
    before = usdc.balanceOf(writer)

    vault.withdraw(opened, 1_000 * USDC, sender=writer)

    assert vault_events(vault) == [("Withdrawn", {"id": opened, "amount": 1_000 * USDC})]
    assert tuple(vault.position(opened)) == (writer, COLLATERAL, DEBT)
    assert usdc.balanceOf(writer) == before + 1_000 * USDC
    assert (vault.total_collateral(), usdc.balanceOf(vault.address)) == (COLLATERAL, COLLATERAL)


def test_withdraw_and_deposit_refusals(
    vault: Any, opened: int, state: Snapshot, writer: str, other_writer: str
) -> None:
    with refused(state, "synth: below minimum collateral ratio"):
        vault.withdraw(opened, 1, sender=writer)
    with refused(state, "synth: amount exceeds collateral"):
        vault.withdraw(opened, COLLATERAL + 1, sender=writer)
    with refused(state, "synth: not the owner"):
        vault.withdraw(opened, 1, sender=other_writer)
    with refused(state, "synth: zero amount"):
        vault.withdraw(opened, 0, sender=writer)
    with refused(state, "synth: zero amount"):
        vault.deposit(opened, 0, sender=writer)
    with refused(state, "synth: no such position"):
        vault.deposit(7, USDC, sender=writer)


def test_burn_by_anyone(vault: Any, opened: int, synth: Any, writer: str, other_writer: str) -> None:
    synth.transfer(other_writer, 4 * SYNTH, sender=writer)

    vault.burn(opened, 4 * SYNTH, sender=other_writer)

    assert vault_events(vault) == [("Burned", {"id": opened, "payer": other_writer, "amount": 4 * SYNTH})]
    assert tuple(vault.position(opened)) == (writer, COLLATERAL, 6 * SYNTH)
    assert (synth.balanceOf(other_writer), synth.totalSupply(), vault.total_debt()) == (
        0,
        6 * SYNTH,
        6 * SYNTH,
    )
    assert vault.collateral_ratio(opened) == 25 * WAD // 10


def test_burn_refusals(vault: Any, opened: int, state: Snapshot, writer: str, other_writer: str) -> None:
    with refused(state, "synth: amount exceeds debt"):
        vault.burn(opened, DEBT + 1, sender=writer)
    with refused(state, "erc20: burn amount exceeds balance"):
        vault.burn(opened, SYNTH, sender=other_writer)
    with refused(state, "synth: zero amount"):
        vault.burn(opened, 0, sender=writer)


def test_close_position_returns_everything(
    vault: Any, opened: int, synth: Any, usdc: Any, writer: str
) -> None:
    before = usdc.balanceOf(writer)

    vault.close_position(opened, sender=writer)

    assert vault_events(vault) == [
        ("PositionClosed", {"id": opened, "owner": writer, "collateral": COLLATERAL, "debt": DEBT})
    ]
    assert tuple(vault.position(opened)) == (ZERO, 0, 0)
    assert usdc.balanceOf(writer) == before + COLLATERAL
    assert (synth.balanceOf(writer), synth.totalSupply(), vault.total_debt(), vault.total_collateral()) == (
        0,
    ) * 4


def test_close_refusals(
    vault: Any, opened: int, state: Snapshot, synth: Any, writer: str, other_writer: str
) -> None:
    with refused(state, "synth: not the owner"):
        vault.close_position(opened, sender=other_writer)
    synth.transfer(other_writer, SYNTH, sender=writer)
    with refused(state, "erc20: burn amount exceeds balance"):
        vault.close_position(opened, sender=writer)
    synth.transfer(writer, SYNTH, sender=other_writer)
    vault.close_position(opened, sender=writer)
    with refused(state, "synth: position closed"):
        vault.close_position(opened, sender=writer)
    with refused(state, "synth: position closed"):
        vault.deposit(opened, USDC, sender=writer)


def test_close_many(vault: Any, synth: Any, usdc: Any, writer: str, state: Snapshot) -> None:
    first = vault.open_position(COLLATERAL, DEBT, sender=writer)
    second = vault.open_position(COLLATERAL, 0, sender=writer)
    third = vault.open_position(COLLATERAL, SYNTH, sender=writer)
    before = usdc.balanceOf(writer)

    vault.close_many([first, third], sender=writer)

    assert [e[1]["id"] for e in vault_events(vault)] == [first, third]
    assert usdc.balanceOf(writer) == before + 2 * COLLATERAL
    assert (vault.total_collateral(), vault.total_debt(), synth.totalSupply()) == (COLLATERAL, 0, 0)
    assert tuple(vault.position(second)) == (writer, COLLATERAL, 0)
    with refused(state, "synth: no positions"):
        vault.close_many([], sender=writer)


# ------------------------------------------------------------------------------------ suspension


def test_price_states(vault: Any, feed: Any, reporters: list[LocalAccount]) -> None:
    publish(feed, reporters, PRICE, CLOSED)
    assert vault.price() == (PRICE, STATE_CLOSED)
    publish(feed, reporters, PRICE, HALTED)
    assert vault.price() == (0, STATE_HALTED)
    publish(feed, reporters, PRICE, OPEN)
    assert vault.price() == (PRICE, STATE_OPEN)
    boa.env.time_travel(seconds=MAX_AGE + 1)
    assert vault.price() == (PRICE, STATE_NO_PRICE)


@pytest.mark.parametrize(
    ("status", "stale", "reason"),
    [
        (CLOSED, False, "synth: market closed"),
        (HALTED, False, "guard: market halted"),
        (OPEN, True, "guard: stale price"),
    ],
    ids=["closed", "halted", "stale"],
)
def test_suspended_actions(
    vault: Any,
    opened: int,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    writer: str,
    liquidator: str,
    other_writer: str,
    status: int,
    stale: bool,
    reason: str,
) -> None:
    debt_free = vault.open_position(COLLATERAL, 0, sender=other_writer)
    publish(feed, reporters, PRICE * 2, status)
    if stale:
        boa.env.time_travel(seconds=MAX_AGE + 1)
    assert not vault.is_liquidatable(opened)
    assert vault.max_mint(debt_free) == 0

    actions: list[Callable[[], Any]] = [
        lambda: vault.open_position(COLLATERAL, 0, sender=writer),
        lambda: vault.mint(opened, 1, sender=writer),
        lambda: vault.withdraw(opened, 1, sender=writer),
        lambda: vault.burn(opened, 1, sender=writer),
        lambda: vault.close_position(opened, sender=writer),
        lambda: vault.close_many([opened], sender=writer),
        lambda: vault.liquidate(opened, 1, sender=writer),
    ]
    for action in actions:
        with refused(state, reason):
            action()

    # Deposits always; a position without debt needs no price to withdraw or close.
    vault.deposit(opened, USDC, sender=liquidator)
    vault.withdraw(debt_free, USDC, sender=other_writer)
    vault.close_position(debt_free, sender=other_writer)
    assert tuple(vault.position(opened)) == (writer, COLLATERAL + USDC, DEBT)
    assert vault.total_collateral() == COLLATERAL + USDC


def test_a_price_out_of_band_suspends(
    vault: Any, opened: int, state: Snapshot, admin: str, writer: str
) -> None:
    vault.set_guard_limits(MAX_AGE, PRICE + 1, MAX_ANSWER, sender=admin)
    assert vault.price() == (PRICE, STATE_NO_PRICE)
    with refused(state, "guard: price out of band"):
        vault.burn(opened, 1, sender=writer)


# ------------------------------------------------------------------------------------ liquidation


def test_liquidation_partial_then_full(
    vault: Any,
    opened: int,
    state: Snapshot,
    synth: Any,
    usdc: Any,
    feed: Any,
    reporters: list[LocalAccount],
    writer: str,
    liquidator: str,
) -> None:
    synth.transfer(liquidator, DEBT, sender=writer)
    with refused(state, "synth: position healthy"):
        vault.liquidate(opened, SYNTH, sender=liquidator)
    price = 250 * 10**8
    publish(feed, reporters, price)  # debt worth 2,500 USDC: CR 1.2
    assert vault.collateral_ratio(opened) == 12 * WAD // 10
    assert vault.is_liquidatable(opened)
    with refused(state, "synth: amount exceeds debt"):
        vault.liquidate(opened, DEBT + 1, sender=liquidator)
    before = usdc.balanceOf(liquidator)

    paid = vault.liquidate(opened, 2 * SYNTH, sender=liquidator)

    # 2 sAAPL at $250 plus 10%: 550 USDC.
    assert paid == 550 * USDC == seized(2 * SYNTH, price, COLLATERAL)
    assert vault_events(vault) == [
        (
            "Liquidated",
            {
                "id": opened,
                "liquidator": liquidator,
                "amount": 2 * SYNTH,
                "seized": paid,
                "written_off": 0,
                "price": price,
            },
        )
    ]
    assert tuple(vault.position(opened)) == (writer, 2_450 * USDC, 8 * SYNTH)
    assert usdc.balanceOf(liquidator) == before + paid
    assert (vault.total_collateral(), vault.total_debt(), synth.totalSupply()) == (
        2_450 * USDC,
        8 * SYNTH,
        8 * SYNTH,
    )

    paid = vault.liquidate(opened, 8 * SYNTH, sender=liquidator)

    assert paid == 2_200 * USDC
    assert tuple(vault.position(opened)) == (writer, 250 * USDC, 0)
    assert (vault.total_collateral(), vault.total_debt(), vault.bad_debt(), synth.totalSupply()) == (
        250 * USDC,
        0,
        0,
        0,
    )
    # What the liquidation left is the owner's, without a price.
    vault.close_position(opened, sender=writer)


def test_liquidation_with_bad_debt(
    vault: Any,
    opened: int,
    synth: Any,
    usdc: Any,
    feed: Any,
    reporters: list[LocalAccount],
    writer: str,
    liquidator: str,
) -> None:
    synth.transfer(liquidator, 7 * SYNTH, sender=writer)
    publish(feed, reporters, 400 * 10**8)  # debt worth 4,000 USDC against 3,000
    before = usdc.balanceOf(liquidator)

    paid = vault.liquidate(opened, 7 * SYNTH, sender=liquidator)

    # 7 sAAPL at $400 plus 10% is 3,080 USDC: all 3,000 of the collateral, the 3 sAAPL left written off.
    assert paid == COLLATERAL
    assert vault_events(vault)[0][1]["written_off"] == 3 * SYNTH
    assert tuple(vault.position(opened)) == (writer, 0, 0)
    assert (vault.total_collateral(), vault.total_debt(), vault.bad_debt()) == (0, 0, 3 * SYNTH)
    assert synth.totalSupply() == vault.total_debt() + vault.bad_debt() == synth.balanceOf(writer)
    assert usdc.balanceOf(liquidator) == before + COLLATERAL
    assert usdc.balanceOf(vault.address) == 0


def test_a_liquidator_needs_the_synthetic(
    vault: Any, opened: int, state: Snapshot, feed: Any, reporters: list[LocalAccount], liquidator: str
) -> None:
    publish(feed, reporters, 250 * 10**8)
    with refused(state, "erc20: burn amount exceeds balance"):
        vault.liquidate(opened, SYNTH, sender=liquidator)
    with refused(state, "synth: zero amount"):
        vault.liquidate(opened, 0, sender=liquidator)


# ------------------------------------------------------------------------------------ splits


def test_a_split_moves_nothing(
    vault: Any,
    opened: int,
    state: Snapshot,
    token: Any,
    feed: Any,
    reporters: list[LocalAccount],
    multiplier_updater: str,
    writer: str,
    liquidator: str,
) -> None:
    token.setUIMultiplier(4 * ONE, now() + 60, sender=multiplier_updater)
    # Reporters observe the share price, a quarter of the old one; the feed answers the token price.
    publish(feed, reporters, PRICE // 4, OPEN, after=60)

    assert feed.latestRoundData()[1] == PRICE
    assert vault.price() == (PRICE, STATE_OPEN)
    assert vault.collateral_ratio(opened) == MIN_CR
    assert (vault.max_mint(opened), vault.is_liquidatable(opened)) == (0, False)
    with refused(state, "synth: below minimum collateral ratio"):
        vault.mint(opened, 1, sender=writer)
    with refused(state, "synth: position healthy"):
        vault.liquidate(opened, 1, sender=liquidator)
    assert tuple(vault.position(opened)) == (writer, COLLATERAL, DEBT)


def test_a_price_is_good_for_exactly_max_age_seconds(
    vault: Any, opened: int, state: Snapshot, feed: Any, reporters: list[LocalAccount], writer: str
) -> None:
    observed = publish(feed, reporters, PRICE)
    boa.env.time_travel(seconds=MAX_AGE - (now() - observed))
    vault.burn(opened, SYNTH, sender=writer)
    assert tuple(vault.position(opened)) == (writer, COLLATERAL, DEBT - SYNTH)

    boa.env.time_travel(seconds=1)
    with refused(state, "guard: stale price"):
        vault.burn(opened, SYNTH, sender=writer)
