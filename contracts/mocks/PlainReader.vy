# pragma version ~=0.4.3
"""
@title Plain Chainlink consumer, the read gas baseline
@custom:contract-name PlainReader
@license GNU Affero General Public License v3.0 or later
@notice Reads `latestRoundData` through `AggregatorV3Interface` and
        nothing else, in a function that can be sent as a transaction,
        so the guarded read's cost shows against the same baseline:
        - `read` (`external` function).
"""


from ..interfaces import IAggregatorV3


# @dev The feed this consumer reads.
_feed: immutable(IAggregatorV3)


@deploy
def __init__(feed_: IAggregatorV3):
    """
    @dev Points the consumer at `feed_`.
    @param feed_ The feed to read.
    """
    _feed = feed_


@external
def read() -> int256:
    """
    @dev Returns the feed's latest answer, unchecked.
    @return int256 The answer.
    """
    answer: int256 = 0
    _: uint80 = 0
    __: uint256 = 0
    ___: uint256 = 0
    ____: uint80 = 0
    _, answer, __, ___, ____ = staticcall _feed.latestRoundData()
    return answer
