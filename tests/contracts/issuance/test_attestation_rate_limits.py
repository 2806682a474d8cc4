"""Attestation rate limits: per-user and per-token USD caps whose used amounts decay linearly, counted by
mints and redemptions alike, and the admin's setters with their events."""

from typing import Any

import boa
import pytest
from tests.support.contracts import ONE_SHARE, OPEN, TokenFactory, actor, events
from tests.support.contracts.attestation import (
    MAX_TTL,
    QUOTE_PRICE,
    SELL,
    TOKEN_DECAY,
    TOKEN_LIMIT,
    USDC,
    USER_DECAY,
    USER_LIMIT,
    World,
    deploy_world,
)

MISSING_ROLE = "access_control: account is missing role"
SHARES_AT_USER_LIMIT = USER_LIMIT * ONE_SHARE // QUOTE_PRICE  # 500 shares = 100,000 USD


@pytest.fixture(scope="module")
def treasury() -> str:
    return actor("treasury")


@pytest.fixture(scope="module")
def users() -> list[str]:
    return [actor(f"verified_user_{i}") for i in range(3)]


@pytest.fixture(scope="module")
def world(
    deploy_token: TokenFactory, reserve_feed: Any, admin: str, attester: str, treasury: str, users: list[str]
) -> World:
    w = deploy_world(deploy_token, reserve_feed, admin, attester, treasury, OPEN)
    for user in users:
        w.fund(user, dollars=1_000_000 * USDC)
    return w


def model_used(used: int, decay: int, elapsed: int) -> int:
    """Return the used amount after `elapsed` seconds of linear decay."""
    return max(0, used - decay * elapsed)


def refused(world: World, action: Any, reason: str, *users: str) -> None:
    """Assert `action` reverts with `reason` and changes no balance, usage or id."""
    before = world.snapshot(*users)
    with boa.reverts(reason):
        action()
    assert world.snapshot(*users) == before


def test_user_limit_caps_a_user(world: World, users: list[str]) -> None:
    user = users[0]
    world.mint(world.quote(user, SHARES_AT_USER_LIMIT))
    assert world.minter.available_for_user(user) == 0
    assert world.minter.available_for_user(users[1]) == USER_LIMIT
    refused(
        world,
        lambda: world.mint(world.quote(user, 1)),
        "usd_rate_limits: user limit exceeded, available 0",
        user,
    )


def test_decay_restores_capacity_exactly(world: World, users: list[str]) -> None:
    user = users[0]
    world.mint(world.quote(user, SHARES_AT_USER_LIMIT))
    start = boa.env.evm.patch.timestamp

    boa.env.time_travel(seconds=37)
    available = USER_LIMIT - model_used(USER_LIMIT, USER_DECAY, 37)
    assert available == 370 * USDC
    assert world.minter.available_for_user(user) == available
    assert world.minter.available_for_token() == TOKEN_LIMIT - model_used(USER_LIMIT, TOKEN_DECAY, 37)
    assert tuple(world.minter.user_usage(user)) == (USER_LIMIT, start)  # stored, not decayed

    over = world.quote(user, available * ONE_SHARE // QUOTE_PRICE + 1)  # 370 USD and 2 units
    refused(
        world, lambda: world.mint(over), f"usd_rate_limits: user limit exceeded, available {available}", user
    )
    world.mint(world.quote(user, available * ONE_SHARE // QUOTE_PRICE))
    assert world.minter.available_for_user(user) == 0
    assert tuple(world.minter.user_usage(user)) == (USER_LIMIT, start + 37)

    boa.env.time_travel(seconds=USER_LIMIT // USER_DECAY)
    assert world.minter.available_for_user(user) == USER_LIMIT


def test_token_limit_caps_all_users_together(world: World, users: list[str]) -> None:
    world.mint(world.quote(users[0], SHARES_AT_USER_LIMIT))
    world.mint(world.quote(users[1], SHARES_AT_USER_LIMIT))
    left = TOKEN_LIMIT - 2 * USER_LIMIT
    assert world.minter.available_for_token() == left
    assert world.minter.available_for_user(users[2]) == USER_LIMIT
    refused(
        world,
        lambda: world.mint(world.quote(users[2], SHARES_AT_USER_LIMIT)),
        f"usd_rate_limits: token limit exceeded, available {left}",
        *users,
    )
    world.mint(world.quote(users[2], left * ONE_SHARE // QUOTE_PRICE))
    assert world.minter.available_for_token() == 0


def test_redemptions_count_in_the_same_limits(world: World, users: list[str]) -> None:
    user = users[0]
    world.mint(world.quote(user, 300 * ONE_SHARE))  # 60,000 USD
    world.redeem(world.quote(user, 200 * ONE_SHARE, SELL))  # 40,000 USD
    assert world.minter.available_for_user(user) == 0
    assert world.minter.available_for_token() == TOKEN_LIMIT - USER_LIMIT
    refused(
        world,
        lambda: world.redeem(world.quote(user, ONE_SHARE, SELL)),
        "usd_rate_limits: user limit exceeded, available 0",
        user,
    )


def test_a_zero_limit_refuses_every_flow(world: World, users: list[str], admin: str) -> None:
    with boa.env.prank(admin):
        world.minter.set_token_rate_limit(0, TOKEN_DECAY)
    refused(
        world,
        lambda: world.mint(world.quote(users[0], ONE_SHARE)),
        "usd_rate_limits: token limit exceeded, available 0",
        users[0],
    )


def test_user_limit_setter_is_admin_only_and_logged(world: World, admin: str, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts(MISSING_ROLE):
        world.minter.set_user_rate_limit(1, 1)
    assert tuple(world.minter.user_rate_limit()) == (USER_LIMIT, USER_DECAY)
    with boa.env.prank(admin):
        world.minter.set_user_rate_limit(5_000 * USDC, 2 * USDC)
    assert events(world.minter) == [
        ("UserRateLimitSet", {"limit": 5_000 * USDC, "decay_per_second": 2 * USDC, "admin": admin})
    ]
    assert tuple(world.minter.user_rate_limit()) == (5_000 * USDC, 2 * USDC)


def test_token_limit_setter_settles_under_the_old_decay(
    world: World, users: list[str], admin: str, non_owner: str
) -> None:
    world.mint(world.quote(users[0], SHARES_AT_USER_LIMIT))
    boa.env.time_travel(seconds=100)
    with boa.env.prank(non_owner), boa.reverts(MISSING_ROLE):
        world.minter.set_token_rate_limit(1, 1)
    with boa.env.prank(admin):
        world.minter.set_token_rate_limit(150_000 * USDC, USDC)
    assert events(world.minter) == [
        ("TokenRateLimitSet", {"limit": 150_000 * USDC, "decay_per_second": USDC, "admin": admin})
    ]
    settled = model_used(USER_LIMIT, TOKEN_DECAY, 100)
    assert tuple(world.minter.token_usage()) == (settled, boa.env.evm.patch.timestamp)
    boa.env.time_travel(seconds=10)
    assert world.minter.available_for_token() == 150_000 * USDC - model_used(settled, USDC, 10)


def test_other_setters_are_admin_only_and_logged(world: World, admin: str, non_owner: str) -> None:
    new_treasury = actor("new_treasury")
    calls: list[tuple[str, tuple[Any, ...], tuple[str, dict[str, Any]]]] = [
        ("set_max_ttl", (MAX_TTL * 2,), ("MaxTtlSet", {"max_ttl": MAX_TTL * 2, "admin": admin})),
        ("set_treasury", (new_treasury,), ("TreasurySet", {"treasury": new_treasury, "admin": admin})),
        (
            "set_max_deviation_bps",
            (250,),
            ("MaxDeviationSet", {"max_deviation_bps": 250, "admin": admin}),
        ),
    ]
    for name, args, logged in calls:
        with boa.env.prank(non_owner), boa.reverts(MISSING_ROLE):
            getattr(world.minter, name)(*args)
        with boa.env.prank(admin):
            getattr(world.minter, name)(*args)
        assert events(world.minter) == [logged]
    assert (world.minter.max_ttl(), world.minter.treasury(), world.minter.max_deviation_bps()) == (
        MAX_TTL * 2,
        new_treasury,
        250,
    )
    with boa.env.prank(admin):
        with boa.reverts("attestation: zero max ttl"):
            world.minter.set_max_ttl(0)
        with boa.reverts("attestation: signer is the zero address"):
            world.minter.set_signer("0x" + "00" * 20)
        with boa.reverts("minter: deviation out of range"):
            world.minter.set_max_deviation_bps(10_001)
