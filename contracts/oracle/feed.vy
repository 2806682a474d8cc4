# pragma version ~=0.4.3
"""
@title Bounded push feed with Chainlink-compatible rounds
@custom:contract-name feed
@license GNU Affero General Public License v3.0 or later
@notice The round storage and the update sanity bounds shared by the
        price feed, the reserve feed and the aggregators built on
        them. A deployable `initializes:` this module next to
        snekmate's `access_control` and `exports:` what it needs:
        - `decimals`, `description`, `version`, `latestRoundData`,
          `getRoundData` (`external` `view` functions, Chainlink's
          `AggregatorV3Interface`),
        - `marketStatus`, `getRoundStatus`, `latestRoundStatus`
          (`external` `view` functions, for feeds that carry a market
          status),
        - `max_move_bps`, `max_report_age`, `min_interval`
          (`external` `view` functions, the bounds in force),
        - `UPDATER_ROLE`, `MARKET_OPEN`, `MARKET_CLOSED`,
          `MARKET_HALTED` (`external` `view` constants),
        - `set_bounds` (`external` function, `DEFAULT_ADMIN_ROLE`).
        The deployable writes its own update path, which checks who
        may update (`UPDATER_ROLE`, or the reporters' signatures) and
        its own answer rule and then calls `_update`, where every
        bound is enforced.
@custom:security Consumers must still check `updatedAt` against their
                 own heartbeat: the bounds here only stop a bad report
                 from being accepted, not a good feed from going quiet.
"""

# Glossary
#   round r      the r-th accepted update; r = 1, 2, 3, ... with no gaps.
#   answer a_r   the value reported in round r, 0 <= a_r <= max_value(int128).
#   t_obs(r)     `startedAt`: when the updater observed a_r off-chain.
#   t_upd(r)     `updatedAt`: block.timestamp of the block that accepted r.
#   s_r          the status byte of round r (0 = none; MARKET_* on a
#                price feed).
#   M            `max_move_bps` (0 = no move bound), A = `max_report_age`,
#   I            `min_interval`, all read when round r is proposed.
#
# Invariants, for every accepted round r > 1 (round 1 is unbounded):
#   t_obs(r) <= t_upd(r)  and  t_upd(r) - t_obs(r) <= A
#   t_obs(r) >  t_obs(r - 1)                          (no replays)
#   t_upd(r) >= t_upd(r - 1) + I     unless s_r != s_(r-1) or
#                                    D > 0 and |a_r - a_(r-1)| * 10_000 >= a_(r-1) * D
# where D is the deviation the caller passes (0 = only the status
# change waives I).
#   M == 0  or  |a_r - a_(r-1)| * 10_000 <= a_(r-1) * M
#                                    unless s_r != s_(r-1) (a reopening,
#                                    a close or a halt may gap) or
#                                    I > 0 and t_upd(r) >= t_upd(r-1) + I
#                                    (a move the quorum sustains for I)
#
# Storage: one 256-bit word per round, the same word for the latest
# round in `_latest`, so that `latestRoundData` is a single SLOAD.
#   bits   0..127  answer     (uint128, always <= max_value(int128))
#   bits 128..167  startedAt  (uint40: good until the year 36812)
#   bits 168..207  updatedAt  (uint40)
#   bits 208..215  status     (uint8)
#   bits 216..255  roundId    (uint40: 10^12 rounds)
# A word is never zero once written (roundId >= 1), so zero means "no
# such round".


from snekmate.auth import access_control
uses: access_control


# @dev The role allowed to push answers.
UPDATER_ROLE: public(constant(bytes32)) = keccak256("UPDATER_ROLE")


# @dev Market status of the underlying (price feeds only); 0 is
# "unknown", the status of a feed that has no round yet.
MARKET_OPEN: public(constant(uint8)) = 1
MARKET_CLOSED: public(constant(uint8)) = 2
MARKET_HALTED: public(constant(uint8)) = 3


# @dev Our own feed version, not Chainlink's aggregator version.
_VERSION: constant(uint256) = 1


# @dev Basis points in one whole (100%).
_BPS: constant(uint256) = 10_000


# @dev Bit offsets and masks of the packed round word.
_STARTED_SHIFT: constant(uint256) = 128
_UPDATED_SHIFT: constant(uint256) = 168
_STATUS_SHIFT: constant(uint256) = 208
_ROUND_SHIFT: constant(uint256) = 216
_MASK_128: constant(uint256) = (1 << 128) - 1
_MASK_40: constant(uint256) = (1 << 40) - 1
_MASK_8: constant(uint256) = (1 << 8) - 1


# @dev Returns the decimals of every answer.
decimals: public(immutable(uint8))


# @dev Returns the description of the feed.
description: public(immutable(String[64]))


# @dev Returns the largest accepted move per update, in basis
# points of the previous answer (0 = no bound).
max_move_bps: public(uint256)


# @dev Returns the largest accepted age of an observation, in
# seconds, at the time it is pushed.
max_report_age: public(uint256)


# @dev Returns the shortest time between two updates, in seconds,
# waived when the status changes (or, if the caller asks, when the
# answer deviates enough).
min_interval: public(uint256)


# @dev The packed word of the latest round (0 before any update).
_latest: uint256


# @dev The packed word of every round, by round id.
_rounds: HashMap[uint256, uint256]


# @dev Returns when the current run of the market status began: the
# observation time (`startedAt`) of the first round with the latest
# round's status (0 before any round). A venue reads it to tell how
# long the market has been open since it reopened.
status_since: public(uint256)


# @dev Chainlink's `AggregatorInterface` event.
event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256


# @dev Chainlink's `AggregatorInterface` event.
event NewRound:
    roundId: indexed(uint256)
    startedBy: indexed(address)
    startedAt: uint256


event MarketStatusChanged:
    previous: uint8
    current: uint8
    roundId: uint256


event BoundsUpdated:
    max_move_bps: uint256
    max_report_age: uint256
    min_interval: uint256


@deploy
def __init__(
    decimals_: uint8,
    description_: String[64],
    max_move_bps_: uint256,
    max_report_age_: uint256,
    min_interval_: uint256,
):
    """
    @dev Sets the immutable metadata and the initial bounds.
    @param decimals_ The decimals of every answer.
    @param description_ The description, e.g. "AAPL / USD".
    @param max_move_bps_ The initial `max_move_bps`.
    @param max_report_age_ The initial `max_report_age`.
    @param min_interval_ The initial `min_interval`.
    """
    decimals = decimals_
    description = description_
    self._set_bounds(max_move_bps_, max_report_age_, min_interval_)


@external
@view
def version() -> uint256:
    """
    @dev Returns the version of this feed implementation (1).
    @return uint256 The version number.
    """
    return _VERSION


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev Returns the latest round. Reverts before the first update.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 `startedAt`, when the answer was observed.
    @return uint256 `updatedAt`, when the answer was accepted.
    @return uint80 `answeredInRound`, equal to the round id.
    """
    word: uint256 = self._latest
    assert word != 0, "feed: no data"
    return self._unpack(word)


@external
@view
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev Returns round `_roundId`. Reverts if it does not exist.
    @param _roundId The round id, from 1 to the latest.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 `startedAt`, when the answer was observed.
    @return uint256 `updatedAt`, when the answer was accepted.
    @return uint80 `answeredInRound`, equal to the round id.
    """
    return self._unpack(self._round_word(convert(_roundId, uint256)))


@external
@view
def marketStatus() -> uint8:
    """
    @dev Returns the market status of the latest round
         (0 before the first update).
    @return uint8 `MARKET_OPEN`, `MARKET_CLOSED` or `MARKET_HALTED`.
    """
    return self._status_of(self._latest)


@external
@view
def latestRoundStatus() -> (uint80, int256, uint256, uint256, uint80, uint8):
    """
    @dev Returns the latest round and its market status with one
         call and one SLOAD, for guards that check both. Reverts
         before the first update.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 `startedAt`, when the answer was observed.
    @return uint256 `updatedAt`, when the answer was accepted.
    @return uint80 `answeredInRound`, equal to the round id.
    @return uint8 The market status of the round.
    """
    word: uint256 = self._latest
    assert word != 0, "feed: no data"
    round_id: uint80 = convert(word >> _ROUND_SHIFT, uint80)
    return (
        round_id,
        convert(word & _MASK_128, int256),
        (word >> _STARTED_SHIFT) & _MASK_40,
        (word >> _UPDATED_SHIFT) & _MASK_40,
        round_id,
        convert((word >> _STATUS_SHIFT) & _MASK_8, uint8),
    )


@external
@view
def getRoundStatus(_roundId: uint80) -> uint8:
    """
    @dev Returns the market status of round `_roundId`. Reverts if
         the round does not exist.
    @param _roundId The round id, from 1 to the latest.
    @return uint8 `MARKET_OPEN`, `MARKET_CLOSED` or `MARKET_HALTED`.
    """
    return self._status_of(self._round_word(convert(_roundId, uint256)))


@external
def set_bounds(max_move_bps_: uint256, max_report_age_: uint256, min_interval_: uint256):
    """
    @dev Replaces the update bounds. Only `DEFAULT_ADMIN_ROLE`.
         Applies to the next update; accepted rounds stay.
    @param max_move_bps_ The largest move per update in basis points,
           at most 10_000; 0 removes the move bound.
    @param max_report_age_ The largest observation age in seconds,
           more than 0.
    @param min_interval_ The shortest time between updates in seconds.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_bounds(max_move_bps_, max_report_age_, min_interval_)


@internal
def _set_bounds(max_move_bps_: uint256, max_report_age_: uint256, min_interval_: uint256):
    assert max_move_bps_ <= _BPS, "feed: max move above 100%"
    assert max_report_age_ != 0, "feed: zero report age"
    self.max_move_bps = max_move_bps_
    self.max_report_age = max_report_age_
    self.min_interval = min_interval_
    log BoundsUpdated(
        max_move_bps=max_move_bps_, max_report_age=max_report_age_, min_interval=min_interval_
    )


@internal
@view
def _check_market_status(status: uint8):
    assert status >= MARKET_OPEN and status <= MARKET_HALTED, "feed: bad market status"


@internal
def _update(
    answer: int256, observed_at: uint256, status: uint8, same_time_ok: bool, deviation_bps: uint256
) -> uint256:
    """
    @dev Checks the bounds and records a new round. The caller has
         checked who may update, the sign rule of its answer and
         `status`. `same_time_ok` accepts an observation made in the
         same second as the previous one (later rounds win); otherwise
         it must be strictly newer. A move of at least `deviation_bps`
         of the previous answer waives `min_interval` (0 = never).
    """
    assert answer >= 0, "feed: negative answer"
    assert answer <= convert(max_value(int128), int256), "feed: answer too large"
    assert observed_at <= block.timestamp, "feed: observation in the future"
    assert block.timestamp - observed_at <= self.max_report_age, "feed: report too old"

    current: uint256 = convert(answer, uint256)
    previous: uint256 = self._latest
    round_id: uint256 = 1
    previous_status: uint8 = 0
    if previous != 0:
        previous_status = self._status_of(previous)
        started_at: uint256 = self._started_at(previous)
        assert observed_at > started_at or (same_time_ok and observed_at == started_at), (
            "feed: observation not newer"
        )
        last_answer: uint256 = self._answer_of(previous)
        move: uint256 = self._distance(last_answer, current)
        deviated: bool = deviation_bps != 0 and move * _BPS >= last_answer * deviation_bps
        since: uint256 = block.timestamp - self._updated_at(previous)
        if status == previous_status and not deviated:
            assert since >= self.min_interval, "feed: too soon"
        # The bound stops a single report far from the last answer, but
        # must not leave the feed stuck at an old price, stale for every
        # venue: the first round of a new status (the opening print after
        # a close or a halt, the closing price) may gap, and so may a move
        # that the quorum still reports a whole `min_interval` after the
        # latest accepted round (a market that really moved). The quorum
        # of reporters is the defence then. A feed without a minimum
        # interval (the reserve feed) always bounds a move within a status.
        sustained: bool = self.min_interval != 0 and since >= self.min_interval
        if status == previous_status and not sustained:
            self._check_move(last_answer, move)
        round_id = self._round_of(previous) + 1

    # observed_at <= block.timestamp < 2**40: both fit their 40 bits.
    word: uint256 = (
        current
        | (observed_at << _STARTED_SHIFT)
        | (block.timestamp << _UPDATED_SHIFT)
        | (convert(status, uint256) << _STATUS_SHIFT)
        | (round_id << _ROUND_SHIFT)
    )
    self._latest = word
    self._rounds[round_id] = word

    log NewRound(roundId=round_id, startedBy=msg.sender, startedAt=observed_at)
    log AnswerUpdated(current=answer, roundId=round_id, updatedAt=block.timestamp)
    if status != previous_status:
        self.status_since = observed_at
        log MarketStatusChanged(previous=previous_status, current=status, roundId=round_id)
    return round_id


@internal
@view
def _check_move(previous: uint256, move: uint256):
    bound: uint256 = self.max_move_bps
    if bound == 0:
        return
    # Both sides fit easily: move, previous < 2**128 and bound <= 10_000.
    assert move * _BPS <= previous * bound, "feed: move too large"


@internal
@pure
def _distance(a: uint256, b: uint256) -> uint256:
    if a > b:
        return a - b
    return b - a


@internal
@view
def _round_word(round_id: uint256) -> uint256:
    word: uint256 = self._rounds[round_id]
    assert word != 0, "feed: no such round"
    return word


@internal
@pure
def _unpack(word: uint256) -> (uint80, int256, uint256, uint256, uint80):
    # The read path of every consumer: the field helpers below are inlined
    # by hand, each internal call would cost ~50 gas.
    round_id: uint80 = convert(word >> _ROUND_SHIFT, uint80)
    return (
        round_id,
        convert(word & _MASK_128, int256),
        (word >> _STARTED_SHIFT) & _MASK_40,
        (word >> _UPDATED_SHIFT) & _MASK_40,
        round_id,
    )


@internal
@pure
def _answer_of(word: uint256) -> uint256:
    return word & _MASK_128


@internal
@pure
def _started_at(word: uint256) -> uint256:
    return (word >> _STARTED_SHIFT) & _MASK_40


@internal
@pure
def _updated_at(word: uint256) -> uint256:
    return (word >> _UPDATED_SHIFT) & _MASK_40


@internal
@pure
def _status_of(word: uint256) -> uint8:
    return convert((word >> _STATUS_SHIFT) & _MASK_8, uint8)


@internal
@pure
def _round_of(word: uint256) -> uint256:
    return word >> _ROUND_SHIFT
