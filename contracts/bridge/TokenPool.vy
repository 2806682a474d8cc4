# pragma version ~=0.4.3
"""
@title Bridge pool of one stock token on one EVM chain
@custom:contract-name TokenPool
@license GNU Affero General Public License v3.0 or later
@notice Burn-and-mint bridge of one `StockToken` between this chain and
        remote chains (EVM and Solana), attested by a k-of-n set of
        attesters and throttled by per-chain token buckets. The logic
        lives in the modules:
        - `token_pool`: `send`, `receive`, `release`, `return_held`,
          `set_remote`, `pause`, `unpause` and the views;
        - `rate_limiter`: `set_rate_limits`, `outbound_bucket`,
          `inbound_bucket`;
        - `attester_set`: `set_attesters`, `attesters`, `threshold`,
          `is_attester`;
        - snekmate's `access_control` (roles) and `pausable` (`paused`).
        Roles: DEFAULT_ADMIN_ROLE (the deployer), PAUSER_ROLE and
        COMPLIANCE_AGENT_ROLE (granted by the admin). The pool needs
        MINTER_ROLE and BURNER_ROLE on the token.
@custom:security See `token_pool`: statuses are written before the token
                 is called, and every refusal reverts whole.
"""


from snekmate.auth import access_control
from snekmate.utils import pausable

from . import rate_limiter
from . import attester_set
from . import token_pool

initializes: access_control
initializes: pausable
initializes: rate_limiter[access_control := access_control]
initializes: attester_set[access_control := access_control]
initializes: token_pool[
    access_control := access_control,
    pausable := pausable,
    rate_limiter := rate_limiter,
    attester_set := attester_set,
]


exports: (
    access_control.supportsInterface,
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    pausable.paused,
    rate_limiter.__interface__,
    attester_set.__interface__,
    token_pool.__interface__,
)


@deploy
def __init__(token_: address, attesters_: DynArray[address, attester_set.MAX_ATTESTERS], threshold_: uint256):
    """
    @dev The deployer becomes the admin and holds no other role.
    @param token_ The stock token; at least 8 decimals.
    @param attesters_ The attesters, distinct and non-zero.
    @param threshold_ The threshold, 1 <= k <= len(attesters_).
    """
    access_control.__init__()
    pausable.__init__()
    rate_limiter.__init__()
    attester_set.__init__(attesters_, threshold_)
    token_pool.__init__(token_)
