"""Secure mint: a mint needs fresh, positive reserves in the token's units that cover the new supply."""

from typing import Any

import boa
import pytest
from tests.support.contracts import DECIMALS, HEARTBEAT, ONE_SHARE, OPEN, TokenFactory, attest, events

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory) -> Any:
    return deploy_token(OPEN)


def test_mint_within_reserves(token: Any, reserve_feed: Any, attester: str, minter: str, holder: str) -> None:
    attest(reserve_feed, attester, 10 * ONE_SHARE)
    with boa.env.prank(minter):
        token.mint(holder, 10 * ONE_SHARE)
    assert token.totalSupply() == 10 * ONE_SHARE


def test_mint_beyond_reserves_reverts(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    attest(reserve_feed, attester, 10 * ONE_SHARE)
    with boa.env.prank(minter):
        token.mint(holder, 6 * ONE_SHARE)
    with boa.env.prank(minter), boa.reverts("secure mint: supply would exceed reserves"):
        token.mint(holder, 4 * ONE_SHARE + 1)
    assert token.totalSupply() == 6 * ONE_SHARE


def test_stale_reserves_block_mints(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    attest(reserve_feed, attester, 10 * ONE_SHARE)
    boa.env.time_travel(seconds=HEARTBEAT + 1)
    with boa.env.prank(minter), boa.reverts("secure mint: reserve answer is stale"):
        token.mint(holder, ONE_SHARE)


def test_custody_observed_exactly_a_heartbeat_ago_covers_a_mint(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    attest(reserve_feed, attester, 10 * ONE_SHARE, age=HEARTBEAT)
    with boa.env.prank(minter):
        token.mint(holder, ONE_SHARE)
    assert token.totalSupply() == ONE_SHARE


def test_custody_observed_a_second_more_than_a_heartbeat_ago_is_stale(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    """Freshness runs from the observation: the round was accepted one second ago, custody seen
    a heartbeat and a second ago."""
    attest(reserve_feed, attester, 10 * ONE_SHARE, age=HEARTBEAT)
    boa.env.time_travel(seconds=1)
    with boa.env.prank(minter), boa.reverts("secure mint: reserve answer is stale"):
        token.mint(holder, ONE_SHARE)


def test_an_old_observation_accepted_recently_is_stale(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    """The loophole of measuring from `updatedAt`: a snapshot as old as the feed accepts, pushed
    now, covered mints for a whole heartbeat more, until it was nearly twice the heartbeat old."""
    max_report_age = reserve_feed.max_report_age()
    attest(reserve_feed, attester, 10 * ONE_SHARE, age=max_report_age)
    boa.env.time_travel(seconds=HEARTBEAT - 1)
    _, _, observed_at, updated_at, _ = reserve_feed.latestRoundData()
    now = boa.env.evm.patch.timestamp
    assert (now - updated_at, now - observed_at) == (HEARTBEAT - 1, max_report_age + HEARTBEAT - 1)
    with boa.env.prank(minter), boa.reverts("secure mint: reserve answer is stale"):
        token.mint(holder, ONE_SHARE)


@pytest.mark.parametrize(("age", "fresh"), [(60, True), (61, False)], ids=["at_heartbeat", "past_heartbeat"])
def test_freshness_is_judged_in_the_block_that_accepted_the_report(
    token: Any,
    reserve_feed: Any,
    attester: str,
    admin: str,
    minter: str,
    holder: str,
    age: int,
    fresh: bool,
) -> None:
    """With a heartbeat shorter than the feed's report age, a report can be stale on arrival."""
    with boa.env.prank(admin):
        token.set_reserve_feed(reserve_feed.address, 60)
    attest(reserve_feed, attester, 10 * ONE_SHARE, age=age)
    with boa.env.prank(minter):
        if fresh:
            token.mint(holder, ONE_SHARE)
        else:
            with boa.reverts("secure mint: reserve answer is stale"):
                token.mint(holder, ONE_SHARE)
    assert token.totalSupply() == (ONE_SHARE if fresh else 0)


def test_a_feed_without_data_blocks_mints(token: Any, minter: str, holder: str) -> None:
    with boa.env.prank(minter), boa.reverts("feed: no data"):
        token.mint(holder, 1)


def test_zero_reserves_block_mints(
    token: Any, reserve_feed: Any, attester: str, minter: str, holder: str
) -> None:
    attest(reserve_feed, attester, 0)
    with boa.env.prank(minter), boa.reverts("secure mint: reserves not positive"):
        token.mint(holder, 1)


def test_feed_in_other_units_blocks_mints(
    deploy_token: TokenFactory,
    reserve_feed_deployer: Any,
    admin: str,
    attester: str,
    minter: str,
    holder: str,
) -> None:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(DECIMALS + 10, "reserves in 18 decimals")
        feed.grantRole(feed.UPDATER_ROLE(), attester)
    token = deploy_token(OPEN, reserve_feed_address=feed.address)
    attest(feed, attester, 10**30)
    with boa.env.prank(minter), boa.reverts("secure mint: feed decimals differ from token"):
        token.mint(holder, 1)


def test_no_feed_blocks_mints_until_the_gate_is_set(
    deploy_token: TokenFactory, reserve_feed: Any, attester: str, admin: str, minter: str, holder: str
) -> None:
    token = deploy_token(OPEN, reserve_feed_address=ZERO)
    with boa.env.prank(minter), boa.reverts("secure mint: no reserve feed"):
        token.mint(holder, 1)
    with boa.env.prank(admin):
        token.set_reserve_feed(reserve_feed.address, 60)
    assert events(token) == [("ReserveFeedSet", {"feed": reserve_feed.address, "heartbeat": 60})]
    assert (token.reserve_feed(), token.reserve_heartbeat()) == (reserve_feed.address, 60)
    attest(reserve_feed, attester, 5)
    with boa.env.prank(minter):
        token.mint(holder, 5)


def test_margin_holds_back_part_of_the_reserves(
    token: Any, reserve_feed: Any, attester: str, admin: str, minter: str, holder: str
) -> None:
    with boa.env.prank(admin):
        token.set_reserve_margin(500)
    assert events(token) == [("ReserveMarginSet", {"margin_bps": 500})]
    attest(reserve_feed, attester, 100 * ONE_SHARE)
    with boa.env.prank(minter), boa.reverts("secure mint: supply would exceed reserves"):
        token.mint(holder, 95 * ONE_SHARE + 1)
    with boa.env.prank(minter):
        token.mint(holder, 95 * ONE_SHARE)


def test_disabling_the_gate_is_an_explicit_logged_act(
    token: Any, reserve_feed: Any, attester: str, admin: str, minter: str, holder: str
) -> None:
    attest(reserve_feed, attester, ONE_SHARE)
    with boa.env.prank(admin):
        token.set_secure_mint_enabled(False)
    assert events(token) == [("SecureMintToggled", {"enabled": False, "admin": admin})]
    with boa.env.prank(minter):
        token.mint(holder, 10**6 * ONE_SHARE)
    with boa.env.prank(admin):
        token.set_secure_mint_enabled(True)
    with boa.env.prank(minter), boa.reverts("secure mint: supply would exceed reserves"):
        token.mint(holder, 1)


def test_mint_of_zero_reverts(token: Any, minter: str, holder: str) -> None:
    with boa.env.prank(minter), boa.reverts("token: amount is zero"):
        token.mint(holder, 0)


def test_mint_to_the_zero_address_reverts(token: Any, reserve_feed: Any, attester: str, minter: str) -> None:
    attest(reserve_feed, attester, ONE_SHARE)
    with boa.env.prank(minter), boa.reverts("receiver is the zero address"):
        token.mint(ZERO, 1)


@pytest.mark.parametrize(
    ("feed", "heartbeat", "reason"),
    [
        (ZERO, 60, "secure mint: feed is the zero address"),
        (None, 0, "secure mint: heartbeat is zero"),
        (None, 2**64, "secure mint: heartbeat too large"),
    ],
)
def test_bad_feed_settings_revert(
    token: Any, reserve_feed: Any, admin: str, feed: str | None, heartbeat: int, reason: str
) -> None:
    with boa.env.prank(admin), boa.reverts(reason):
        token.set_reserve_feed(feed or reserve_feed.address, heartbeat)


def test_margin_of_100_percent_reverts(token: Any, admin: str) -> None:
    with boa.env.prank(admin), boa.reverts("secure mint: margin must be below 10000 bps"):
        token.set_reserve_margin(10_000)


def test_gate_settings_survive_each_other(token: Any, reserve_feed: Any, admin: str) -> None:
    with boa.env.prank(admin):
        token.set_reserve_margin(250)
        token.set_secure_mint_enabled(False)
        token.set_reserve_feed(reserve_feed.address, 7_200)
    assert token.reserve_margin_bps() == 250
    assert not token.secure_mint_enabled()
    assert (token.reserve_feed(), token.reserve_heartbeat()) == (reserve_feed.address, 7_200)
    with boa.env.prank(admin):
        token.set_secure_mint_enabled(True)
        token.set_reserve_margin(0)
    assert token.secure_mint_enabled()
    assert token.reserve_heartbeat() == 7_200


def test_constructor_rejects_a_heartbeat_too_large(deploy_token: TokenFactory) -> None:
    with boa.reverts("secure mint: heartbeat too large"):
        deploy_token(OPEN, reserve_heartbeat_=2**64)
