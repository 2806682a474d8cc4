"""PriceFeed of a stock token: the answer is the share price times the token's UI multiplier.

A 4:1 split at time T quarters the share price and quadruples the multiplier at the same
instant, so the token's price runs on without a jump; observations on both sides of T revert.
"""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import Roles, TokenFactory
from tests.support.contracts.oracle import QUORUM, deploy_price_feed, transmit

ONE = 10**18
SHARE_PRICE = 400 * 10**8
SPLIT = 4
MIN_INTERVAL = 3_600


@pytest.fixture
def token(deploy_token: TokenFactory) -> Any:
    return deploy_token()


@pytest.fixture
def token_feed(
    price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount], token: Any
) -> Any:
    return deploy_price_feed(price_feed_deployer, admin, reporter_accounts, QUORUM, token=token.address)


def _schedule(token: Any, roles: Roles, multiplier: int, delay: int) -> int:
    effective_at: int = boa.env.timestamp + delay
    token.setUIMultiplier(multiplier, effective_at, sender=roles.multiplier_updater)
    return effective_at


def test_feed_names_its_token(token_feed: Any, token: Any) -> None:
    assert token_feed.token() == token.address


def test_answer_is_the_share_price_at_multiplier_one(
    token_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    transmit(token_feed, reporter_accounts, SHARE_PRICE)

    assert token_feed.latestRoundData()[1] == SHARE_PRICE


def test_answer_scales_with_the_multiplier(
    token_feed: Any, token: Any, roles: Roles, reporter_accounts: list[LocalAccount]
) -> None:
    # A reinvested dividend: one token is worth 1.02 shares.
    _schedule(token, roles, ONE * 102 // 100, 0)

    transmit(token_feed, reporter_accounts, SHARE_PRICE)

    assert token_feed.latestRoundData()[1] == SHARE_PRICE * 102 // 100
    assert token_feed.last_close() == 0


def test_split_shows_no_jump_in_the_token_price(
    token_feed: Any, token: Any, roles: Roles, reporter_accounts: list[LocalAccount]
) -> None:
    split_at = _schedule(token, roles, SPLIT * ONE, MIN_INTERVAL)
    transmit(token_feed, reporter_accounts, SHARE_PRICE)
    boa.env.time_travel(seconds=MIN_INTERVAL)
    assert boa.env.timestamp == split_at

    transmit(token_feed, reporter_accounts, SHARE_PRICE // SPLIT)

    before, after = token_feed.getRoundData(1)[1], token_feed.getRoundData(2)[1]
    assert before == after == SHARE_PRICE


def test_observations_before_the_split_use_the_old_multiplier(
    token_feed: Any, token: Any, roles: Roles, reporter_accounts: list[LocalAccount]
) -> None:
    split_at = _schedule(token, roles, SPLIT * ONE, 60)
    boa.env.time_travel(seconds=120)

    # Observed before T, accepted after: the pre-split share price at multiplier 1.
    transmit(token_feed, reporter_accounts, SHARE_PRICE, observed_at=split_at - 1)

    assert token_feed.latestRoundData()[1] == SHARE_PRICE


def test_observations_straddling_a_split_revert(
    token_feed: Any, token: Any, roles: Roles, reporter_accounts: list[LocalAccount]
) -> None:
    split_at = _schedule(token, roles, SPLIT * ONE, 60)
    boa.env.time_travel(seconds=120)
    times = [split_at - 1, split_at, split_at, split_at]

    with boa.reverts("aggregator: observations straddle a multiplier change"):
        transmit(token_feed, reporter_accounts, SHARE_PRICE // SPLIT, observed_at=times)
    with boa.reverts("feed: no data"):
        token_feed.latestRoundData()


def test_a_cancelled_split_leaves_the_price_unscaled(
    token_feed: Any, token: Any, roles: Roles, reporter_accounts: list[LocalAccount]
) -> None:
    _schedule(token, roles, SPLIT * ONE, 60)
    token.cancelPendingUIMultiplier(sender=roles.multiplier_updater)
    boa.env.time_travel(seconds=120)

    transmit(token_feed, reporter_accounts, SHARE_PRICE)

    assert token_feed.latestRoundData()[1] == SHARE_PRICE
