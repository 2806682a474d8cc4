"""PriceFeed's `status_since`: when the current run of the market status began.

It is the observation time (`startedAt`, the median observation) of the first round with the latest
status: it stays while rounds repeat the status and moves at every change of status. A lending
oracle reads it to time the grace after a reopening.
"""

from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import transmit

PRICE = 150 * 10**8
OPEN, CLOSED, HALTED = 1, 2, 3
MIN_INTERVAL = 3_600


def _round(feed: Any, reporters: list[LocalAccount], status: int, *, lag: int = 0) -> int:
    """Publish a round an interval later, observed `lag` seconds before it is sent; return its time."""
    boa.env.time_travel(seconds=MIN_INTERVAL)
    observed_at = int(boa.env.evm.patch.timestamp) - lag
    transmit(feed, reporters, PRICE, status, observed_at)
    return observed_at


def test_status_since_is_zero_before_the_first_round(price_feed: Any) -> None:
    assert price_feed.status_since() == 0


def test_status_since_is_the_first_rounds_observation_time(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    observed_at = _round(price_feed, reporter_accounts, OPEN, lag=40)

    assert price_feed.status_since() == observed_at == price_feed.latestRoundData()[2]
    assert observed_at < price_feed.latestRoundData()[3]


def test_status_since_is_the_median_observation_time(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    boa.env.time_travel(seconds=MIN_INTERVAL)
    now = int(boa.env.evm.patch.timestamp)

    transmit(price_feed, reporter_accounts[:3], PRICE, CLOSED, [now - 30, now - 10, now - 20])

    assert price_feed.status_since() == now - 20


def test_status_since_stays_during_a_run_and_moves_at_each_change(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    runs = [(OPEN, 3), (CLOSED, 2), (HALTED, 2), (OPEN, 1), (HALTED, 1), (CLOSED, 3), (OPEN, 2)]
    for status, length in runs:
        began = _round(price_feed, reporter_accounts, status, lag=5)
        assert price_feed.status_since() == began
        for _ in range(length - 1):
            _round(price_feed, reporter_accounts, status, lag=5)
            assert price_feed.status_since() == began
        assert price_feed.marketStatus() == status


def test_a_refused_round_leaves_status_since(price_feed: Any, reporter_accounts: list[LocalAccount]) -> None:
    began = _round(price_feed, reporter_accounts, OPEN)
    boa.env.time_travel(seconds=60)

    # A round refused (here: too soon, and a sudden move beyond the feed's 10% bound) changes nothing.
    with boa.reverts("feed: move too large"):
        transmit(price_feed, reporter_accounts, PRICE * 2, OPEN)

    assert price_feed.status_since() == began
