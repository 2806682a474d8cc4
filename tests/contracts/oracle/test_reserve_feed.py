"""ReserveFeed: reserves in the token's raw units, bounds suited to custody attestations."""

from typing import Any

import boa
import pytest

SHARES = 10**18  # one share of a token with 18 decimals
MAX_REPORT_AGE = 3_600


def _push(feed: Any, updater: Any, answer: int, age: int = 0) -> int:
    result: int = feed.update(answer, boa.env.timestamp - age, sender=updater)
    return result


def test_metadata(reserve_feed: Any) -> None:
    assert reserve_feed.decimals() == 18
    assert reserve_feed.description() == "bAAPL reserves"
    assert reserve_feed.version() == 1


def test_default_bounds_suit_attestations(reserve_feed: Any) -> None:
    assert reserve_feed.max_move_bps() == 0
    assert reserve_feed.max_report_age() == MAX_REPORT_AGE
    assert reserve_feed.min_interval() == 0


def test_carries_no_market_status(reserve_feed: Any) -> None:
    assert not hasattr(reserve_feed, "marketStatus")
    assert not hasattr(reserve_feed, "getRoundStatus")


def test_no_data_before_first_update(reserve_feed: Any) -> None:
    with boa.reverts("feed: no data"):
        reserve_feed.latestRoundData()
    with boa.reverts("feed: no such round"):
        reserve_feed.getRoundData(1)


def test_zero_reserves_are_accepted(reserve_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp

    round_id = reserve_feed.update(0, observed_at, sender=updater)

    assert round_id == 1
    assert reserve_feed.latestRoundData() == (1, 0, observed_at, boa.env.timestamp, 1)


def test_update_emits_chainlink_events_only(reserve_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp - 5

    reserve_feed.update(1_000 * SHARES, observed_at, sender=updater)

    new_round, answer_updated = reserve_feed.get_logs()
    assert type(new_round).__name__ == "NewRound"
    assert (new_round.roundId, new_round.startedBy, new_round.startedAt) == (1, updater, observed_at)
    assert type(answer_updated).__name__ == "AnswerUpdated"
    assert (answer_updated.current, answer_updated.roundId, answer_updated.updatedAt) == (
        1_000 * SHARES,
        1,
        boa.env.timestamp,
    )


def test_large_moves_and_back_to_back_updates_are_accepted(reserve_feed: Any, updater: Any) -> None:
    _push(reserve_feed, updater, 0, age=2)
    _push(reserve_feed, updater, 1_000_000 * SHARES, age=1)

    round_id = _push(reserve_feed, updater, 10 * SHARES)

    assert round_id == 3
    assert [reserve_feed.getRoundData(i)[1] for i in (1, 2, 3)] == [0, 1_000_000 * SHARES, 10 * SHARES]


def test_report_exactly_max_age_is_accepted(reserve_feed: Any, updater: Any) -> None:
    assert _push(reserve_feed, updater, SHARES, age=MAX_REPORT_AGE) == 1


def test_update_rejects_non_updater(reserve_feed: Any, admin: Any, non_updater: Any) -> None:
    for caller in (admin, non_updater):
        with boa.reverts("access_control: account is missing role"):
            reserve_feed.update(SHARES, boa.env.timestamp, sender=caller)


@pytest.mark.parametrize("answer", [-1, -SHARES])
def test_update_rejects_negative_reserves(reserve_feed: Any, updater: Any, answer: int) -> None:
    with boa.reverts("feed: negative answer"):
        _push(reserve_feed, updater, answer)


def test_update_rejects_reserves_beyond_128_bits(reserve_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: answer too large"):
        _push(reserve_feed, updater, 2**127)


def test_update_rejects_observation_in_the_future(reserve_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: observation in the future"):
        reserve_feed.update(SHARES, boa.env.timestamp + 1, sender=updater)


def test_update_rejects_old_report(reserve_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: report too old"):
        _push(reserve_feed, updater, SHARES, age=MAX_REPORT_AGE + 1)


def test_update_rejects_older_observation(reserve_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp - 10
    reserve_feed.update(SHARES, observed_at, sender=updater)

    with boa.reverts("feed: observation not newer"):
        reserve_feed.update(SHARES, observed_at - 1, sender=updater)


def test_update_accepts_observation_in_the_same_second(reserve_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp - 10
    reserve_feed.update(SHARES, observed_at, sender=updater)

    assert reserve_feed.update(2 * SHARES, observed_at, sender=updater) == 2
    assert reserve_feed.latestRoundData()[1] == 2 * SHARES


def test_min_interval_when_set(reserve_feed: Any, admin: Any, updater: Any) -> None:
    reserve_feed.set_bounds(0, MAX_REPORT_AGE, 600, sender=admin)
    _push(reserve_feed, updater, SHARES)
    boa.env.time_travel(seconds=599)

    with boa.reverts("feed: too soon"):
        _push(reserve_feed, updater, SHARES)
    boa.env.time_travel(seconds=1)
    assert _push(reserve_feed, updater, SHARES) == 2


def test_move_bound_when_set(reserve_feed: Any, admin: Any, updater: Any) -> None:
    reserve_feed.set_bounds(5_000, MAX_REPORT_AGE, 0, sender=admin)
    _push(reserve_feed, updater, 100 * SHARES, age=2)

    with boa.reverts("feed: move too large"):
        _push(reserve_feed, updater, 150 * SHARES + 1, age=1)
    assert _push(reserve_feed, updater, 150 * SHARES, age=1) == 2


def test_move_bound_from_zero_reserves_allows_only_zero(reserve_feed: Any, admin: Any, updater: Any) -> None:
    # |a - 0| * 10_000 <= 0 * M holds only for a == 0: a bounded feed at zero stays there.
    reserve_feed.set_bounds(10_000, MAX_REPORT_AGE, 0, sender=admin)
    _push(reserve_feed, updater, 0, age=2)

    with boa.reverts("feed: move too large"):
        _push(reserve_feed, updater, 1, age=1)
    assert _push(reserve_feed, updater, 0, age=1) == 2


def test_set_bounds_rejects_non_admin(reserve_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            reserve_feed.set_bounds(0, MAX_REPORT_AGE, 0, sender=caller)


def test_set_bounds_validates(reserve_feed: Any, admin: Any) -> None:
    with boa.reverts("feed: max move above 100%"):
        reserve_feed.set_bounds(10_001, MAX_REPORT_AGE, 0, sender=admin)
    with boa.reverts("feed: zero report age"):
        reserve_feed.set_bounds(0, 0, 0, sender=admin)
