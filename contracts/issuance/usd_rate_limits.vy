# pragma version ~=0.4.3
"""
@title USD rate limits with linear decay, per user and per token
@custom:contract-name usd_rate_limits
@license GNU Affero General Public License v3.0 or later
@notice The throttle of attestation mints and redemptions, with the
        semantics of Ondo Global Markets' rate limiter: every limit
        keeps a *used* amount that decays to zero at a constant rate
        per second, and a flow that would take the used amount above
        the limit reverts. Two limits apply to every flow:
        - the user limit: one setting for all users, one used amount
          per user;
        - the token limit: one setting and one used amount for the
          token the deployable issues (a minter serves one token).
        A deployable `initializes:` this module next to snekmate's
        `access_control` and `exports:`:
        - `user_rate_limit`, `token_rate_limit` (`external` `view`
          getters of the settings),
        - `user_usage`, `token_usage` (`external` `view` getters of the
          stored used amount and its timestamp),
        - `available_for_user`, `available_for_token` (`external`
          `view` functions, what may flow now),
        - `set_user_rate_limit`, `set_token_rate_limit` (`external`
          functions, `DEFAULT_ADMIN_ROLE`).
        Amounts are USD in USDC's raw units (6 decimals).
@custom:security Fail closed: a limit of 0 refuses every flow, so a
                 freshly deployed minter issues nothing until the admin
                 sets both limits.
"""

# Glossary (one limit)
#   L        limit: the most the used amount may reach, USD (6 decimals).
#   d        decay_per_second: USD the used amount loses per second.
#   U0       used: the used amount stored at `last_updated`.
#   t0       last_updated: the timestamp U0 was stored at.
#   t        block.timestamp.
#   U(t)     used now = max(0, U0 - d * (t - t0)).
#   A(t)     available now = L - U(t) if U(t) < L, else 0.
#
# Invariant, after every call: U0 <= L at the time it was stored, t0 <= t.
# A consume of `a` succeeds iff U(t) + a <= L (that is a <= A(t)), leaving
# U0 = U(t) + a and t0 = t. A refused consume reverts, naming the limit and
# A(t), and changes nothing. The user limit is checked before the token
# limit; both must pass.
#
# Setting the token limit first settles its used amount under the old
# decay (U0 = U(t), t0 = t), then applies the new settings; a used amount
# above a lowered limit simply leaves nothing available until it decays.
# Setting the user limit cannot settle every user: the new decay applies to
# the time each user's used amount has waited since its last flow.


from snekmate.auth import access_control
uses: access_control


# @dev The settings of one limit, USD in 6 decimals.
struct RateLimit:
    limit: uint256
    decay_per_second: uint256


# @dev The stored used amount of one limit and when it was stored.
struct Usage:
    used: uint256
    last_updated: uint256


# @dev Returns the limit every user is held to.
user_rate_limit: public(RateLimit)


# @dev Returns the limit of the token as a whole.
token_rate_limit: public(RateLimit)


# @dev Returns the stored used amount of each user (before decay).
user_usage: public(HashMap[address, Usage])


# @dev Returns the stored used amount of the token (before decay).
token_usage: public(Usage)


event UserRateLimitSet:
    limit: uint256
    decay_per_second: uint256
    admin: indexed(address)


event TokenRateLimitSet:
    limit: uint256
    decay_per_second: uint256
    admin: indexed(address)


@deploy
def __init__():
    """
    @dev Both limits start at 0: every flow is refused until they are set.
    """
    pass


@external
@view
def available_for_user(user: address) -> uint256:
    """
    @dev Returns the USD `user` may mint or redeem now under the user limit.
    @param user The 20-byte user address.
    @return uint256 A(t) of the user's limit, USD in 6 decimals.
    """
    return self._available(self.user_rate_limit, self.user_usage[user])


@external
@view
def available_for_token() -> uint256:
    """
    @dev Returns the USD that may be minted or redeemed now under the
         token limit.
    @return uint256 A(t) of the token's limit, USD in 6 decimals.
    """
    return self._available(self.token_rate_limit, self.token_usage)


@external
def set_user_rate_limit(limit: uint256, decay_per_second: uint256):
    """
    @dev Replaces the limit every user is held to. Only `DEFAULT_ADMIN_ROLE`.
    @param limit The most a user's used amount may reach, USD (6 decimals);
           0 refuses every flow.
    @param decay_per_second The USD a used amount loses per second.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.user_rate_limit = RateLimit(limit=limit, decay_per_second=decay_per_second)
    log UserRateLimitSet(limit=limit, decay_per_second=decay_per_second, admin=msg.sender)


@external
def set_token_rate_limit(limit: uint256, decay_per_second: uint256):
    """
    @dev Replaces the token's limit, after settling its used amount under
         the old decay. Only `DEFAULT_ADMIN_ROLE`.
    @param limit The most the token's used amount may reach, USD
           (6 decimals); 0 refuses every flow.
    @param decay_per_second The USD the used amount loses per second.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.token_usage = Usage(
        used=self._used(self.token_rate_limit, self.token_usage), last_updated=block.timestamp
    )
    self.token_rate_limit = RateLimit(limit=limit, decay_per_second=decay_per_second)
    log TokenRateLimitSet(limit=limit, decay_per_second=decay_per_second, admin=msg.sender)


@internal
def _consume(user: address, amount: uint256):
    """
    @dev Adds `amount` to the used amounts of `user` and of the token, or
         reverts with "usd_rate_limits: user limit exceeded, available <A>"
         (or "token limit") and changes nothing.
    @param user The 20-byte user address.
    @param amount The flow's USD value, 6 decimals.
    """
    self.user_usage[user] = self._charged(self.user_rate_limit, self.user_usage[user], amount, "user")
    self.token_usage = self._charged(self.token_rate_limit, self.token_usage, amount, "token")


@internal
@view
def _charged(settings: RateLimit, usage: Usage, amount: uint256, which: String[5]) -> Usage:
    used: uint256 = self._used(settings, usage)
    if used + amount > settings.limit:
        available: uint256 = 0
        if used < settings.limit:
            available = settings.limit - used
        reason: String[128] = concat(
            "usd_rate_limits: ", which, " limit exceeded, available ", uint2str(available)
        )
        raw_revert(abi_encode(reason, method_id=method_id("Error(string)")))
    return Usage(used=used + amount, last_updated=block.timestamp)


@internal
@view
def _used(settings: RateLimit, usage: Usage) -> uint256:
    decayed: uint256 = (block.timestamp - usage.last_updated) * settings.decay_per_second
    if decayed >= usage.used:
        return 0
    return usage.used - decayed


@internal
@view
def _available(settings: RateLimit, usage: Usage) -> uint256:
    used: uint256 = self._used(settings, usage)
    if used >= settings.limit:
        return 0
    return settings.limit - used
