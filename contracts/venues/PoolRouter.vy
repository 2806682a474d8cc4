# pragma version ~=0.4.3
"""
@title Multi-hop router over the factory's stock pools
@custom:contract-name PoolRouter
@license GNU Affero General Public License v3.0 or later
@notice Swaps along a path of tokens where every hop trades against
        USDC (e.g. AAPLx -> USDC -> MSFTx), through the pools of one
        `PoolFactory`:
        - `swap_exact_in` (`external` function),
        - `get_amounts_out` (`external` `view`),
        - `factory`, `usdc` (`external` `view`).
        The router pulls the input from the caller (approve the router),
        approves each pool for exactly the hop's input, and lets the
        pool pull it; intermediate outputs come back to the router, the
        last goes to the recipient. A single-hop swap is cheaper on the
        pool directly.
@custom:security The router keeps nothing between transactions: each hop
                 spends exactly what the previous one paid it, and every
                 approval it gives is used up in the same call. For a
                 `permissioned` stock at the start or in the middle of a
                 path, the router itself receives stock and must be a
                 registered wallet, like the pools.
"""


from ethereum.ercs import IERC20

from ..interfaces import IPoolFactory
from ..interfaces import IStockPool


MAX_PATH: constant(uint256) = 4


# @dev The factory whose pools the router trades through.
factory: public(immutable(IPoolFactory))

# @dev Its quote token.
usdc: public(immutable(address))


@deploy
def __init__(factory_: IPoolFactory):
    """
    @dev Binds the router to `factory_` and its quote token.
    @param factory_ The `PoolFactory`.
    """
    factory = factory_
    usdc = staticcall factory_.usdc()


@external
@view
def get_amounts_out(amount_in: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    """
    @dev Returns the amount after each hop of `path` at the pools' state
         and fees now; reverts as a swap would.
    @param amount_in The exact input, raw units of `path[0]`.
    @param path The tokens, at least two; every hop trades against USDC.
    @return DynArray[uint256, MAX_PATH] `amount_in`, then each hop's output.
    """
    assert len(path) >= 2, "router: path too short"
    amounts: DynArray[uint256, MAX_PATH] = [amount_in]
    amount: uint256 = amount_in
    for i: uint256 in range(MAX_PATH - 1):
        if i + 1 == len(path):
            break
        pool: IStockPool = empty(IStockPool)
        stock_in: bool = False
        pool, stock_in = self._hop(path[i], path[i + 1])
        amount = staticcall pool.get_amount_out(amount, stock_in)
        amounts.append(amount)
    return amounts


@external
@nonreentrant
def swap_exact_in(
    amount_in: uint256, min_out: uint256, path: DynArray[address, MAX_PATH], recipient: address, deadline: uint256
) -> uint256:
    """
    @dev Sells exactly `amount_in` of `path[0]`, pulled from the caller,
         hop by hop along `path`, and sends the last token to `recipient`.
    @param amount_in The exact input, raw units.
    @param min_out The least final output accepted, else "router: slippage".
    @param path The tokens, at least two; every hop trades against USDC.
    @param recipient Who receives the final output.
    @param deadline The last block timestamp it may run at.
    @return uint256 The final output, raw units of the last token.
    """
    assert block.timestamp <= deadline, "router: expired"
    assert len(path) >= 2, "router: path too short"
    assert amount_in != 0, "router: zero amount"
    assert extcall IERC20(path[0]).transferFrom(msg.sender, self, amount_in), "router: transfer failed"
    amount: uint256 = amount_in
    last: uint256 = len(path) - 2
    for i: uint256 in range(MAX_PATH - 1):
        if i > last:
            break
        pool: IStockPool = empty(IStockPool)
        stock_in: bool = False
        pool, stock_in = self._hop(path[i], path[i + 1])
        to: address = self
        if i == last:
            to = recipient
        assert extcall IERC20(path[i]).approve(pool.address, amount), "router: approve failed"
        amount = extcall pool.swap(amount, 0, stock_in, to, deadline)
    assert amount >= min_out, "router: slippage"
    return amount


@internal
@view
def _hop(token_in: address, token_out: address) -> (IStockPool, bool):
    # The pool of the hop's stock token, and whether the stock goes in.
    stock_in: bool = token_out == usdc
    assert stock_in != (token_in == usdc), "router: hop must trade against USDC"
    stock: address = token_in if stock_in else token_out
    pool: address = staticcall factory.pool_of(stock)
    assert pool != empty(address), "router: no pool"
    return (IStockPool(pool), stock_in)
