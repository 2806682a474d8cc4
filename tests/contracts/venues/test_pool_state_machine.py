"""Long random runs over a real StockPool, stock token, quorum price feed and test USDC.

Named invariants:
- ``reserves_equal_balances``: the reserves are exactly the pool's balances of both tokens;
- ``k_never_decreases_except_by_withdrawals``: swaps and deposits never lower the reserve product;
- ``share_value_never_falls``: k / S**2 (the squared value of one share) never decreases, so shares
  redeem for a proportional part of the reserves, rounding always in the pool's favour;
- ``no_swap_beats_the_model``: every swap pays exactly Uniswap v2's integer maths (checked in the
  swap rules, against the fee the market's status selects).
"""

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.support.contracts import DECIMALS, HEARTBEAT
from tests.support.contracts import OPEN as PROFILE_OPEN
from tests.support.contracts.oracle import QUORUM, reporter_key, transmit
from tests.support.contracts.venues import (
    CLOSED,
    FEE_CLOSED,
    FEE_OPEN,
    MINIMUM_LIQUIDITY,
    OPEN,
    PRICE,
    model_amount_in,
    model_amount_out,
)

from equitoken.chain.evm.artifacts import contract_path

DEPLOYERS = {
    name: boa.load_partial(str(contract_path(path)))
    for name, path in {
        "token": "token/StockToken.vy",
        "reserve": "oracle/ReserveFeed.vy",
        "feed": "oracle/PriceFeed.vy",
        "usdc": "settlement/TestUSDC.vy",
        "pool": "venues/StockPool.vy",
    }.items()
}
REPORTERS = [reporter_key(i) for i in range(4)]
ACTORS = [boa.env.generate_address(f"sm-actor-{i}") for i in range(3)]
FUNDS = 10**18

actor = st.sampled_from(range(len(ACTORS)))
amounts = st.integers(min_value=1, max_value=10**13)


@dataclass(frozen=True)
class Deployment:
    """The contracts every example starts from, deployed and funded once per test."""

    admin: str
    token: Any
    feed: Any
    usdc: Any
    pool: Any


def deploy() -> Deployment:
    """Deploy the pool and its markets, fund and approve every actor, publish an open price."""
    admin = boa.env.generate_address("sm-admin")
    zero = "0x" + "00" * 20
    with boa.env.prank(admin):
        reserve = DEPLOYERS["reserve"].deploy(DECIMALS, "reserves")
        reserve.grantRole(reserve.UPDATER_ROLE(), admin)
        reserve.update(FUNDS * len(ACTORS), boa.env.evm.patch.timestamp)
        token = DEPLOYERS["token"].deploy(
            "Pool machine", "PMx", DECIMALS, "US0000000002", "PM", "", PROFILE_OPEN,
            zero, zero, reserve.address, HEARTBEAT,
        )  # fmt: skip
        token.grantRole(token.MINTER_ROLE(), admin)
        feed = DEPLOYERS["feed"].deploy(8, "PM / USD", token.address, [a.address for a in REPORTERS], QUORUM)
        usdc = DEPLOYERS["usdc"].deploy()
        pool = DEPLOYERS["pool"].deploy(
            token.address, usdc.address, feed.address, admin, "PMx-USDC LP",
            7_200, 1, 2**104 - 1,
        )  # fmt: skip
        for wallet in ACTORS:
            token.mint(wallet, FUNDS)
            usdc.mint(wallet, FUNDS)
    for wallet in ACTORS:
        with boa.env.prank(wallet):
            token.approve(pool.address, 2**256 - 1)
            usdc.approve(pool.address, 2**256 - 1)
    transmit(feed, REPORTERS[:QUORUM], PRICE, OPEN)
    return Deployment(admin, token, feed, usdc, pool)


class StockPoolMachine(RuleBasedStateMachine):
    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the shared deployment and rolls back to
        # it in `teardown`: balances, prices, clock and block number alike.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        d = self.deployment
        self.admin, self.token, self.feed, self.usdc, self.pool = d.admin, d.token, d.feed, d.usdc, d.pool
        self.status = OPEN
        self.k = 0
        self.share_value = (0, 1)  # k and S**2 after the last step, as a fraction
        self.withdrew = False

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # -- helpers

    def _reserves(self) -> tuple[int, int]:
        stock, dollars = self.pool.reserves()
        return int(stock), int(dollars)

    def _fee(self) -> int:
        return FEE_OPEN if self.status == OPEN else FEE_CLOSED

    def _deadline(self) -> int:
        return int(boa.env.evm.patch.timestamp) + 60

    # -- rules

    @rule(who=actor, stock=amounts, dollars=amounts)
    def add_liquidity(self, who: int, stock: int, dollars: int) -> None:
        reserve_stock, reserve_usdc = self._reserves()
        supply = int(self.pool.totalSupply())
        if supply == 0:
            minted = math.isqrt(stock * dollars) - MINIMUM_LIQUIDITY
        else:
            used_stock, used_usdc = stock, stock * reserve_usdc // reserve_stock
            if used_usdc > dollars:
                used_stock, used_usdc = dollars * reserve_stock // reserve_usdc, dollars
            minted = min(used_stock * supply // reserve_stock, used_usdc * supply // reserve_usdc)
        with boa.env.prank(ACTORS[who]):
            if minted <= 0:
                with boa.reverts("amm: insufficient liquidity minted"):
                    self.pool.add_liquidity(stock, dollars, 0, 0, ACTORS[who], self._deadline())
                return
            shares = self.pool.add_liquidity(stock, dollars, 0, 0, ACTORS[who], self._deadline())[2]
        assert shares == minted

    @precondition(lambda self: self.pool.totalSupply() > 0)
    @rule(who=actor, part=st.integers(min_value=1, max_value=100))
    def remove_liquidity(self, who: int, part: int) -> None:
        shares = int(self.pool.balanceOf(ACTORS[who])) * part // 100
        if shares == 0:
            return
        supply = int(self.pool.totalSupply())
        stock, dollars = self._reserves()
        owed = (shares * stock // supply, shares * dollars // supply)
        with boa.env.prank(ACTORS[who]):
            if 0 in owed:
                with boa.reverts("pool: insufficient liquidity burned"):
                    self.pool.remove_liquidity(shares, 0, 0, ACTORS[who], self._deadline())
                return
            paid = self.pool.remove_liquidity(shares, 0, 0, ACTORS[who], self._deadline())
        assert tuple(paid) == owed
        self.withdrew = True

    @precondition(lambda self: self.pool.totalSupply() > 0)
    @rule(who=actor, amount=amounts, stock_in=st.booleans())
    def swap(self, who: int, amount: int, stock_in: bool) -> None:
        stock, dollars = self._reserves()
        reserve_in, reserve_out = (stock, dollars) if stock_in else (dollars, stock)
        expected = model_amount_out(amount, reserve_in, reserve_out, self._fee())
        if expected == 0:
            return
        with boa.env.prank(ACTORS[who]):
            out = self.pool.swap(amount, 0, stock_in, ACTORS[who], self._deadline())
        assert out == expected, "no_swap_beats_the_model"

    @precondition(lambda self: self.pool.totalSupply() > 0)
    @rule(who=actor, amount=amounts, stock_in=st.booleans())
    def swap_exact_out(self, who: int, amount: int, stock_in: bool) -> None:
        stock, dollars = self._reserves()
        reserve_in, reserve_out = (stock, dollars) if stock_in else (dollars, stock)
        if amount >= reserve_out:
            return
        expected = model_amount_in(amount, reserve_in, reserve_out, self._fee())
        with boa.env.prank(ACTORS[who]):
            taken = self.pool.swap_exact_out(amount, 2**256 - 1, stock_in, ACTORS[who], self._deadline())
        assert taken == expected, "no_swap_beats_the_model"

    @rule()
    def switch_market(self) -> None:
        self.status = CLOSED if self.status == OPEN else OPEN
        boa.env.time_travel(seconds=60)
        transmit(self.feed, REPORTERS[:QUORUM], PRICE, self.status)

    # -- invariants

    @invariant()
    def reserves_equal_balances(self) -> None:
        held = (int(self.token.balanceOf(self.pool.address)), int(self.usdc.balanceOf(self.pool.address)))
        assert self._reserves() == held

    @invariant()
    def k_never_decreases_except_by_withdrawals(self) -> None:
        stock, dollars = self._reserves()
        k = stock * dollars
        if not self.withdrew:
            assert k >= self.k
        self.k = k
        self.withdrew = False

    @invariant()
    def share_value_never_falls(self) -> None:
        stock, dollars = self._reserves()
        supply = int(self.pool.totalSupply())
        if supply == 0:
            return
        k, squared_supply = stock * dollars, supply * supply
        previous_k, previous_squared = self.share_value
        assert k * previous_squared >= previous_k * squared_supply
        self.share_value = (k, squared_supply)


def test_stock_pool_invariants(fresh_chain: Any) -> None:
    StockPoolMachine.deployment = deploy()
    StockPoolMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
    StockPoolMachine.TestCase().runTest()
