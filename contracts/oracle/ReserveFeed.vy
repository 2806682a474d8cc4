# pragma version ~=0.4.3
"""
@title Proof-of-reserve feed for one stock token
@custom:contract-name ReserveFeed
@license GNU Affero General Public License v3.0 or later
@notice The number of shares held in custody for one stock token, in
        the token's raw units and decimals, pushed by the reserve
        attestation and read through Chainlink's
        `AggregatorV3Interface` (the token's secure mint reads
        `latestRoundData` on every mint):
        - `decimals`, `description`, `version`, `latestRoundData`,
          `getRoundData` (`external` `view` functions),
        - `max_move_bps`, `max_report_age`, `min_interval`
          (`external` `view` functions),
        - `UPDATER_ROLE` (`external` `view` constant),
        - `update` (`external` function, `UPDATER_ROLE`),
        - `set_bounds` (`external` function, `DEFAULT_ADMIN_ROLE`),
        - `DEFAULT_ADMIN_ROLE`, `hasRole`, `getRoleAdmin`, `grantRole`,
          `revokeRole`, `renounceRole`, `set_role_admin`,
          `supportsInterface` (from snekmate's `access_control`).
        Default bounds differ from the price feed's on purpose:
        - no move bound (0): one authorised-participant creation or
          redemption can move reserves by far more than 10%, and the
          first mint moves them from 0; a move bound would block
          legitimate attestations, while the mint's own check
          `supply + amount <= reserves` is what protects holders;
        - reports at most 1 h old: an attestation is a custody
          snapshot, slower to produce than a market quote;
        - no minimum interval (0): reserves must be raised right after
          custody receives shares, or the matching mint is blocked.
"""


from ..interfaces import IAggregatorV3
implements: IAggregatorV3

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
    feed.max_move_bps,
    feed.max_report_age,
    feed.min_interval,
    feed.set_bounds,
    feed.UPDATER_ROLE,
)


_DEFAULT_MAX_MOVE_BPS: constant(uint256) = 0
_DEFAULT_MAX_REPORT_AGE: constant(uint256) = 3_600
_DEFAULT_MIN_INTERVAL: constant(uint256) = 0


# @dev Rounds of a reserve feed carry no market status.
_NO_STATUS: constant(uint8) = 0


# @dev With no minimum interval there is nothing for a deviation to waive.
_NO_DEVIATION_WAIVER: constant(uint256) = 0


@deploy
def __init__(decimals_: uint8, description_: String[64]):
    """
    @dev The deployer gets `DEFAULT_ADMIN_ROLE` and must grant
         `UPDATER_ROLE`.
    @param decimals_ The decimals of the stock token.
    @param description_ The description, e.g. "bAAPL reserves".
    """
    access_control.__init__()
    feed.__init__(
        decimals_, description_, _DEFAULT_MAX_MOVE_BPS, _DEFAULT_MAX_REPORT_AGE, _DEFAULT_MIN_INTERVAL
    )


@external
def update(answer: int256, observed_at: uint256) -> uint256:
    """
    @dev Records a new round. Only `UPDATER_ROLE`. Reserves may be 0
         but not negative; every bound must hold (see `feed`). An
         observation may share the previous one's second: custody can
         change twice within a second, and a node may seal several
         blocks with the same timestamp.
    @param answer The shares in custody, in the token's raw units.
    @param observed_at When custody was observed (Unix seconds).
    @return uint256 The new round id.
    """
    access_control._check_role(feed.UPDATER_ROLE, msg.sender)
    return feed._update(answer, observed_at, _NO_STATUS, True, _NO_DEVIATION_WAIVER)
