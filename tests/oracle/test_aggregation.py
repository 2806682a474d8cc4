"""The round a set of observations makes, computed as `PriceFeed.transmit` does."""

import pytest
from eth_account import Account

from equitoken.model.quantities import Price
from equitoken.oracle.aggregation import RoundValues, token_answer, upper_median
from equitoken.oracle.observation import FeedId, MarketStatus, Observation

FEED = FeedId(31337, "0x" + "11" * 20)


def test_the_upper_median_takes_the_higher_middle_value() -> None:
    assert upper_median([5, 1, 3]) == 3
    assert upper_median([4, 1, 3, 2]) == 3
    assert upper_median([7]) == 7
    with pytest.raises(ValueError, match="median of no values"):
        upper_median([])


def test_the_token_answer_scales_the_share_price_by_the_multiplier_rounding_down() -> None:
    assert token_answer(Price(10_000_000_001), 2 * 10**18) == 20_000_000_002
    assert token_answer(Price(3), 10**18 // 2) == 1
    with pytest.raises(ValueError, match="not positive"):
        token_answer(Price(3), 0)


def test_a_round_takes_the_median_of_each_field_independently() -> None:
    keys = [Account.create() for _ in range(3)]
    rows = [(100, MarketStatus.OPEN, 30), (300, MarketStatus.CLOSED, 10), (200, MarketStatus.CLOSED, 20)]
    signed = [
        Observation(FEED, 1, Price(p), s, t).sign(key) for key, (p, s, t) in zip(keys, rows, strict=True)
    ]

    assert RoundValues.of(signed) == RoundValues(Price(200), MarketStatus.CLOSED, 20)
