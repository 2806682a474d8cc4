# pragma version ~=0.4.3
"""
@title Minimal venue that reads its price through the guard
@custom:contract-name GuardedReader
@license GNU Affero General Public License v3.0 or later
@notice A test double standing in for a venue (AMM, lending market):
        it `initializes:` `price_guard` and reads the price only
        through it. The owner sets the guard's limits:
        - `read` (`external` function, so a read can be sent and
          measured as a transaction),
        - `market_status` (`external` `view` function),
        - `set_limits` (`external` function, owner only),
        - `price_feed`, `guard_limits`, `MARKET_OPEN`, `MARKET_CLOSED`,
          `MARKET_HALTED` (from `price_guard`),
        - `owner`, `transfer_ownership`, `renounce_ownership` (from
          snekmate's `ownable`).
"""


from ..interfaces import IPriceFeed

from snekmate.auth import ownable
initializes: ownable
exports: ownable.__interface__

from ..oracle import price_guard
initializes: price_guard
exports: (
    price_guard.price_feed,
    price_guard.guard_limits,
    price_guard.MARKET_OPEN,
    price_guard.MARKET_CLOSED,
    price_guard.MARKET_HALTED,
)


@deploy
def __init__(price_feed_: IPriceFeed, max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev The deployer becomes the owner; the guard checks the limits.
    @param price_feed_ The feed to read.
    @param max_age_ The oldest accepted observation, in seconds.
    @param min_answer_ The lowest accepted answer.
    @param max_answer_ The highest accepted answer.
    """
    ownable.__init__()
    price_guard.__init__(price_feed_, max_age_, min_answer_, max_answer_)


@external
def read() -> (uint256, uint8):
    """
    @dev Returns the guarded price; reverts with the guard's reason.
    @return uint256 The answer, in the feed's decimals.
    @return uint8 `MARKET_OPEN` or `MARKET_CLOSED`.
    """
    return price_guard._price()


@external
@view
def market_status() -> uint8:
    """
    @dev Returns the feed's latest market status, unchecked.
    @return uint8 The status, 0 before the first round.
    """
    return price_guard._market_status()


@external
def set_limits(max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev Replaces the guard's limits. Only the owner.
    @param max_age_ The oldest accepted observation, in seconds.
    @param min_answer_ The lowest accepted answer.
    @param max_answer_ The highest accepted answer.
    """
    ownable._check_owner()
    price_guard._set_limits(max_age_, min_answer_, max_answer_)
