# pragma version ~=0.4.3
"""
@title Rate model with a rate anyone may set, for tests
@custom:contract-name FixedRateIrm
@license GNU Affero General Public License v3.0 or later
@notice An `IRateModel` whose borrow rate is whatever was last set, the
        same for every lending market and market ID, so a test decides
        the interest a market accrues:
        - `borrow_rate`, `borrow_rate_view` (the rate model's calls);
        - `rate`, `set_rate` (anyone: a test double, not for a chain);
        - `calls` (how often a lending market asked for the rate).
"""


from ..interfaces import IRateModel
implements: IRateModel


# @dev The borrow rate, per second, WAD.
rate: public(uint256)

# @dev How often `borrow_rate` was called.
calls: public(uint256)


event RateSet:
    rate: uint256


@deploy
def __init__(rate_: uint256):
    """
    @dev Starts at `rate_`.
    @param rate_ The borrow rate, per second, WAD.
    """
    self.rate = rate_


@external
def set_rate(rate_: uint256):
    """
    @dev Replaces the rate, from the next accrual on.
    @param rate_ The borrow rate, per second, WAD.
    """
    self.rate = rate_
    log RateSet(rate=rate_)


@external
def borrow_rate(
    id: bytes32, total_supply_assets: uint256, total_borrow_assets: uint256, last_update: uint256
) -> uint256:
    """
    @dev Returns the rate and counts the call.
    @param id The market's ID (ignored).
    @param total_supply_assets The market's supply (ignored).
    @param total_borrow_assets The market's borrow (ignored).
    @param last_update The market's last accrual (ignored).
    @return uint256 The rate, per second, WAD.
    """
    self.calls += 1
    return self.rate


@external
@view
def borrow_rate_view(
    market: address, id: bytes32, total_supply_assets: uint256, total_borrow_assets: uint256, last_update: uint256
) -> uint256:
    """
    @dev Returns the rate.
    @param market The lending market (ignored).
    @param id The market's ID (ignored).
    @param total_supply_assets The market's supply (ignored).
    @param total_borrow_assets The market's borrow (ignored).
    @param last_update The market's last accrual (ignored).
    @return uint256 The rate, per second, WAD.
    """
    return self.rate
