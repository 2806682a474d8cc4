"""ERC-8056 UI multiplier: scheduling, one pending update, history and conversions."""

from typing import Any

import boa
import pytest
from tests.support.contracts import ONE, ONE_SHARE, OPEN, TokenFactory, events, mint


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory, reserve_feed: Any, attester: str, minter: str, holder: str) -> Any:
    token = deploy_token(OPEN)
    mint(token, reserve_feed, attester, minter, holder, 3 * ONE_SHARE)
    return token


def now() -> int:
    timestamp: int = boa.env.evm.patch.timestamp
    return timestamp


def test_starts_at_one_with_a_single_history_entry(token: Any) -> None:
    assert token.uiMultiplier() == ONE
    assert token.multiplierHistoryLength() == 1
    assert token.pendingUIMultiplier() == (0, 0)
    assert token.multiplierChange(0)[0] == ONE


def test_split_scheduled_in_the_future_takes_effect_at_its_time(
    token: Any, multiplier_updater: str, holder: str
) -> None:
    effective = now() + 3_600
    set_at = now()
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(4 * ONE, effective)
    assert events(token) == [
        (
            "UIMultiplierUpdated",
            {
                "oldMultiplier": ONE,
                "newMultiplier": 4 * ONE,
                "setAtTimestamp": set_at,
                "effectiveAtTimestamp": effective,
            },
        )
    ]
    assert token.uiMultiplier() == ONE
    assert token.pendingUIMultiplier() == (4 * ONE, effective)
    assert token.balanceOfUI(holder) == 3 * ONE_SHARE
    boa.env.time_travel(seconds=3_599)
    assert token.uiMultiplier() == ONE
    boa.env.time_travel(seconds=1)
    assert token.uiMultiplier() == 4 * ONE
    assert token.balanceOfUI(holder) == 12 * ONE_SHARE
    assert token.balanceOf(holder) == 3 * ONE_SHARE
    assert token.pendingUIMultiplier() == (0, 0)


def test_immediate_update(token: Any, multiplier_updater: str, holder: str) -> None:
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(ONE // 10, now())
    assert token.uiMultiplier() == ONE // 10
    assert token.balanceOfUI(holder) == 3 * ONE_SHARE // 10


def test_a_new_update_replaces_the_pending_one(token: Any, multiplier_updater: str) -> None:
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(2 * ONE, now() + 100)
        token.setUIMultiplier(3 * ONE, now() + 200)
    assert token.multiplierHistoryLength() == 2
    assert token.pendingUIMultiplier() == (3 * ONE, now() + 200)
    boa.env.time_travel(seconds=150)
    assert token.uiMultiplier() == ONE
    boa.env.time_travel(seconds=50)
    assert token.uiMultiplier() == 3 * ONE


def test_history_answers_for_any_past_time(token: Any, multiplier_updater: str) -> None:
    start = now()
    schedule = [(2 * ONE, 1_000), (ONE + ONE // 50, 5_000), (ONE // 5, 9_000)]
    for multiplier, offset in schedule:
        with boa.env.prank(multiplier_updater):
            token.setUIMultiplier(multiplier, start + offset)
        boa.env.time_travel(seconds=start + offset - now())
    assert token.multiplierHistoryLength() == 4
    assert token.uiMultiplierAt(start - 1) == ONE
    assert token.uiMultiplierAt(start + 999) == ONE
    assert token.uiMultiplierAt(start + 1_000) == 2 * ONE
    assert token.uiMultiplierAt(start + 4_999) == 2 * ONE
    assert token.uiMultiplierAt(start + 5_000) == ONE + ONE // 50
    assert token.uiMultiplierAt(start + 10**9) == ONE // 5
    assert [token.multiplierChange(i)[1] - start for i in range(1, 4)] == [1_000, 5_000, 9_000]


def test_two_updates_in_the_same_second_keep_times_strictly_increasing(
    token: Any, multiplier_updater: str
) -> None:
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(2 * ONE, now())
        token.setUIMultiplier(5 * ONE, now())
    assert token.uiMultiplier() == 5 * ONE
    length = token.multiplierHistoryLength()
    times = [token.multiplierChange(i)[1] for i in range(length)]
    assert times == sorted(set(times))


def test_cancel_drops_the_pending_update(token: Any, multiplier_updater: str) -> None:
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(2 * ONE, now() + 60)
        token.cancelPendingUIMultiplier()
    assert events(token) == [
        ("PendingUIMultiplierCancelled", {"multiplier": 2 * ONE, "effectiveAtTimestamp": now() + 60})
    ]
    assert token.pendingUIMultiplier() == (0, 0)
    assert token.multiplierHistoryLength() == 1
    boa.env.time_travel(seconds=120)
    assert token.uiMultiplier() == ONE
    with boa.env.prank(multiplier_updater), boa.reverts("ui_multiplier: nothing pending"):
        token.cancelPendingUIMultiplier()


def test_conversions_round_down(token: Any, multiplier_updater: str) -> None:
    with boa.env.prank(multiplier_updater):
        token.setUIMultiplier(3 * ONE, now())
    assert token.toUIAmount(7) == 21
    assert token.fromUIAmount(22) == 7
    assert token.fromUIAmount(token.toUIAmount(ONE_SHARE)) == ONE_SHARE


@pytest.mark.parametrize(
    ("multiplier", "offset", "reason"),
    [
        (0, 0, "ui_multiplier: multiplier below 1e-6"),
        (10**12 - 1, 0, "ui_multiplier: multiplier below 1e-6"),
        (10**24 + 1, 0, "ui_multiplier: multiplier above 1e6"),
        (ONE, -1, "ui_multiplier: effective time in the past"),
    ],
)
def test_bad_updates_revert(
    token: Any, multiplier_updater: str, multiplier: int, offset: int, reason: str
) -> None:
    with boa.env.prank(multiplier_updater), boa.reverts(reason):
        token.setUIMultiplier(multiplier, now() + offset)
    assert token.multiplierHistoryLength() == 1


def test_history_index_out_of_range_reverts(token: Any) -> None:
    with boa.reverts("ui_multiplier: index out of range"):
        token.multiplierChange(1)
