# pragma version ~=0.4.3
"""
@title Constant-product pool of a stock token against USDC
@custom:contract-name StockPool
@license GNU Affero General Public License v3.0 or later
@notice One pool per stock token, created by `PoolFactory` from a
        blueprint. Uniswap v2's maths (`amm_math`), with the market's
        clock: every swap and liquidity change reads the stock's
        `PriceFeed` through `price_guard`, reverts while the market is
        halted or the feed is stale, and charges `fee_open_bps` while the
        market is open and `fee_closed_bps` while it is closed, so LPs
        are not picked off across nights and weekends when the reserves
        cannot follow the price.
        - trading: `swap` (exact input), `swap_exact_out` (exact output),
          both pulling the input from the caller with `transferFrom`;
        - liquidity: `add_liquidity`, `remove_liquidity`;
        - views: `reserves`, `fees`, `fee_bps`, `get_amount_out`,
          `get_amount_in`, `stock`, `usdc`, `price_feed`, `guard_limits`;
        - admin (the owner): `set_fees`, `set_price_limits`, `skim`,
          `transfer_ownership`, `renounce_ownership`;
        - the pool's shares: an ERC-20 ("<SYM>-USDC LP", symbol
          "EQ-LP", 18 decimals) with EIP-2612 `permit`.
        The pool does not price from the oracle: the reserves do. It uses
        the feed's market status only.

        Storage: the reserves and the fee schedule share one word, so a
        swap reads and writes the pool's state once:
          bits   0..111  reserve of the stock token   (uint112)
          bits 112..223  reserve of USDC              (uint112)
          bits 224..239  fee while open,  bps         (uint16)
          bits 240..255  fee while closed, bps        (uint16)
        Invariant: the reserves equal the pool's balances of both
        tokens, unless someone transfers tokens to the pool directly (a
        donation); such an excess is never priced and only `skim` moves
        it.
@custom:security A stale feed blocks the pool like a halt does: without
                 a fresh status the pool cannot know whether the market
                 is open, closed or halted, so it cannot choose a fee or
                 know that trading is allowed. The stock token's own
                 transfer rules apply to every movement: for a
                 `permissioned` token the pool must be a registered
                 wallet and every receiver of stock must be verified.
"""


from ethereum.ercs import IERC20

from ..interfaces import IPriceFeed

from snekmate.auth import ownable
initializes: ownable

from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]

from ..oracle import price_guard
initializes: price_guard

from . import amm_math

exports: (
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    erc20.transfer_ownership,
    erc20.renounce_ownership,
    ownable.owner,
    price_guard.price_feed,
    price_guard.guard_limits,
    price_guard.MARKET_OPEN,
    price_guard.MARKET_CLOSED,
    price_guard.MARKET_HALTED,
)


# @dev The highest fee the owner may set, in basis points (10%).
MAX_FEE_BPS: public(constant(uint256)) = 1_000
DEFAULT_FEE_OPEN_BPS: public(constant(uint256)) = 30
DEFAULT_FEE_CLOSED_BPS: public(constant(uint256)) = 100

# @dev Where the first deposit's `MINIMUM_LIQUIDITY` shares go: snekmate
# refuses to mint to the zero address, and no one holds this key.
LOCKED_SHARES_HOLDER: public(constant(address)) = 0x000000000000000000000000000000000000dEaD

_MASK_112: constant(uint256) = (1 << 112) - 1
_MASK_16: constant(uint256) = (1 << 16) - 1
_USDC_SHIFT: constant(uint256) = 112
_FEE_OPEN_SHIFT: constant(uint256) = 224
_FEE_CLOSED_SHIFT: constant(uint256) = 240


# @dev The stock token this pool trades.
stock: public(immutable(address))

# @dev The settlement stablecoin it trades against.
usdc: public(immutable(address))


# @dev Reserves and fees, see the header.
_state: uint256


event Swap:
    sender: indexed(address)
    recipient: indexed(address)
    stock_in: bool
    amount_in: uint256
    amount_out: uint256
    fee_bps: uint256


event LiquidityAdded:
    provider: indexed(address)
    recipient: indexed(address)
    amount_stock: uint256
    amount_usdc: uint256
    shares: uint256


event LiquidityRemoved:
    provider: indexed(address)
    recipient: indexed(address)
    amount_stock: uint256
    amount_usdc: uint256
    shares: uint256


event FeesUpdated:
    fee_open_bps: uint256
    fee_closed_bps: uint256


event Skimmed:
    recipient: indexed(address)
    amount_stock: uint256
    amount_usdc: uint256


@deploy
def __init__(
    stock_: address,
    usdc_: address,
    price_feed_: IPriceFeed,
    owner_: address,
    lp_name_: String[25],
    max_age_: uint256,
    min_answer_: uint256,
    max_answer_: uint256,
):
    """
    @dev Sets the pair, the owner, the guard's limits and the default
         fees (30 bps open, 100 bps closed).
    @param stock_ The stock token.
    @param usdc_ The settlement stablecoin.
    @param price_feed_ The stock token's `PriceFeed`.
    @param owner_ Who may change the fees and the guard's limits.
    @param lp_name_ The name of the pool's shares, "<SYM>-USDC LP".
    @param max_age_ The oldest accepted observation, in seconds.
    @param min_answer_ The lowest accepted price, in the feed's decimals.
    @param max_answer_ The highest accepted price.
    """
    assert stock_ != empty(address) and usdc_ != empty(address), "pool: zero address"
    assert stock_ != usdc_, "pool: identical tokens"
    assert owner_ != empty(address), "pool: zero owner"
    stock = stock_
    usdc = usdc_
    ownable.__init__()
    erc20.__init__(lp_name_, "EQ-LP", 18, lp_name_, "1")
    # The deployer (the factory) is minter by snekmate's default; the
    # pool mints only through its own `add_liquidity`, so nobody should be.
    erc20.is_minter[msg.sender] = False
    ownable._transfer_ownership(owner_)
    price_guard.__init__(price_feed_, max_age_, min_answer_, max_answer_)
    self._set_fees(DEFAULT_FEE_OPEN_BPS, DEFAULT_FEE_CLOSED_BPS)


@external
@view
def reserves() -> (uint256, uint256):
    """
    @dev Returns the reserves the pool prices from.
    @return uint256 The stock token's reserve, raw units.
    @return uint256 USDC's reserve, raw units.
    """
    word: uint256 = self._state
    return (word & _MASK_112, (word >> _USDC_SHIFT) & _MASK_112)


@external
@view
def fees() -> (uint256, uint256):
    """
    @dev Returns the fee schedule.
    @return uint256 The fee while the market is open, in bps.
    @return uint256 The fee while it is closed, in bps.
    """
    word: uint256 = self._state
    return ((word >> _FEE_OPEN_SHIFT) & _MASK_16, word >> _FEE_CLOSED_SHIFT)


@external
@view
def fee_bps() -> uint256:
    """
    @dev Returns the fee a swap pays now; reverts as a swap would
         (halted, stale).
    @return uint256 The fee, in bps.
    """
    return self._fee(self._state)


@external
@view
def get_amount_out(amount_in: uint256, stock_in: bool) -> uint256:
    """
    @dev Returns what `swap` would pay for `amount_in` now.
    @param amount_in The exact input, raw units.
    @param stock_in True to sell the stock token, False to buy it.
    @return uint256 The output, raw units.
    """
    word: uint256 = self._state
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._oriented(word, stock_in)
    return amm_math._amount_out(amount_in, reserve_in, reserve_out, self._fee(word))


@external
@view
def get_amount_in(amount_out: uint256, stock_in: bool) -> uint256:
    """
    @dev Returns what `swap_exact_out` would take for `amount_out` now.
    @param amount_out The exact output, raw units.
    @param stock_in True to sell the stock token, False to buy it.
    @return uint256 The input, raw units.
    """
    word: uint256 = self._state
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._oriented(word, stock_in)
    return amm_math._amount_in(amount_out, reserve_in, reserve_out, self._fee(word))


@external
@nonreentrant
def swap(amount_in: uint256, min_out: uint256, stock_in: bool, recipient: address, deadline: uint256) -> uint256:
    """
    @dev Sells exactly `amount_in`, pulled from the caller with
         `transferFrom` (approve the pool first), and sends the output
         to `recipient`.
    @param amount_in The exact input, raw units.
    @param min_out The least output accepted, else "pool: slippage".
    @param stock_in True to sell the stock token for USDC, False to buy it.
    @param recipient Who receives the output.
    @param deadline The last block timestamp the swap may run at.
    @return uint256 The output, raw units.
    """
    self._check_deadline(deadline)
    word: uint256 = self._state
    fee: uint256 = self._fee(word)
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._oriented(word, stock_in)
    assert amount_in <= _MASK_112 - reserve_in, "pool: reserve overflow"
    amount_out: uint256 = amm_math._amount_out(amount_in, reserve_in, reserve_out, fee)
    assert amount_out != 0, "pool: zero output"
    assert amount_out >= min_out, "pool: slippage"
    self._trade(word, stock_in, reserve_in + amount_in, reserve_out - amount_out, amount_in, amount_out, recipient)
    log Swap(
        sender=msg.sender, recipient=recipient, stock_in=stock_in, amount_in=amount_in, amount_out=amount_out, fee_bps=fee
    )
    return amount_out


@external
@nonreentrant
def swap_exact_out(
    amount_out: uint256, max_in: uint256, stock_in: bool, recipient: address, deadline: uint256
) -> uint256:
    """
    @dev Buys exactly `amount_out` for `recipient`; the input, rounded
         up, is pulled from the caller with `transferFrom`.
    @param amount_out The exact output, raw units.
    @param max_in The most input accepted, else "pool: slippage".
    @param stock_in True to sell the stock token for USDC, False to buy it.
    @param recipient Who receives the output.
    @param deadline The last block timestamp the swap may run at.
    @return uint256 The input taken, raw units.
    """
    self._check_deadline(deadline)
    word: uint256 = self._state
    fee: uint256 = self._fee(word)
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._oriented(word, stock_in)
    amount_in: uint256 = amm_math._amount_in(amount_out, reserve_in, reserve_out, fee)
    assert amount_in <= max_in, "pool: slippage"
    assert amount_in <= _MASK_112 - reserve_in, "pool: reserve overflow"
    self._trade(word, stock_in, reserve_in + amount_in, reserve_out - amount_out, amount_in, amount_out, recipient)
    log Swap(
        sender=msg.sender, recipient=recipient, stock_in=stock_in, amount_in=amount_in, amount_out=amount_out, fee_bps=fee
    )
    return amount_in


@external
@nonreentrant
def add_liquidity(
    amount_stock_desired: uint256,
    amount_usdc_desired: uint256,
    min_stock: uint256,
    min_usdc: uint256,
    recipient: address,
    deadline: uint256,
) -> (uint256, uint256, uint256):
    """
    @dev Deposits both tokens at the pool's ratio (the first deposit
         sets it), pulling them from the caller with `transferFrom`,
         and mints shares to `recipient`. Of the desired amounts, one is
         used in full and the other as far as the ratio needs.
    @param amount_stock_desired The most stock to deposit, raw units.
    @param amount_usdc_desired The most USDC to deposit, raw units.
    @param min_stock The least stock deposited, else "pool: slippage".
    @param min_usdc The least USDC deposited, else "pool: slippage".
    @param recipient Who receives the shares.
    @param deadline The last block timestamp it may run at.
    @return uint256 The stock deposited.
    @return uint256 The USDC deposited.
    @return uint256 The shares minted to `recipient`.
    """
    self._check_deadline(deadline)
    assert amount_stock_desired != 0 and amount_usdc_desired != 0, "pool: zero amount"
    word: uint256 = self._state
    self._fee(word)
    reserve_stock: uint256 = word & _MASK_112
    reserve_usdc: uint256 = (word >> _USDC_SHIFT) & _MASK_112
    amount_stock: uint256 = amount_stock_desired
    amount_usdc: uint256 = amount_usdc_desired
    supply: uint256 = erc20.totalSupply
    shares: uint256 = 0
    if supply == 0:
        shares = amm_math._initial_shares(amount_stock, amount_usdc) - amm_math.MINIMUM_LIQUIDITY
        erc20._mint(LOCKED_SHARES_HOLDER, amm_math.MINIMUM_LIQUIDITY)
    else:
        usdc_optimal: uint256 = amm_math._quote(amount_stock_desired, reserve_stock, reserve_usdc)
        if usdc_optimal <= amount_usdc_desired:
            amount_usdc = usdc_optimal
        else:
            amount_stock = amm_math._quote(amount_usdc_desired, reserve_usdc, reserve_stock)
        shares = amm_math._shares(amount_stock, amount_usdc, reserve_stock, reserve_usdc, supply)
    assert amount_stock >= min_stock and amount_usdc >= min_usdc, "pool: slippage"
    assert amount_stock <= _MASK_112 - reserve_stock and amount_usdc <= _MASK_112 - reserve_usdc, (
        "pool: reserve overflow"
    )
    self._state = self._packed(word, reserve_stock + amount_stock, reserve_usdc + amount_usdc)
    erc20._mint(recipient, shares)
    self._pull(stock, amount_stock)
    self._pull(usdc, amount_usdc)
    log LiquidityAdded(
        provider=msg.sender, recipient=recipient, amount_stock=amount_stock, amount_usdc=amount_usdc, shares=shares
    )
    return (amount_stock, amount_usdc, shares)


@external
@nonreentrant
def remove_liquidity(
    shares: uint256, min_stock: uint256, min_usdc: uint256, recipient: address, deadline: uint256
) -> (uint256, uint256):
    """
    @dev Burns `shares` of the caller and sends their part of both
         reserves, rounded down, to `recipient`.
    @param shares The shares to redeem.
    @param min_stock The least stock received, else "pool: slippage".
    @param min_usdc The least USDC received, else "pool: slippage".
    @param recipient Who receives both tokens.
    @param deadline The last block timestamp it may run at.
    @return uint256 The stock paid out.
    @return uint256 The USDC paid out.
    """
    self._check_deadline(deadline)
    assert shares != 0, "pool: zero amount"
    word: uint256 = self._state
    self._fee(word)
    reserve_stock: uint256 = word & _MASK_112
    reserve_usdc: uint256 = (word >> _USDC_SHIFT) & _MASK_112
    supply: uint256 = erc20.totalSupply
    assert shares <= erc20.balanceOf[msg.sender], "pool: shares exceed balance"
    amount_stock: uint256 = shares * reserve_stock // supply
    amount_usdc: uint256 = shares * reserve_usdc // supply
    assert amount_stock != 0 and amount_usdc != 0, "pool: insufficient liquidity burned"
    assert amount_stock >= min_stock and amount_usdc >= min_usdc, "pool: slippage"
    erc20._burn(msg.sender, shares)
    self._state = self._packed(word, reserve_stock - amount_stock, reserve_usdc - amount_usdc)
    self._push(stock, recipient, amount_stock)
    self._push(usdc, recipient, amount_usdc)
    log LiquidityRemoved(
        provider=msg.sender, recipient=recipient, amount_stock=amount_stock, amount_usdc=amount_usdc, shares=shares
    )
    return (amount_stock, amount_usdc)


@external
def set_fees(fee_open_bps_: uint256, fee_closed_bps_: uint256):
    """
    @dev Replaces the fee schedule. Only the owner; each fee at most
         `MAX_FEE_BPS`.
    @param fee_open_bps_ The fee while the market is open, in bps.
    @param fee_closed_bps_ The fee while it is closed, in bps.
    """
    ownable._check_owner()
    self._set_fees(fee_open_bps_, fee_closed_bps_)


@external
def set_price_limits(max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev Replaces the guard's limits (see `price_guard`). Only the owner.
    @param max_age_ The oldest accepted observation, in seconds.
    @param min_answer_ The lowest accepted price, in the feed's decimals.
    @param max_answer_ The highest accepted price.
    """
    ownable._check_owner()
    price_guard._set_limits(max_age_, min_answer_, max_answer_)


@external
@nonreentrant
def skim(recipient: address):
    """
    @dev Sends whatever the pool holds beyond its reserves (tokens
         transferred to it directly) to `recipient`. Only the owner: a
         mistaken transfer can be returned to its sender.
    @param recipient Who receives the excess.
    """
    ownable._check_owner()
    word: uint256 = self._state
    excess_stock: uint256 = staticcall IERC20(stock).balanceOf(self) - (word & _MASK_112)
    excess_usdc: uint256 = staticcall IERC20(usdc).balanceOf(self) - ((word >> _USDC_SHIFT) & _MASK_112)
    if excess_stock != 0:
        self._push(stock, recipient, excess_stock)
    if excess_usdc != 0:
        self._push(usdc, recipient, excess_usdc)
    log Skimmed(recipient=recipient, amount_stock=excess_stock, amount_usdc=excess_usdc)


@internal
@view
def _check_deadline(deadline: uint256):
    assert block.timestamp <= deadline, "pool: expired"


@internal
@view
def _fee(word: uint256) -> uint256:
    # The guard reverts while halted or stale; closed widens the fee.
    price: uint256 = 0
    status: uint8 = 0
    price, status = price_guard._price()
    if status == price_guard.MARKET_OPEN:
        return (word >> _FEE_OPEN_SHIFT) & _MASK_16
    return word >> _FEE_CLOSED_SHIFT


@internal
@pure
def _oriented(word: uint256, stock_in: bool) -> (uint256, uint256):
    reserve_stock: uint256 = word & _MASK_112
    reserve_usdc: uint256 = (word >> _USDC_SHIFT) & _MASK_112
    if stock_in:
        return (reserve_stock, reserve_usdc)
    return (reserve_usdc, reserve_stock)


@internal
@pure
def _packed(word: uint256, reserve_stock: uint256, reserve_usdc: uint256) -> uint256:
    # Keeps the fee bits of `word`.
    return (word >> _FEE_OPEN_SHIFT << _FEE_OPEN_SHIFT) | (reserve_usdc << _USDC_SHIFT) | reserve_stock


@internal
def _trade(
    word: uint256,
    stock_in: bool,
    new_reserve_in: uint256,
    new_reserve_out: uint256,
    amount_in: uint256,
    amount_out: uint256,
    recipient: address,
):
    # Reserves first, then the pull and the push: nothing external runs
    # against a state the trade has not yet recorded.
    token_in: address = stock
    token_out: address = usdc
    if stock_in:
        self._state = self._packed(word, new_reserve_in, new_reserve_out)
    else:
        self._state = self._packed(word, new_reserve_out, new_reserve_in)
        token_in = usdc
        token_out = stock
    self._pull(token_in, amount_in)
    self._push(token_out, recipient, amount_out)


@internal
def _pull(token: address, amount: uint256):
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount), "pool: transfer failed"


@internal
def _push(token: address, recipient: address, amount: uint256):
    assert extcall IERC20(token).transfer(recipient, amount), "pool: transfer failed"


@internal
def _set_fees(fee_open_bps_: uint256, fee_closed_bps_: uint256):
    assert fee_open_bps_ <= MAX_FEE_BPS and fee_closed_bps_ <= MAX_FEE_BPS, "pool: fee too high"
    word: uint256 = self._state
    self._state = (
        (word & ((1 << _FEE_OPEN_SHIFT) - 1)) | (fee_open_bps_ << _FEE_OPEN_SHIFT) | (fee_closed_bps_ << _FEE_CLOSED_SHIFT)
    )
    log FeesUpdated(fee_open_bps=fee_open_bps_, fee_closed_bps=fee_closed_bps_)
