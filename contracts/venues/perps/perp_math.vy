# pragma version ~=0.4.3
"""
@title Perpetual futures arithmetic
@custom:contract-name perp_math
@license GNU Affero General Public License v3.0 or later
@notice Stateless maths of `PerpMarket`: notional and PnL, the fill
        price with its skew impact, the Synthetix v3 funding step and
        a position's funding. Every rounding favours the vault (the
        traders' counterparty): what a trader pays rounds up, what a
        trader receives rounds down.

        Glossary (units):
        - s        a size in token units (18 decimals);
        - p        a price: USD per whole token, 8 decimals;
        - n(s, p)  notional, USDC (6 decimals) = s * p / 1e20;
        - k        skew = long size - short size, token units;
        - K        `skew_scale`, token units;
        - v_max    `max_funding_velocity`, WAD per day;
        - r        funding rate, WAD per day (positive: longs pay);
        - v        velocity = clamp(k / K, -1, 1) * v_max, WAD per day;
        - F        accrued funding, USDC (6 decimals) per whole token:
                   a long of size s owes s * (F_now - F_entry) / 1e18;
        - dt       seconds since the last funding update.
        Funding step (Synthetix v3): r' = r + v * dt / 86400 and
        F' = F + (r + r') / 2 * dt / 86400 * p / 100 / WAD; the division
        remainder of F' is carried to the next step, so frequent updates
        lose nothing.
        Invariants: `_pnl` is the floor of the exact PnL, `_funding_owed`
        the ceiling of the exact funding a position owes; a fill that
        pays up rounds up, one that receives rounds down.
"""


from snekmate.utils import math


_WAD: constant(uint256) = 10**18
_BPS: constant(uint256) = 10_000
_DAY: constant(int256) = 86_400
# @dev n(s, p) = s * p / 1e20: 18 + 8 - 20 = 6 decimals.
_NOTIONAL_SCALE: constant(uint256) = 10**20
# @dev F's denominator: 2 (the average) * a day * WAD * 100 (8 to 6
# decimals).
_FUNDING_DENOMINATOR: constant(int256) = 2 * 86_400 * 10**18 * 100


@internal
@pure
def _notional(size: uint256, price: uint256, roundup: bool) -> uint256:
    """
    @dev Returns n(size, price) in USDC, rounded as asked.
    @param size Token units (18 decimals).
    @param price 8 decimals.
    @param roundup Whether to round up.
    @return uint256 USDC (6 decimals).
    """
    return math._mul_div(size, price, _NOTIONAL_SCALE, roundup)


@internal
@pure
def _pnl(is_long: bool, size: uint256, entry: uint256, exit: uint256) -> int256:
    """
    @dev Returns the floor of the price PnL of `size` from `entry` to
         `exit`: s * (exit - entry) / 1e20 for a long, the opposite
         for a short.
    @param is_long The side.
    @param size Token units, below 2**96.
    @param entry Entry price, 8 decimals, below 2**64.
    @param exit Exit price, 8 decimals, below 2**64.
    @return int256 USDC (6 decimals), negative for a loss.
    """
    move: int256 = convert(exit, int256) - convert(entry, int256)
    if not is_long:
        move = -move
    return self._div_floor(convert(size, int256) * move, convert(_NOTIONAL_SCALE, int256))


@internal
@pure
def _funding_owed(is_long: bool, size: uint256, delta: int256) -> int256:
    """
    @dev Returns the ceiling of what a position of `size` owes when
         accrued funding moved by `delta` since its entry: positive
         means the trader pays.
    @param is_long The side (a short owes the opposite of a long).
    @param size Token units, below 2**96.
    @param delta F_now - F_entry, USDC per whole token.
    @return int256 USDC (6 decimals).
    """
    owed: int256 = convert(size, int256) * delta
    if not is_long:
        owed = -owed
    return -self._div_floor(-owed, convert(_WAD, int256))


@internal
@pure
def _velocity(skew: int256, skew_scale: uint256, max_velocity: uint256) -> int256:
    """
    @dev Returns v = clamp(k * WAD / K, -WAD, WAD) * v_max / WAD.
    @param skew k, token units.
    @param skew_scale K, token units, more than 0.
    @param max_velocity v_max, WAD per day.
    @return int256 WAD per day.
    """
    wad: int256 = convert(_WAD, int256)
    proportional: int256 = skew * wad // convert(skew_scale, int256)
    proportional = max(min(proportional, wad), -wad)
    return proportional * convert(max_velocity, int256) // wad


@internal
@pure
def _current_rate(last_rate: int256, velocity: int256, elapsed: uint256) -> int256:
    """
    @dev Returns r' = r + v * dt / 86400.
    @param last_rate r, WAD per day.
    @param velocity v, WAD per day per day.
    @param elapsed dt, seconds.
    @return int256 WAD per day.
    """
    return last_rate + velocity * convert(elapsed, int256) // _DAY


@internal
@pure
def _accrue(
    accrued: int256, carry: int256, last_rate: int256, rate: int256, elapsed: uint256, price: uint256
) -> (int256, int256):
    """
    @dev Returns F' and the new carry, see the notice's funding step.
    @param accrued F, USDC per whole token.
    @param carry The remainder of the previous step, |carry| below
           the denominator.
    @param last_rate r, WAD per day.
    @param rate r', WAD per day.
    @param elapsed dt, seconds.
    @param price p, 8 decimals.
    @return int256 F'.
    @return int256 The remainder to carry.
    """
    numerator: int256 = (last_rate + rate) * convert(elapsed, int256) * convert(price, int256) + carry
    step: int256 = numerator // _FUNDING_DENOMINATOR
    return (accrued + step, numerator - step * _FUNDING_DENOMINATOR)


@internal
@pure
def _fill(
    mark: uint256,
    adds_long: bool,
    size: uint256,
    skew: int256,
    base_spread_bps: uint256,
    skew_scale: uint256,
) -> uint256:
    """
    @dev Returns the fill price of a trade of `size`: mark * (1 + spread)
         when it adds long exposure (a long open or a short close),
         rounded up; mark * (1 - spread) otherwise, rounded down. The
         spread is the base spread plus the impact, the average skew over
         the trade in the trade's direction (0 if negative) over K.
         Reverts "perp: price impact too large" if the spread reaches
         100%.
    @param mark The mark price, 8 decimals.
    @param adds_long Whether the trade raises the skew.
    @param size Token units.
    @param skew k before the trade.
    @param base_spread_bps The base spread, bps.
    @param skew_scale K, token units.
    @return uint256 8 decimals.
    """
    half: int256 = convert(size // 2, int256)
    average: int256 = 0
    if adds_long:
        average = skew + half
    else:
        average = half - skew
    spread: uint256 = base_spread_bps * (_WAD // _BPS)
    if average > 0:
        spread += math._mul_div(convert(average, uint256), _WAD, skew_scale, True)
    if adds_long:
        return math._mul_div(mark, _WAD + spread, _WAD, True)
    assert spread < _WAD, "perp: price impact too large"
    return math._mul_div(mark, _WAD - spread, _WAD, False)


@internal
@pure
def _div_floor(x: int256, d: int256) -> int256:
    """
    @dev Returns floor(x / d) for d > 0 (Vyper's `//` truncates).
    @param x The dividend.
    @param d The divisor, more than 0.
    @return int256 The floor.
    """
    q: int256 = x // d
    if x < 0 and q * d != x:
        q -= 1
    return q
