"""The AMM's units, market statuses and fees, a Python model of Uniswap v2's integer maths, and helpers
that move the market, seed a pool and read its balances.

The market's status always comes from rounds signed by real reporter keys (`transmit`), so a test
that opens, closes or halts the market drives the same feed the platform runs. The deployers and
the deployed token, feed, pool, factory and router are fixtures in ``tests/contracts/venues/conftest.py``.
"""

from collections.abc import Callable
from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import transmit

from equitoken.oracle.observation import MarketStatus

PRICE = 200 * 10**8
USDC = 10**6
SHARE = 10**8  # the test stock token has 8 decimals
OPEN, CLOSED, HALTED = int(MarketStatus.OPEN), int(MarketStatus.CLOSED), int(MarketStatus.HALTED)
FEE_OPEN, FEE_CLOSED = 30, 100
MINIMUM_LIQUIDITY = 1_000
DEAD = "0x000000000000000000000000000000000000dEaD"
MAX_AGE = 7_200
NEXT_ROUND = 60
FAR = 2**64


# ---------------------------------------------------------------- the model of Uniswap v2's maths


def model_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Return Uniswap v2's `getAmountOut` with a fee of `fee_bps`."""
    traded = amount_in * (10_000 - fee_bps)
    return traded * reserve_out // (reserve_in * 10_000 + traded)


def model_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Return Uniswap v2's `getAmountIn` with a fee of `fee_bps`."""
    return reserve_in * amount_out * 10_000 // ((reserve_out - amount_out) * (10_000 - fee_bps)) + 1


# ------------------------------------------------------------------------------------- helpers


Funder = Callable[..., None]


def set_status(feed: Any, reporters: list[LocalAccount], status: int, price: int = PRICE) -> None:
    """Move time on by a minute and publish a round with `status` (a change waives the heartbeat)."""
    boa.env.time_travel(seconds=NEXT_ROUND)
    transmit(feed, reporters, price, status)


def deadline() -> int:
    """Return a deadline ten minutes ahead."""
    return int(boa.env.evm.patch.timestamp) + 600


def seed(pool: Any, provider: str, stock: int = 1_000 * SHARE, dollars: int = 200_000 * USDC) -> int:
    """Deposit `stock` and `dollars` as `provider` (funded and approved); return the shares minted."""
    with boa.env.prank(provider):
        shares: int = pool.add_liquidity(stock, dollars, 0, 0, provider, deadline())[2]
    return shares


def balances(pool: Any, token: Any, usdc: Any) -> tuple[int, int]:
    """Return the pool's balances of the stock token and USDC."""
    return (token.balanceOf(pool.address), usdc.balanceOf(pool.address))
