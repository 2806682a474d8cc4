"""PriceFeed's closed-market policies: the close, FROZEN, INTERNAL within a band, halts."""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import transmit

PRICE = 150 * 10**8
OPEN, CLOSED, HALTED = 1, 2, 3
FROZEN, INTERNAL = 1, 2
MIN_INTERVAL = 3_600


def _round(feed: Any, reporters: list[LocalAccount], price: int | list[int], status: int) -> int:
    boa.env.time_travel(seconds=MIN_INTERVAL)
    return transmit(feed, reporters, price, status)


def test_closing_round_sets_the_close(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    _round(price_feed, reporter_accounts, PRICE, OPEN)

    _round(price_feed, reporter_accounts, [PRICE + 2, PRICE - 1, PRICE + 1, PRICE], CLOSED)

    assert price_feed.last_close() == PRICE + 1


def test_first_round_closed_sets_the_close(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)

    assert price_feed.last_close() == PRICE


def test_open_and_halted_rounds_leave_the_close(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)
    for status, price in ((OPEN, PRICE + 100), (HALTED, PRICE + 200), (OPEN, PRICE + 300)):
        _round(price_feed, reporter_accounts, price, status)

    assert price_feed.last_close() == PRICE


def test_frozen_repeats_the_close(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)

    assert _round(price_feed, reporter_accounts, PRICE, CLOSED) == 2


@pytest.mark.parametrize("moved", [PRICE + 1, PRICE - 1])
def test_frozen_rejects_any_move(price_feed: Any, reporter_accounts: list[LocalAccount], moved: int) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)

    with boa.reverts("aggregator: price moved while frozen"):
        _round(price_feed, reporter_accounts, moved, CLOSED)
    assert price_feed.latestRoundData()[0] == 1


@pytest.mark.parametrize("moved", [PRICE * 101 // 100, PRICE * 99 // 100, PRICE])
def test_internal_accepts_moves_within_the_band(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    price_feed.set_closed_policy(INTERNAL, 100, sender=admin)
    _round(price_feed, reporter_accounts, PRICE, CLOSED)

    _round(price_feed, reporter_accounts, moved, CLOSED)

    assert price_feed.latestRoundData()[1] == moved
    assert price_feed.last_close() == PRICE


@pytest.mark.parametrize("moved", [PRICE * 101 // 100 + 1, PRICE * 99 // 100 - 1])
def test_internal_rejects_moves_outside_the_band(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    price_feed.set_closed_policy(INTERNAL, 100, sender=admin)
    _round(price_feed, reporter_accounts, PRICE, CLOSED)

    with boa.reverts("aggregator: price outside the closed band"):
        _round(price_feed, reporter_accounts, moved, CLOSED)


def test_internal_band_is_around_the_close_not_the_last_round(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.set_closed_policy(INTERNAL, 100, sender=admin)
    _round(price_feed, reporter_accounts, PRICE, CLOSED)
    _round(price_feed, reporter_accounts, PRICE * 101 // 100, CLOSED)

    # One more percent from the last round would be two from the close.
    with boa.reverts("aggregator: price outside the closed band"):
        _round(price_feed, reporter_accounts, PRICE * 102 // 100, CLOSED)


def test_a_halt_between_closes_starts_a_new_close(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)
    _round(price_feed, reporter_accounts, PRICE + 5, HALTED)

    _round(price_feed, reporter_accounts, PRICE + 5, CLOSED)

    assert price_feed.last_close() == PRICE + 5


def test_reopening_and_closing_again_sets_a_new_close(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)
    _round(price_feed, reporter_accounts, PRICE * 105 // 100, OPEN)
    _round(price_feed, reporter_accounts, PRICE * 108 // 100, CLOSED)

    assert price_feed.last_close() == PRICE * 108 // 100
    assert _round(price_feed, reporter_accounts, PRICE * 108 // 100, CLOSED) == 4


# --- set_closed_policy ---------------------------------------------------------------------------


def test_set_closed_policy_replaces_and_emits(price_feed: Any, admin: Any) -> None:
    price_feed.set_closed_policy(INTERNAL, 250, sender=admin)

    (updated,) = price_feed.get_logs()
    assert (type(updated).__name__, updated.policy, updated.band_bps) == (
        "ClosedPolicyUpdated",
        INTERNAL,
        250,
    )
    assert (price_feed.closed_policy(), price_feed.closed_band_bps()) == (INTERNAL, 250)


def test_policy_switch_keeps_the_close(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _round(price_feed, reporter_accounts, PRICE, CLOSED)
    price_feed.set_closed_policy(INTERNAL, 10_000, sender=admin)

    _round(price_feed, reporter_accounts, PRICE * 109 // 100, CLOSED)
    price_feed.set_closed_policy(FROZEN, 0, sender=admin)

    assert price_feed.last_close() == PRICE
    assert _round(price_feed, reporter_accounts, PRICE, CLOSED) == 3


@pytest.mark.parametrize(
    ("policy", "band", "reason"),
    [
        (0, 100, "aggregator: unknown closed policy"),
        (3, 100, "aggregator: unknown closed policy"),
        (INTERNAL, 10_001, "aggregator: band above 100%"),
    ],
)
def test_set_closed_policy_rejects_bad_values(
    price_feed: Any, admin: Any, policy: int, band: int, reason: str
) -> None:
    with boa.reverts(reason):
        price_feed.set_closed_policy(policy, band, sender=admin)
    assert (price_feed.closed_policy(), price_feed.closed_band_bps()) == (FROZEN, 1_000)


def test_set_closed_policy_rejects_non_admin(price_feed: Any, transmitter: Any) -> None:
    with boa.reverts("access_control: account is missing role"):
        price_feed.set_closed_policy(INTERNAL, 100, sender=transmitter)
