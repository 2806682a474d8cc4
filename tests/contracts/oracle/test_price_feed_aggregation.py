"""PriceFeed.transmit: quorum, upper medians, and every way a signed round can be forged or replayed."""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.contracts.oracle import (
    by_address,
    deploy_price_feed,
    feed_id,
    raw_observation,
    reporter_key,
    sign,
    transmit,
)

from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation

PRICE = 150 * 10**8
OPEN, CLOSED, HALTED = 1, 2, 3
MAX_REPORT_AGE = 300


def _arguments(feed: Any, accounts: list[LocalAccount], price: int = PRICE, round_id: int = 1) -> list[Any]:
    now = boa.env.timestamp
    signed = sign(feed, accounts, [price] * len(accounts), OPEN, now, round_id)
    return [observation.as_call_argument() for observation in signed]


def _no_round(feed: Any) -> None:
    with boa.reverts("feed: no data"):
        feed.latestRoundData()


# --- quorum and medians --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 4])
def test_quorum_or_more_observations_make_a_round(
    price_feed: Any, reporter_accounts: list[LocalAccount], count: int
) -> None:
    assert transmit(price_feed, reporter_accounts[:count], PRICE) == 1
    assert price_feed.latestRoundData()[1] == PRICE


@pytest.mark.parametrize("count", [0, 1, 2])
def test_below_quorum_nothing_updates(
    price_feed: Any, reporter_accounts: list[LocalAccount], count: int
) -> None:
    with boa.reverts("aggregator: below quorum"):
        price_feed.transmit(1, _arguments(price_feed, reporter_accounts[:count]))
    _no_round(price_feed)


def test_odd_count_takes_the_middle_price(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    transmit(price_feed, reporter_accounts[:3], [PRICE + 7, PRICE - 3, PRICE])

    assert price_feed.latestRoundData()[1] == PRICE


def test_even_count_takes_the_upper_middle_price(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    transmit(price_feed, reporter_accounts, [PRICE + 2, PRICE - 1, PRICE + 1, PRICE])

    assert price_feed.latestRoundData()[1] == PRICE + 1


def test_status_and_time_are_medians_too(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    now = boa.env.timestamp
    times = [now - 40, now - 10, now - 30, now - 20]
    statuses = [CLOSED, OPEN, CLOSED, HALTED]
    # `transmit` takes one status per round: sign each reporter's own here.
    arguments = [
        raw_observation(feed_id(price_feed), account, 1, PRICE, status, at)
        for account, status, at in zip(reporter_accounts, statuses, times, strict=True)
    ]

    price_feed.transmit(1, arguments)

    assert price_feed.latestRoundStatus() == (1, PRICE, now - 20, now, 1, CLOSED)


def test_anyone_may_transmit(
    price_feed: Any, reporter_accounts: list[LocalAccount], transmitter: Any, admin: Any
) -> None:
    for round_id, sender in enumerate((transmitter, admin, reporter_accounts[0].address), start=1):
        assert transmit(price_feed, reporter_accounts, PRICE, sender=sender) == round_id
        boa.env.time_travel(seconds=3_600)


# --- wrong rounds and replays --------------------------------------------------------------------


@pytest.mark.parametrize("round_id", [0, 2, 2**256 - 1])
def test_first_round_must_be_one(
    price_feed: Any, reporter_accounts: list[LocalAccount], round_id: int
) -> None:
    now = boa.env.timestamp
    arguments = [
        raw_observation(feed_id(price_feed), a, round_id, PRICE, OPEN, now) for a in reporter_accounts
    ]

    with boa.reverts("aggregator: wrong round"):
        price_feed.transmit(round_id, arguments)
    _no_round(price_feed)


@pytest.mark.parametrize("round_id", [1, 3])
def test_round_must_follow_the_latest(
    price_feed: Any, reporter_accounts: list[LocalAccount], round_id: int
) -> None:
    transmit(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=3_600)

    with boa.reverts("aggregator: wrong round"):
        transmit(price_feed, reporter_accounts, PRICE, round_id=round_id)


def test_signatures_of_an_earlier_round_do_not_count(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    transmit(price_feed, reporter_accounts, PRICE)
    boa.env.time_travel(seconds=3_600)
    replayed = _arguments(price_feed, reporter_accounts, PRICE * 2, round_id=1)

    with boa.reverts("aggregator: not a reporter"):
        price_feed.transmit(2, replayed)
    with boa.reverts("aggregator: wrong round"):
        price_feed.transmit(1, replayed)
    assert price_feed.latestRoundData()[0:2] == (1, PRICE)


def test_signatures_for_another_feed_do_not_count(
    price_feed: Any, price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    other = deploy_price_feed(price_feed_deployer, admin, reporter_accounts, 3)

    with boa.reverts("aggregator: not a reporter"):
        price_feed.transmit(1, _arguments(other, reporter_accounts))
    _no_round(price_feed)


def test_signatures_for_another_chain_do_not_count(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    elsewhere = FeedId(feed_id(price_feed).chain_id + 1, str(price_feed.address))
    now = boa.env.timestamp
    arguments = [raw_observation(elsewhere, a, 1, PRICE, OPEN, now) for a in reporter_accounts]

    with boa.reverts("aggregator: not a reporter"):
        price_feed.transmit(1, arguments)


def test_tampered_price_does_not_count(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    arguments = _arguments(price_feed, reporter_accounts)
    price, status, observed_at, signature = arguments[1]
    arguments[1] = (price * 2, status, observed_at, signature)

    with boa.reverts("aggregator: not a reporter"):
        price_feed.transmit(1, arguments)


# --- who signed ----------------------------------------------------------------------------------


def test_non_reporter_signature_is_rejected(
    price_feed: Any, reporter_accounts: list[LocalAccount], outsider_account: LocalAccount
) -> None:
    with boa.reverts("aggregator: not a reporter"):
        transmit(price_feed, [*reporter_accounts[:2], outsider_account], PRICE)
    _no_round(price_feed)


def test_duplicate_signer_is_rejected(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    arguments = _arguments(price_feed, reporter_accounts[:2])

    with boa.reverts("aggregator: signers not in address order"):
        price_feed.transmit(1, [arguments[0], arguments[1], arguments[1]])
    _no_round(price_feed)


def test_unsorted_signers_are_rejected(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    arguments = _arguments(price_feed, reporter_accounts)

    with boa.reverts("aggregator: signers not in address order"):
        price_feed.transmit(1, [arguments[0], arguments[2], arguments[1], arguments[3]])


def test_removed_reporter_no_longer_counts(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.remove_reporter(reporter_accounts[3].address, sender=admin)

    with boa.reverts("aggregator: not a reporter"):
        transmit(price_feed, reporter_accounts[1:], PRICE)
    assert transmit(price_feed, reporter_accounts[:3], PRICE) == 1


def test_added_reporter_counts(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount], outsider_account: LocalAccount
) -> None:
    price_feed.add_reporter(outsider_account.address, sender=admin)

    assert transmit(price_feed, [*reporter_accounts[:2], outsider_account], PRICE) == 1


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (b"", "aggregator: not a reporter"),
        (b"\x01" * 30, "aggregator: not a reporter"),
        (b"\x01" * 32 + b"\x02" * 32 + b"\x1d", "ecdsa: invalid signature"),
        (b"\x01" * 32 + b"\xff" * 32 + b"\x1b", "ecdsa: invalid signature `s` value"),
    ],
    ids=["empty", "short", "bad_v", "high_s"],
)
def test_malformed_signature_is_rejected(
    price_feed: Any, reporter_accounts: list[LocalAccount], signature: bytes, reason: str
) -> None:
    arguments = _arguments(price_feed, reporter_accounts)
    price, status, observed_at, _ = arguments[0]
    arguments[0] = (price, status, observed_at, signature)

    with boa.reverts(reason):
        price_feed.transmit(1, arguments)
    _no_round(price_feed)


def test_compact_form_of_a_reporter_signature_still_binds_the_round(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    # EIP-2098 (r, vs) recovers the same signer for the same message: no extra power, no replay.
    arguments = _arguments(price_feed, reporter_accounts)
    compact = []
    for price, status, observed_at, signature in arguments:
        r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
        vs = (s | ((v - 27) << 255)).to_bytes(32, "big")
        compact.append((price, status, observed_at, r + vs))

    assert price_feed.transmit(1, compact) == 1


# --- a minority of liars cannot move the median out of the honest range --------------------------


_LIARS_FEED = 7


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    honest_low=st.integers(min_value=1, max_value=10**12),
    spread=st.integers(min_value=0, max_value=10**10),
)
def test_minority_of_liars_cannot_leave_the_honest_range(
    price_feed_deployer: Any, admin: Any, data: st.DataObject, honest_low: int, spread: int
) -> None:
    reporters = by_address([reporter_key(i) for i in range(_LIARS_FEED)])
    quorum = _LIARS_FEED // 2 + 1
    feed = deploy_price_feed(price_feed_deployer, admin, reporters, quorum)
    count = data.draw(st.integers(min_value=quorum, max_value=_LIARS_FEED), label="observations")
    liars = data.draw(st.integers(min_value=0, max_value=(count - 1) // 2), label="liars")
    signers = data.draw(st.permutations(reporters), label="order")[:count]
    honest_prices = data.draw(
        st.lists(
            st.integers(honest_low, honest_low + spread), min_size=count - liars, max_size=count - liars
        ),
        label="honest",
    )
    lies = data.draw(st.lists(st.integers(1, 2**127 - 1), min_size=liars, max_size=liars), label="lies")
    lie_statuses = data.draw(st.lists(st.sampled_from([OPEN, HALTED]), min_size=liars, max_size=liars))
    now = boa.env.timestamp
    ages = data.draw(st.lists(st.integers(0, MAX_REPORT_AGE), min_size=count, max_size=count), label="ages")
    statuses = [CLOSED] * (count - liars) + lie_statuses
    observations = [
        (account, Observation(feed_id(feed), 1, Price(price), MarketStatus(status), now - age))
        for account, price, status, age in zip(signers, honest_prices + lies, statuses, ages, strict=True)
    ]
    ordered = sorted(observations, key=lambda pair: int(pair[0].address, 16))

    feed.transmit(1, [observation.sign(account).as_call_argument() for account, observation in ordered])

    _, answer, _, _, _, status = feed.latestRoundStatus()
    assert min(honest_prices) <= answer <= max(honest_prices)
    assert status == CLOSED
