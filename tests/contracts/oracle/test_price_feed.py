"""PriceFeed: Chainlink read path, Backed's update bounds, market status."""

from typing import Any

import boa
import pytest
from eth_utils.crypto import keccak

PRICE = 150 * 10**8  # $150.00 with 8 decimals
MARKET_OPEN, MARKET_CLOSED, MARKET_HALTED = 1, 2, 3
MIN_INTERVAL = 3_600
MAX_REPORT_AGE = 300


def _event_names(contract: Any) -> list[str]:
    return [type(log).__name__ for log in contract.get_logs()]


def _bounds(feed: Any) -> tuple[int, int, int]:
    return (feed.max_move_bps(), feed.max_report_age(), feed.min_interval())


def _push(feed: Any, updater: Any, answer: int, status: int = MARKET_OPEN, age: int = 0) -> int:
    result: int = feed.update(answer, boa.env.timestamp - age, status, sender=updater)
    return result


# --- metadata and initial state ------------------------------------------------------------------


def test_metadata(price_feed: Any) -> None:
    assert price_feed.decimals() == 8
    assert price_feed.description() == "AAPL / USD"
    assert price_feed.version() == 1


def test_default_bounds_are_backed_oracle_bounds(price_feed: Any) -> None:
    assert _bounds(price_feed) == (1_000, MAX_REPORT_AGE, MIN_INTERVAL)


def test_roles_at_deploy(price_feed: Any, admin: Any, updater: Any) -> None:
    assert price_feed.UPDATER_ROLE() == keccak(text="UPDATER_ROLE")
    assert price_feed.hasRole(price_feed.DEFAULT_ADMIN_ROLE(), admin)
    assert not price_feed.hasRole(price_feed.UPDATER_ROLE(), admin)
    assert price_feed.hasRole(price_feed.UPDATER_ROLE(), updater)


def test_market_status_constants(price_feed: Any) -> None:
    assert (price_feed.MARKET_OPEN(), price_feed.MARKET_CLOSED(), price_feed.MARKET_HALTED()) == (1, 2, 3)


def test_no_data_before_first_update(price_feed: Any) -> None:
    assert price_feed.marketStatus() == 0
    with boa.reverts("feed: no data"):
        price_feed.latestRoundData()
    for round_id in (0, 1):
        with boa.reverts("feed: no such round"):
            price_feed.getRoundData(round_id)
        with boa.reverts("feed: no such round"):
            price_feed.getRoundStatus(round_id)


# --- accepted updates ----------------------------------------------------------------------------


def test_first_update_records_round_one(price_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp - 10

    round_id = price_feed.update(PRICE, observed_at, MARKET_OPEN, sender=updater)

    expected = (1, PRICE, observed_at, boa.env.timestamp, 1)
    assert round_id == 1
    assert price_feed.latestRoundData() == expected
    assert price_feed.getRoundData(1) == expected
    assert price_feed.marketStatus() == MARKET_OPEN
    assert price_feed.getRoundStatus(1) == MARKET_OPEN


def test_first_update_emits_chainlink_and_status_events(price_feed: Any, updater: Any) -> None:
    observed_at = boa.env.timestamp

    price_feed.update(PRICE, observed_at, MARKET_CLOSED, sender=updater)

    new_round, answer_updated, status_changed = price_feed.get_logs()
    assert _event_names(price_feed) == ["NewRound", "AnswerUpdated", "MarketStatusChanged"]
    assert (new_round.roundId, new_round.startedBy, new_round.startedAt) == (1, updater, observed_at)
    assert (answer_updated.current, answer_updated.roundId) == (PRICE, 1)
    assert answer_updated.updatedAt == boa.env.timestamp
    assert (status_changed.previous, status_changed.current, status_changed.roundId) == (0, MARKET_CLOSED, 1)


def test_first_update_is_unbounded(price_feed: Any, updater: Any) -> None:
    largest = 2**127 - 1

    _push(price_feed, updater, largest)

    assert price_feed.latestRoundData()[1] == largest


def test_rounds_increment_and_history_is_kept(price_feed: Any, updater: Any) -> None:
    prices = [PRICE, PRICE + 10**8, PRICE - 10**8]
    for price in prices:
        _push(price_feed, updater, price)
        boa.env.time_travel(seconds=MIN_INTERVAL)

    assert price_feed.latestRoundData()[0] == 3
    assert [price_feed.getRoundData(i)[1] for i in (1, 2, 3)] == prices
    assert all(price_feed.getRoundData(i)[4] == i for i in (1, 2, 3))
    with boa.reverts("feed: no such round"):
        price_feed.getRoundData(4)


def test_same_status_emits_no_status_event(price_feed: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    _push(price_feed, updater, PRICE)

    assert _event_names(price_feed) == ["NewRound", "AnswerUpdated"]


@pytest.mark.parametrize("moved", [PRICE * 11 // 10, PRICE * 9 // 10], ids=["up_10pct", "down_10pct"])
def test_move_at_bound_is_accepted(price_feed: Any, updater: Any, moved: int) -> None:
    _push(price_feed, updater, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    assert _push(price_feed, updater, moved) == 2


def test_update_exactly_min_interval_later_is_accepted(price_feed: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    assert _push(price_feed, updater, PRICE) == 2


def test_report_exactly_max_age_is_accepted(price_feed: Any, updater: Any) -> None:
    assert _push(price_feed, updater, PRICE, age=MAX_REPORT_AGE) == 1


@pytest.mark.parametrize("new_status", [MARKET_CLOSED, MARKET_HALTED])
def test_status_change_waives_min_interval(price_feed: Any, updater: Any, new_status: int) -> None:
    _push(price_feed, updater, PRICE, status=MARKET_OPEN, age=1)

    round_id = _push(price_feed, updater, PRICE, status=new_status)

    assert round_id == 2
    status_changed = price_feed.get_logs()[-1]
    assert (status_changed.previous, status_changed.current, status_changed.roundId) == (
        MARKET_OPEN,
        new_status,
        2,
    )
    assert price_feed.marketStatus() == new_status
    assert (price_feed.getRoundStatus(1), price_feed.getRoundStatus(2)) == (MARKET_OPEN, new_status)


# --- rejected updates ----------------------------------------------------------------------------


def test_update_rejects_non_updater(price_feed: Any, admin: Any, non_updater: Any) -> None:
    for caller in (admin, non_updater):
        with boa.reverts("access_control: account is missing role"):
            price_feed.update(PRICE, boa.env.timestamp, MARKET_OPEN, sender=caller)


def test_update_rejects_revoked_updater(price_feed: Any, admin: Any, updater: Any) -> None:
    price_feed.revokeRole(price_feed.UPDATER_ROLE(), updater, sender=admin)

    with boa.reverts("access_control: account is missing role"):
        _push(price_feed, updater, PRICE)


@pytest.mark.parametrize("status", [0, 4, 255])
def test_update_rejects_unknown_status(price_feed: Any, updater: Any, status: int) -> None:
    with boa.reverts("feed: bad market status"):
        _push(price_feed, updater, PRICE, status=status)


@pytest.mark.parametrize("answer", [0, -1, -PRICE])
def test_update_rejects_non_positive_price(price_feed: Any, updater: Any, answer: int) -> None:
    with boa.reverts("feed: answer not positive"):
        _push(price_feed, updater, answer)


def test_update_rejects_price_beyond_128_bits(price_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: answer too large"):
        _push(price_feed, updater, 2**127)


def test_update_rejects_observation_in_the_future(price_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: observation in the future"):
        price_feed.update(PRICE, boa.env.timestamp + 1, MARKET_OPEN, sender=updater)


def test_update_rejects_old_report(price_feed: Any, updater: Any) -> None:
    with boa.reverts("feed: report too old"):
        _push(price_feed, updater, PRICE, age=MAX_REPORT_AGE + 1)


@pytest.mark.parametrize("offset", [0, -1], ids=["replay", "older"])
def test_update_rejects_observation_not_newer(price_feed: Any, updater: Any, offset: int) -> None:
    observed_at = boa.env.timestamp - 10
    price_feed.update(PRICE, observed_at, MARKET_OPEN, sender=updater)

    # A status change waives the interval, so only the replay check can stop this.
    with boa.reverts("feed: observation not newer"):
        price_feed.update(PRICE, observed_at + offset, MARKET_CLOSED, sender=updater)


def test_update_rejects_too_soon(price_feed: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL - 1)

    with boa.reverts("feed: too soon"):
        _push(price_feed, updater, PRICE)


@pytest.mark.parametrize("moved", [PRICE * 11 // 10 + 1, PRICE * 9 // 10 - 1], ids=["up", "down"])
def test_update_rejects_move_beyond_bound(price_feed: Any, updater: Any, moved: int) -> None:
    _push(price_feed, updater, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    with boa.reverts("feed: move too large"):
        _push(price_feed, updater, moved)


def test_move_bound_applies_across_status_change(price_feed: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE, status=MARKET_OPEN, age=1)

    with boa.reverts("feed: move too large"):
        _push(price_feed, updater, PRICE * 2, status=MARKET_HALTED)


# --- bounds administration -----------------------------------------------------------------------


def test_set_bounds_replaces_bounds_and_emits(price_feed: Any, admin: Any) -> None:
    price_feed.set_bounds(500, 60, 600, sender=admin)

    (bounds_updated,) = price_feed.get_logs()
    assert _bounds(price_feed) == (500, 60, 600)
    assert (bounds_updated.max_move_bps, bounds_updated.max_report_age, bounds_updated.min_interval) == (
        500,
        60,
        600,
    )


def test_set_bounds_accepts_limits(price_feed: Any, admin: Any) -> None:
    price_feed.set_bounds(10_000, 1, 0, sender=admin)

    assert _bounds(price_feed) == (10_000, 1, 0)


def test_set_bounds_rejects_non_admin(price_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            price_feed.set_bounds(500, 60, 600, sender=caller)


def test_set_bounds_rejects_move_above_100_pct(price_feed: Any, admin: Any) -> None:
    with boa.reverts("feed: max move above 100%"):
        price_feed.set_bounds(10_001, 60, 600, sender=admin)


def test_set_bounds_rejects_zero_report_age(price_feed: Any, admin: Any) -> None:
    with boa.reverts("feed: zero report age"):
        price_feed.set_bounds(500, 0, 600, sender=admin)


def test_zero_max_move_removes_move_bound(price_feed: Any, admin: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE)
    price_feed.set_bounds(0, MAX_REPORT_AGE, MIN_INTERVAL, sender=admin)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    _push(price_feed, updater, PRICE * 100)

    assert price_feed.latestRoundData()[1] == PRICE * 100


def test_zero_min_interval_allows_updates_in_one_block(price_feed: Any, admin: Any, updater: Any) -> None:
    price_feed.set_bounds(1_000, MAX_REPORT_AGE, 0, sender=admin)
    _push(price_feed, updater, PRICE, age=1)

    assert _push(price_feed, updater, PRICE + 1) == 2
    assert price_feed.getRoundData(1)[3] == price_feed.getRoundData(2)[3]


def test_new_bounds_do_not_touch_accepted_rounds(price_feed: Any, admin: Any, updater: Any) -> None:
    _push(price_feed, updater, PRICE)
    before = price_feed.latestRoundData()

    price_feed.set_bounds(1, 1, 10**9, sender=admin)

    assert price_feed.latestRoundData() == before
