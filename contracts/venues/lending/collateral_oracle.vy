# pragma version ~=0.4.3
"""
@title Stock collateral price with the stock market's clock
@custom:contract-name collateral_oracle
@license GNU Affero General Public License v3.0 or later
@notice The price a lending market may act on, for one stock token, and
        the rules where a stock differs from a crypto asset. It reads
        the token's `PriceFeed` through `price_guard` (halted, stale,
        out of band or no round: every action reverts) and adds:
        - closed market: the frozen close prices health, but a borrow or
          a collateral withdrawal may only take the position up to the
          LLTV less `closed_ltv_cut`, because Monday can open with a gap;
        - reopening grace: liquidations wait `grace_period` seconds after
          the market reopens (from a close or a halt), so that a single
          opening print cannot wipe borrowers out;
        - reserve health: no new borrow against the token while its
          proof-of-reserve feed shows fewer tokens in custody than the
          supply, is older than the token's reserve heartbeat or has
          no round yet.
        The price is the feed's answer, the token's price (share price
        times the UI multiplier): a split moves nothing.
        The deployable `StockOracle` exports `quote`, `price`, `state`,
        the settings and their setters behind its owner.

        Glossary:
        - a        the feed's answer, the token price in the feed's
                   decimals (8);
        - P        the price in Morpho Blue's oracle scale: raw loan
                   units per raw collateral unit, times 1e36:
                   P = a * 10**(36 + d_loan - d_token - d_feed);
        - cut      `closed_ltv_cut`, WAD; the market lends up to
                   LLTV - cut on a closed market;
        - t_open   `status_since` of the feed while it is open: the
                   observation time of the first open round;
        - g        `grace_period`, seconds;
        - R, S     the reserve feed's answer and the token's supply, both
                   in the token's raw units.
        Invariants: `quote` returns only if `price_guard._price()` does;
        it returns a positive cut only while the market is closed; it
        returns for a liquidation only if the market is closed or
        block.timestamp >= t_open + g; it returns for a borrow only if
        S <= R and the reserve observation is at most the token's
        heartbeat old.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from ...interfaces import IPriceFeed
from ...oracle import price_guard
uses: price_guard


interface ISecureMint:
    def reserve_feed() -> address: view
    def reserve_heartbeat() -> uint256: view


ACTION_BORROW: public(constant(uint8)) = 1
ACTION_WITHDRAW_COLLATERAL: public(constant(uint8)) = 2
ACTION_LIQUIDATE: public(constant(uint8)) = 3

STATE_OPEN: public(constant(uint8)) = 1
STATE_CLOSED: public(constant(uint8)) = 2
STATE_HALTED: public(constant(uint8)) = 3
STATE_GRACE: public(constant(uint8)) = 4
STATE_RESERVE_PAUSED: public(constant(uint8)) = 5
STATE_NO_PRICE: public(constant(uint8)) = 6

_WAD: constant(uint256) = 10**18
# @dev The longest reopening grace the owner may set: a day.
MAX_GRACE_PERIOD: public(constant(uint256)) = 86_400
_PRICE_SCALE_EXPONENT: constant(uint256) = 36
# @dev The ABI-encoded size of `latestRoundData()`'s five words.
_ROUND_DATA_BYTES: constant(uint256) = 160


# @dev The stock token whose price this is.
token: public(immutable(address))

# @dev 10**(36 + d_loan - d_token - d_feed), see the glossary.
price_scale: public(immutable(uint256))

# @dev The LLTV points taken off borrows and withdrawals while the
# market is closed, WAD.
closed_ltv_cut: public(uint256)

# @dev Seconds after a reopening during which nobody is liquidated.
grace_period: public(uint256)


event ClosedLtvCutSet:
    cut: uint256


event GracePeriodSet:
    grace_period: uint256


@deploy
def __init__(loan_decimals: uint8, closed_ltv_cut_: uint256, grace_period_: uint256):
    """
    @dev Reads the token and the decimals from the guard's feed, then
         sets the closed-market cut and the grace period.
    @param loan_decimals The loan asset's decimals (6 for USDC).
    @param closed_ltv_cut_ LLTV points, WAD, below 1e18.
    @param grace_period_ Seconds, at most `MAX_GRACE_PERIOD`.
    """
    feed: IPriceFeed = price_guard.price_feed
    token = staticcall feed.token()
    assert token != empty(address), "oracle: feed has no token"
    divisor: uint256 = convert(staticcall IERC20Detailed(token).decimals(), uint256) + convert(
        staticcall feed.decimals(), uint256
    )
    exponent: uint256 = _PRICE_SCALE_EXPONENT + convert(loan_decimals, uint256)
    assert exponent >= divisor, "oracle: decimals too large"
    price_scale = 10 ** (exponent - divisor)
    self._set_closed_ltv_cut(closed_ltv_cut_)
    self._set_grace_period(grace_period_)


@internal
@view
def _quote(action: uint8) -> (uint256, uint256):
    """
    @dev Returns the price for `action` and the LTV cut to apply to it,
         or reverts with the reason the action must wait.
    @param action `ACTION_BORROW`, `ACTION_WITHDRAW_COLLATERAL` or
           `ACTION_LIQUIDATE`.
    @return uint256 P, see the glossary.
    @return uint256 The cut, WAD; 0 unless the market is closed and the
            action raises the position's LTV.
    """
    answer: uint256 = 0
    status: uint8 = 0
    answer, status = price_guard._price()
    price: uint256 = answer * price_scale
    if action == ACTION_LIQUIDATE:
        if status == price_guard.MARKET_OPEN:
            assert block.timestamp >= self._reopened_at() + self.grace_period, "oracle: reopening grace"
        return (price, 0)
    assert action == ACTION_BORROW or action == ACTION_WITHDRAW_COLLATERAL, "oracle: unknown action"
    if action == ACTION_BORROW:
        problem: String[32] = self._reserve_problem()
        assert len(problem) == 0, problem
    if status == price_guard.MARKET_CLOSED:
        return (price, self.closed_ltv_cut)
    return (price, 0)


@internal
@view
def _price() -> uint256:
    """
    @dev Returns P for valuing positions, or reverts with the guard's
         reason.
    @return uint256 P, see the glossary.
    """
    answer: uint256 = 0
    status: uint8 = 0
    answer, status = price_guard._price()
    return answer * price_scale


@internal
@view
def _state() -> uint8:
    """
    @dev Returns what the adapter allows now, the most restrictive
         first: halted, no usable price, reserve-paused, reopening
         grace, closed, open.
    @return uint8 A `STATE_*` value.
    """
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if problem == price_guard.PROBLEM_HALTED:
        return STATE_HALTED
    if problem != price_guard.PROBLEM_NONE:
        return STATE_NO_PRICE
    if len(self._reserve_problem()) != 0:
        return STATE_RESERVE_PAUSED
    if status == price_guard.MARKET_OPEN and block.timestamp < self._reopened_at() + self.grace_period:
        return STATE_GRACE
    if status == price_guard.MARKET_CLOSED:
        return STATE_CLOSED
    return STATE_OPEN


@internal
@view
def _reopened_at() -> uint256:
    """
    @dev Returns when the current run of the feed's status began: for an
         open market, the observation time of its first open round.
    @return uint256 A Unix time, seconds.
    """
    return staticcall price_guard.price_feed.status_since()


@internal
@view
def _reserve_problem() -> String[32]:
    """
    @dev Returns why the token's reserves do not allow new borrows, or
         an empty string if they do.
    @return String The reason, prefixed "oracle: ".
    """
    feed: address = staticcall ISecureMint(token).reserve_feed()
    if feed == empty(address):
        return "oracle: no reserve feed"
    # A raw call, as the guard reads the price: a reserve feed without a
    # round reverts, and that must pause borrows, not `state()`.
    ok: bool = False
    response: Bytes[_ROUND_DATA_BYTES] = b""
    ok, response = raw_call(
        feed,
        method_id("latestRoundData()"),
        max_outsize=_ROUND_DATA_BYTES,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok or len(response) != _ROUND_DATA_BYTES:
        return "oracle: reserve stale"
    round_id: uint80 = 0
    reserves: int256 = 0
    observed_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in_round: uint80 = 0
    round_id, reserves, observed_at, updated_at, answered_in_round = abi_decode(
        response, (uint80, int256, uint256, uint256, uint80)
    )
    if round_id == 0 or block.timestamp > observed_at + staticcall ISecureMint(token).reserve_heartbeat():
        return "oracle: reserve stale"
    if reserves < 0 or convert(reserves, uint256) < staticcall IERC20(token).totalSupply():
        return "oracle: reserves below supply"
    return ""


@internal
def _set_closed_ltv_cut(cut: uint256):
    """
    @dev Sets the closed-market LTV cut; the caller checks access.
    @param cut LLTV points, WAD, below 1e18.
    """
    assert cut < _WAD, "oracle: cut too large"
    self.closed_ltv_cut = cut
    log ClosedLtvCutSet(cut=cut)


@internal
def _set_grace_period(grace_period_: uint256):
    """
    @dev Sets the reopening grace; the caller checks access.
    @param grace_period_ Seconds, at most `MAX_GRACE_PERIOD`.
    """
    assert grace_period_ <= MAX_GRACE_PERIOD, "oracle: grace too long"
    self.grace_period = grace_period_
    log GracePeriodSet(grace_period=grace_period_)
