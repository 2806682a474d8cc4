# pragma version ~=0.4.3
"""
@title Adaptive curve interest-rate model of the lending markets
@custom:contract-name AdaptiveCurveIrm
@license GNU Affero General Public License v3.0 or later
@notice The borrow rate of a market of a `LendingMarket`, per second in
        WAD, with the design of Morpho's AdaptiveCurveIrm: a fixed curve
        maps how far the utilisation is from its target to a multiple of
        the "rate at target", and the rate at target itself drifts,
        exponentially in time, up while the market is busier than the
        target and down while it is idler, so the market finds the rate
        lenders and borrowers settle on without governance.
        - `borrow_rate`: the rate for the interval that ends now; the
          caller is the lending market, and the rate at target of
          (caller, id) moves to its value now (emits `BorrowRateUpdate`);
        - `borrow_rate_view`: the same rate for any market, without
          writing;
        - `rate_at_target`: the stored rate at target of (market, id),
          zero before the first `borrow_rate`;
        - the parameters as public constants: `CURVE_STEEPNESS`,
          `ADJUSTMENT_SPEED`, `TARGET_UTILISATION`,
          `INITIAL_RATE_AT_TARGET`, `MIN_RATE_AT_TARGET`,
          `MAX_RATE_AT_TARGET` (all WAD, rates and speed per second).

        Glossary (every quantity a WAD fixed-point integer, 1e18 = 1):
        - S, B      the market's total supply and total borrow, raw units;
        - u         the utilisation, B / S rounded down; 0 when S = 0,
                    at most 1;
        - u*        TARGET_UTILISATION, 0.9;
        - e         the utilisation error, normalised to [-1, 1]:
                    e = (u - u*) / (1 - u*) when u > u*,
                    e = (u - u*) / u*       otherwise
                    (rounded toward zero): -1 at u = 0, 0 at u*, 1 at u = 1;
        - C         CURVE_STEEPNESS, 4;
        - k         ADJUSTMENT_SPEED, 50 a year, in 1/second;
        - r_T       the rate at target of a market, per second;
        - t         the seconds since the market last accrued
                    (block.timestamp - last_update).
        Curve:      curve(r_T, e) = r_T * (1 + (1 - 1/C) * e)  when e < 0,
                    curve(r_T, e) = r_T * (1 + (C - 1) * e)    otherwise,
                    so curve(r_T, -1) = r_T / C, curve(r_T, 0) = r_T and
                    curve(r_T, 1) = C * r_T.
        Adaptation: r_T(t) = clamp(r_T(0) * exp(k * e * t),
                                   MIN_RATE_AT_TARGET, MAX_RATE_AT_TARGET).
        Rate:       the average of curve(r_T(x), e) over [0, t]; the curve
                    is linear in r_T, so it is the curve of the average
                    r_T, taken by the trapezoid rule on two halves:
                    avg = (r_T(0) + 2 * r_T(t / 2) + r_T(t)) / 4,
                    borrow rate = curve(avg, e).
        The first call for (market, id) starts at r_T = INITIAL_RATE_AT_TARGET
        without adaptation (there is no past interval to adapt over).
        Invariant: after any call, MIN_RATE_AT_TARGET <= r_T <=
        MAX_RATE_AT_TARGET for every market that has one, so every rate
        returned lies in [MIN_RATE_AT_TARGET / C, C * MAX_RATE_AT_TARGET]
        (0.025% to 800% a year), and r_T only ever moves in the direction
        of e (up above the target, down below it, never at it).
@custom:security State is keyed by the caller: `borrow_rate` only ever
                 writes the rate at target of (msg.sender, id), so anyone
                 may call it without touching a market's state. The
                 speed is taken as constant over the interval though the
                 utilisation drifts with accrued interest, so the rate is
                 slightly underestimated, as in Morpho's model.
"""


from ...interfaces import IRateModel

implements: IRateModel

from snekmate.utils import math


# @dev 1 in WAD fixed point.
_WAD: constant(int256) = 10 ** 18
_WAD_UINT: constant(uint256) = 10 ** 18

# @dev Seconds in a (365-day) year.
_YEAR: constant(int256) = 365 * 86_400

# @dev Above this, `exp` of the linear adaptation is not computed: e^16
# is about 8.9 million, more than MAX_RATE_AT_TARGET / MIN_RATE_AT_TARGET
# (2,000), so from any rate at target in bounds the result is clamped to
# MAX_RATE_AT_TARGET whatever the exact value; capping keeps `_wad_exp`
# and the product far from overflow for any elapsed time.
_MAX_EXP_ARGUMENT: constant(int256) = 16 * _WAD


# @dev C: the rate at full utilisation is C times the rate at target,
# the rate at zero utilisation the rate at target divided by C.
CURVE_STEEPNESS: public(constant(int256)) = 4 * _WAD

# @dev k: the rate at target moves by a factor exp(k * e) a second,
# 50 a year.
ADJUSTMENT_SPEED: public(constant(int256)) = 50 * _WAD // _YEAR

# @dev u*: the utilisation the model steers a market to, 90%.
TARGET_UTILISATION: public(constant(int256)) = 9 * _WAD // 10

# @dev The rate at target of a market's first call, 4% a year.
INITIAL_RATE_AT_TARGET: public(constant(int256)) = 4 * _WAD // 100 // _YEAR

# @dev The lowest rate at target, 0.1% a year.
MIN_RATE_AT_TARGET: public(constant(int256)) = _WAD // 1_000 // _YEAR

# @dev The highest rate at target, 200% a year.
MAX_RATE_AT_TARGET: public(constant(int256)) = 2 * _WAD // _YEAR


# @dev Returns the rate at target of a market id of a lending market,
# per second in WAD; 0 before its first `borrow_rate`.
rate_at_target: public(HashMap[address, HashMap[bytes32, int256]])


event BorrowRateUpdate:
    market: indexed(address)
    id: indexed(bytes32)
    avg_borrow_rate: uint256
    rate_at_target: uint256


@external
def borrow_rate(
    id: bytes32, total_supply_assets: uint256, total_borrow_assets: uint256, last_update: uint256
) -> uint256:
    """
    @dev Returns the average borrow rate of market `id` of the caller
         since `last_update`, and stores the rate at target it has
         reached now. The first call for (caller, id) stores
         INITIAL_RATE_AT_TARGET and ignores `last_update`. Reverts if
         `last_update` is in the future. Emits `BorrowRateUpdate`.
    @param id The market id in the calling lending market.
    @param total_supply_assets S, the market's supplied assets.
    @param total_borrow_assets B, the market's borrowed assets.
    @param last_update When the market last accrued interest, seconds.
    @return uint256 The borrow rate, per second in WAD.
    """
    avg_rate: uint256 = 0
    end_rate_at_target: int256 = 0
    avg_rate, end_rate_at_target = self._borrow_rate(
        msg.sender, id, total_supply_assets, total_borrow_assets, last_update
    )
    self.rate_at_target[msg.sender][id] = end_rate_at_target
    log BorrowRateUpdate(
        market=msg.sender,
        id=id,
        avg_borrow_rate=avg_rate,
        rate_at_target=convert(end_rate_at_target, uint256),
    )
    return avg_rate


@external
@view
def borrow_rate_view(
    market: address, id: bytes32, total_supply_assets: uint256, total_borrow_assets: uint256, last_update: uint256
) -> uint256:
    """
    @dev Returns what `borrow_rate` would return now if `market` called
         it, without writing. Reverts if `last_update` is in the future
         (unless the market has no rate at target yet).
    @param market The lending market.
    @param id The market id in `market`.
    @param total_supply_assets S, the market's supplied assets.
    @param total_borrow_assets B, the market's borrowed assets.
    @param last_update When the market last accrued interest, seconds.
    @return uint256 The borrow rate, per second in WAD.
    """
    return self._borrow_rate(market, id, total_supply_assets, total_borrow_assets, last_update)[0]


@internal
@view
def _borrow_rate(
    market: address, id: bytes32, total_supply_assets: uint256, total_borrow_assets: uint256, last_update: uint256
) -> (uint256, int256):
    """
    @dev Returns the average borrow rate of (market, id) over the
         interval since `last_update` and the rate at target at its end
         (see the header). Reverts if `last_update` is in the future,
         unless (market, id) has no rate at target yet.
    @param market The lending market whose state is read.
    @param id The market id in `market`.
    @param total_supply_assets S.
    @param total_borrow_assets B.
    @param last_update When the market last accrued interest, seconds.
    @return uint256 The borrow rate, per second in WAD.
    @return int256 The rate at target now, per second in WAD.
    """
    err: int256 = self._utilisation_error(total_supply_assets, total_borrow_assets)
    start: int256 = self.rate_at_target[market][id]
    if start == 0:
        return (convert(self._curve(INITIAL_RATE_AT_TARGET, err), uint256), INITIAL_RATE_AT_TARGET)

    # k * e, rounded toward zero, is at most k in size: times any
    # timestamp it stays far inside int256.
    speed: int256 = ADJUSTMENT_SPEED * err // _WAD
    linear_adaptation: int256 = speed * convert(block.timestamp - last_update, int256)
    if linear_adaptation == 0:
        return (convert(self._curve(start, err), uint256), start)

    end: int256 = self._new_rate_at_target(start, linear_adaptation)
    mid: int256 = self._new_rate_at_target(start, linear_adaptation // 2)
    average: int256 = (start + 2 * mid + end) // 4
    return (convert(self._curve(average, err), uint256), end)


@internal
@pure
def _utilisation_error(total_supply_assets: uint256, total_borrow_assets: uint256) -> int256:
    """
    @dev Returns e, the utilisation error normalised to [-1, 1]: the
         utilisation B / S is rounded down, 0 when S is 0 and capped at
         1, the division by the normalising factor rounds toward zero.
    @param total_supply_assets S.
    @param total_borrow_assets B.
    @return int256 e, in WAD.
    """
    utilisation: int256 = 0
    if total_supply_assets != 0:
        ratio: uint256 = math._mul_div(total_borrow_assets, _WAD_UINT, total_supply_assets, False)
        utilisation = convert(min(ratio, _WAD_UINT), int256)
    norm: int256 = TARGET_UTILISATION
    if utilisation > TARGET_UTILISATION:
        norm = _WAD - TARGET_UTILISATION
    return (utilisation - TARGET_UTILISATION) * _WAD // norm


@internal
@pure
def _curve(rate_at_target: int256, err: int256) -> int256:
    """
    @dev Returns curve(r_T, e): r_T times 1 + (1 - 1/C) * e below the
         target and 1 + (C - 1) * e at or above it, each product rounded
         toward zero. Non-negative for r_T >= 0 and e >= -1.
    @param rate_at_target r_T, per second in WAD.
    @param err e, in WAD.
    @return int256 The borrow rate, per second in WAD.
    """
    coefficient: int256 = CURVE_STEEPNESS - _WAD
    if err < 0:
        coefficient = _WAD - _WAD * _WAD // CURVE_STEEPNESS
    return (coefficient * err // _WAD + _WAD) * rate_at_target // _WAD


@internal
@pure
def _new_rate_at_target(start: int256, linear_adaptation: int256) -> int256:
    """
    @dev Returns clamp(start * exp(linear_adaptation), MIN_RATE_AT_TARGET,
         MAX_RATE_AT_TARGET), the product rounded down; the exponent is
         capped at `_MAX_EXP_ARGUMENT`, which changes nothing once clamped.
    @param start The rate at target at the start, per second in WAD,
           within the bounds.
    @param linear_adaptation k * e * elapsed seconds, in WAD.
    @return int256 The rate at target after the adaptation.
    """
    growth: int256 = math._wad_exp(min(linear_adaptation, _MAX_EXP_ARGUMENT))
    return max(min(start * growth // _WAD, MAX_RATE_AT_TARGET), MIN_RATE_AT_TARGET)
