"""Token buckets per remote and direction: capacity, the exact wait, refill over time, and the setters."""

from collections.abc import Callable
from typing import Any

import boa
from tests.support.contracts import ONE_SHARE, events
from tests.support.contracts.bridge import REMOTE_EVM, SOLANA, Inbound, Message, Snapshot, sign, word

CAPACITY = 10 * ONE_SHARE
RATE = ONE_SHARE // 10  # one share every ten seconds


def _limit(pool: Any, admin: str, chain: int = REMOTE_EVM) -> None:
    with boa.env.prank(admin):
        pool.set_rate_limits(chain, True, CAPACITY, RATE, True, CAPACITY, RATE)


def _send(pool: Any, holder: str, amount: int) -> None:
    with boa.env.prank(holder):
        pool.send(REMOTE_EVM, word(holder), amount, 0)


def test_outbound_wait_is_exact_and_refills(funded: Any, admin: str, holder: str, snapshot: Snapshot) -> None:
    _limit(funded, admin)
    _send(funded, holder, 8 * ONE_SHARE)
    assert funded.outbound_bucket(REMOTE_EVM)[0] == 2 * ONE_SHARE
    before = snapshot([holder])
    with boa.env.prank(holder), boa.reverts("bridge: rate limited, wait 30 s"):
        funded.send(REMOTE_EVM, word(holder), 5 * ONE_SHARE, 0)
    with boa.env.prank(holder), boa.reverts("bridge: rate limited, wait 31 s"):  # ceil
        funded.send(REMOTE_EVM, word(holder), 5 * ONE_SHARE + 1, 0)
    assert snapshot([holder]) == before
    boa.env.time_travel(seconds=29)
    with boa.env.prank(holder), boa.reverts("bridge: rate limited, wait 1 s"):
        funded.send(REMOTE_EVM, word(holder), 5 * ONE_SHARE, 0)
    boa.env.time_travel(seconds=1)
    _send(funded, holder, 5 * ONE_SHARE)
    tokens, last_updated, capacity, rate, enabled = funded.outbound_bucket(REMOTE_EVM)
    assert (tokens, last_updated, capacity, rate, enabled) == (
        0,
        boa.env.evm.patch.timestamp,
        CAPACITY,
        RATE,
        True,
    )
    boa.env.time_travel(seconds=10_000)
    assert funded.outbound_bucket(REMOTE_EVM)[0] == CAPACITY  # never above capacity


def test_above_capacity_is_refused(funded: Any, admin: str, holder: str, snapshot: Snapshot) -> None:
    _limit(funded, admin)
    before = snapshot([holder])
    with boa.env.prank(holder), boa.reverts("bridge: amount above capacity"):
        funded.send(REMOTE_EVM, word(holder), CAPACITY + 1, 0)
    assert snapshot([holder]) == before


def test_limits_are_per_remote(funded: Any, admin: str, holder: str) -> None:
    _limit(funded, admin)
    with boa.env.prank(holder):
        funded.send(SOLANA, b"\x07" * 32, 50 * ONE_SHARE, 0)  # no limit towards Solana
    assert tuple(funded.outbound_bucket(SOLANA)) == (0, 0, 0, 0, False)


def test_inbound_limit(
    funded: Any,
    admin: str,
    inbound: Inbound,
    deliver: Callable[[Message], bytes],
    signers: list[Any],
    receiver: str,
    snapshot: Snapshot,
) -> None:
    _limit(funded, admin)
    deliver(inbound(receiver, 9 * ONE_SHARE, nonce=1))
    message = inbound(receiver, 2 * ONE_SHARE, nonce=2)
    before = snapshot([receiver], [funded.message_id(message.as_tuple())])
    with boa.reverts("bridge: rate limited, wait 10 s"):
        funded.receive(message.as_tuple(), sign(message, signers))
    big = inbound(receiver, CAPACITY + 1, nonce=3)
    with boa.reverts("bridge: amount above capacity"):
        funded.receive(big.as_tuple(), sign(big, signers))
    assert snapshot([receiver], [funded.message_id(message.as_tuple())]) == before
    boa.env.time_travel(seconds=10)
    deliver(message)  # the relayer's retry goes through
    assert funded.inbound_bucket(REMOTE_EVM)[0] == 0


def test_setters_are_admin_only_with_events(funded: Any, admin: str, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.set_rate_limits(REMOTE_EVM, True, CAPACITY, RATE, False, 0, 0)
    with boa.env.prank(admin):
        funded.set_rate_limits(REMOTE_EVM, True, CAPACITY, RATE, False, 0, 0)
    assert events(funded) == [
        (
            "RateLimitSet",
            {
                "remote_chain": REMOTE_EVM,
                "inbound": False,
                "enabled": True,
                "capacity": CAPACITY,
                "rate": RATE,
            },
        ),
        (
            "RateLimitSet",
            {"remote_chain": REMOTE_EVM, "inbound": True, "enabled": False, "capacity": 0, "rate": 0},
        ),
    ]
    assert tuple(funded.outbound_bucket(REMOTE_EVM)) == (
        CAPACITY,
        boa.env.evm.patch.timestamp,
        CAPACITY,
        RATE,
        True,
    )


def test_rate_must_not_exceed_capacity_and_disabled_is_zero(funded: Any, admin: str) -> None:
    with boa.env.prank(admin):
        with boa.reverts("bridge: rate above capacity"):
            funded.set_rate_limits(REMOTE_EVM, True, CAPACITY, CAPACITY + 1, False, 0, 0)
        with boa.reverts("bridge: rate above capacity"):
            funded.set_rate_limits(REMOTE_EVM, False, 0, 0, True, CAPACITY, CAPACITY + 1)
        with boa.reverts("bridge: disabled limit must be zero"):
            funded.set_rate_limits(REMOTE_EVM, False, CAPACITY, 0, False, 0, 0)
        funded.set_rate_limits(REMOTE_EVM, True, CAPACITY, CAPACITY, False, 0, 0)  # rate == capacity is fine


def test_setting_keeps_tokens_up_to_the_new_capacity(funded: Any, admin: str, holder: str) -> None:
    _limit(funded, admin)
    _send(funded, holder, 4 * ONE_SHARE)  # 6 shares left
    with boa.env.prank(admin):
        funded.set_rate_limits(REMOTE_EVM, True, 20 * ONE_SHARE, RATE, False, 0, 0)
    assert funded.outbound_bucket(REMOTE_EVM)[0] == 6 * ONE_SHARE
    with boa.env.prank(admin):
        funded.set_rate_limits(REMOTE_EVM, True, 5 * ONE_SHARE, RATE, False, 0, 0)
    assert funded.outbound_bucket(REMOTE_EVM)[0] == 5 * ONE_SHARE
