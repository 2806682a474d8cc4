# pragma version ~=0.4.3
"""
@title k-of-n aggregation of signed reporter observations
@custom:contract-name aggregator
@license GNU Affero General Public License v3.0 or later
@notice Turns a quorum of reporters' signed observations of a share
        price into one round of a `feed`: the median share price,
        priced per token through the token's UI multiplier, under the
        push policy (deviation or heartbeat) and the closed-market
        policy. A deployable `initializes:` this module next to
        `feed`, `reporter_set`, snekmate's `access_control` and
        `eip712_domain_separator`, and `exports:`:
        - `transmit` (`external` function, anyone: the signatures
          authenticate),
        - `token`, `deviation_bps`, `closed_policy`,
          `closed_band_bps`, `last_close` (`external` `view`
          functions),
        - `CLOSED_FROZEN`, `CLOSED_INTERNAL` (`external` `view`
          constants),
        - `set_deviation_bps`, `set_closed_policy` (`external`
          functions, `DEFAULT_ADMIN_ROLE`).
@custom:security A signature covers the round id, the feed's address
                 and the chain id (EIP-712), so it is good for one
                 round of one feed on one chain. Signers must be
                 strictly increasing by address, which rules out a
                 reporter counted twice without any storage.
"""

# Glossary
#   o_i = (p_i, s_i, t_i)   observation i: share price, market status,
#                           observation time; signed by reporter R_i.
#   n, k                    observations in the round, the quorum.
#   median(x)               upper median, sorted(x)[n // 2] (`median`).
#   P, S, T                 median(p), median(s), median(t): the round's
#                           share price, status and `startedAt`.
#   m(t)                    the token's `uiMultiplierAt(t)`, 18 decimals
#                           (1e18 when the feed has no token).
#   a                       the answer, the token's price: P * m(T) / 1e18.
#   C                       `last_close`: P of the latest round whose
#                           status moved to CLOSED.
#   D, B                    `deviation_bps`, `closed_band_bps`.
#
# Invariants, for every accepted round:
#   n >= k and R_1 < R_2 < ... < R_n, every R_i a reporter;
#   t_i <= block.timestamp and block.timestamp - t_i <= max_report_age;
#   m(min t) == m(max t): no observation straddles a multiplier change,
#       so the token price is continuous across a split (P falls by the
#       split ratio exactly when m rises by it);
#   with at most f liars among n >= 2f + 1 observations, P lies within
#       the honest prices' range (see `median`);
#   S == CLOSED after a CLOSED round: P == C (FROZEN) or
#       |P - C| * 10_000 <= C * B (INTERNAL);
#   plus every `feed` bound, with `min_interval` waived when S changes
#       or |a - a_prev| * 10_000 >= a_prev * D.


from snekmate.auth import access_control
uses: access_control

from snekmate.utils import ecdsa

from snekmate.utils import eip712_domain_separator
uses: eip712_domain_separator

from . import feed
uses: feed

from . import reporter_set
uses: reporter_set

from . import median

# `IPriceFeed.SignedObservation` is one reporter's observation as
# `transmit` takes it (price, status, observed_at, signature: 65 bytes
# r, s, v); declared in the interface so that callers and the
# deployable's `implements:` share the one type.
from ..interfaces import IPriceFeed


# @dev What the aggregator reads of a stock token (`ui_multiplier`).
interface IMultiplierHistory:
    def uiMultiplierAt(timestamp: uint256) -> uint256: view


# @dev Closed-market policies: FROZEN repeats the close exactly,
# INTERNAL lets the price move within a band around it.
CLOSED_FROZEN: public(constant(uint8)) = 1
CLOSED_INTERNAL: public(constant(uint8)) = 2


# @dev The EIP-712 type hash of an observation.
_OBSERVATION_TYPEHASH: constant(bytes32) = keccak256(
    "Observation(uint256 roundId,uint256 price,uint8 status,uint256 observedAt)"
)


_MAX_OBSERVATIONS: constant(uint256) = reporter_set.MAX_REPORTERS
_BPS: constant(uint256) = 10_000
_ONE: constant(uint256) = 10**18
_DEFAULT_DEVIATION_BPS: constant(uint256) = 50
_DEFAULT_CLOSED_BAND_BPS: constant(uint256) = 1_000


# @dev Returns the stock token whose UI multiplier prices the answer
# (`empty(address)`: the answer is the share price).
token: public(immutable(address))


# @dev Returns the move, in basis points of the previous answer, that
# waives `min_interval`.
deviation_bps: public(uint256)


# @dev Returns the closed-market policy (`CLOSED_*`).
closed_policy: public(uint8)


# @dev Returns the band around the close, in basis points, that an
# INTERNAL closed round must stay within.
closed_band_bps: public(uint256)


# @dev Returns the median share price of the round that closed the
# latest session (0 before any close).
last_close: public(uint256)


event DeviationUpdated:
    deviation_bps: uint256


event ClosedPolicyUpdated:
    policy: uint8
    band_bps: uint256


@deploy
def __init__(token_: address):
    """
    @dev Sets the token and the default policies: a 0.5% deviation,
         FROZEN with a 10% band kept for a switch to INTERNAL.
    @param token_ The stock token, or `empty(address)` for a share
           price feed.
    """
    token = token_
    self._set_deviation_bps(_DEFAULT_DEVIATION_BPS)
    self._set_closed_policy(CLOSED_FROZEN, _DEFAULT_CLOSED_BAND_BPS)


@external
def transmit(
    round_id: uint256, observations: DynArray[IPriceFeed.SignedObservation, _MAX_OBSERVATIONS]
) -> uint256:
    """
    @dev Aggregates a quorum of signed observations into the next
         round. Anyone may call it: each signature must recover to a
         reporter, signers strictly increasing by address.
    @param round_id The round the observations were signed for: the
           latest round id + 1.
    @param observations At least `quorum` observations, each signed by
           a different reporter, in increasing signer address order.
    @return uint256 The new round id.
    """
    previous: uint256 = feed._latest
    assert round_id == feed._round_of(previous) + 1, "aggregator: wrong round"
    assert len(observations) >= reporter_set.quorum, "aggregator: below quorum"

    prices: DynArray[uint256, _MAX_OBSERVATIONS] = []
    statuses: DynArray[uint256, _MAX_OBSERVATIONS] = []
    times: DynArray[uint256, _MAX_OBSERVATIONS] = []
    earliest: uint256 = max_value(uint256)
    latest: uint256 = 0
    last_signer: uint256 = 0
    report_age: uint256 = feed.max_report_age
    for observation: IPriceFeed.SignedObservation in observations:
        feed._check_market_status(observation.status)
        assert observation.observed_at <= block.timestamp, "aggregator: observation in the future"
        assert block.timestamp - observation.observed_at <= report_age, "aggregator: observation too old"
        signer: address = self._signer(round_id, observation)
        assert reporter_set._position[signer] != 0, "aggregator: not a reporter"
        assert convert(signer, uint256) > last_signer, "aggregator: signers not in address order"
        last_signer = convert(signer, uint256)
        prices.append(observation.price)
        statuses.append(convert(observation.status, uint256))
        times.append(observation.observed_at)
        earliest = min(earliest, observation.observed_at)
        latest = max(latest, observation.observed_at)

    share_price: uint256 = median._upper_median(prices)
    status: uint8 = convert(median._upper_median(statuses), uint8)
    observed_at: uint256 = median._upper_median(times)
    assert share_price <= convert(max_value(uint128), uint256), "aggregator: price too large"
    self._check_closed_policy(share_price, status, feed._status_of(previous))
    answer: uint256 = self._token_price(share_price, earliest, latest)
    assert answer != 0, "aggregator: answer not positive"
    return feed._update(convert(answer, int256), observed_at, status, False, self.deviation_bps)


@external
def set_deviation_bps(deviation_bps_: uint256):
    """
    @dev Replaces the deviation that waives `min_interval`. Only
         `DEFAULT_ADMIN_ROLE`.
    @param deviation_bps_ Basis points of the previous answer, from 1
           to 10_000.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_deviation_bps(deviation_bps_)


@external
def set_closed_policy(policy: uint8, band_bps: uint256):
    """
    @dev Replaces the closed-market policy. Only `DEFAULT_ADMIN_ROLE`.
         Applies from the next CLOSED round; `last_close` stays.
    @param policy `CLOSED_FROZEN` or `CLOSED_INTERNAL`.
    @param band_bps The INTERNAL band around the close in basis points,
           at most 10_000 (kept, unused, under FROZEN).
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_closed_policy(policy, band_bps)


@internal
@view
def _signer(round_id: uint256, observation: IPriceFeed.SignedObservation) -> address:
    struct_hash: bytes32 = keccak256(
        abi_encode(
            _OBSERVATION_TYPEHASH,
            round_id,
            observation.price,
            observation.status,
            observation.observed_at,
        )
    )
    return ecdsa._recover_sig(eip712_domain_separator._hash_typed_data_v4(struct_hash), observation.signature)


@internal
def _check_closed_policy(share_price: uint256, status: uint8, previous_status: uint8):
    if status != feed.MARKET_CLOSED:
        return
    if previous_status != feed.MARKET_CLOSED:
        # This round closes the session: its price is the close.
        self.last_close = share_price
        return
    close: uint256 = self.last_close
    if self.closed_policy == CLOSED_FROZEN:
        assert share_price == close, "aggregator: price moved while frozen"
        return
    # Both sides fit: prices < 2**128 and the band <= 10_000.
    assert feed._distance(share_price, close) * _BPS <= close * self.closed_band_bps, (
        "aggregator: price outside the closed band"
    )


@internal
@view
def _token_price(share_price: uint256, earliest: uint256, latest: uint256) -> uint256:
    if token == empty(address):
        return share_price
    multiplier: uint256 = staticcall IMultiplierHistory(token).uiMultiplierAt(earliest)
    if latest != earliest:
        assert staticcall IMultiplierHistory(token).uiMultiplierAt(latest) == multiplier, (
            "aggregator: observations straddle a multiplier change"
        )
    # share_price < 2**128 and the multiplier <= 1e24: no overflow.
    return share_price * multiplier // _ONE


@internal
def _set_deviation_bps(deviation_bps_: uint256):
    assert deviation_bps_ != 0, "aggregator: zero deviation"
    assert deviation_bps_ <= _BPS, "aggregator: deviation above 100%"
    self.deviation_bps = deviation_bps_
    log DeviationUpdated(deviation_bps=deviation_bps_)


@internal
def _set_closed_policy(policy: uint8, band_bps: uint256):
    assert policy == CLOSED_FROZEN or policy == CLOSED_INTERNAL, "aggregator: unknown closed policy"
    assert band_bps <= _BPS, "aggregator: band above 100%"
    self.closed_policy = policy
    self.closed_band_bps = band_bps
    log ClosedPolicyUpdated(policy=policy, band_bps=band_bps)
