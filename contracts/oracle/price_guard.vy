# pragma version ~=0.4.3
"""
@title Guarded price read for venues
@custom:contract-name price_guard
@license GNU Affero General Public License v3.0 or later
@notice The one way a venue (AMM, lending market, perpetuals) reads the
        price of a stock token. A venue `initializes:` this module with
        its `PriceFeed` and its own limits, and calls `_price()` wherever
        it needs a price; the read reverts rather than hand back a price
        the venue must not act on:
        - no round yet, a non-positive answer or an unknown market
          status: "guard: no price",
        - the underlying market is halted: "guard: market halted",
        - the price was observed more than `max_age` seconds ago:
          "guard: stale price",
        - the answer lies outside `[min_answer, max_answer]`, the
          venue's circuit breaker: "guard: price out of band".
        A CLOSED market is not rejected: `_price()` returns the status
        with the answer, and the venue applies its own closed-market
        rules (wider spreads, no new leverage, ...).
        The venue can export:
        - `price_feed` (`external` `view` immutable),
        - `guard_limits` (`external` `view` function),
        - `MARKET_OPEN`, `MARKET_CLOSED`, `MARKET_HALTED` (`external`
          `view` constants),
        and offers `_set_limits` behind its own access control, and
        `_read()`, the same checks without reverting, for views that
        report a venue's state.

        Glossary:
        - a          the feed's latest answer: the token's price in the
                     feed's decimals;
        - s          the market status of the latest round (1 open,
                     2 closed, 3 halted; 0 before the first round);
        - t_obs      the latest round's `startedAt`: when the reporters
                     observed the price, the time at which a was true;
        - A          `max_age`, seconds;
        - [lo, hi]   `min_answer`, `max_answer`, in the feed's decimals.
        Invariant: `_price()` returns (a, s) only if
        0 < lo <= a <= hi, s in {open, closed} and
        block.timestamp - t_obs <= A.

        Gas: one external call (`latestRoundStatus`, the round and its
        status from one storage word of the feed); the limits share one
        storage word and the feed is an immutable. A guarded read costs
        one cold storage read here and one in the feed, plus the feed's
        cold account access: 29,430 gas as a whole transaction against
        26,580 for a plain `latestRoundData` read (`bench/oracle.py`).
@custom:security The age is measured from `startedAt`, the observation
                 time, not from `updatedAt`, the time the round was
                 accepted. A round may be transmitted up to the feed's
                 `max_report_age` after its observations were made, so
                 `updatedAt` can make a price look fresher than it is;
                 `startedAt` (the median observation time) is when the
                 price was true, which is what a venue trading on it
                 needs to bound. Whoever relays the reports cannot make
                 a price look younger by delaying it.
"""


from ..interfaces import IPriceFeed


# @dev Market status values, as the feed stores them.
MARKET_OPEN: public(constant(uint8)) = 1
MARKET_CLOSED: public(constant(uint8)) = 2
MARKET_HALTED: public(constant(uint8)) = 3


# @dev The limits are packed into one storage word so a guarded read
# costs a single cold SLOAD:
#   bits   0..103  min_answer  (uint104)
#   bits 104..207  max_answer  (uint104)
#   bits 208..255  max_age     (uint48, seconds)
# 2**104 is about 2e31: a price of 2e23 dollars with 8 decimals.
_MAX_SHIFT: constant(uint256) = 104
_AGE_SHIFT: constant(uint256) = 208
_MASK_104: constant(uint256) = (1 << 104) - 1
_MASK_48: constant(uint256) = (1 << 48) - 1


# @dev What `_read()` finds wrong with the latest round, in the order
# `_price()` checks it.
PROBLEM_NONE: constant(uint8) = 0
PROBLEM_NO_PRICE: constant(uint8) = 1
PROBLEM_HALTED: constant(uint8) = 2
PROBLEM_STALE: constant(uint8) = 3
PROBLEM_OUT_OF_BAND: constant(uint8) = 4


# @dev The ABI-encoded size of `latestRoundStatus()`'s six words.
_ROUND_STATUS_BYTES: constant(uint256) = 192


# @dev Returns the feed every read goes to.
price_feed: public(immutable(IPriceFeed))


# @dev The packed limits, see `_MAX_SHIFT`.
_limits: uint256


# @dev Emitted whenever the limits are set, at deployment included.
event PriceGuardLimitsUpdated:
    max_age: uint256
    min_answer: uint256
    max_answer: uint256


@deploy
def __init__(price_feed_: IPriceFeed, max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev Points the guard at `price_feed_` and sets the first limits.
    @param price_feed_ The `PriceFeed` of the token the venue trades.
    @param max_age_ The oldest accepted observation, in seconds, more
           than 0 and below 2**48.
    @param min_answer_ The lowest accepted answer, more than 0.
    @param max_answer_ The highest accepted answer, at least
           `min_answer_` and below 2**104.
    """
    price_feed = price_feed_
    self._set_limits(max_age_, min_answer_, max_answer_)


@external
@view
def guard_limits() -> (uint256, uint256, uint256):
    """
    @dev Returns the limits every read is checked against.
    @return uint256 `max_age`, in seconds.
    @return uint256 `min_answer`, in the feed's decimals.
    @return uint256 `max_answer`, in the feed's decimals.
    """
    word: uint256 = self._limits
    return (word >> _AGE_SHIFT, word & _MASK_104, (word >> _MAX_SHIFT) & _MASK_104)


@internal
@view
def _price() -> (uint256, uint8):
    """
    @dev Returns the latest answer and the market status, or reverts
         with the guard's reason (see the module's notice). Checks run
         in the order: no price, halted, stale, out of band.
    @return uint256 The answer, in the feed's decimals.
    @return uint8 `MARKET_OPEN` or `MARKET_CLOSED`.
    """
    price: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    price, status, problem = self._read()
    assert problem != PROBLEM_NO_PRICE, "guard: no price"
    assert problem != PROBLEM_HALTED, "guard: market halted"
    assert problem != PROBLEM_STALE, "guard: stale price"
    assert problem != PROBLEM_OUT_OF_BAND, "guard: price out of band"
    return (price, status)


@internal
@view
def _read() -> (uint256, uint8, uint8):
    """
    @dev Returns the latest answer, the market status and the first
         problem `_price()` would revert with (`PROBLEM_NONE` if none),
         without reverting: for views that report a venue's state.
    @return uint256 The answer, in the feed's decimals (0 if none).
    @return uint8 The market status of the latest round.
    @return uint8 A `PROBLEM_*` value.
    """
    # One call for the round and its status. A raw call, so that a feed
    # that reverts (no round yet) or answers nonsense fails with the
    # guard's reason instead of the feed's.
    ok: bool = False
    response: Bytes[_ROUND_STATUS_BYTES] = b""
    ok, response = raw_call(
        price_feed.address,
        method_id("latestRoundStatus()"),
        max_outsize=_ROUND_STATUS_BYTES,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok or len(response) != _ROUND_STATUS_BYTES:
        return (0, 0, PROBLEM_NO_PRICE)
    round_id: uint80 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in_round: uint80 = 0
    status: uint8 = 0
    round_id, answer, started_at, updated_at, answered_in_round, status = abi_decode(
        response, (uint80, int256, uint256, uint256, uint80, uint8)
    )
    if round_id == 0 or answer <= 0:
        return (0, status, PROBLEM_NO_PRICE)
    if status == MARKET_HALTED:
        return (0, status, PROBLEM_HALTED)
    if status != MARKET_OPEN and status != MARKET_CLOSED:
        return (0, status, PROBLEM_NO_PRICE)

    word: uint256 = self._limits
    price: uint256 = convert(answer, uint256)
    # The feed never accepts an observation from the future, so this
    # cannot underflow.
    if block.timestamp - started_at > word >> _AGE_SHIFT:
        return (price, status, PROBLEM_STALE)
    if price < word & _MASK_104 or price > (word >> _MAX_SHIFT) & _MASK_104:
        return (price, status, PROBLEM_OUT_OF_BAND)
    return (price, status, PROBLEM_NONE)


@internal
@view
def _market_status() -> uint8:
    """
    @dev Returns the market status of the feed's latest round, without
         any check: 0 before the first round.
    @return uint8 `MARKET_OPEN`, `MARKET_CLOSED`, `MARKET_HALTED` or 0.
    """
    return staticcall price_feed.marketStatus()


@internal
def _set_limits(max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev Replaces the limits; the venue calls it behind its own access
         control. Reverts, changing nothing, unless
         0 < max_age_ < 2**48 and 0 < min_answer_ <= max_answer_ < 2**104.
    @param max_age_ The oldest accepted observation, in seconds.
    @param min_answer_ The lowest accepted answer.
    @param max_answer_ The highest accepted answer.
    """
    assert max_age_ != 0, "guard: zero max age"
    assert max_age_ <= _MASK_48, "guard: max age too large"
    assert min_answer_ != 0, "guard: zero min answer"
    assert min_answer_ <= max_answer_, "guard: min answer above max"
    assert max_answer_ <= _MASK_104, "guard: max answer too large"
    self._limits = min_answer_ | (max_answer_ << _MAX_SHIFT) | (max_age_ << _AGE_SHIFT)
    log PriceGuardLimitsUpdated(max_age=max_age_, min_answer=min_answer_, max_answer=max_answer_)
