"""PriceFeed: Chainlink read path, Backed's update bounds, deviation waiver, market status.

Rounds are pushed as quorums of real reporter signatures (`transmit` in
``tests.support.contracts.oracle``); the aggregation rules themselves are in
`test_price_feed_aggregation.py`.
"""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import NO_TOKEN, feed_id, raw_observation, transmit

PRICE = 150 * 10**8  # $150.00 with 8 decimals
MARKET_OPEN, MARKET_CLOSED, MARKET_HALTED = 1, 2, 3
MIN_INTERVAL = 3_600
MAX_REPORT_AGE = 300
DEVIATION_BPS = 50


def _event_names(contract: Any) -> list[str]:
    return [type(log).__name__ for log in contract.get_logs()]


def _bounds(feed: Any) -> tuple[int, int, int]:
    return (feed.max_move_bps(), feed.max_report_age(), feed.min_interval())


def _push(
    feed: Any, reporters: list[LocalAccount], answer: int, status: int = MARKET_OPEN, age: int = 0
) -> int:
    return transmit(feed, reporters, answer, status, boa.env.timestamp - age)


def _latest_price(feed: Any) -> int:
    answer: int = feed.latestRoundData()[1]
    return answer


# --- metadata and initial state ------------------------------------------------------------------


def test_metadata(price_feed: Any) -> None:
    assert price_feed.decimals() == 8
    assert price_feed.description() == "AAPL / USD"
    assert price_feed.version() == 1
    assert price_feed.token() == NO_TOKEN


def test_default_bounds_are_backed_oracle_bounds(price_feed: Any) -> None:
    assert _bounds(price_feed) == (1_000, MAX_REPORT_AGE, MIN_INTERVAL)


def test_default_policies(price_feed: Any) -> None:
    assert price_feed.deviation_bps() == DEVIATION_BPS
    assert (price_feed.closed_policy(), price_feed.closed_band_bps()) == (price_feed.CLOSED_FROZEN(), 1_000)
    assert price_feed.last_close() == 0


def test_deployer_is_admin(price_feed: Any, admin: Any) -> None:
    assert price_feed.hasRole(price_feed.DEFAULT_ADMIN_ROLE(), admin)


def test_constants(price_feed: Any) -> None:
    assert (price_feed.MARKET_OPEN(), price_feed.MARKET_CLOSED(), price_feed.MARKET_HALTED()) == (1, 2, 3)
    assert (price_feed.CLOSED_FROZEN(), price_feed.CLOSED_INTERNAL()) == (1, 2)


def test_eip712_domain_is_the_one_reporters_sign(price_feed: Any) -> None:
    fields, name, version, chain_id, contract, _, _ = price_feed.eip712Domain()

    assert (name, version) == ("Equitoken PriceFeed", "1")
    assert (chain_id, contract) == (feed_id(price_feed).chain_id, price_feed.address)
    assert fields == b"\x0f"


def test_no_data_before_first_round(price_feed: Any) -> None:
    assert price_feed.marketStatus() == 0
    with boa.reverts("feed: no data"):
        price_feed.latestRoundData()
    with boa.reverts("feed: no data"):
        price_feed.latestRoundStatus()
    for round_id in (0, 1):
        with boa.reverts("feed: no such round"):
            price_feed.getRoundData(round_id)
        with boa.reverts("feed: no such round"):
            price_feed.getRoundStatus(round_id)


# --- accepted rounds -----------------------------------------------------------------------------


def test_first_round_records_round_one(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    observed_at = boa.env.timestamp - 10

    round_id = transmit(price_feed, reporter_accounts, PRICE, MARKET_OPEN, observed_at)

    expected = (1, PRICE, observed_at, boa.env.timestamp, 1)
    assert round_id == 1
    assert price_feed.latestRoundData() == expected
    assert price_feed.getRoundData(1) == expected
    assert price_feed.latestRoundStatus() == (*expected, MARKET_OPEN)
    assert price_feed.marketStatus() == MARKET_OPEN
    assert price_feed.getRoundStatus(1) == MARKET_OPEN


def test_first_round_emits_chainlink_and_status_events(
    price_feed: Any, reporter_accounts: list[LocalAccount], transmitter: Any
) -> None:
    observed_at = boa.env.timestamp

    transmit(price_feed, reporter_accounts, PRICE, MARKET_CLOSED, observed_at, sender=transmitter)

    new_round, answer_updated, status_changed = price_feed.get_logs()
    assert _event_names(price_feed) == ["NewRound", "AnswerUpdated", "MarketStatusChanged"]
    assert (new_round.roundId, new_round.startedBy, new_round.startedAt) == (1, transmitter, observed_at)
    assert (answer_updated.current, answer_updated.roundId) == (PRICE, 1)
    assert answer_updated.updatedAt == boa.env.timestamp
    assert (status_changed.previous, status_changed.current, status_changed.roundId) == (0, MARKET_CLOSED, 1)


def test_first_round_is_unbounded(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    largest = 2**127 - 1

    _push(price_feed, reporter_accounts, largest)

    assert _latest_price(price_feed) == largest


def test_rounds_increment_and_history_is_kept(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    prices = [PRICE, PRICE + 10**8, PRICE - 10**8]
    for price in prices:
        _push(price_feed, reporter_accounts, price)
        boa.env.time_travel(seconds=MIN_INTERVAL)

    assert price_feed.latestRoundData()[0] == 3
    assert [price_feed.getRoundData(i)[1] for i in (1, 2, 3)] == prices
    assert all(price_feed.getRoundData(i)[4] == i for i in (1, 2, 3))
    with boa.reverts("feed: no such round"):
        price_feed.getRoundData(4)


def test_same_status_emits_no_status_event(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    _push(price_feed, reporter_accounts, PRICE)

    assert _event_names(price_feed) == ["NewRound", "AnswerUpdated"]


@pytest.mark.parametrize("moved", [PRICE * 11 // 10, PRICE * 9 // 10], ids=["up_10pct", "down_10pct"])
def test_move_at_bound_is_accepted(
    price_feed: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    assert _push(price_feed, reporter_accounts, moved) == 2


def test_round_exactly_min_interval_later_is_accepted(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    assert _push(price_feed, reporter_accounts, PRICE) == 2


def test_report_exactly_max_age_is_accepted(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    assert _push(price_feed, reporter_accounts, PRICE, age=MAX_REPORT_AGE) == 1


@pytest.mark.parametrize("new_status", [MARKET_CLOSED, MARKET_HALTED])
def test_status_change_waives_min_interval(
    price_feed: Any, reporter_accounts: list[LocalAccount], new_status: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE, status=MARKET_OPEN, age=1)

    round_id = _push(price_feed, reporter_accounts, PRICE, status=new_status)

    assert round_id == 2
    status_changed = price_feed.get_logs()[-1]
    assert (status_changed.previous, status_changed.current, status_changed.roundId) == (
        MARKET_OPEN,
        new_status,
        2,
    )
    assert price_feed.marketStatus() == new_status
    assert (price_feed.getRoundStatus(1), price_feed.getRoundStatus(2)) == (MARKET_OPEN, new_status)


# --- deviation: the push policy's waiver of min_interval -----------------------------------------


@pytest.mark.parametrize(
    "moved",
    [PRICE + PRICE * DEVIATION_BPS // 10_000, PRICE - PRICE * DEVIATION_BPS // 10_000, PRICE * 11 // 10],
    ids=["up_at_threshold", "down_at_threshold", "up_10pct"],
)
def test_deviation_waives_min_interval(
    price_feed: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE, age=1)

    assert _push(price_feed, reporter_accounts, moved) == 2
    assert _latest_price(price_feed) == moved


@pytest.mark.parametrize("moved", [PRICE + PRICE * DEVIATION_BPS // 10_000 - 1, PRICE], ids=["below", "flat"])
def test_move_below_deviation_waits_for_min_interval(
    price_feed: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE, age=1)
    boa.env.time_travel(seconds=MIN_INTERVAL - 2)

    with boa.reverts("feed: too soon"):
        _push(price_feed, reporter_accounts, moved)


def test_set_deviation_bps_changes_the_waiver_and_emits(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.set_deviation_bps(200, sender=admin)

    (updated,) = price_feed.get_logs()
    assert (type(updated).__name__, updated.deviation_bps) == ("DeviationUpdated", 200)
    assert price_feed.deviation_bps() == 200
    _push(price_feed, reporter_accounts, PRICE, age=1)
    with boa.reverts("feed: too soon"):
        _push(price_feed, reporter_accounts, PRICE * 10_199 // 10_000)
    assert _push(price_feed, reporter_accounts, PRICE * 10_200 // 10_000) == 2


def test_set_deviation_bps_accepts_limits(price_feed: Any, admin: Any) -> None:
    for bps in (1, 10_000):
        price_feed.set_deviation_bps(bps, sender=admin)
        assert price_feed.deviation_bps() == bps


@pytest.mark.parametrize(("bps", "reason"), [(0, "zero deviation"), (10_001, "deviation above 100%")])
def test_set_deviation_bps_rejects_out_of_range(price_feed: Any, admin: Any, bps: int, reason: str) -> None:
    with boa.reverts(f"aggregator: {reason}"):
        price_feed.set_deviation_bps(bps, sender=admin)
    assert price_feed.deviation_bps() == DEVIATION_BPS


def test_set_deviation_bps_rejects_non_admin(price_feed: Any, transmitter: Any) -> None:
    with boa.reverts("access_control: account is missing role"):
        price_feed.set_deviation_bps(100, sender=transmitter)


# --- rejected rounds -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [0, 4, 255])
def test_transmit_rejects_unknown_status(
    price_feed: Any, reporter_accounts: list[LocalAccount], status: int
) -> None:
    now = boa.env.timestamp
    observations = [raw_observation(feed_id(price_feed), a, 1, PRICE, status, now) for a in reporter_accounts]

    with boa.reverts("feed: bad market status"):
        price_feed.transmit(1, observations)


def test_transmit_rejects_zero_price(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    now = boa.env.timestamp
    observations = [
        raw_observation(feed_id(price_feed), a, 1, 0, MARKET_OPEN, now) for a in reporter_accounts
    ]

    with boa.reverts("aggregator: answer not positive"):
        price_feed.transmit(1, observations)


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        (2**127, "feed: answer too large"),
        (2**128, "aggregator: price too large"),
        (2**256 - 1, "aggregator: price too large"),
    ],
)
def test_transmit_rejects_price_beyond_128_bits(
    price_feed: Any, reporter_accounts: list[LocalAccount], price: int, reason: str
) -> None:
    with boa.reverts(reason):
        _push(price_feed, reporter_accounts, price)


def test_transmit_rejects_observation_in_the_future(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    now = boa.env.timestamp
    with boa.reverts("aggregator: observation in the future"):
        transmit(price_feed, reporter_accounts, PRICE, MARKET_OPEN, [now, now, now, now + 1])


def test_transmit_rejects_old_observation(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    now = boa.env.timestamp
    with boa.reverts("aggregator: observation too old"):
        transmit(price_feed, reporter_accounts, PRICE, MARKET_OPEN, [now, now, now - MAX_REPORT_AGE - 1, now])


@pytest.mark.parametrize("offset", [0, -1], ids=["same_time", "older"])
def test_transmit_rejects_observation_not_newer(
    price_feed: Any, reporter_accounts: list[LocalAccount], offset: int
) -> None:
    observed_at = boa.env.timestamp - 10
    transmit(price_feed, reporter_accounts, PRICE, MARKET_OPEN, observed_at)

    # A status change waives the interval, so only the freshness check can stop this.
    with boa.reverts("feed: observation not newer"):
        transmit(price_feed, reporter_accounts, PRICE, MARKET_CLOSED, observed_at + offset)


def test_transmit_rejects_too_soon(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL - 1)

    with boa.reverts("feed: too soon"):
        _push(price_feed, reporter_accounts, PRICE)


@pytest.mark.parametrize("moved", [PRICE * 11 // 10 + 1, PRICE * 9 // 10 - 1], ids=["up", "down"])
def test_transmit_rejects_a_sudden_move_beyond_bound(
    price_feed: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL - 1)

    with boa.reverts("feed: move too large"):
        _push(price_feed, reporter_accounts, moved)
    assert price_feed.latestRoundData()[0] == 1


@pytest.mark.parametrize("moved", [PRICE * 13 // 10, PRICE * 7 // 10], ids=["up", "down"])
def test_a_move_the_quorum_sustains_for_a_whole_interval_is_accepted(
    price_feed: Any, reporter_accounts: list[LocalAccount], moved: int
) -> None:
    # MSTR moved more than 10% within Monday 2024-08-05: a bound that refused it for good would leave
    # the feed stuck at the old price, stale for every venue, until the market moved back.
    _push(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL - 1)
    with boa.reverts("feed: move too large"):
        _push(price_feed, reporter_accounts, moved)
    boa.env.time_travel(seconds=1)

    _push(price_feed, reporter_accounts, moved)

    assert price_feed.latestRoundData()[0:2] == (2, moved)


@pytest.mark.parametrize("after", [MARKET_CLOSED, MARKET_HALTED], ids=["closed", "halted"])
def test_the_first_round_of_a_new_status_may_gap_beyond_the_bound(
    price_feed: Any, reporter_accounts: list[LocalAccount], after: int
) -> None:
    # A feed stuck below a move in session recovers at the close (or a halt) at the latest.
    _push(price_feed, reporter_accounts, PRICE, status=MARKET_OPEN, age=1)

    _push(price_feed, reporter_accounts, PRICE * 2, status=after, age=0)

    assert price_feed.latestRoundData()[1] == PRICE * 2


@pytest.mark.parametrize("before", [MARKET_CLOSED, MARKET_HALTED], ids=["closed", "halted"])
def test_a_reopening_round_may_gap_beyond_the_bound(
    price_feed: Any, reporter_accounts: list[LocalAccount], before: int
) -> None:
    _push(price_feed, reporter_accounts, PRICE, status=before, age=1)
    boa.env.time_travel(seconds=60)

    # The opening print 27% down (MSTR, Monday 2024-08-05) is the market's gap: accepted.
    _push(price_feed, reporter_accounts, PRICE * 73 // 100, status=MARKET_OPEN, age=1)
    assert price_feed.latestRoundData()[1] == PRICE * 73 // 100
    boa.env.time_travel(seconds=MIN_INTERVAL - 60)

    # Once open, the bound holds again within the interval.
    with boa.reverts("feed: move too large"):
        _push(price_feed, reporter_accounts, PRICE * 73 // 100 * 12 // 10, status=MARKET_OPEN, age=1)


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


def test_set_bounds_rejects_non_admin(
    price_feed: Any, transmitter: Any, reporter_accounts: list[LocalAccount]
) -> None:
    for caller in (transmitter, reporter_accounts[0].address):
        with boa.reverts("access_control: account is missing role"):
            price_feed.set_bounds(500, 60, 600, sender=caller)


def test_set_bounds_rejects_move_above_100_pct(price_feed: Any, admin: Any) -> None:
    with boa.reverts("feed: max move above 100%"):
        price_feed.set_bounds(10_001, 60, 600, sender=admin)


def test_set_bounds_rejects_zero_report_age(price_feed: Any, admin: Any) -> None:
    with boa.reverts("feed: zero report age"):
        price_feed.set_bounds(500, 0, 600, sender=admin)
    assert _bounds(price_feed) == (1_000, MAX_REPORT_AGE, MIN_INTERVAL)


def test_zero_max_move_removes_move_bound(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    price_feed.set_bounds(0, MAX_REPORT_AGE, MIN_INTERVAL, sender=admin)
    boa.env.time_travel(seconds=MIN_INTERVAL)

    _push(price_feed, reporter_accounts, PRICE * 100)

    assert _latest_price(price_feed) == PRICE * 100


def test_zero_min_interval_allows_rounds_in_one_block(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.set_bounds(1_000, MAX_REPORT_AGE, 0, sender=admin)
    _push(price_feed, reporter_accounts, PRICE, age=1)

    assert _push(price_feed, reporter_accounts, PRICE + 1) == 2
    assert price_feed.getRoundData(1)[3] == price_feed.getRoundData(2)[3]


def test_new_bounds_do_not_touch_accepted_rounds(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    _push(price_feed, reporter_accounts, PRICE)
    before = price_feed.latestRoundData()

    price_feed.set_bounds(1, 1, 10**9, sender=admin)

    assert price_feed.latestRoundData() == before
