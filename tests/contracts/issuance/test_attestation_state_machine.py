"""Random runs of attestation mints, redemptions and waits over a real AttestationMinter, stock token,
quorum price feed and test USDC, against a Python model of the linear-decay limits.

Named invariants:
- ``limits_match_the_model``: what each user and the token may still move is exactly
  L - max(0, U0 - d * (t - t0)) as the model computes it, and every flow the model refuses reverts
  naming the first limit it exceeds and what that limit had available;
- ``usdc_is_conserved``: USDC only moves between the users and the treasury, and the treasury's
  balance moved by exactly the notionals minted minus those redeemed;
- ``supply_is_the_users_tokens``: the token's supply is the sum of the users' balances, and it moved by
  exactly the quantities minted minus those redeemed.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.support.contracts import ONE_SHARE, OPEN, TokenFactory, actor
from tests.support.contracts.attestation import (
    MAX_ANSWER,
    MIN_ANSWER,
    QUOTE_PRICE,
    SELL,
    TOKEN_DECAY,
    TOKEN_LIMIT,
    USDC,
    USER_DECAY,
    USER_LIMIT,
    World,
    deploy_world,
)

USERS = [actor(f"sm-user-{i}") for i in range(3)]
FUNDS = 10_000_000 * USDC
REFRESH_AFTER = 3_000  # seconds: attest the reserves again before the token's heartbeat runs out
PATIENT_GUARD = (10**9, MIN_ANSWER, MAX_ANSWER)  # the feed's one round stays usable for the whole run

who = st.sampled_from(range(len(USERS)))
quantities = st.integers(min_value=1, max_value=600 * ONE_SHARE)


@dataclass
class Limit:
    """The model of one linear-decay limit."""

    limit: int
    decay: int
    used: int = 0
    at: int = 0

    def used_now(self, now: int) -> int:
        return max(0, self.used - self.decay * (now - self.at))

    def available(self, now: int) -> int:
        return max(0, self.limit - self.used_now(now))

    def charge(self, amount: int, now: int) -> None:
        self.used, self.at = self.used_now(now) + amount, now


class AttestationMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    outcomes: ClassVar[dict[str, int]] = {"accepted": 0, "refused": 0}

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the shared deployment and rolls back to it in `teardown`.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.w = self.world
        self.users = [Limit(USER_LIMIT, USER_DECAY) for _ in USERS]
        self.token_limit = Limit(TOKEN_LIMIT, TOKEN_DECAY)
        self.treasury_start = self.w.usdc.balanceOf(self.w.treasury)
        self.supply_start = self.w.token.totalSupply()
        self.net_usdc = 0
        self.net_tokens = 0
        self.since_refresh = 0

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    def _flow(self, index: int, quantity: int, side: int) -> None:
        user, now = USERS[index], boa.env.evm.patch.timestamp
        notional = self.w.minter.usd_notional(QUOTE_PRICE, quantity, side)
        quote = self.w.quote(user, quantity, side)
        expected = None
        for name, limit in (("user", self.users[index]), ("token", self.token_limit)):
            if expected is None and limit.used_now(now) + notional > limit.limit:
                expected = f"usd_rate_limits: {name} limit exceeded, available {limit.available(now)}"
        if expected is not None:
            with boa.reverts(expected):
                (self.w.mint if side != SELL else self.w.redeem)(quote)
            self.outcomes["refused"] += 1
            return
        (self.w.mint if side != SELL else self.w.redeem)(quote)
        self.users[index].charge(notional, now)
        self.token_limit.charge(notional, now)
        sign = -1 if side == SELL else 1
        self.net_usdc += sign * notional
        self.net_tokens += sign * quantity
        self.outcomes["accepted"] += 1

    @rule(index=who, quantity=quantities)
    def mint(self, index: int, quantity: int) -> None:
        self._flow(index, quantity, 0)

    @rule(index=who, part=st.integers(min_value=1, max_value=100))
    def redeem(self, index: int, part: int) -> None:
        quantity = self.w.token.balanceOf(USERS[index]) * part // 100
        if quantity:
            self._flow(index, quantity, SELL)

    @rule(seconds=st.integers(min_value=1, max_value=2_000))
    def wait(self, seconds: int) -> None:
        self.since_refresh += seconds
        boa.env.time_travel(seconds=seconds)
        if self.since_refresh > REFRESH_AFTER:
            self.w.reserves_for(1_000 * 600 * ONE_SHARE)
            self.since_refresh = 0

    @invariant()
    def limits_match_the_model(self) -> None:
        now = boa.env.evm.patch.timestamp
        for user, limit in zip(USERS, self.users, strict=True):
            assert self.w.minter.available_for_user(user) == limit.available(now)
        assert self.w.minter.available_for_token() == self.token_limit.available(now)

    @invariant()
    def usdc_is_conserved(self) -> None:
        treasury = self.w.usdc.balanceOf(self.w.treasury)
        assert treasury == self.treasury_start + self.net_usdc
        assert treasury + sum(self.w.usdc.balanceOf(u) for u in USERS) == self.treasury_start + FUNDS * len(
            USERS
        )

    @invariant()
    def supply_is_the_users_tokens(self) -> None:
        supply = self.w.token.totalSupply()
        assert supply == self.supply_start + self.net_tokens
        assert supply == sum(self.w.token.balanceOf(u) for u in USERS)


def test_attestation_limits_and_balances(
    fresh_chain: Any, deploy_token: TokenFactory, reserve_feed: Any, admin: str, attester: str
) -> None:
    world = deploy_world(deploy_token, reserve_feed, admin, attester, actor("sm-treasury"), OPEN)
    for user in USERS:
        world.fund(user, dollars=FUNDS)
    with boa.env.prank(admin):
        world.minter.set_guard_limits(*PATIENT_GUARD)
    AttestationMachine.world = world
    AttestationMachine.TestCase.settings = settings(
        max_examples=15, stateful_step_count=15, deadline=None, derandomize=True
    )
    AttestationMachine.TestCase().runTest()
    assert min(AttestationMachine.outcomes.values()) > 0, AttestationMachine.outcomes  # both paths ran
