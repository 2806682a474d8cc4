# pragma version ~=0.4.3
"""
@title Quorum price feed of a stock token, with the market's status
@custom:contract-name PriceFeed
@license GNU Affero General Public License v3.0 or later
@notice The price of one stock token (or, without a token, of one
        share), aggregated on-chain from a quorum of reporters' signed
        observations and read through Chainlink's
        `AggregatorV3Interface`, with the status of the stock's home
        market (open, closed, halted) in every round. A round is the
        upper median of at least `quorum` observations, priced through
        the token's UI multiplier so a split never shows as a jump,
        and must pass Backed's sanity bounds (defaults: at most a 10%
        move, observations at most 5 min old, at least 1 h since the
        previous round unless the status changes or the answer moves
        by `deviation_bps`) and the closed-market policy (see
        `aggregator`):
        - `decimals`, `description`, `version`, `latestRoundData`,
          `getRoundData` (`external` `view` functions),
        - `marketStatus`, `getRoundStatus`, `latestRoundStatus`,
          `status_since` (`external` `view` functions),
        - `max_move_bps`, `max_report_age`, `min_interval`
          (`external` `view` functions),
        - `token`, `deviation_bps`, `closed_policy`, `closed_band_bps`,
          `last_close` (`external` `view` functions),
        - `reporters`, `is_reporter`, `quorum` (`external` `view`
          functions),
        - `MARKET_OPEN`, `MARKET_CLOSED`, `MARKET_HALTED`,
          `CLOSED_FROZEN`, `CLOSED_INTERNAL` (`external` `view`
          constants),
        - `transmit` (`external` function, anyone with a quorum of
          reporter signatures),
        - `set_bounds`, `set_deviation_bps`, `set_closed_policy`,
          `add_reporter`, `remove_reporter`, `set_quorum` (`external`
          functions, `DEFAULT_ADMIN_ROLE`),
        - `eip712Domain` (`external` `view` function, ERC-5267: the
          domain reporters sign under),
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

from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator
exports: eip712_domain_separator.eip712Domain

from . import feed
initializes: feed[access_control := access_control]
exports: (
    feed.decimals,
    feed.description,
    feed.version,
    feed.latestRoundData,
    feed.getRoundData,
    feed.marketStatus,
    feed.status_since,
    feed.getRoundStatus,
    feed.latestRoundStatus,
    feed.max_move_bps,
    feed.max_report_age,
    feed.min_interval,
    feed.set_bounds,
    feed.MARKET_OPEN,
    feed.MARKET_CLOSED,
    feed.MARKET_HALTED,
)

from . import reporter_set
initializes: reporter_set[access_control := access_control]
exports: (
    reporter_set.reporters,
    reporter_set.is_reporter,
    reporter_set.quorum,
    reporter_set.add_reporter,
    reporter_set.remove_reporter,
    reporter_set.set_quorum,
)

from . import aggregator
initializes: aggregator[
    access_control := access_control,
    eip712_domain_separator := eip712_domain_separator,
    feed := feed,
    reporter_set := reporter_set,
]
exports: (
    aggregator.transmit,
    aggregator.token,
    aggregator.deviation_bps,
    aggregator.closed_policy,
    aggregator.closed_band_bps,
    aggregator.last_close,
    aggregator.set_deviation_bps,
    aggregator.set_closed_policy,
    aggregator.CLOSED_FROZEN,
    aggregator.CLOSED_INTERNAL,
)


# @dev The EIP-712 domain every observation is signed under
# (`equitoken.oracle.observation`).
_DOMAIN_NAME: constant(String[50]) = "Equitoken PriceFeed"
_DOMAIN_VERSION: constant(String[20]) = "1"


# @dev Backed's oracle bounds: 10% per update, 5 min, 1 h.
_DEFAULT_MAX_MOVE_BPS: constant(uint256) = 1_000
_DEFAULT_MAX_REPORT_AGE: constant(uint256) = 300
_DEFAULT_MIN_INTERVAL: constant(uint256) = 3_600


@deploy
def __init__(
    decimals_: uint8,
    description_: String[64],
    token_: address,
    reporters_: DynArray[address, reporter_set.MAX_REPORTERS],
    quorum_: uint256,
):
    """
    @dev The deployer gets `DEFAULT_ADMIN_ROLE`; the bounds start at
         Backed's defaults, the policies at `aggregator`'s.
    @param decimals_ The decimals of the price, e.g. 8 like Chainlink's
           USD feeds.
    @param description_ The description, e.g. "AAPLx / USD".
    @param token_ The stock token whose UI multiplier prices the
           answer, or `empty(address)` to publish the share price.
    @param reporters_ The reporters, distinct and non-zero.
    @param quorum_ The observations a round needs, a majority of
           `reporters_`.
    """
    access_control.__init__()
    eip712_domain_separator.__init__(_DOMAIN_NAME, _DOMAIN_VERSION)
    feed.__init__(
        decimals_, description_, _DEFAULT_MAX_MOVE_BPS, _DEFAULT_MAX_REPORT_AGE, _DEFAULT_MIN_INTERVAL
    )
    reporter_set.__init__(reporters_, quorum_)
    aggregator.__init__(token_)
