# pragma version ~=0.4.3
"""
@title Token-bucket rate limits per remote chain and direction
@custom:contract-name rate_limiter
@license GNU Affero General Public License v3.0 or later
@notice The bridge's throttle, with the semantics of Chainlink CCIP's
        token pools: every remote chain has one bucket for what leaves
        this chain (outbound) and one for what arrives (inbound). A
        deployable `initializes:` this module next to snekmate's
        `access_control` and `exports:`:
        - `outbound_bucket`, `inbound_bucket` (`external` `view`
          functions, the refilled state now),
        - `set_rate_limits` (`external` function, `DEFAULT_ADMIN_ROLE`).
        Amounts are in the bridge's shared decimals (8).
@custom:security A limit bounds what one compromised attester quorum (or
                 one compromised source chain) can mint here per unit of
                 time: at most `capacity + elapsed * rate` per window.
"""

# Glossary (one bucket)
#   C        capacity: the most the bucket can hold, in shared units.
#   r        rate: shared units the bucket regains per second.
#   T        tokens: what the bucket holds at `last_updated`.
#   t0       last_updated: the timestamp T was computed at.
#   t        block.timestamp.
#   A(t)     available now = min(C, T + (t - t0) * r).
#
# Invariant, for an enabled bucket, after every call:
#   0 <= T <= C,  r <= C,  t0 <= t
# and a consume of `a` succeeds iff a <= A(t), leaving T = A(t) - a, t0 = t.
# A refused consume (a > C, or a > A(t)) reverts and changes nothing; the
# wait it reports is the least n with A(t) + n * r >= a, that is
#   n = ceil((a - A(t)) / r).
# A disabled bucket limits nothing and stores C = r = T = 0.
#
# Setting a bucket first refills it under its old settings, then keeps
# T = min(A(t), C_new). A bucket that was disabled counts as holding an
# unlimited amount, so enabling one starts it full (T = C_new).


from snekmate.auth import access_control
uses: access_control


# @dev The state of one bucket; all amounts in shared decimals.
struct Bucket:
    tokens: uint256
    last_updated: uint256
    capacity: uint256
    rate: uint256
    enabled: bool


# @dev The bucket of what leaves this chain for each remote chain id.
_outbound: HashMap[uint64, Bucket]


# @dev The bucket of what arrives here from each remote chain id.
_inbound: HashMap[uint64, Bucket]


event RateLimitSet:
    remote_chain: indexed(uint64)
    inbound: indexed(bool)
    enabled: bool
    capacity: uint256
    rate: uint256


@deploy
def __init__():
    """
    @dev Every bucket starts disabled.
    """
    pass


@external
@view
def outbound_bucket(remote_chain: uint64) -> Bucket:
    """
    @dev Returns the outbound bucket towards `remote_chain`, refilled to now.
    @param remote_chain The remote chain id.
    @return Bucket (tokens, last_updated, capacity, rate, enabled).
    """
    return self._refilled(self._outbound[remote_chain])


@external
@view
def inbound_bucket(remote_chain: uint64) -> Bucket:
    """
    @dev Returns the inbound bucket from `remote_chain`, refilled to now.
    @param remote_chain The remote chain id.
    @return Bucket (tokens, last_updated, capacity, rate, enabled).
    """
    return self._refilled(self._inbound[remote_chain])


@external
def set_rate_limits(
    remote_chain: uint64,
    out_enabled: bool,
    out_capacity: uint256,
    out_rate: uint256,
    in_enabled: bool,
    in_capacity: uint256,
    in_rate: uint256,
):
    """
    @dev Replaces both buckets of `remote_chain`. Only `DEFAULT_ADMIN_ROLE`.
         Enabled: `rate <= capacity`; disabled: both 0. Each bucket keeps
         min(what it holds now, its new capacity); a bucket that was
         disabled starts full. Emits one `RateLimitSet` per direction.
    @param remote_chain The remote chain id.
    @param out_enabled Whether outbound transfers are limited.
    @param out_capacity The outbound capacity, in shared decimals.
    @param out_rate The outbound refill per second, in shared decimals.
    @param in_enabled Whether inbound transfers are limited.
    @param in_capacity The inbound capacity, in shared decimals.
    @param in_rate The inbound refill per second, in shared decimals.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._outbound[remote_chain] = self._configured(self._outbound[remote_chain], out_enabled, out_capacity, out_rate)
    log RateLimitSet(remote_chain=remote_chain, inbound=False, enabled=out_enabled, capacity=out_capacity, rate=out_rate)
    self._inbound[remote_chain] = self._configured(self._inbound[remote_chain], in_enabled, in_capacity, in_rate)
    log RateLimitSet(remote_chain=remote_chain, inbound=True, enabled=in_enabled, capacity=in_capacity, rate=in_rate)


@internal
def _consume_outbound(remote_chain: uint64, amount: uint256):
    """
    @dev Takes `amount` from the outbound bucket towards `remote_chain`.
    @param remote_chain The remote chain id.
    @param amount The amount in shared decimals.
    """
    bucket: Bucket = self._outbound[remote_chain]
    if bucket.enabled:
        self._outbound[remote_chain] = self._consumed(bucket, amount)


@internal
def _consume_inbound(remote_chain: uint64, amount: uint256):
    """
    @dev Takes `amount` from the inbound bucket from `remote_chain`.
    @param remote_chain The remote chain id.
    @param amount The amount in shared decimals.
    """
    bucket: Bucket = self._inbound[remote_chain]
    if bucket.enabled:
        self._inbound[remote_chain] = self._consumed(bucket, amount)


@internal
@view
def _consumed(bucket: Bucket, amount: uint256) -> Bucket:
    assert amount <= bucket.capacity, "bridge: amount above capacity"
    refilled: Bucket = self._refilled(bucket)
    if amount > refilled.tokens:
        # rate == 0 is a fixed allowance that never refills: no wait helps.
        assert refilled.rate != 0, "bridge: rate limited"
        wait: uint256 = (amount - refilled.tokens + refilled.rate - 1) // refilled.rate
        raw_revert(
            abi_encode(
                concat("bridge: rate limited, wait ", uint2str(wait), " s"), method_id=method_id("Error(string)")
            )
        )
    refilled.tokens -= amount
    return refilled


@internal
@view
def _refilled(bucket: Bucket) -> Bucket:
    if not bucket.enabled:
        return bucket
    elapsed: uint256 = block.timestamp - bucket.last_updated
    return Bucket(
        tokens=min(bucket.capacity, bucket.tokens + elapsed * bucket.rate),
        last_updated=block.timestamp,
        capacity=bucket.capacity,
        rate=bucket.rate,
        enabled=True,
    )


@internal
@view
def _configured(bucket: Bucket, enabled: bool, capacity: uint256, rate: uint256) -> Bucket:
    if not enabled:
        assert capacity == 0 and rate == 0, "bridge: disabled limit must be zero"
        return empty(Bucket)
    assert rate <= capacity, "bridge: rate above capacity"
    # Keeps T + elapsed * r far from overflowing for any realistic elapsed.
    assert capacity <= convert(max_value(uint128), uint256), "bridge: capacity too large"
    tokens: uint256 = capacity
    if bucket.enabled:
        tokens = min(self._refilled(bucket).tokens, capacity)
    return Bucket(tokens=tokens, last_updated=block.timestamp, capacity=capacity, rate=rate, enabled=True)
