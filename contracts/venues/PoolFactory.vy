# pragma version ~=0.4.3
"""
@title Factory of stock pools: one per stock token, all against USDC
@custom:contract-name PoolFactory
@license GNU Affero General Public License v3.0 or later
@notice Creates a `StockPool` for a stock token from the pool
        blueprint, each owned by the factory's owner, and keeps the
        registry of pools:
        - `create_pool` (`external` function, owner only),
        - `pool_of`, `pools`, `pool_count`, `usdc`, `pool_blueprint`
          (`external` `view`),
        - `owner`, `transfer_ownership`, `renounce_ownership` (from
          snekmate's `ownable`).
        The quote token (USDC) is fixed at deployment.
@custom:security Only the owner creates pools: the owner vouches that the
                 feed is the stock's real `PriceFeed`. Anyone can deploy
                 a feed whose `token()` names a given token, so letting
                 anyone pair a token with a feed would let them choose
                 the status that sets the pool's fees.
"""


from ..interfaces import IPriceFeed
from ..interfaces import IPoolFactory
implements: IPoolFactory

from snekmate.auth import ownable
initializes: ownable
exports: ownable.__interface__


# @dev What the factory reads from a stock token.
interface IStockTokenInfo:
    def symbol() -> String[16]: view
    def compliance_profile() -> uint8: view


# @dev `StockToken.PROFILE_RESTRICTED`: only the token's operators may
# move it, so no pool could ever pay a trader.
_PROFILE_RESTRICTED: constant(uint8) = 2

# @dev ERC-5202 blueprints start with 0xFE7100: the code follows 3 bytes in.
_BLUEPRINT_OFFSET: constant(uint256) = 3

# @dev The guard's limits a new pool starts with: prices observed at most
# 2 hours ago (the feed's 1-hour heartbeat plus its report age, with
# margin) and no price band; the owner narrows them on the pool.
DEFAULT_MAX_AGE: public(constant(uint256)) = 7_200
DEFAULT_MIN_ANSWER: public(constant(uint256)) = 1
DEFAULT_MAX_ANSWER: public(constant(uint256)) = (1 << 104) - 1

MAX_POOLS: public(constant(uint256)) = 1_024


# @dev The blueprint every pool is created from.
pool_blueprint: public(immutable(address))

# @dev The quote token of every pool.
usdc: public(immutable(address))

# @dev The pool of each stock token, zero if none.
pool_of: public(HashMap[address, address])

# @dev Every pool, in order of creation.
pools: public(DynArray[address, MAX_POOLS])


event PoolCreated:
    token: indexed(address)
    pool: indexed(address)
    price_feed: address
    index: uint256


@deploy
def __init__(pool_blueprint_: address, usdc_: address):
    """
    @dev The deployer becomes the owner.
    @param pool_blueprint_ The `StockPool` blueprint (ERC-5202).
    @param usdc_ The settlement stablecoin every pool trades against.
    """
    assert pool_blueprint_ != empty(address) and usdc_ != empty(address), "factory: zero address"
    ownable.__init__()
    pool_blueprint = pool_blueprint_
    usdc = usdc_


@external
@view
def pool_count() -> uint256:
    """
    @dev Returns the number of pools created.
    @return uint256 The length of `pools`.
    """
    return len(self.pools)


@external
def create_pool(token: address, price_feed: address) -> address:
    """
    @dev Creates the pool of `token` against USDC, reading the market's
         status from `price_feed`. Only the owner. Refuses a second pool
         for a token, a restricted token, and a feed that is missing or
         prices another token.
    @param token The stock token.
    @param price_feed The token's `PriceFeed`.
    @return address The new pool.
    """
    ownable._check_owner()
    assert token != empty(address), "factory: zero token"
    assert token != usdc, "factory: token is the quote token"
    assert self.pool_of[token] == empty(address), "factory: pool exists"
    assert price_feed != empty(address), "factory: no price feed"
    assert staticcall IPriceFeed(price_feed).token() == token, "factory: feed prices another token"
    info: IStockTokenInfo = IStockTokenInfo(token)
    assert staticcall info.compliance_profile() != _PROFILE_RESTRICTED, (
        "factory: restricted token cannot be pooled"
    )
    pool: address = create_from_blueprint(
        pool_blueprint,
        token,
        usdc,
        price_feed,
        ownable.owner,
        concat(staticcall info.symbol(), "-USDC LP"),
        DEFAULT_MAX_AGE,
        DEFAULT_MIN_ANSWER,
        DEFAULT_MAX_ANSWER,
        code_offset=_BLUEPRINT_OFFSET,
    )
    self.pool_of[token] = pool
    self.pools.append(pool)
    log PoolCreated(token=token, pool=pool, price_feed=price_feed, index=len(self.pools) - 1)
    return pool
