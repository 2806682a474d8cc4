# pragma version ~=0.4.3
"""
@title Bounded price feed with the underlying market's status
@custom:contract-name PriceFeed
@license GNU Affero General Public License v3.0 or later
@notice The price of one share of a US stock or ETF, pushed by an
        updater and read through Chainlink's `AggregatorV3Interface`,
        with the status of the stock's home market (open, closed,
        halted) in every round. Each update must pass Backed's sanity
        bounds (defaults: at most a 10% move, a report at most 5 min
        old, at least 1 h since the previous update unless the market
        status changes, so session open and close are never blocked):
        - `decimals`, `description`, `version`, `latestRoundData`,
          `getRoundData` (`external` `view` functions),
        - `marketStatus`, `getRoundStatus` (`external` `view` functions),
        - `max_move_bps`, `max_report_age`, `min_interval`
          (`external` `view` functions),
        - `UPDATER_ROLE`, `MARKET_OPEN`, `MARKET_CLOSED`,
          `MARKET_HALTED` (`external` `view` constants),
        - `update` (`external` function, `UPDATER_ROLE`),
        - `set_bounds` (`external` function, `DEFAULT_ADMIN_ROLE`),
        - `DEFAULT_ADMIN_ROLE`, `hasRole`, `getRoleAdmin`, `grantRole`,
          `revokeRole`, `renounceRole`, `set_role_admin`,
          `supportsInterface` (from snekmate's `access_control`).
"""


from ..interfaces import IAggregatorV3
from ..interfaces import IPriceFeed
implements: IAggregatorV3
implements: IPriceFeed

from snekmate.auth import access_control
initializes: access_control
exports: access_control.__interface__

from . import feed
initializes: feed[access_control := access_control]
exports: (
    feed.decimals,
    feed.description,
    feed.version,
    feed.latestRoundData,
    feed.getRoundData,
    feed.marketStatus,
    feed.getRoundStatus,
    feed.max_move_bps,
    feed.max_report_age,
    feed.min_interval,
    feed.set_bounds,
    feed.UPDATER_ROLE,
    feed.MARKET_OPEN,
    feed.MARKET_CLOSED,
    feed.MARKET_HALTED,
)


# @dev Backed's oracle bounds: 10% per update, 5 min, 1 h.
_DEFAULT_MAX_MOVE_BPS: constant(uint256) = 1_000
_DEFAULT_MAX_REPORT_AGE: constant(uint256) = 300
_DEFAULT_MIN_INTERVAL: constant(uint256) = 3_600


@deploy
def __init__(decimals_: uint8, description_: String[64]):
    """
    @dev The deployer gets `DEFAULT_ADMIN_ROLE` and must grant
         `UPDATER_ROLE`; the bounds start at Backed's defaults.
    @param decimals_ The decimals of the price, e.g. 8 like Chainlink's
           USD feeds.
    @param description_ The description, e.g. "AAPL / USD".
    """
    access_control.__init__()
    feed.__init__(
        decimals_, description_, _DEFAULT_MAX_MOVE_BPS, _DEFAULT_MAX_REPORT_AGE, _DEFAULT_MIN_INTERVAL
    )


@external
def update(answer: int256, observed_at: uint256, status: uint8) -> uint256:
    """
    @dev Records a new round. Only `UPDATER_ROLE`. Reverts unless the
         price is positive, the status is a `MARKET_*` value and every
         bound holds (see `feed`).
    @param answer The price of one share, in `decimals`.
    @param observed_at When the price was observed (Unix seconds).
    @param status The market status at `observed_at`.
    @return uint256 The new round id.
    """
    access_control._check_role(feed.UPDATER_ROLE, msg.sender)
    feed._check_market_status(status)
    assert answer > 0, "feed: answer not positive"
    return feed._update(answer, observed_at, status, False)
