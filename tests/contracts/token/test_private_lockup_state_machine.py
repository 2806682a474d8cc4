"""Random issuances with lock-ups, requests, approvals, rejections, buybacks and waits against a model of
the lock-up maths in ``lockups.vy`` and ``PrivateShareToken.vy``.

Named invariants:
- ``locked_matches_the_model``: L(h, t) for now and several later times is the model's sum of lots;
- ``reservations_within_balances``: P(h) <= B(h), and P(h) is the sum of h's pending requests;
- ``locked_within_balances``: L(h, now) <= B(h);
- ``supply_is_the_sum_of_balances``.
Every approval goes through exactly when the model says the amount is within U(h, now), and is refused
with the lock-up's reason otherwise, moving nothing.
"""

from typing import Any, ClassVar

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from tests.support.contracts import actor
from tests.support.contracts.private import DAY, PrivateWorld, deploy_private_world

HOLDERS = [actor(f"sm-holder-{i}") for i in range(3)]
UNLOCK_OFFSETS = (0, DAY, 2 * DAY, 5 * DAY)
LOOK_AHEAD = (0, DAY // 2, DAY, 3 * DAY, 6 * DAY)

who = st.integers(min_value=0, max_value=len(HOLDERS) - 1)
amounts = st.integers(min_value=1, max_value=1_000)


class LockupMachine(RuleBasedStateMachine):
    world: ClassVar[PrivateWorld]
    outcomes: ClassVar[dict[str, int]] = {"approved": 0, "locked": 0, "bought_back_locked": 0, "steps": 0}

    def __init__(self) -> None:
        super().__init__()
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        self.lots: dict[str, dict[int, int]] = {h: {} for h in HOLDERS}  # holder -> unlock_at -> amount
        self.pending: dict[int, tuple[str, str, int]] = {}

    def teardown(self) -> None:
        self.anchor.__exit__(None, None, None)

    @property
    def token(self) -> Any:
        return self.world.token

    @staticmethod
    def now() -> int:
        timestamp: int = boa.env.evm.patch.timestamp
        return timestamp

    def locked(self, holder: str, at: int) -> int:
        return sum(amount for unlock, amount in self.lots[holder].items() if unlock > at)

    @initialize()
    def seed(self) -> None:
        # Every holder starts with unlocked shares and a lot that unlocks in a day.
        for holder in HOLDERS:
            self.issue(HOLDERS.index(holder), 500, 0)
            self.issue(HOLDERS.index(holder), 500, DAY)

    @rule(index=who, amount=amounts, offset=st.sampled_from(UNLOCK_OFFSETS))
    def issue(self, index: int, amount: int, offset: int) -> None:
        holder, unlock = HOLDERS[index], self.now() + offset
        self.world.issue(holder, amount, unlock)
        if offset:
            self.lots[holder][unlock] = self.lots[holder].get(unlock, 0) + amount

    @rule(sender=who, receiver=who, part=st.integers(min_value=1, max_value=100))
    def request(self, sender: int, receiver: int, part: int) -> None:
        if sender == receiver:
            return
        holder = HOLDERS[sender]
        free = self.token.balanceOf(holder) - self.token.pending_out(holder)
        amount = free * part // 100
        if amount == 0:
            return
        request_id = self.world.request(holder, HOLDERS[receiver], amount)
        self.pending[request_id] = (holder, HOLDERS[receiver], amount)

    @rule(data=st.data())
    def decide(self, data: st.DataObject) -> None:
        if not self.pending:
            return
        request_id = data.draw(st.sampled_from(sorted(self.pending)))
        sender, receiver, amount = self.pending[request_id]
        unlocked = self.token.balanceOf(sender) - self.locked(sender, self.now())
        if amount <= unlocked:
            before = (self.token.balanceOf(sender), self.token.balanceOf(receiver))
            self.world.approve(request_id)
            assert (self.token.balanceOf(sender), self.token.balanceOf(receiver)) == (
                before[0] - amount,
                before[1] + amount,
            )
            self.outcomes["approved"] += 1
            del self.pending[request_id]
            return
        before_snapshot = self.world.snapshot(sender, receiver)
        with boa.reverts("token is in its lock-up period"):
            self.world.approve(request_id)
        assert self.world.snapshot(sender, receiver) == before_snapshot
        self.outcomes["locked"] += 1
        if data.draw(st.booleans()):
            self.world.reject(request_id, "lock-up")
            del self.pending[request_id]

    @rule(index=who, part=st.integers(min_value=1, max_value=100))
    def buy_back(self, index: int, part: int) -> None:
        holder = HOLDERS[index]
        balance = self.token.balanceOf(holder)
        amount = (balance - self.token.pending_out(holder)) * part // 100
        if amount == 0:
            return
        from_locked = max(0, amount - (balance - self.locked(holder, self.now())))
        if from_locked:
            self.outcomes["bought_back_locked"] += 1
        with boa.env.prank(self.world.issuer):
            self.token.buy_back(holder, amount)
        # The model: the lots that unlock last give first.
        for unlock in sorted(self.lots[holder], reverse=True):
            if from_locked == 0:
                break
            if unlock <= self.now():
                continue
            taken = min(from_locked, self.lots[holder][unlock])
            self.lots[holder][unlock] -= taken
            from_locked -= taken
        assert from_locked == 0

    @rule(seconds=st.sampled_from((3_600, DAY, 3 * DAY)))
    def wait(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)
        # A lot whose lock-up ended no longer counts anywhere (the contract prunes it when it adds).
        now = self.now()
        for lots in self.lots.values():
            for unlock in [u for u in lots if u <= now]:
                del lots[unlock]

    @invariant()
    def locked_matches_the_model(self) -> None:
        self.outcomes["steps"] += 1
        now = self.now()
        for holder in HOLDERS:
            for ahead in LOOK_AHEAD:
                assert self.token.locked_balance_at(holder, now + ahead) == self.locked(holder, now + ahead)

    @invariant()
    def reservations_within_balances(self) -> None:
        for holder in HOLDERS:
            pending = sum(amount for sender, _, amount in self.pending.values() if sender == holder)
            assert self.token.pending_out(holder) == pending <= self.token.balanceOf(holder)

    @invariant()
    def locked_within_balances(self) -> None:
        for holder in HOLDERS:
            assert self.token.locked_balance(holder) <= self.token.balanceOf(holder)

    @invariant()
    def supply_is_the_sum_of_balances(self) -> None:
        assert self.token.totalSupply() == sum(self.token.balanceOf(h) for h in HOLDERS)


def test_lockup_maths(fresh_chain: Any) -> None:
    world = deploy_private_world("sm")
    for number, holder in enumerate(HOLDERS, start=1):
        world.register(number, holder, kyc_days=3_650)
    LockupMachine.world = world
    LockupMachine.TestCase.settings = settings(
        max_examples=8, stateful_step_count=35, deadline=None, derandomize=True
    )
    LockupMachine.TestCase().runTest()
    assert min(LockupMachine.outcomes.values()) > 0, (
        LockupMachine.outcomes
    )  # every path ran (about 250 steps)
