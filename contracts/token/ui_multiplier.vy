# pragma version ~=0.4.3
"""
@title ERC-8056 UI multiplier with a full history
@custom:contract-name ui_multiplier
@license GNU Affero General Public License v3.0 or later
@notice Corporate actions (splits, reverse splits, reinvested dividends,
        fee decay) change what one raw token is worth in shares without
        touching raw balances. This module keeps every multiplier the
        token ever had, each with the time it took effect, so anyone can
        compute the multiplier in force at any past time:
        - `uiMultiplier` (`external` `view` function),
        - `uiMultiplierAt` (`external` `view` function),
        - `pendingUIMultiplier` (`external` `view` function),
        - `multiplierHistoryLength` (`external` `view` function),
        - `multiplierChange` (`external` `view` function),
        - `toUIAmount` (`external` `view` function),
        - `fromUIAmount` (`external` `view` function),
        - `balanceOfUI` (`external` `view` function),
        - `setUIMultiplier` (`external` function),
        - `cancelPendingUIMultiplier` (`external` function).

        Glossary:
        - m      multiplier with 18 decimals, 1e18 = 1.0 (one raw unit is
                 worth one share unit);
        - raw    a balance as stored by the ERC-20 (never rebased);
        - ui     raw * m / 1e18, rounded down: what a wallet shows.
        Invariants:
        - history[0] is (1e18, deployment time); effective times are
          strictly increasing along the history;
        - at most one entry (the last) is pending, i.e. effective after
          `block.timestamp`; setting a new multiplier while one is
          pending replaces it;
        - the multiplier in force at time t is the last entry with
          effective time <= t (1e18 before deployment).
"""


from snekmate.auth import access_control
uses: access_control

from snekmate.tokens import erc20
uses: erc20

from ..interfaces import IScaledUIAmount
implements: IScaledUIAmount


# @dev The role allowed to schedule multiplier changes.
MULTIPLIER_UPDATER_ROLE: public(constant(bytes32)) = keccak256("MULTIPLIER_UPDATER_ROLE")


# @dev 1.0 with 18 decimals.
_ONE: constant(uint256) = 10**18


# @dev Bounds that reject a multiplier no corporate action produces
# (a 1-for-1,000,000 reverse split, or a 1,000,000-for-1 split, applied
# to 1.0); they also keep `raw * m` far from overflow.
_MIN_MULTIPLIER: constant(uint256) = 10**12
_MAX_MULTIPLIER: constant(uint256) = 10**24


struct MultiplierChange:
    multiplier: uint256
    effective_at: uint256


event PendingUIMultiplierCancelled:
    multiplier: uint256
    effectiveAtTimestamp: uint256


# @dev Every multiplier the token had, in order of effective time.
_history: HashMap[uint256, MultiplierChange]
_history_length: uint256


@deploy
def __init__():
    """
    @dev Starts the history with 1.0, in force from deployment.
    """
    self._history[0] = MultiplierChange(multiplier=_ONE, effective_at=block.timestamp)
    self._history_length = 1


@external
@view
def uiMultiplier() -> uint256:
    """
    @dev Returns the multiplier in force now.
    @return uint256 The multiplier with 18 decimals.
    """
    return self._current()


@external
@view
def uiMultiplierAt(timestamp: uint256) -> uint256:
    """
    @dev Returns the multiplier that was (or will be) in force at `timestamp`.
    @param timestamp The Unix time to look up.
    @return uint256 The multiplier with 18 decimals.
    """
    return self._at(timestamp)


@external
@view
def pendingUIMultiplier() -> (uint256, uint256):
    """
    @dev Returns the scheduled multiplier and its effective time, or
         (0, 0) when none is pending.
    @return uint256 The pending multiplier with 18 decimals.
    @return uint256 The Unix time it takes effect.
    """
    last: MultiplierChange = self._history[self._history_length - 1]
    if last.effective_at > block.timestamp:
        return (last.multiplier, last.effective_at)
    return (0, 0)


@external
@view
def multiplierHistoryLength() -> uint256:
    """
    @dev Returns how many multipliers the history holds, the pending one included.
    @return uint256 The number of entries.
    """
    return self._history_length


@external
@view
def multiplierChange(index: uint256) -> MultiplierChange:
    """
    @dev Returns one entry of the history.
    @param index The 0-based position in the history.
    @return MultiplierChange The multiplier and its effective time.
    """
    assert index < self._history_length, "ui_multiplier: index out of range"
    return self._history[index]


@external
@view
def toUIAmount(rawAmount: uint256) -> uint256:
    """
    @dev Converts a raw amount to the UI amount at the current multiplier.
    @param rawAmount The raw token amount.
    @return uint256 `rawAmount * multiplier / 1e18`, rounded down.
    """
    return rawAmount * self._current() // _ONE


@external
@view
def fromUIAmount(uiAmount: uint256) -> uint256:
    """
    @dev Converts a UI amount to the raw amount at the current multiplier.
    @param uiAmount The UI amount.
    @return uint256 `uiAmount * 1e18 / multiplier`, rounded down.
    """
    return uiAmount * _ONE // self._current()


@external
@view
def balanceOfUI(account: address) -> uint256:
    """
    @dev Returns the UI balance of `account` at the current multiplier.
    @param account The 20-byte holder address.
    @return uint256 The raw balance times the multiplier, rounded down.
    """
    return erc20.balanceOf[account] * self._current() // _ONE


@external
def setUIMultiplier(multiplier: uint256, effectiveAt: uint256):
    """
    @dev Schedules `multiplier` to take effect at `effectiveAt`. A
         pending change is replaced. Only the multiplier updater.
    @notice Emits `UIMultiplierUpdated` with the multiplier in force
            now as the old one.
    @param multiplier The new multiplier with 18 decimals.
    @param effectiveAt The Unix time it takes effect; not in the past.
    """
    access_control._check_role(MULTIPLIER_UPDATER_ROLE, msg.sender)
    assert multiplier >= _MIN_MULTIPLIER, "ui_multiplier: multiplier below 1e-6"
    assert multiplier <= _MAX_MULTIPLIER, "ui_multiplier: multiplier above 1e6"
    assert effectiveAt >= block.timestamp, "ui_multiplier: effective time in the past"

    old: uint256 = self._current()
    length: uint256 = self._history_length
    if self._history[length - 1].effective_at > block.timestamp:
        # The pending entry never took effect: it is replaced.
        length -= 1
    if self._history[length - 1].effective_at == effectiveAt:
        # Effective times stay strictly increasing: a change effective in
        # the same second as the previous one replaces it.
        length -= 1
    self._history[length] = MultiplierChange(multiplier=multiplier, effective_at=effectiveAt)
    self._history_length = length + 1

    log IScaledUIAmount.UIMultiplierUpdated(
        oldMultiplier=old,
        newMultiplier=multiplier,
        setAtTimestamp=block.timestamp,
        effectiveAtTimestamp=effectiveAt,
    )


@external
def cancelPendingUIMultiplier():
    """
    @dev Drops the pending multiplier change. Only the multiplier updater.
    """
    access_control._check_role(MULTIPLIER_UPDATER_ROLE, msg.sender)
    length: uint256 = self._history_length
    last: MultiplierChange = self._history[length - 1]
    assert last.effective_at > block.timestamp, "ui_multiplier: nothing pending"
    self._history[length - 1] = empty(MultiplierChange)
    self._history_length = length - 1
    log PendingUIMultiplierCancelled(multiplier=last.multiplier, effectiveAtTimestamp=last.effective_at)


@internal
@view
def _current() -> uint256:
    last: MultiplierChange = self._history[self._history_length - 1]
    if last.effective_at <= block.timestamp:
        return last.multiplier
    return self._history[self._history_length - 2].multiplier


@internal
@view
def _at(timestamp: uint256) -> uint256:
    # Binary search for the last entry effective at or before `timestamp`.
    if timestamp < self._history[0].effective_at:
        return _ONE
    low: uint256 = 0
    high: uint256 = self._history_length - 1
    for _: uint256 in range(256):
        if low >= high:
            break
        mid: uint256 = (low + high + 1) // 2
        if self._history[mid].effective_at <= timestamp:
            low = mid
        else:
            high = mid - 1
    return self._history[low].multiplier
