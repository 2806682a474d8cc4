# pragma version ~=0.4.3
"""
@title Secure mint: reserve-gated issuance
@custom:contract-name secure_mint
@license GNU Affero General Public License v3.0 or later
@notice A mint goes through only when a fresh proof-of-reserve answer
        covers the supply after it:
        - `reserve_feed`, `reserve_heartbeat`, `reserve_margin_bps`,
          `secure_mint_enabled` (`external` `view` functions, all read
          from one packed storage word),
        - `set_reserve_feed` (`external` function),
        - `set_reserve_margin` (`external` function),
        - `set_secure_mint_enabled` (`external` function).

        Glossary:
        - R        the reserve feed's latest answer, in the token's raw
                   units (shares in custody attested for this chain,
                   divided by the UI multiplier);
        - t_obs    the latest round's `startedAt`: when custody was
                   observed;
        - S        `totalSupply` after the mint;
        - margin   basis points of R held back as a buffer.
        Invariant, while the gate is enabled:
            S * 10_000 <= R * (10_000 - margin)
            t_obs <= block.timestamp <= t_obs + reserve_heartbeat
        with R positive and reported in the token's decimals.
@custom:security Freshness runs from the observation (`startedAt`),
                 not from the round's acceptance (`updatedAt`): the
                 reserve feed accepts reports up to its `max_report_age`
                 old, so measuring from `updatedAt` let a mint rest on a
                 custody snapshot up to `max_report_age` +
                 `reserve_heartbeat` old. On a feed whose `startedAt`
                 never follows its `updatedAt` (ours, Chainlink's) the
                 rule is never laxer than one on `updatedAt`.
"""


from snekmate.auth import access_control
uses: access_control

from snekmate.tokens import erc20
uses: erc20

from ..interfaces import IAggregatorV3


_BPS: constant(uint256) = 10_000


# @dev The gate's settings in one word, read once per mint:
# bits 0..159 the reserve feed, 160..223 the heartbeat in seconds,
# 224..237 the margin in basis points, 255 the gate is enabled.
_config: uint256

_FEED_MASK: constant(uint256) = (1 << 160) - 1
_HEARTBEAT_SHIFT: constant(uint256) = 160
_MARGIN_SHIFT: constant(uint256) = 224
_ENABLED: constant(uint256) = 1 << 255
_MAX_HEARTBEAT: constant(uint256) = (1 << 64) - 1
_MARGIN_MASK: constant(uint256) = (1 << 14) - 1


event ReserveFeedSet:
    feed: indexed(address)
    heartbeat: uint256


event ReserveMarginSet:
    margin_bps: uint256


event SecureMintToggled:
    enabled: bool
    admin: indexed(address)


@deploy
def __init__(feed: address, heartbeat: uint256):
    """
    @dev Enables the gate with `feed`; with no feed, mints revert until
         the admin sets one or disables the gate explicitly.
    @param feed The reserve feed, or the zero address.
    @param heartbeat The largest age, in seconds, of the custody
           observation a mint rests on.
    """
    assert heartbeat > 0, "secure mint: heartbeat is zero"
    assert heartbeat <= _MAX_HEARTBEAT, "secure mint: heartbeat too large"
    self._config = self._pack(feed, heartbeat, 0, True)


@external
@view
def reserve_feed() -> address:
    """
    @dev Returns the proof-of-reserve feed (Chainlink AggregatorV3-compatible).
    @return address The feed, or the zero address if none is set.
    """
    return convert(self._config & _FEED_MASK, address)


@external
@view
def reserve_heartbeat() -> uint256:
    """
    @dev Returns the largest age, in seconds, of the custody observation
         (the latest round's `startedAt`) a mint rests on.
    @return uint256 The heartbeat.
    """
    return (self._config >> _HEARTBEAT_SHIFT) & _MAX_HEARTBEAT


@external
@view
def reserve_margin_bps() -> uint256:
    """
    @dev Returns the basis points of the reserves held back as a buffer.
    @return uint256 The margin.
    """
    return (self._config >> _MARGIN_SHIFT) & _MARGIN_MASK


@external
@view
def secure_mint_enabled() -> bool:
    """
    @dev Returns whether mints are gated by the reserve feed.
    @return bool True when gated.
    """
    return self._config & _ENABLED != 0


@external
def set_reserve_feed(feed: address, heartbeat: uint256):
    """
    @dev Points the gate at `feed`. Only the admin.
    @param feed The reserve feed; not the zero address.
    @param heartbeat The largest age of the custody observation a mint
           rests on, in seconds; not zero.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert feed != empty(address), "secure mint: feed is the zero address"
    assert heartbeat > 0, "secure mint: heartbeat is zero"
    assert heartbeat <= _MAX_HEARTBEAT, "secure mint: heartbeat too large"
    config: uint256 = self._config
    self._config = self._pack(feed, heartbeat, (config >> _MARGIN_SHIFT) & _MARGIN_MASK, config & _ENABLED != 0)
    log ReserveFeedSet(feed=feed, heartbeat=heartbeat)


@external
def set_reserve_margin(margin_bps: uint256):
    """
    @dev Sets the share of reserves held back. Only the admin.
    @param margin_bps Basis points, below 10_000.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert margin_bps < _BPS, "secure mint: margin must be below 10000 bps"
    config: uint256 = self._config
    self._config = (config & ~(_MARGIN_MASK << _MARGIN_SHIFT)) | (margin_bps << _MARGIN_SHIFT)
    log ReserveMarginSet(margin_bps=margin_bps)


@external
def set_secure_mint_enabled(enabled: bool):
    """
    @dev Enables or disables the reserve gate: disabling is an explicit,
         logged act of the admin.
    @param enabled True to gate mints by the reserve feed.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    if enabled:
        self._config = self._config | _ENABLED
    else:
        self._config = self._config & ~_ENABLED
    log SecureMintToggled(enabled=enabled, admin=msg.sender)


@internal
@view
def _check_reserves(amount: uint256):
    """
    @dev Reverts unless custody observed at most the heartbeat ago
         covers `totalSupply + amount`.
    @param amount The raw amount about to be minted.
    """
    config: uint256 = self._config
    if config & _ENABLED == 0:
        return
    feed: address = convert(config & _FEED_MASK, address)
    assert feed != empty(address), "secure mint: no reserve feed"
    assert staticcall IAggregatorV3(feed).decimals() == erc20.decimals, "secure mint: feed decimals differ from token"
    answer: int256 = 0
    observed_at: uint256 = 0
    _: uint80 = 0
    __: uint256 = 0
    ___: uint80 = 0
    # `startedAt` is when custody was observed; `updatedAt` (dropped) only
    # says when the report reached the chain, up to the feed's
    # `max_report_age` later, and would make a snapshot look that much
    # fresher than it is.
    _, answer, observed_at, __, ___ = staticcall IAggregatorV3(feed).latestRoundData()
    assert answer > 0, "secure mint: reserves not positive"
    assert observed_at <= block.timestamp, "secure mint: reserve answer from the future"
    heartbeat: uint256 = (config >> _HEARTBEAT_SHIFT) & _MAX_HEARTBEAT
    assert block.timestamp - observed_at <= heartbeat, "secure mint: reserve answer is stale"
    reserves: uint256 = convert(answer, uint256)
    supply_after: uint256 = erc20.totalSupply + amount
    assert supply_after * _BPS <= reserves * (_BPS - ((config >> _MARGIN_SHIFT) & _MARGIN_MASK)), "secure mint: supply would exceed reserves"


@internal
@pure
def _pack(feed: address, heartbeat: uint256, margin_bps: uint256, enabled: bool) -> uint256:
    config: uint256 = convert(feed, uint256) | (heartbeat << _HEARTBEAT_SHIFT) | (margin_bps << _MARGIN_SHIFT)
    if enabled:
        config |= _ENABLED
    return config
