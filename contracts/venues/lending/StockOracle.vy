# pragma version ~=0.4.3
"""
@title Lending oracle of one stock token
@custom:contract-name StockOracle
@license GNU Affero General Public License v3.0 or later
@notice The `ILendingOracle` a `LendingMarket` market names for its
        collateral: the stock token's guarded `PriceFeed` price in Morpho
        Blue's scale, with the stock market's rules of
        `collateral_oracle` (closed-market LTV cut, reopening grace,
        reserve health).
        - `quote(action)`: the price for a borrow, a collateral
          withdrawal or a liquidation, and the LTV cut, or the reason
          the action must wait;
        - `price()`: the price for valuing positions (Morpho's
          `IOracle.price`);
        - `state()`: open, closed, halted, grace, reserve-paused or no
          price, for dashboards and keepers;
        - settings: `closed_ltv_cut`, `grace_period`, `guard_limits`,
          with their setters behind the owner (snekmate `ownable`).
"""


from ...interfaces import ILendingOracle
implements: ILendingOracle

from ...interfaces import IPriceFeed

from snekmate.auth import ownable
initializes: ownable

from ...oracle import price_guard
initializes: price_guard

from . import collateral_oracle
initializes: collateral_oracle[price_guard := price_guard]

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
    price_guard.price_feed,
    price_guard.guard_limits,
    collateral_oracle.token,
    collateral_oracle.price_scale,
    collateral_oracle.closed_ltv_cut,
    collateral_oracle.grace_period,
    collateral_oracle.ACTION_BORROW,
    collateral_oracle.ACTION_WITHDRAW_COLLATERAL,
    collateral_oracle.ACTION_LIQUIDATE,
    collateral_oracle.STATE_OPEN,
    collateral_oracle.STATE_CLOSED,
    collateral_oracle.STATE_HALTED,
    collateral_oracle.STATE_GRACE,
    collateral_oracle.STATE_RESERVE_PAUSED,
    collateral_oracle.STATE_NO_PRICE,
    collateral_oracle.MAX_GRACE_PERIOD,
)


@deploy
def __init__(
    price_feed_: IPriceFeed,
    loan_decimals: uint8,
    max_age: uint256,
    min_answer: uint256,
    max_answer: uint256,
    closed_ltv_cut: uint256,
    grace_period: uint256,
    owner: address,
):
    """
    @dev Deploys the oracle of the token `price_feed_` prices.
    @param price_feed_ The token's `PriceFeed`.
    @param loan_decimals The loan asset's decimals (6 for USDC).
    @param max_age The oldest accepted observation, seconds.
    @param min_answer The lowest accepted answer, the feed's decimals.
    @param max_answer The highest accepted answer.
    @param closed_ltv_cut LLTV points taken off while closed, WAD.
    @param grace_period Seconds without liquidations after a reopening.
    @param owner Who may change the settings.
    """
    assert owner != empty(address), "oracle: zero owner"
    ownable.__init__()
    ownable._transfer_ownership(owner)
    price_guard.__init__(price_feed_, max_age, min_answer, max_answer)
    collateral_oracle.__init__(loan_decimals, closed_ltv_cut, grace_period)


@external
@view
def quote(action: uint8) -> (uint256, uint256):
    """
    @dev Returns the price `action` may use and the LTV cut, or reverts
         with the reason it must wait (see `collateral_oracle`).
    @param action 1 borrow, 2 collateral withdrawal, 3 liquidation.
    @return uint256 The price, raw loan units per raw collateral unit,
            times 1e36.
    @return uint256 The LTV cut, WAD.
    """
    return collateral_oracle._quote(action)


@external
@view
def price() -> uint256:
    """
    @dev Returns the price for valuing positions, or reverts when the
         market is halted or the price is stale, out of band or missing.
    @return uint256 The price, raw loan units per raw collateral unit,
            times 1e36.
    """
    return collateral_oracle._price()


@external
@view
def state() -> uint8:
    """
    @dev Returns the adapter's state, the most restrictive first.
    @return uint8 1 open, 2 closed, 3 halted, 4 grace, 5 reserve-paused,
            6 no usable price.
    """
    return collateral_oracle._state()


@external
@view
def reopened_at() -> uint256:
    """
    @dev Returns when the feed's current status run began (for an open
         market, its reopening).
    @return uint256 A Unix time, seconds.
    """
    return collateral_oracle._reopened_at()


@external
def set_closed_ltv_cut(cut: uint256):
    """
    @dev Sets the LLTV points taken off borrows and withdrawals while the
         market is closed. Owner only.
    @param cut WAD, below 1e18.
    """
    ownable._check_owner()
    collateral_oracle._set_closed_ltv_cut(cut)


@external
def set_grace_period(grace_period: uint256):
    """
    @dev Sets the seconds without liquidations after a reopening. Owner
         only.
    @param grace_period Seconds, at most a day.
    """
    ownable._check_owner()
    collateral_oracle._set_grace_period(grace_period)


@external
def set_price_limits(max_age: uint256, min_answer: uint256, max_answer: uint256):
    """
    @dev Sets the guard's limits. Owner only.
    @param max_age The oldest accepted observation, seconds.
    @param min_answer The lowest accepted answer.
    @param max_answer The highest accepted answer.
    """
    ownable._check_owner()
    price_guard._set_limits(max_age, min_answer, max_answer)
