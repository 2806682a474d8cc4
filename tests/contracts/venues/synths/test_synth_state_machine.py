"""Long random runs over a real SynthVault, Synth, stock token, quorum price feed and test USDC, with
three writers, a liquidator and a donor, the price moving and the market closing and halting.

Every action's outcome is predicted from the Python model of the vault's maths
(``tests.support.contracts.synths``): the call either does exactly what the model says or reverts
with the reason the model gives, changing nothing.

Named invariants:
- ``healthy_stay_healthy`` (in the rules): after any action but a price move, every position that
  was at or above the minimum ratio still is;
- ``no_action_creates_an_unhealthy_position`` (in the rules): open, mint and withdraw leave their
  position at or above the minimum ratio, or revert;
- ``positions_add_up``: the positions' collateral adds up to `total_collateral`, which is the vault's
  USDC balance less the donations; their debt to `total_debt`, which with `bad_debt` is the
  synthetic's supply.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.support.contracts import DECIMALS, HEARTBEAT, deployer
from tests.support.contracts import OPEN as PROFILE_OPEN
from tests.support.contracts.oracle import QUORUM, reporter_key, transmit
from tests.support.contracts.synths import (
    MAX_AGE,
    MAX_ANSWER,
    PRICE,
    SYNTH,
    USDC,
    WAD,
    healthy,
    max_debt,
    now,
    seized,
)
from tests.support.contracts.venues import CLOSED, HALTED, OPEN

DEPLOYERS = {
    name: deployer(path)
    for name, path in {
        "token": "token/StockToken.vy",
        "reserve": "oracle/ReserveFeed.vy",
        "feed": "oracle/PriceFeed.vy",
        "usdc": "settlement/TestUSDC.vy",
        "synth": "venues/synths/Synth.vy",
        "vault": "venues/synths/SynthVault.vy",
    }.items()
}
REPORTERS = [reporter_key(i) for i in range(QUORUM)]
WRITERS = [boa.env.generate_address(f"sv-writer-{i}") for i in range(3)]
LIQUIDATOR = boa.env.generate_address("sv-liquidator")
DONOR = boa.env.generate_address("sv-donor")
HOLDERS = [*WRITERS, LIQUIDATOR, DONOR]
FUNDS = 10**9 * USDC
ZERO = "0x" + "00" * 20

writer = st.sampled_from(range(len(WRITERS)))
# Basis points of what is at stake, all of it often, a little more sometimes.
part = st.one_of(st.just(10_000), st.integers(min_value=1, max_value=10_500))


@dataclass(frozen=True)
class Deployment:
    """The contracts every example starts from, deployed and funded once per test."""

    token: Any
    feed: Any
    usdc: Any
    synth: Any
    vault: Any


def deploy() -> Deployment:
    """Deploy the vault and its parts, fund and approve every actor, publish an open price."""
    admin = boa.env.generate_address("sv-admin")
    with boa.env.prank(admin):
        reserve = DEPLOYERS["reserve"].deploy(DECIMALS, "reserves")
        token = DEPLOYERS["token"].deploy(
            "Synth machine", "SMx", DECIMALS, "US0000000004", "SM", "", PROFILE_OPEN,
            ZERO, ZERO, reserve.address, HEARTBEAT,
        )  # fmt: skip
        feed = DEPLOYERS["feed"].deploy(8, "SM / USD", token.address, [a.address for a in REPORTERS], QUORUM)
        feed.set_bounds(0, feed.max_report_age(), 0)
        usdc = DEPLOYERS["usdc"].deploy()
        synth = DEPLOYERS["synth"].deploy("Equitoken Synthetic SM", "sSM")
        vault = DEPLOYERS["vault"].deploy(
            usdc.address, synth.address, feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )
        synth.set_minter(vault.address, True)
        for wallet in HOLDERS:
            usdc.mint(wallet, FUNDS)
    for wallet in HOLDERS:
        usdc.approve(vault.address, 2**256 - 1, sender=wallet)
    transmit(feed, REPORTERS, PRICE, OPEN)
    # The liquidator holds the synthetic it burns, from a deeply collateralised position of its own.
    vault.open_position(10**8 * USDC, 100_000 * SYNTH, sender=LIQUIDATOR)
    return Deployment(token, feed, usdc, synth, vault)


class SynthMachine(RuleBasedStateMachine):
    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        d = self.deployment
        self.vault, self.synth, self.usdc, self.feed = d.vault, d.synth, d.usdc, d.feed
        self.price, self.status = PRICE, OPEN
        self.donated_usdc = 0
        self.ids: list[int] = []  # the writers' positions, open or closed

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # -- reading and predicting

    def _position(self, id_: int) -> tuple[str, int, int]:
        owner, collateral, debt = self.vault.position(id_)
        return str(owner), int(collateral), int(debt)

    def _healthy_ids(self) -> set[int]:
        ids = [*self.ids, 1]
        return {
            i for i in ids if self._position(i)[0] != ZERO and healthy(*self._position(i)[1:], self.price)
        }

    def _suspension(self) -> str | None:
        if self.status == HALTED:
            return "guard: market halted"
        if self.status == CLOSED:
            return "synth: market closed"
        return None

    def _snapshot(self) -> tuple[Any, ...]:
        return (
            self.vault.total_collateral(),
            self.vault.total_debt(),
            self.vault.bad_debt(),
            tuple(self._position(i) for i in [1, *self.ids]),
            tuple(self.usdc.balanceOf(h) for h in [*HOLDERS, self.vault.address]),
            tuple(self.synth.balanceOf(h) for h in [*HOLDERS, self.vault.address]),
        )

    def _act(self, reason: str | None, call: Any) -> Any:
        """Run `call`; expect it to revert with `reason` changing nothing, or succeed if None."""
        before_healthy = self._healthy_ids()
        if reason is not None:
            before = self._snapshot()
            with boa.reverts(reason):
                call()
            assert self._snapshot() == before
            return None
        result = call()
        # healthy_stay_healthy
        still = {i for i in before_healthy if self._position(i)[0] != ZERO}
        assert still <= self._healthy_ids()
        return result

    def _live(self, index: int) -> int | None:
        if not self.ids:
            return None
        return self.ids[index % len(self.ids)]

    # -- price actions

    @precondition(lambda self: self.status != CLOSED)
    @rule(bps=st.one_of(st.integers(min_value=5_000, max_value=20_000), st.integers(10_100, 15_000)))
    def move_price(self, bps: int) -> None:
        # While closed the feed repeats the frozen close.
        self.price = max(1, self.price * bps // 10_000)
        boa.env.time_travel(seconds=30)
        transmit(self.feed, REPORTERS, self.price, self.status)

    @rule(status=st.sampled_from([OPEN, CLOSED, HALTED]))
    def set_status(self, status: int) -> None:
        if status == self.status:
            return
        boa.env.time_travel(seconds=30)
        self.status = status
        # A closed round repeats the frozen close; reopening moves nothing either.
        transmit(self.feed, REPORTERS, self.price, status)

    # -- user actions

    @rule(who=writer, collateral=st.integers(min_value=1, max_value=10**6 * USDC), bps=part)
    def open_position(self, who: int, collateral: int, bps: int) -> None:
        amount = max_debt(collateral, self.price) * bps // 10_000
        reason = self._suspension() or (
            None if healthy(collateral, amount, self.price) else "synth: below minimum collateral ratio"
        )
        id_ = self._act(reason, lambda: self.vault.open_position(collateral, amount, sender=WRITERS[who]))
        if id_ is not None:
            self.ids.append(id_)
            assert self._position(id_) == (WRITERS[who], collateral, amount)
            assert healthy(collateral, amount, self.price)  # no_action_creates_an_unhealthy_position

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0), payer=st.sampled_from(HOLDERS), amount=st.integers(1, 10**5 * USDC))
    def deposit(self, index: int, payer: str, amount: int) -> None:
        id_ = self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        reason = "synth: position closed" if owner == ZERO else None
        self._act(reason, lambda: self.vault.deposit(id_, amount, sender=payer))
        if reason is None:
            assert self._position(id_) == (owner, collateral + amount, debt)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0), bps=part)
    def withdraw(self, index: int, bps: int) -> None:
        id_ = self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        if owner == ZERO:
            return
        spare = collateral - (
            0 if debt == 0 else -(-debt * self.vault.min_collateral_ratio() * self.price // (10**20 * WAD))
        )
        amount = max(1, max(spare, 0) * bps // 10_000)
        if amount > collateral:
            reason: str | None = "synth: amount exceeds collateral"
        elif debt == 0:
            reason = None
        else:
            reason = self._suspension() or (
                None
                if healthy(collateral - amount, debt, self.price)
                else "synth: below minimum collateral ratio"
            )
        self._act(reason, lambda: self.vault.withdraw(id_, amount, sender=owner))
        if reason is None:
            assert self._position(id_) == (owner, collateral - amount, debt)
            assert debt == 0 or healthy(collateral - amount, debt, self.price)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0), bps=part)
    def mint(self, index: int, bps: int) -> None:
        id_ = self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        if owner == ZERO:
            return
        amount = max(1, max(max_debt(collateral, self.price) - debt, 0) * bps // 10_000)
        reason = self._suspension() or (
            None
            if healthy(collateral, debt + amount, self.price)
            else "synth: below minimum collateral ratio"
        )
        self._act(reason, lambda: self.vault.mint(id_, amount, sender=owner))
        if reason is None:
            assert self._position(id_) == (owner, collateral, debt + amount)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0), bps=part)
    def burn(self, index: int, bps: int) -> None:
        id_ = self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        if owner == ZERO or debt == 0:
            return
        amount = max(1, debt * bps // 10_000)
        if amount > debt:
            reason: str | None = "synth: amount exceeds debt"
        else:
            reason = self._suspension()
        self._act(reason, lambda: self.vault.burn(id_, amount, sender=LIQUIDATOR))
        if reason is None:
            assert self._position(id_) == (owner, collateral, debt - amount)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0))
    def close(self, index: int) -> None:
        id_ = self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        if owner == ZERO:
            return
        # The owner buys back what it owes from the liquidator's float.
        self.synth.transfer(owner, debt, sender=LIQUIDATOR)
        reason = self._suspension() if debt else None
        before = self.usdc.balanceOf(owner)
        self._act(reason, lambda: self.vault.close_position(id_, sender=owner))
        if reason is None:
            assert self._position(id_) == (ZERO, 0, 0)
            assert self.usdc.balanceOf(owner) == before + collateral

    @precondition(lambda self: self.ids)
    @rule(who=writer, picks=st.lists(st.integers(min_value=0), min_size=1, max_size=4))
    def close_many(self, who: int, picks: list[int]) -> None:
        owner = WRITERS[who]
        mine = [i for i in self.ids if self._position(i)[0] == owner]
        if not mine:
            return
        ids = [mine[p % len(mine)] for p in picks]
        debt = sum(self._position(i)[2] for i in set(ids))
        self.synth.transfer(owner, debt, sender=LIQUIDATOR)
        # The contract's order: each id in turn; the price once, at the first position with debt.
        reason: str | None = None
        seen: set[int] = set()
        for i in ids:
            if i in seen:
                reason = "synth: position closed"
                break
            if self._position(i)[2] and not any(self._position(j)[2] for j in seen):
                reason = self._suspension()
                if reason is not None:
                    break
            seen.add(i)
        self._act(reason, lambda: self.vault.close_many(ids, sender=owner))
        if reason is None:
            assert all(self._position(i) == (ZERO, 0, 0) for i in ids)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(min_value=0), bps=part)
    def liquidate(self, index: int, bps: int) -> None:
        # An unhealthy position if there is one: those are the interesting ones.
        unhealthy = [
            i for i in self.ids if self._position(i)[2] and not healthy(*self._position(i)[1:], self.price)
        ]
        id_ = unhealthy[index % len(unhealthy)] if unhealthy else self._live(index)
        assert id_ is not None
        owner, collateral, debt = self._position(id_)
        if owner == ZERO or debt == 0:
            return
        amount = max(1, debt * bps // 10_000)
        if amount > debt:
            reason: str | None = "synth: amount exceeds debt"
        else:
            reason = self._suspension() or (
                "synth: position healthy" if healthy(collateral, debt, self.price) else None
            )
        paid = self._act(reason, lambda: self.vault.liquidate(id_, amount, sender=LIQUIDATOR))
        if reason is None:
            expected = seized(amount, self.price, collateral)
            assert paid == expected
            left = debt - amount if collateral > expected else 0
            assert self._position(id_) == (owner, collateral - expected, left)

    @rule(dollars=st.integers(min_value=1, max_value=10**4 * USDC), synthetic=st.integers(0, SYNTH))
    def donate(self, dollars: int, synthetic: int) -> None:
        before = (self.vault.total_collateral(), self.vault.total_debt())
        self.usdc.transfer(self.vault.address, dollars, sender=DONOR)
        self.synth.transfer(self.vault.address, synthetic, sender=LIQUIDATOR)
        self.donated_usdc += dollars
        assert (self.vault.total_collateral(), self.vault.total_debt()) == before

    @rule()
    def keep_fresh(self) -> None:
        boa.env.time_travel(seconds=30)
        transmit(self.feed, REPORTERS, self.price, self.status)

    # -- invariants

    @invariant()
    def positions_add_up(self) -> None:
        positions = [self._position(i) for i in [1, *self.ids]]
        assert sum(p[1] for p in positions) == self.vault.total_collateral()
        assert self.vault.total_collateral() == self.usdc.balanceOf(self.vault.address) - self.donated_usdc
        assert sum(p[2] for p in positions) == self.vault.total_debt()
        assert self.vault.total_debt() + self.vault.bad_debt() == self.synth.totalSupply()
        assert now() - self.feed.latestRoundData()[2] <= MAX_AGE


def test_synth_vault_invariants(fresh_chain: Any) -> None:
    SynthMachine.deployment = deploy()
    SynthMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
    SynthMachine.TestCase().runTest()
