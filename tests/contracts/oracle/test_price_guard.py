"""The price guard hands a venue a price only when it is there, fresh, in band and not halted.

Every price comes from the real `PriceFeed` through `transmit`, signed by real reporter keys.
"""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.contracts import events
from tests.support.contracts.oracle import QUORUM, transmit

from equitoken.chain.evm.artifacts import contract_path
from equitoken.oracle.observation import MarketStatus

PRICE = 150 * 10**8
MAX_AGE = 3_600
MIN_ANSWER = 10**8
MAX_ANSWER = 10_000 * 10**8
MAX_AGE_LIMIT = 2**48 - 1
MAX_ANSWER_LIMIT = 2**104 - 1
# Seconds between two observations; a status change waives the feed's minimum interval.
NEXT_OBSERVATION = 60
OPEN, CLOSED, HALTED = int(MarketStatus.OPEN), int(MarketStatus.CLOSED), int(MarketStatus.HALTED)


@pytest.fixture(scope="session")
def guarded_reader_deployer() -> Any:
    return boa.load_partial(str(contract_path("mocks/GuardedReader.vy")))


@pytest.fixture
def venue_owner() -> Any:
    return boa.env.generate_address("venue_owner")


@pytest.fixture
def non_owner() -> Any:
    return boa.env.generate_address("non_owner")


@pytest.fixture
def quorum(reporter_accounts: list[LocalAccount]) -> list[LocalAccount]:
    return reporter_accounts[:QUORUM]


@pytest.fixture
def venue(guarded_reader_deployer: Any, price_feed: Any, venue_owner: Any) -> Any:
    with boa.env.prank(venue_owner):
        return guarded_reader_deployer.deploy(price_feed.address, MAX_AGE, MIN_ANSWER, MAX_ANSWER)


def _limits(venue: Any) -> tuple[int, int, int]:
    max_age, min_answer, max_answer = venue.guard_limits()
    return (max_age, min_answer, max_answer)


# Reading


def test_open_market_returns_the_answer_and_open(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)

    assert venue.read() == (PRICE, OPEN)
    assert venue.market_status() == OPEN


def test_closed_market_is_returned_not_rejected(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, CLOSED)

    assert venue.read() == (PRICE, CLOSED)


def test_halted_market_is_rejected(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)
    boa.env.time_travel(seconds=NEXT_OBSERVATION)
    transmit(price_feed, quorum, PRICE, HALTED)

    with boa.reverts("guard: market halted"):
        venue.read()
    assert venue.market_status() == HALTED


def test_reopened_market_reads_again(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, HALTED)
    boa.env.time_travel(seconds=NEXT_OBSERVATION)
    transmit(price_feed, quorum, PRICE, OPEN)

    assert venue.read() == (PRICE, OPEN)


def test_no_round_yet_is_no_price(venue: Any) -> None:
    assert venue.market_status() == 0
    with boa.reverts("guard: no price"):
        venue.read()


def test_an_address_that_is_no_feed_gives_no_price(guarded_reader_deployer: Any, venue_owner: Any) -> None:
    not_a_feed = boa.env.generate_address("not_a_feed")
    with boa.env.prank(venue_owner):
        venue = guarded_reader_deployer.deploy(not_a_feed, MAX_AGE, MIN_ANSWER, MAX_ANSWER)

    with boa.reverts("guard: no price"):
        venue.read()


def test_a_feed_without_market_status_gives_no_price(
    guarded_reader_deployer: Any, reserve_feed: Any, updater: Any, venue_owner: Any
) -> None:
    reserve_feed.update(PRICE, boa.env.evm.patch.timestamp, sender=updater)
    with boa.env.prank(venue_owner):
        venue = guarded_reader_deployer.deploy(reserve_feed.address, MAX_AGE, MIN_ANSWER, MAX_ANSWER)

    with boa.reverts("guard: no price"):
        venue.read()


def test_halted_wins_over_stale(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, HALTED)
    boa.env.time_travel(seconds=MAX_AGE + 1)

    with boa.reverts("guard: market halted"):
        venue.read()


# Staleness, measured from the observation time


def test_age_of_exactly_max_age_is_fresh_and_one_more_second_is_stale(
    venue: Any, price_feed: Any, quorum: Any
) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)

    boa.env.time_travel(seconds=MAX_AGE)
    assert venue.read() == (PRICE, OPEN)
    boa.env.time_travel(seconds=1)
    with boa.reverts("guard: stale price"):
        venue.read()


def test_age_counts_from_the_observation_not_the_transmission(
    venue: Any, price_feed: Any, quorum: Any
) -> None:
    delay = 200
    observed_at = boa.env.evm.patch.timestamp - delay
    transmit(price_feed, quorum, PRICE, OPEN, observed_at)
    _, _, started_at, updated_at, _ = price_feed.latestRoundData()
    assert (started_at, updated_at) == (observed_at, observed_at + delay)

    boa.env.time_travel(seconds=MAX_AGE - delay)
    assert venue.read() == (PRICE, OPEN)
    boa.env.time_travel(seconds=1)
    with boa.reverts("guard: stale price"):
        venue.read()


def test_a_closed_price_goes_stale_like_an_open_one(venue: Any, price_feed: Any, quorum: Any) -> None:
    transmit(price_feed, quorum, PRICE, CLOSED)
    boa.env.time_travel(seconds=MAX_AGE + 1)

    with boa.reverts("guard: stale price"):
        venue.read()


# The validity band


@pytest.mark.parametrize(
    ("min_answer", "max_answer"),
    [(PRICE, MAX_ANSWER), (MIN_ANSWER, PRICE), (PRICE, PRICE)],
    ids=["answer_is_min", "answer_is_max", "answer_is_min_and_max"],
)
def test_answer_on_the_band_edge_is_accepted(
    venue: Any, price_feed: Any, quorum: Any, venue_owner: Any, min_answer: int, max_answer: int
) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)
    venue.set_limits(MAX_AGE, min_answer, max_answer, sender=venue_owner)

    assert venue.read() == (PRICE, OPEN)


@pytest.mark.parametrize(
    ("min_answer", "max_answer"),
    [(PRICE + 1, MAX_ANSWER), (MIN_ANSWER, PRICE - 1)],
    ids=["below_min", "above_max"],
)
def test_answer_outside_the_band_is_rejected(
    venue: Any, price_feed: Any, quorum: Any, venue_owner: Any, min_answer: int, max_answer: int
) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)
    venue.set_limits(MAX_AGE, min_answer, max_answer, sender=venue_owner)

    with boa.reverts("guard: price out of band"):
        venue.read()


def test_stale_wins_over_out_of_band(venue: Any, price_feed: Any, quorum: Any, venue_owner: Any) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)
    venue.set_limits(MAX_AGE, PRICE + 1, MAX_ANSWER, sender=venue_owner)
    boa.env.time_travel(seconds=MAX_AGE + 1)

    with boa.reverts("guard: stale price"):
        venue.read()


# Limits: construction and the setter


def test_construction_records_the_feed_and_limits(venue: Any, price_feed: Any) -> None:
    assert venue.price_feed() == price_feed.address
    assert _limits(venue) == (MAX_AGE, MIN_ANSWER, MAX_ANSWER)
    assert (venue.MARKET_OPEN(), venue.MARKET_CLOSED(), venue.MARKET_HALTED()) == (OPEN, CLOSED, HALTED)


BAD_LIMITS = [
    ((0, MIN_ANSWER, MAX_ANSWER), "guard: zero max age"),
    ((MAX_AGE_LIMIT + 1, MIN_ANSWER, MAX_ANSWER), "guard: max age too large"),
    ((MAX_AGE, 0, MAX_ANSWER), "guard: zero min answer"),
    ((MAX_AGE, MAX_ANSWER + 1, MAX_ANSWER), "guard: min answer above max"),
    ((MAX_AGE, MIN_ANSWER, MAX_ANSWER_LIMIT + 1), "guard: max answer too large"),
]
BAD_LIMIT_IDS = ["zero_age", "age_too_large", "zero_min", "min_above_max", "max_too_large"]


@pytest.mark.parametrize(("limits", "reason"), BAD_LIMITS, ids=BAD_LIMIT_IDS)
def test_construction_rejects_bad_limits(
    guarded_reader_deployer: Any, price_feed: Any, limits: tuple[int, int, int], reason: str
) -> None:
    with boa.reverts(reason):
        guarded_reader_deployer.deploy(price_feed.address, *limits)


@pytest.mark.parametrize(("limits", "reason"), BAD_LIMITS, ids=BAD_LIMIT_IDS)
def test_setter_rejects_bad_limits_and_changes_nothing(
    venue: Any, venue_owner: Any, limits: tuple[int, int, int], reason: str
) -> None:
    with boa.reverts(reason):
        venue.set_limits(*limits, sender=venue_owner)

    assert _limits(venue) == (MAX_AGE, MIN_ANSWER, MAX_ANSWER)


def test_setter_stores_the_limits_and_logs_them(venue: Any, venue_owner: Any) -> None:
    venue.set_limits(60, 5 * 10**8, 500 * 10**8, sender=venue_owner)

    assert events(venue) == [
        ("PriceGuardLimitsUpdated", {"max_age": 60, "min_answer": 5 * 10**8, "max_answer": 500 * 10**8})
    ]
    assert _limits(venue) == (60, 5 * 10**8, 500 * 10**8)


def test_largest_limits_fit_the_packed_word(venue: Any, venue_owner: Any) -> None:
    venue.set_limits(MAX_AGE_LIMIT, MAX_ANSWER_LIMIT, MAX_ANSWER_LIMIT, sender=venue_owner)

    assert _limits(venue) == (MAX_AGE_LIMIT, MAX_ANSWER_LIMIT, MAX_ANSWER_LIMIT)


def test_smallest_limits_fit_the_packed_word(venue: Any, venue_owner: Any) -> None:
    venue.set_limits(1, 1, 1, sender=venue_owner)

    assert _limits(venue) == (1, 1, 1)


def test_only_the_venue_owner_sets_limits(venue: Any, non_owner: Any) -> None:
    with boa.reverts("ownable: caller is not the owner"):
        venue.set_limits(60, MIN_ANSWER, MAX_ANSWER, sender=non_owner)

    assert _limits(venue) == (MAX_AGE, MIN_ANSWER, MAX_ANSWER)


def test_a_tighter_age_applies_to_the_next_read(
    venue: Any, price_feed: Any, quorum: Any, venue_owner: Any
) -> None:
    transmit(price_feed, quorum, PRICE, OPEN)
    boa.env.time_travel(seconds=61)
    assert venue.read() == (PRICE, OPEN)

    venue.set_limits(60, MIN_ANSWER, MAX_ANSWER, sender=venue_owner)

    with boa.reverts("guard: stale price"):
        venue.read()


# Any read, against a model of the guard


def _expected_reason(status: int, age: int, price: int, max_age: int, low: int, high: int) -> str | None:
    if status == HALTED:
        return "guard: market halted"
    if age > max_age:
        return "guard: stale price"
    if not low <= price <= high:
        return "guard: price out of band"
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from([OPEN, CLOSED, HALTED]),
    price=st.integers(min_value=1, max_value=10**15),
    age=st.integers(min_value=0, max_value=2 * MAX_AGE),
    max_age=st.integers(min_value=1, max_value=2 * MAX_AGE),
    band=st.tuples(st.integers(min_value=1, max_value=10**15), st.integers(min_value=1, max_value=10**15)),
)
def test_a_read_returns_the_price_exactly_when_the_model_accepts_it(
    venue: Any,
    price_feed: Any,
    quorum: Any,
    venue_owner: Any,
    status: int,
    price: int,
    age: int,
    max_age: int,
    band: tuple[int, int],
) -> None:
    low, high = sorted(band)
    with boa.env.anchor():
        transmit(price_feed, quorum, price, status)
        venue.set_limits(max_age, low, high, sender=venue_owner)
        boa.env.time_travel(seconds=age)

        reason = _expected_reason(status, age, price, max_age, low, high)
        if reason is None:
            assert venue.read() == (price, status)
        else:
            with boa.reverts(reason):
                venue.read()
