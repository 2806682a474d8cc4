# pragma version ~=0.4.3
"""
@title Constant-product pool maths (Uniswap v2's integer rules)
@custom:contract-name amm_math
@license GNU Affero General Public License v3.0 or later
@notice The pure arithmetic of a constant-product pool, rounded the way
        Uniswap v2 rounds it so a pool never pays out more than the
        curve allows:
        - `_amount_out`: what an exact input buys (rounded down),
        - `_amount_in`: what an exact output costs (rounded up),
        - `_quote`: the other side of a deposit at the current ratio
          (rounded down),
        - `_initial_shares`: the shares of the first deposit,
        - `_shares`: the shares of a later deposit,
        - `MINIMUM_LIQUIDITY`: shares locked away at the first deposit.

        Glossary:
        - x, y       the reserves of the input and the output token,
                     raw units;
        - dx, dy     an amount paid in and an amount paid out;
        - f          the fee in basis points of the input, 0 <= f < 10_000;
        - g          10_000 - f, the part of the input that trades;
        - k          x * y, the reserve product;
        - S          the total supply of pool shares.
        Swap:  dy = floor(dx * g * y / (x * 10_000 + dx * g)).
        Exact out: dx = floor(x * dy * 10_000 / ((y - dy) * g)) + 1.
        Invariant: after any swap, (x + dx) * (y - dy) >= x * y, and with
        f > 0 strictly more once dx is large enough to pay a fee: the
        fee stays in the reserves, so k never decreases on a swap, and
        rounding always favours the pool.
        First deposit: S = isqrt(a * b); MINIMUM_LIQUIDITY of it is
        locked for ever so S never returns to 0 and the price of one
        share can never be inflated from a dust deposit.
        Later deposit: shares = min(a * S / x_a, b * S / x_b), rounded
        down: a depositor never gets more than the value added.
"""


# @dev Basis points in one whole.
BPS: constant(uint256) = 10_000

# @dev Shares of the first deposit that no one can ever redeem.
MINIMUM_LIQUIDITY: constant(uint256) = 1_000


@internal
@pure
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256, fee_bps: uint256) -> uint256:
    """
    @dev Returns what `amount_in` buys from reserves (x, y), rounded
         down. Reverts on a zero input or an empty pool.
    @param amount_in dx, raw units of the input token.
    @param reserve_in x.
    @param reserve_out y.
    @param fee_bps f, below 10_000.
    @return uint256 dy.
    """
    assert amount_in != 0, "amm: zero amount"
    assert reserve_in != 0 and reserve_out != 0, "amm: insufficient liquidity"
    traded: uint256 = amount_in * (BPS - fee_bps)
    return traded * reserve_out // (reserve_in * BPS + traded)


@internal
@pure
def _amount_in(amount_out: uint256, reserve_in: uint256, reserve_out: uint256, fee_bps: uint256) -> uint256:
    """
    @dev Returns the input that buys exactly `amount_out` from reserves
         (x, y), rounded up. Reverts on a zero output or one that would
         empty the output reserve.
    @param amount_out dy, raw units of the output token.
    @param reserve_in x.
    @param reserve_out y.
    @param fee_bps f, below 10_000.
    @return uint256 dx.
    """
    assert amount_out != 0, "amm: zero amount"
    assert reserve_in != 0 and amount_out < reserve_out, "amm: insufficient liquidity"
    return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - fee_bps)) + 1


@internal
@pure
def _quote(amount_a: uint256, reserve_a: uint256, reserve_b: uint256) -> uint256:
    """
    @dev Returns the amount of b worth `amount_a` at the reserves'
         ratio, rounded down.
    @param amount_a Raw units of token a.
    @param reserve_a The reserve of a, more than 0.
    @param reserve_b The reserve of b.
    @return uint256 Raw units of token b.
    """
    assert amount_a != 0, "amm: zero amount"
    assert reserve_a != 0 and reserve_b != 0, "amm: insufficient liquidity"
    return amount_a * reserve_b // reserve_a


@internal
@pure
def _initial_shares(amount_a: uint256, amount_b: uint256) -> uint256:
    """
    @dev Returns isqrt(a * b): the total shares the first deposit
         creates, `MINIMUM_LIQUIDITY` of them locked. Reverts unless it
         exceeds `MINIMUM_LIQUIDITY`.
    @param amount_a Raw units of token a.
    @param amount_b Raw units of token b.
    @return uint256 All the shares created, locked ones included.
    """
    shares: uint256 = isqrt(amount_a * amount_b)
    assert shares > MINIMUM_LIQUIDITY, "amm: insufficient liquidity minted"
    return shares


@internal
@pure
def _shares(
    amount_a: uint256, amount_b: uint256, reserve_a: uint256, reserve_b: uint256, supply: uint256
) -> uint256:
    """
    @dev Returns the shares a deposit of (a, b) earns in a pool with
         reserves (x_a, x_b) and `supply` shares, rounded down.
    @param amount_a Raw units of token a.
    @param amount_b Raw units of token b.
    @param reserve_a x_a, more than 0.
    @param reserve_b x_b, more than 0.
    @param supply S.
    @return uint256 The shares; reverts if 0.
    """
    shares: uint256 = min(amount_a * supply // reserve_a, amount_b * supply // reserve_b)
    assert shares != 0, "amm: insufficient liquidity minted"
    return shares
