# pragma version ~=0.4.3
"""
@title Minimal Chainlink feed consumer
@custom:contract-name FeedConsumer
@license GNU Affero General Public License v3.0 or later
@notice A test double that reads a feed only through
        `AggregatorV3Interface`, as third-party integrations do:
        - `feed` (`external` `view` function),
        - `latest` (`external` `view` function),
        - `round` (`external` `view` function),
        - `fresh_answer` (`external` `view` function).
"""


from ..interfaces import IAggregatorV3


# @dev Returns the feed this consumer reads.
feed: public(immutable(IAggregatorV3))


@deploy
def __init__(feed_: IAggregatorV3):
    """
    @dev Points the consumer at `feed_`.
    @param feed_ The feed to read.
    """
    feed = feed_


@external
@view
def latest() -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev Returns the feed's `latestRoundData` unchanged.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 `startedAt`.
    @return uint256 `updatedAt`.
    @return uint80 `answeredInRound`.
    """
    return staticcall feed.latestRoundData()


@external
@view
def round(round_id: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev Returns the feed's `getRoundData(round_id)` unchanged.
    @param round_id The round id.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 `startedAt`.
    @return uint256 `updatedAt`.
    @return uint80 `answeredInRound`.
    """
    return staticcall feed.getRoundData(round_id)


@external
@view
def fresh_answer(heartbeat: uint256) -> int256:
    """
    @dev Returns the latest answer, reverting if it was accepted more
         than `heartbeat` seconds ago, the check every consumer owes.
    @param heartbeat The largest accepted age of `updatedAt`, in seconds.
    @return int256 The answer.
    """
    answer: int256 = 0
    updated_at: uint256 = 0
    _: uint80 = 0
    __: uint256 = 0
    ___: uint80 = 0
    _, answer, __, updated_at, ___ = staticcall feed.latestRoundData()
    assert block.timestamp - updated_at <= heartbeat, "consumer: stale answer"
    return answer
