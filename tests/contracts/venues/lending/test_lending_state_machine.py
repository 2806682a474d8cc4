"""Long random runs over a real LendingMarket, stock token, quorum price feed, StockOracle and test USDC,
with several lenders and borrowers, a liquidator, interest and a fee.

Every action's outcome is predicted from the Python model of the market's maths
(``tests.support.contracts.lending``) on the totals `expected_market` reports: the call either does
exactly what the model says (its return values and the totals it writes) or reverts with the reason
the model gives, in the contract's order of checks.

Named invariants:
- ``solvent``: the market holds at least the supply less the borrow in USDC, and lends no more than
  it has been supplied;
- ``acting_position_healthy`` (checked in the rules): a borrow or a collateral withdrawal leaves its
  position healthy at the LLTV less the oracle's cut; only a price move or time makes it unhealthy;
- ``liquidation_never_worsens`` (in the rules): a liquidation that leaves both collateral and debt
  does not raise the position's debt per unit of collateral;
- ``shares_redeem_for_no_more_than_paid_in``: all supply shares together convert to no more than the
  supply, and no lender's withdrawals plus holdings exceed its deposits plus its part of the
  interest (plus a unit of rounding dust per action);
- ``bad_debt_only_without_collateral`` (in the rules): a liquidation realises bad debt only when it
  leaves the position without collateral;
- ``positions_add_up``: the positions' supply and borrow shares add up to the totals, and their
  collateral to the market's balance of the token.
"""

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from tests.support.contracts import DECIMALS, HEARTBEAT, deployer
from tests.support.contracts import OPEN as PROFILE_OPEN
from tests.support.contracts.lending import (
    BORROW,
    CLOSED_CUT,
    GRACE,
    LIQUIDATE,
    LLTV,
    MAX_AGE,
    MAX_ANSWER,
    ORACLE_PRICE_SCALE,
    PRICE,
    STATE_GRACE,
    STATE_HALTED,
    STATE_NO_PRICE,
    STATE_RESERVE_PAUSED,
    VIRTUAL_SHARES,
    WAD,
    WITHDRAW_COLLATERAL,
    ZERO,
    MarketParams,
    lif,
    market_events,
    market_id,
    max_borrow,
    mul_div,
    now,
    publish,
    to_assets,
    to_shares,
)
from tests.support.contracts.oracle import QUORUM, reporter_key, transmit
from tests.support.contracts.venues import CLOSED, HALTED, OPEN, SHARE, USDC

DEPLOYERS = {
    name: deployer(path)
    for name, path in {
        "token": "token/StockToken.vy",
        "reserve": "oracle/ReserveFeed.vy",
        "feed": "oracle/PriceFeed.vy",
        "usdc": "settlement/TestUSDC.vy",
        "oracle": "venues/lending/StockOracle.vy",
        "irm": "mocks/FixedRateIrm.vy",
        "lending": "venues/lending/LendingMarket.vy",
    }.items()
}
REPORTERS = [reporter_key(i) for i in range(QUORUM)]
LENDERS = [boa.env.generate_address(f"lm-lender-{i}") for i in range(3)]
BORROWERS = [boa.env.generate_address(f"lm-borrower-{i}") for i in range(3)]
LIQUIDATOR = boa.env.generate_address("lm-liquidator")
FEE_RECIPIENT = boa.env.generate_address("lm-fee-recipient")
HOLDERS = [*LENDERS, *BORROWERS, LIQUIDATOR, FEE_RECIPIENT]
YEAR = 365 * 86_400
RATE = WAD // 2 // YEAR  # 50% a year
FEE = WAD // 10
STOCK_FUNDS = 10_000 * SHARE
USDC_FUNDS = 10**9 * USDC

lender = st.sampled_from(range(len(LENDERS)))
borrower = st.sampled_from(range(len(BORROWERS)))
# Basis points of what is at stake, all of it often.
part = st.one_of(st.just(10_000), st.integers(min_value=1, max_value=10_000))


class Totals(NamedTuple):
    supply_assets: int
    supply_shares: int
    borrow_assets: int
    borrow_shares: int
    last_update: int
    fee: int


@dataclass(frozen=True)
class Deployment:
    """The contracts every example starts from, deployed and funded once per test."""

    admin: str
    token: Any
    reserve: Any
    feed: Any
    usdc: Any
    oracle: Any
    irm: Any
    lending: Any
    params: MarketParams


def deploy() -> Deployment:
    """Deploy the market and its parts, fund and approve every actor, open the market past its grace."""
    admin = boa.env.generate_address("lm-admin")
    with boa.env.prank(admin):
        reserve = DEPLOYERS["reserve"].deploy(DECIMALS, "reserves")
        reserve.grantRole(reserve.UPDATER_ROLE(), admin)
        reserve.update(STOCK_FUNDS * len(BORROWERS), now())
        token = DEPLOYERS["token"].deploy(
            "Lending machine", "LMx", DECIMALS, "US0000000003", "LM", "", PROFILE_OPEN,
            ZERO, ZERO, reserve.address, HEARTBEAT,
        )  # fmt: skip
        token.grantRole(token.MINTER_ROLE(), admin)
        feed = DEPLOYERS["feed"].deploy(8, "LM / USD", token.address, [a.address for a in REPORTERS], QUORUM)
        feed.set_bounds(0, feed.max_report_age(), 0)
        usdc = DEPLOYERS["usdc"].deploy()
        irm = DEPLOYERS["irm"].deploy(RATE)
        lending = DEPLOYERS["lending"].deploy(admin)
        lending.enable_irm(irm.address)
        lending.enable_lltv(LLTV)
        lending.set_fee_recipient(FEE_RECIPIENT)
        for wallet in BORROWERS:
            token.mint(wallet, STOCK_FUNDS)
        for wallet in HOLDERS:
            usdc.mint(wallet, USDC_FUNDS)
    transmit(feed, REPORTERS, PRICE, OPEN)
    boa.env.time_travel(seconds=GRACE)
    transmit(feed, REPORTERS, PRICE, OPEN)
    reserve.update(token.totalSupply(), now(), sender=admin)
    with boa.env.prank(admin):
        oracle = DEPLOYERS["oracle"].deploy(feed.address, 6, MAX_AGE, 1, MAX_ANSWER, CLOSED_CUT, GRACE, admin)
    params = MarketParams(usdc.address, token.address, oracle.address, irm.address, LLTV)
    lending.create_market(params)
    lending.set_fee(params, FEE, sender=admin)
    for wallet in HOLDERS:
        with boa.env.prank(wallet):
            token.approve(lending.address, 2**256 - 1)
            usdc.approve(lending.address, 2**256 - 1)
    return Deployment(admin, token, reserve, feed, usdc, oracle, irm, lending, params)


class LendingMachine(RuleBasedStateMachine):
    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the shared deployment and rolls back to
        # it in `teardown`: balances, prices, clock and block number alike.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        d = self.deployment
        self.lending, self.params, self.oracle, self.feed = d.lending, d.params, d.oracle, d.feed
        self.id = market_id(d.params)
        self.price, self.status = PRICE, OPEN
        self.deposited = dict.fromkeys(LENDERS, 0)
        self.withdrawn = dict.fromkeys(LENDERS, 0)
        self.interest_share = dict.fromkeys(LENDERS, 0)
        self.actions = 0
        self.events: list[tuple[str, dict[str, Any]]] = []

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # -- reading and predicting

    def _expected(self) -> Totals:
        """The totals with the interest up to now, as the next action will see them."""
        return Totals(*self.lending.expected_market(self.id))

    def _stored(self) -> Totals:
        return Totals(*self.lending.market(self.id))

    def _position(self, user: str) -> tuple[int, int, int]:
        supply_shares, borrow_shares, collateral = self.lending.position(self.id, user)
        return int(supply_shares), int(borrow_shares), int(collateral)

    def _refusal(self, action: int) -> str | None:
        """Return the oracle's reason to refuse `action` now, or None."""
        state = self.oracle.state()
        # The reporters and the custodian keep the feeds fresh: a price always, reserves always.
        assert state not in (STATE_NO_PRICE, STATE_RESERVE_PAUSED)
        if state == STATE_HALTED:
            return "guard: market halted"
        if state == STATE_GRACE and action == LIQUIDATE:
            return "oracle: reopening grace"
        return None

    def _healthy(self, m: Totals, borrow_shares: int, collateral: int, price: int, max_ltv: int) -> bool:
        if borrow_shares == 0:
            return True
        debt = to_assets(borrow_shares, m.borrow_assets, m.borrow_shares, True)
        return debt <= max_borrow(collateral, price, max(max_ltv, 0))

    def _act(self, call: Any) -> Any:
        """Run a call expected to succeed, crediting each lender its part of any interest accrued."""
        held = {wallet: self._position(wallet)[0] for wallet in LENDERS}
        supply_shares = self._stored().supply_shares
        result = call()
        self.events = market_events(self.lending)
        for name, args in self.events:
            if name == "AccrueInterest" and supply_shares:
                for wallet in LENDERS:
                    self.interest_share[wallet] += -(-args["interest"] * held[wallet] // supply_shares)
        self.actions += 1
        return result

    def _assert_acting_position_healthy(self, user: str, action: int) -> None:
        """acting_position_healthy: the position is within the LLTV less the cut the oracle gives now."""
        _, borrow_shares, collateral = self._position(user)
        if borrow_shares == 0:
            return
        price, cut = self.oracle.quote(action)
        assert self._healthy(self._stored(), borrow_shares, collateral, price, LLTV - cut)

    # -- a market in use

    @initialize(
        amounts=st.lists(st.integers(min_value=10**5 * USDC, max_value=10**6 * USDC), min_size=3, max_size=3),
        collateral=st.lists(st.integers(min_value=SHARE, max_value=100 * SHARE), min_size=3, max_size=3),
        fractions=st.lists(st.integers(min_value=9_500, max_value=10_000), min_size=3, max_size=3),
    )
    def lend_and_borrow(self, amounts: list[int], collateral: list[int], fractions: list[int]) -> None:
        """Start from a market in use: every lender supplies, every borrower borrows near its limit."""
        for who, amount in enumerate(amounts):
            self.supply(who, amount, False)
        for who, (pledged, fraction) in enumerate(zip(collateral, fractions, strict=True)):
            self.supply_collateral(who, pledged)
            self.borrow(who, fraction)

    # -- lenders

    @rule(who=lender, amount=st.integers(min_value=1, max_value=10**6 * USDC), by_shares=st.booleans())
    def supply(self, who: int, amount: int, by_shares: bool) -> None:
        wallet = LENDERS[who]
        m = self._expected()
        if by_shares:
            shares = amount * VIRTUAL_SHARES
            assets = to_assets(shares, m.supply_assets, m.supply_shares, True)
            args = (0, shares)
        else:
            assets = amount
            shares = to_shares(assets, m.supply_assets, m.supply_shares, False)
            args = (assets, 0)
        result = self._act(lambda: self.lending.supply(self.params, *args, wallet, sender=wallet))
        assert tuple(result) == (assets, shares)
        assert self._stored() == m._replace(
            supply_assets=m.supply_assets + assets, supply_shares=m.supply_shares + shares
        )
        self.deposited[wallet] += assets

    @rule(who=lender, fraction=part, by_shares=st.booleans())
    def withdraw(self, who: int, fraction: int, by_shares: bool) -> None:
        wallet = LENDERS[who]
        held = self._position(wallet)[0]
        m = self._expected()
        if by_shares:
            shares = held * fraction // 10_000
            assets = to_assets(shares, m.supply_assets, m.supply_shares, False)
            args = (0, shares)
        else:
            assets = to_assets(held, m.supply_assets, m.supply_shares, False) * fraction // 10_000
            shares = to_shares(assets, m.supply_assets, m.supply_shares, True)
            args = (assets, 0)
        if args == (0, 0):
            return
        with boa.env.prank(wallet):
            if shares > held:
                with boa.reverts("lending: insufficient supply"):
                    self.lending.withdraw(self.params, *args, wallet, wallet)
                return
            if m.supply_assets - assets < m.borrow_assets:
                with boa.reverts("lending: insufficient liquidity"):
                    self.lending.withdraw(self.params, *args, wallet, wallet)
                return
        result = self._act(lambda: self.lending.withdraw(self.params, *args, wallet, wallet, sender=wallet))
        assert tuple(result) == (assets, shares)
        assert self._stored() == m._replace(
            supply_assets=m.supply_assets - assets, supply_shares=m.supply_shares - shares
        )
        self.withdrawn[wallet] += assets

    # -- borrowers

    @rule(who=borrower, amount=st.integers(min_value=1, max_value=100 * SHARE))
    def supply_collateral(self, who: int, amount: int) -> None:
        wallet = BORROWERS[who]
        before = self._position(wallet)
        self._act(lambda: self.lending.supply_collateral(self.params, amount, wallet, sender=wallet))
        assert self._position(wallet) == (before[0], before[1], before[2] + amount)

    @rule(who=borrower, fraction=part)
    def withdraw_collateral(self, who: int, fraction: int) -> None:
        wallet = BORROWERS[who]
        _, borrow_shares, collateral = self._position(wallet)
        amount = collateral * fraction // 10_000
        if amount == 0:
            return
        m = self._expected()
        refusal = None
        if borrow_shares:
            refusal = self._refusal(WITHDRAW_COLLATERAL)
            if refusal is None:
                price, cut = self.oracle.quote(WITHDRAW_COLLATERAL)
                if not self._healthy(m, borrow_shares, collateral - amount, price, LLTV - cut):
                    refusal = "lending: insufficient collateral"
        if refusal is not None:
            with boa.env.prank(wallet), boa.reverts(refusal):
                self.lending.withdraw_collateral(self.params, amount, wallet, wallet)
            return
        self._act(
            lambda: self.lending.withdraw_collateral(self.params, amount, wallet, wallet, sender=wallet)
        )
        assert self._position(wallet)[2] == collateral - amount
        self._assert_acting_position_healthy(wallet, WITHDRAW_COLLATERAL)

    @rule(who=borrower, fraction=st.integers(min_value=1, max_value=12_000))
    def borrow(self, who: int, fraction: int) -> None:
        """Borrow a part of the headroom, up to 1.2 times it, or a little if there is none."""
        wallet = BORROWERS[who]
        _, borrow_shares, collateral = self._position(wallet)
        m = self._expected()
        refusal = self._refusal(BORROW)
        price, cut = (0, 0) if refusal else self.oracle.quote(BORROW)
        debt = to_assets(borrow_shares, m.borrow_assets, m.borrow_shares, True)
        headroom = max_borrow(collateral, price, max(LLTV - cut, 0)) - debt
        assets = headroom * fraction // 10_000 if headroom > 0 else fraction
        if assets == 0:
            return
        shares = to_shares(assets, m.borrow_assets, m.borrow_shares, True)
        after = m._replace(borrow_assets=m.borrow_assets + assets, borrow_shares=m.borrow_shares + shares)
        if refusal is None and not self._healthy(
            after, borrow_shares + shares, collateral, price, LLTV - cut
        ):
            refusal = "lending: insufficient collateral"
        if refusal is None and after.borrow_assets > after.supply_assets:
            refusal = "lending: insufficient liquidity"
        if refusal is not None:
            with boa.env.prank(wallet), boa.reverts(refusal):
                self.lending.borrow(self.params, assets, 0, wallet, wallet)
            return
        result = self._act(lambda: self.lending.borrow(self.params, assets, 0, wallet, wallet, sender=wallet))
        assert tuple(result) == (assets, shares)
        assert self._stored() == after
        self._assert_acting_position_healthy(wallet, BORROW)

    @rule(who=borrower, fraction=part, by_shares=st.booleans())
    def repay(self, who: int, fraction: int, by_shares: bool) -> None:
        wallet = BORROWERS[who]
        borrow_shares = self._position(wallet)[1]
        m = self._expected()
        if by_shares:
            shares = max(1, borrow_shares * fraction // 10_000)
            assets = to_assets(shares, m.borrow_assets, m.borrow_shares, True)
            args = (0, shares)
        else:
            assets = to_assets(borrow_shares, m.borrow_assets, m.borrow_shares, False) * fraction // 10_000
            shares = to_shares(assets, m.borrow_assets, m.borrow_shares, False)
            args = (assets, 0)
        if args == (0, 0):
            return
        if shares > borrow_shares:
            with boa.env.prank(wallet), boa.reverts("lending: repaying more than the debt"):
                self.lending.repay(self.params, *args, wallet)
            return
        result = self._act(lambda: self.lending.repay(self.params, *args, wallet, sender=wallet))
        assert tuple(result) == (assets, shares)
        assert self._stored() == m._replace(
            borrow_assets=max(m.borrow_assets - assets, 0), borrow_shares=m.borrow_shares - shares
        )

    # -- liquidations

    @rule(who=borrower, fraction=part, by_seized=st.booleans(), seek=st.booleans())
    def liquidate(self, who: int, fraction: int, by_seized: bool, seek: bool) -> None:
        """Liquidate a borrower, or, when seeking, the first one that is unhealthy if any is."""
        wallet = BORROWERS[who]
        if seek and self._refusal(LIQUIDATE) is None:
            price = self.oracle.quote(LIQUIDATE)[0]
            m = self._expected()
            for candidate in BORROWERS:
                _, borrow_shares, collateral = self._position(candidate)
                if not self._healthy(m, borrow_shares, collateral, price, LLTV):
                    wallet = candidate
                    break
        _, borrow_shares, collateral = self._position(wallet)
        m = self._expected()
        refusal = self._refusal(LIQUIDATE)
        price = 0 if refusal else self.oracle.quote(LIQUIDATE)[0]
        if refusal is None and self._healthy(m, borrow_shares, collateral, price, LLTV):
            refusal = "lending: position healthy"
        factor = lif(LLTV)
        if by_seized:
            seized = max(1, collateral * fraction // 10_000)
            quoted = mul_div(seized, price, ORACLE_PRICE_SCALE, True)
            repaid = to_shares(mul_div(quoted, WAD, factor, True), m.borrow_assets, m.borrow_shares, True)
            args = (seized, 0)
        else:
            repaid = max(1, borrow_shares * fraction // 10_000)
            seized = 0
            if price:
                repaid_down = to_assets(repaid, m.borrow_assets, m.borrow_shares, False)
                seized = mul_div(repaid_down * factor // WAD, ORACLE_PRICE_SCALE, price, False)
            args = (0, repaid)
        repaid_assets = to_assets(repaid, m.borrow_assets, m.borrow_shares, True)
        new_shares, new_collateral = borrow_shares - repaid, collateral - seized
        if refusal is None and repaid > borrow_shares:
            refusal = "lending: repaying more than the debt"
        if refusal is None and seized > collateral:
            refusal = "lending: seizing more than the collateral"
        if (
            refusal is None
            and new_collateral
            and new_shares
            and new_shares * collateral > borrow_shares * new_collateral
        ):
            refusal = "lending: liquidation worsens health"
        if refusal is not None:
            with boa.env.prank(LIQUIDATOR), boa.reverts(refusal):
                self.lending.liquidate(self.params, wallet, *args)
            return

        result = self._act(lambda: self.lending.liquidate(self.params, wallet, *args, sender=LIQUIDATOR))

        assert tuple(result) == (seized, repaid_assets)
        borrow_assets = max(m.borrow_assets - repaid_assets, 0)
        total_shares = m.borrow_shares - repaid
        bad_shares = bad_assets = 0
        if new_collateral == 0:
            bad_shares = new_shares
            bad_assets = min(borrow_assets, to_assets(bad_shares, borrow_assets, total_shares, True))
        assert self._stored() == m._replace(
            supply_assets=m.supply_assets - bad_assets,
            borrow_assets=borrow_assets - bad_assets,
            borrow_shares=total_shares - bad_shares,
        )
        (_, event), *_ = (e for e in self.events if e[0] == "Liquidate")
        assert (event["bad_debt_assets"], event["bad_debt_shares"]) == (bad_assets, bad_shares)
        _, shares_left, collateral_left = self._position(wallet)
        assert (shares_left, collateral_left) == (new_shares - bad_shares, new_collateral)
        # bad_debt_only_without_collateral
        if bad_assets or bad_shares:
            assert collateral_left == 0
            assert shares_left == 0
        # liquidation_never_worsens: b'/c' <= b/c when both stay.
        if collateral_left and shares_left:
            assert shares_left * collateral <= borrow_shares * collateral_left

    # -- the market and time

    @precondition(lambda self: self.status != CLOSED)
    @rule(percent=st.sampled_from([90, 80, 95, 60, 110, 105, 125, 150, 50]))
    def move_price(self, percent: int) -> None:
        """Publish a new price; a closed market's price is frozen at the close."""
        self.price = min(max(self.price * percent // 100, PRICE // 20), PRICE * 5)
        publish(self.feed, REPORTERS, self.price, self.status)

    @rule(status=st.sampled_from([OPEN, CLOSED, HALTED]))
    def set_status(self, status: int) -> None:
        """Close, halt or reopen the market at the current price."""
        self.status = status
        publish(self.feed, REPORTERS, self.price, status)

    @rule(seconds=st.integers(min_value=1, max_value=10 * 86_400))
    def pass_time(self, seconds: int) -> None:
        """Let interest run; the reporters and the custodian keep their feeds fresh."""
        publish(self.feed, REPORTERS, self.price, self.status, after=seconds)
        d = self.deployment
        d.reserve.update(d.token.totalSupply(), now(), sender=d.admin)

    @rule(rate=st.integers(min_value=0, max_value=2 * WAD // YEAR))
    def set_rate(self, rate: int) -> None:
        self.deployment.irm.set_rate(rate)

    # -- invariants

    @invariant()
    def solvent(self) -> None:
        m = self._stored()
        held = self.deployment.usdc.balanceOf(self.lending.address)
        assert held >= m.supply_assets - m.borrow_assets
        assert m.borrow_assets <= m.supply_assets

    @invariant()
    def shares_redeem_for_no_more_than_paid_in(self) -> None:
        m = self._stored()
        claims = [to_assets(self._position(w)[0], m.supply_assets, m.supply_shares, False) for w in HOLDERS]
        assert sum(claims) <= m.supply_assets
        for wallet, claim in zip(HOLDERS, claims, strict=False):
            if wallet in self.deposited:
                paid_in = self.deposited[wallet] + self.interest_share[wallet] + self.actions
                assert claim + self.withdrawn[wallet] <= paid_in

    @invariant()
    def positions_add_up(self) -> None:
        m = self._stored()
        positions = [self._position(w) for w in HOLDERS]
        assert sum(p[0] for p in positions) == m.supply_shares
        assert sum(p[1] for p in positions) == m.borrow_shares
        assert sum(p[2] for p in positions) == self.deployment.token.balanceOf(self.lending.address)


def test_lending_invariants(fresh_chain: Any) -> None:
    LendingMachine.deployment = deploy()
    LendingMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
    LendingMachine.TestCase().runTest()
