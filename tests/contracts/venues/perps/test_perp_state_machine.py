"""Random runs over a real PerpMarket, PerpVault, stock token, quorum price feed and test USDC: opens,
closes, partial closes, added margin, liquidations, price moves, funding time, the market closing and
reopening (orders queued while closed, executed or cancelled after), LP deposits and withdrawals.

Named invariants, after every step:
- ``vault_covers_max_payouts``: vault.totalAssets() >= vault.reserved() >= the sum of the open
  positions' reservations (their maximum payouts above the margin);
- ``usdc_conserved``: traders + market + vault + liquidator hold what they started with plus the LP
  flows;
- ``market_holds_margins``: the market's USDC == the open margins + escrowed order margins.
"""

from typing import Any

import boa
from eth_abi.abi import decode
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from tests.support.contracts import OPEN as PROFILE_OPEN
from tests.support.contracts import actor, deployer
from tests.support.contracts.oracle import QUORUM, deploy_price_feed, reporter_key, transmit
from tests.support.contracts.perps import LP_ASSETS, MAX_AGE, MAX_ANSWER, PRICE, USDC, WAD
from tests.support.contracts.venues import CLOSED, OPEN

TRADERS = 3
ZERO = "0x0000000000000000000000000000000000000000"
START = 200_000 * USDC


class PerpMachine(RuleBasedStateMachine):
    env: Any = None

    @initialize()
    def deploy(self) -> None:
        self.admin = actor("admin")
        self.reporters = [reporter_key(i) for i in range(QUORUM)]
        with boa.env.prank(self.admin):
            self.usdc = deployer("settlement/TestUSDC.vy").deploy()
            self.token = _token(self.admin)
        self.feed = deploy_price_feed(
            deployer("oracle/PriceFeed.vy"),
            self.admin,
            [reporter_key(i) for i in range(4)],
            QUORUM,
            self.token.address,
        )
        with boa.env.prank(self.admin):
            self.feed.set_bounds(0, self.feed.max_report_age(), 0)
            self.vault = deployer("venues/perps/PerpVault.vy").deploy(self.usdc.address)
            self.market = deployer("venues/perps/PerpMarket.vy").deploy(
                self.usdc.address,
                self.vault.address,
                self.feed.address,
                self.token.address,
                MAX_AGE,
                1,
                MAX_ANSWER,
            )
            self.vault.add_market(self.market.address)
        self.price = PRICE
        transmit(self.feed, self.reporters, self.price, OPEN)
        self.lp = actor("lp")
        self.liquidator = actor("liquidator")
        self.traders = [actor(f"trader{i}") for i in range(TRADERS)]
        self._mint(self.lp, LP_ASSETS, self.vault.address)
        with boa.env.prank(self.lp):
            self.vault.deposit(LP_ASSETS, self.lp)
        for t in self.traders:
            self._mint(t, START, self.market.address)
        self.lp_in = LP_ASSETS
        self.lp_out = 0
        self.total = LP_ASSETS + TRADERS * START
        self.ids: list[int] = []
        self.orders: list[int] = []
        self.status = OPEN

    def _mint(self, who: str, amount: int, spender: str) -> None:
        with boa.env.prank(self.admin):
            self.usdc.mint(who, amount)
        with boa.env.prank(who):
            self.usdc.approve(spender, 2**256 - 1)

    def _open_ids(self) -> list[int]:
        return [i for i in self.ids if self.market.position(i).size != 0]

    def _refusal(self, name: str, *args: Any, sender: str) -> str | None:
        """Return the reason `name(*args)` from `sender` would revert with, or None if it would not."""
        data = getattr(self.market, name).prepare_calldata(*args)
        result = boa.env.execute_code(to_address=self.market.address, sender=sender, data=data, simulate=True)
        if not result.is_error:
            return None
        output = bytes(result.output)
        assert output[:4] == bytes.fromhex("08c379a0"), f"{name} reverted without a reason: {output!r}"
        reason: str = decode(["string"], output[4:])[0]
        return reason

    @rule(
        t=st.integers(0, TRADERS - 1),
        is_long=st.booleans(),
        margin=st.integers(10, 20_000),
        lev=st.integers(1, 10),
    )
    def open(self, t: int, is_long: bool, margin: int, lev: int) -> None:
        trader = self.traders[t]
        args = (is_long, margin * USDC, lev * WAD, 0, 0, 0)
        if self.status == CLOSED:
            # gTrade's rule: nothing opens while the market is closed; the order waits for the reopening.
            assert self._refusal("open_position", *args, sender=trader) == "perp: market closed"
            with boa.env.prank(trader):
                self.orders.append(self.market.request_open(*args))
            return
        reason = self._refusal("open_position", *args, sender=trader)
        if reason is not None:
            # The only refusal these inputs can meet: the vault cannot back the maximum profit.
            assert reason == "vault: insufficient liquidity", reason
            assert self.vault.free_assets() < margin * USDC * 9
            return
        with boa.env.prank(trader):
            self.ids.append(self.market.open_position(*args))

    @rule(pick=st.integers(0, 100), part=st.integers(1, 4))
    def close(self, pick: int, part: int) -> None:
        ids = self._open_ids()
        if not ids:
            return
        pid = ids[pick % len(ids)]
        pos = self.market.position(pid)
        size = pos.size if part == 4 else pos.size * part // 4
        if size == 0:
            return
        if self.status == CLOSED:
            assert self._refusal("close_position", pid, size, 0, sender=pos.owner) == "perp: market closed"
            with boa.env.prank(pos.owner):
                self.orders.append(self.market.request_close(pid, size, 0))
            return
        with boa.env.prank(pos.owner):
            self.market.close_position(pid, size, 0)

    @rule()
    def close_or_reopen_the_market(self) -> None:
        self.status = OPEN if self.status == CLOSED else CLOSED
        boa.env.time_travel(seconds=60)
        transmit(self.feed, self.reporters, self.price, self.status)

    @rule()
    def execute_orders(self) -> None:
        pending = [o for o in self.orders if self.market.order(o).owner != ZERO]
        for order_id in pending:
            if self.status == CLOSED:
                reason = self._refusal("execute_order", order_id, sender=self.liquidator)
                assert reason == "perp: market not open", reason
                continue
            opens = self.market.order(order_id).kind == 1
            before = self.market.next_position_id()
            with boa.env.prank(self.liquidator):
                self.market.execute_order(order_id)
            assert self.market.order(order_id).owner == ZERO  # executed or cancelled, never twice
            if opens and self.market.next_position_id() > before:
                self.ids.append(before)

    @rule(pick=st.integers(0, 100), amount=st.integers(1, 2_000))
    def add_margin(self, pick: int, amount: int) -> None:
        ids = self._open_ids()
        if not ids:
            return
        pid = ids[pick % len(ids)]
        with boa.env.prank(self.market.position(pid).owner):
            self.market.add_margin(pid, amount * USDC)

    @rule(pick=st.integers(0, 100))
    def liquidate(self, pick: int) -> None:
        ids = self._open_ids()
        if not ids:
            return
        pid = ids[pick % len(ids)]
        if self.market.is_liquidatable(pid):
            assert self.status == OPEN  # never while the market is closed (the CLOSED policy)
            with boa.env.prank(self.liquidator):
                self.market.liquidate(pid)
        else:
            expected = "perp: market closed" if self.status == CLOSED else "perp: not liquidatable"
            assert self._refusal("liquidate", pid, sender=self.liquidator) == expected

    @rule(move=st.integers(-15, 15), minutes=st.integers(1, 2_000))
    def move_price(self, move: int, minutes: int) -> None:
        if self.status == OPEN:  # the feed's FROZEN policy holds the close while the market is closed
            self.price = max(PRICE // 10, self.price * (100 + move) // 100)
        boa.env.time_travel(seconds=minutes * 60)
        transmit(self.feed, self.reporters, self.price, self.status)

    @rule(amount=st.integers(1, 200_000))
    def lp_deposit(self, amount: int) -> None:
        self._mint(self.lp, amount * USDC, self.vault.address)
        self.total += amount * USDC
        with boa.env.prank(self.lp):
            self.vault.deposit(amount * USDC, self.lp)
        self.lp_in += amount * USDC

    @rule(fraction=st.integers(1, 100))
    def lp_withdraw(self, fraction: int) -> None:
        most = self.vault.maxWithdraw(self.lp)
        amount = most * fraction // 100
        if amount == 0:
            return
        with boa.env.prank(self.lp):
            self.vault.withdraw(amount, self.lp, self.lp)
        # the reserved assets cannot leave
        with boa.env.prank(self.lp):
            if self.vault.maxWithdraw(self.lp) < self.vault.convertToAssets(self.vault.balanceOf(self.lp)):
                try:
                    self.vault.withdraw(self.vault.maxWithdraw(self.lp) + 1, self.lp, self.lp)
                    raise AssertionError("withdrew reserved assets")
                except boa.BoaError:
                    pass

    @invariant()
    def vault_covers_max_payouts(self) -> None:
        if not hasattr(self, "market"):
            return
        reserved = sum(self.market.position_reservation(i) for i in self._open_ids())
        assert self.vault.totalAssets() >= self.vault.reserved() >= reserved

    @invariant()
    def usdc_conserved(self) -> None:
        if not hasattr(self, "market"):
            return
        holders = [*self.traders, self.market.address, self.vault.address, self.liquidator, self.lp]
        assert sum(self.usdc.balanceOf(h) for h in holders) == self.total

    @invariant()
    def market_holds_margins(self) -> None:
        if not hasattr(self, "market"):
            return
        margins = sum(self.market.position(i).margin for i in self._open_ids())
        assert self.usdc.balanceOf(self.market.address) == margins + self.market.escrowed_margin()


def _token(admin: str) -> Any:
    """A stock token without compliance: the perps read only its UI multiplier."""
    from tests.support.contracts import AAPL_ISIN, DECIMALS, HEARTBEAT

    registry = deployer("compliance/IdentityRegistry.vy").deploy()
    sanctions = deployer("compliance/SanctionsList.vy").deploy()
    reserve = deployer("oracle/ReserveFeed.vy").deploy(DECIMALS, "AAPLx reserves")
    return deployer("token/StockToken.vy").deploy(
        "Apple Inc. tokenized stock",
        "AAPLx",
        DECIMALS,
        AAPL_ISIN,
        "AAPL",
        "https://equitoken.example/terms/AAPLx",
        PROFILE_OPEN,
        sanctions.address,
        registry.address,
        reserve.address,
        HEARTBEAT,
    )


PerpMachine.TestCase.settings = settings(
    max_examples=5, stateful_step_count=25, deadline=None, derandomize=True, phases=[Phase.generate]
)
TestPerpStateMachine = PerpMachine.TestCase


def test_fresh_chain(fresh_chain: Any) -> None:
    """Anchor: the machine runs on its own chain (see ``fresh_chain``)."""
