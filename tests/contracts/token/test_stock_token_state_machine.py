"""Long random runs over a real StockToken, registry, sanctions list and reserve feed.

Named invariants:
- ``supply_within_reserves``: every mint that went through left the supply
  within the reserves attested at that moment;
- ``mints_rest_on_fresh_custody``: every mint that went through rested on a
  custody observation at most the heartbeat old (measured from when custody
  was observed, not from when the feed accepted the report);
- ``blocked_wallets_never_receive``: a sanctioned, frozen or (permissioned)
  unverified wallet gains nothing by transfer, transferFrom, permit +
  transferFrom or mint while blocked (forced transfers and recoveries
  excepted by design);
- ``paused_means_nothing_moves``: no balance changes while paused, forced
  transfers and recoveries included (the token's rule: a pause stops every
  movement, see ``StockToken``'s ``@custom:security``). The balances are
  taken when the pause starts and nothing else retakes them, so any movement
  during the pause, whoever makes it, fails here;
- ``ui_balance_follows_the_multiplier``: ``balanceOfUI`` equals the raw balance
  times the multiplier the model says is in force at the current block;
- ``supply_is_the_sum_of_balances``.

The compliance agent's movements are checked on their own terms by their
rules: one that goes through moves exactly its amount (a recovery: the whole
balance) between exactly its two wallets, one that is refused moves nothing
and had a reason to be (the pause, the balance, a sanctioned receiver).

Every failure a machine has found is replayed step by step below
(``test_pinned_*``), so it stays caught whatever hypothesis draws.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import strategies as st
from hypothesis.stateful import INVARIANT_MARKER, RuleBasedStateMachine, invariant, rule
from tests.contracts.token.test_stock_token_erc20 import sign_permit
from tests.support.contracts import COUNTRY_DE, DECIMALS, HEARTBEAT, ONE, OPEN, PERMISSIONED

from equitoken.chain.evm.artifacts import contract_path

KEYS: list[LocalAccount] = [Account.from_key(bytes([i + 1]) * 32) for i in range(5)]
WALLETS = [str(k.address) for k in KEYS]
DEPLOYERS = {
    name: boa.load_partial(str(contract_path(path)))
    for name, path in {
        "token": "token/StockToken.vy",
        "registry": "compliance/IdentityRegistry.vy",
        "sanctions": "compliance/SanctionsList.vy",
        "feed": "oracle/ReserveFeed.vy",
    }.items()
}

FUNDED_WALLETS = WALLETS[:3]
INITIAL_RESERVES = 10**8
INITIAL_BALANCE = 10**6

wallet_index = st.integers(min_value=0, max_value=len(WALLETS) - 1)
amounts = st.integers(min_value=1, max_value=10**5)


@dataclass(frozen=True)
class Deployment:
    """The contracts every example starts from, deployed and funded once per test."""

    admin: str
    agent: str
    sanctions: Any
    registry: Any
    feed: Any
    token: Any
    deployed_at: int


def deploy(profile: int) -> Deployment:
    """Deploy the four contracts, verify and fund the first three wallets."""
    admin = boa.env.generate_address("sm-admin")
    agent = boa.env.generate_address("sm-agent")
    with boa.env.prank(admin):
        sanctions = DEPLOYERS["sanctions"].deploy()
        registry = DEPLOYERS["registry"].deploy()
        registry.grantRole(registry.REGISTRAR_ROLE(), admin)
        feed = DEPLOYERS["feed"].deploy(DECIMALS, "reserves")
        feed.grantRole(feed.UPDATER_ROLE(), admin)
        token = DEPLOYERS["token"].deploy(
            "Machine token",
            "MCHx",
            DECIMALS,
            "US0000000001",
            "MCH",
            "",
            profile,
            sanctions.address,
            registry.address,
            feed.address,
            HEARTBEAT,
        )
        for role in ("MINTER_ROLE", "BURNER_ROLE", "PAUSER_ROLE", "MULTIPLIER_UPDATER_ROLE"):
            token.grantRole(getattr(token, role)(), admin)
        token.grantRole(token.COMPLIANCE_AGENT_ROLE(), agent)
        registry.bind_token(token.address)
        deployed_at = boa.env.evm.patch.timestamp
        # Start with holders, so most random transfers have something to move.
        expiry = deployed_at + 10 * 365 * 86_400
        for i, wallet in enumerate(FUNDED_WALLETS):
            registry.set_investor(i + 1, COUNTRY_DE, expiry, True)
            registry.add_wallet(i + 1, wallet)
        feed.update(INITIAL_RESERVES, deployed_at)
        for wallet in FUNDED_WALLETS:
            token.mint(wallet, INITIAL_BALANCE)
    return Deployment(admin, agent, sanctions, registry, feed, token, deployed_at)


class StockTokenMachine(RuleBasedStateMachine):
    profile = OPEN
    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        d = self.deployment
        # The model below describes the chain as deployed; an example that
        # inherited the previous one's clock or supply would judge nonsense.
        assert boa.env.evm.patch.timestamp == d.deployed_at
        assert d.token.totalSupply() == len(FUNDED_WALLETS) * INITIAL_BALANCE
        # Every example starts from the shared deployment and rolls back to
        # it in `teardown`: balances, roles, clock and block number alike.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.admin, self.agent = d.admin, d.agent
        self.sanctions, self.registry, self.feed, self.token = d.sanctions, d.registry, d.feed, d.token
        self.sanctioned: set[str] = set()
        self.frozen: set[str] = set()
        self.verified: set[str] = set(FUNDED_WALLETS)
        self.paused = False
        self.reserves = INITIAL_RESERVES
        self.observed_at = d.deployed_at
        self.supply_breaches: list[tuple[int, int]] = []
        self.stale_mints: list[tuple[int, int]] = []
        # (effective_at, multiplier), the model of the token's history
        self.multipliers: list[tuple[int, int]] = [(d.deployed_at, ONE)]
        self.snapshot = self._balances()
        self.blocked_snapshot = dict.fromkeys(WALLETS, 0)
        self._settle()

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # --- model helpers --------------------------------------------------

    def _balances(self) -> dict[str, int]:
        return {w: self.token.balanceOf(w) for w in WALLETS}

    def _blocked(self, wallet: str) -> bool:
        return (
            wallet in self.sanctioned
            or wallet in self.frozen
            or (self.profile != OPEN and wallet not in self.verified)
        )

    def _settle(self) -> None:
        """Record balances after an action the model accepts."""
        balances = self._balances()
        for wallet in WALLETS:
            if not self._blocked(wallet) or balances[wallet] < self.blocked_snapshot[wallet]:
                self.blocked_snapshot[wallet] = balances[wallet]
        if not self.paused:
            self.snapshot = balances

    def _try(self, sender: str, call: Any) -> bool:
        try:
            with boa.env.prank(sender):
                call()
        except boa.BoaError:
            return False
        finally:
            self._settle_after_attempt()
        return True

    def _settle_after_attempt(self) -> None:
        # Balances of blocked wallets are compared, not overwritten, here:
        # the invariants below judge them.
        balances = self._balances()
        for wallet in WALLETS:
            if not self._blocked(wallet):
                self.blocked_snapshot[wallet] = balances[wallet]
            else:
                self.blocked_snapshot[wallet] = min(self.blocked_snapshot[wallet], balances[wallet])

    def _model_multiplier(self) -> int:
        now = boa.env.evm.patch.timestamp
        return [m for t, m in self.multipliers if t <= now][-1]

    # --- rules ----------------------------------------------------------

    @rule(reserves=st.integers(min_value=0, max_value=10**8), age=st.integers(min_value=0, max_value=3_600))
    def attest(self, reserves: int, age: int) -> None:
        """Push custody observed `age` seconds ago (the feed accepts up to an hour), never before the
        previous observation."""
        boa.env.time_travel(seconds=1)
        observed_at = max(boa.env.evm.patch.timestamp - age, self.observed_at)
        with boa.env.prank(self.admin):
            self.feed.update(reserves, observed_at)
        self.reserves, self.observed_at = reserves, observed_at

    @rule(to=wallet_index, amount=amounts)
    def mint(self, to: int, amount: int) -> None:
        if self._try(self.admin, lambda: self.token.mint(WALLETS[to], amount)):
            supply = self.token.totalSupply()
            if supply > self.reserves:
                self.supply_breaches.append((supply, self.reserves))
            age = boa.env.evm.patch.timestamp - self.observed_at
            if age > HEARTBEAT:
                self.stale_mints.append((supply, age))

    @rule(sender=wallet_index, to=wallet_index, amount=amounts)
    def transfer(self, sender: int, to: int, amount: int) -> None:
        self._try(WALLETS[sender], lambda: self.token.transfer(WALLETS[to], amount))

    @rule(owner=wallet_index, spender=wallet_index, to=wallet_index, amount=amounts)
    def approve_and_transfer_from(self, owner: int, spender: int, to: int, amount: int) -> None:
        self._try(WALLETS[owner], lambda: self.token.approve(WALLETS[spender], amount))
        self._try(WALLETS[spender], lambda: self.token.transferFrom(WALLETS[owner], WALLETS[to], amount))

    @rule(owner=wallet_index, spender=wallet_index, to=wallet_index, amount=amounts)
    def permit_and_transfer_from(self, owner: int, spender: int, to: int, amount: int) -> None:
        deadline = boa.env.evm.patch.timestamp + 600
        v, r, s = sign_permit(self.token, KEYS[owner], WALLETS[spender], amount, deadline)
        self._try(
            self.admin, lambda: self.token.permit(WALLETS[owner], WALLETS[spender], amount, deadline, v, r, s)
        )
        self._try(WALLETS[spender], lambda: self.token.transferFrom(WALLETS[owner], WALLETS[to], amount))

    @rule(owner=wallet_index, amount=amounts)
    def burn_from(self, owner: int, amount: int) -> None:
        self._try(WALLETS[owner], lambda: self.token.approve(self.admin, amount))
        self._try(self.admin, lambda: self.token.burn_from(WALLETS[owner], amount))

    @rule(sender=wallet_index, to=wallet_index, amount=amounts)
    def forced_transfer(self, sender: int, to: int, amount: int) -> None:
        source, receiver = WALLETS[sender], WALLETS[to]
        before = self._balances()
        expected = dict(before)
        if self._try(self.agent, lambda: self.token.forced_transfer(source, receiver, amount)):
            # Excepted by design: a forced transfer may reach a frozen or
            # unverified wallet (never a sanctioned one). Whether it may run
            # during a pause is for `paused_means_nothing_moves` to judge.
            assert receiver not in self.sanctioned
            expected[source] -= amount
            expected[receiver] += amount
            self.blocked_snapshot[receiver] = self.token.balanceOf(receiver)
        else:
            assert self.paused or amount > before[source] or receiver in self.sanctioned
        assert self._balances() == expected

    @rule(lost=wallet_index, new=wallet_index)
    def recover_wallet(self, lost: int, new: int) -> None:
        lost_wallet, new_wallet = WALLETS[lost], WALLETS[new]
        before = self._balances()
        expected = dict(before)
        if self._try(self.agent, lambda: self.token.recover_wallet(lost_wallet, new_wallet)):
            # Excepted by design, as a forced transfer; the freeze goes with the balance.
            assert new_wallet not in self.sanctioned
            expected[lost_wallet], expected[new_wallet] = 0, before[new_wallet] + before[lost_wallet]
            if lost_wallet in self.frozen:
                self.frozen.discard(lost_wallet)
                self.frozen.add(new_wallet)
            self.blocked_snapshot[new_wallet] = self.token.balanceOf(new_wallet)
        else:
            # Beyond `open`, the machine's wallets all belong to different investors.
            assert (
                self.paused
                or lost == new
                or before[lost_wallet] == 0
                or new_wallet in self.sanctioned
                or self.profile != OPEN
            )
        assert self._balances() == expected

    @rule(wallet=wallet_index, on=st.booleans())
    def sanction(self, wallet: int, on: bool) -> None:
        with boa.env.prank(self.admin):
            if on:
                self.sanctions.addToSanctionsList([WALLETS[wallet]])
                self.sanctioned.add(WALLETS[wallet])
            else:
                self.sanctions.removeFromSanctionsList([WALLETS[wallet]])
                self.sanctioned.discard(WALLETS[wallet])
        self._settle()

    @rule(wallet=wallet_index, on=st.booleans())
    def freeze(self, wallet: int, on: bool) -> None:
        with boa.env.prank(self.agent):
            self.token.set_address_frozen(WALLETS[wallet], on)
        (self.frozen.add if on else self.frozen.discard)(WALLETS[wallet])
        self._settle()

    @rule()
    def toggle_pause(self) -> None:
        with boa.env.prank(self.admin):
            if self.paused:
                self.token.unpause()
            else:
                self.token.pause()
        self.paused = not self.paused
        self.snapshot = self._balances()

    @rule(multiplier=st.integers(min_value=10**12, max_value=10**24), delay=st.integers(0, 3 * 3_600))
    def set_multiplier(self, multiplier: int, delay: int) -> None:
        now = boa.env.evm.patch.timestamp
        with boa.env.prank(self.admin):
            self.token.setUIMultiplier(multiplier, now + delay)
        if self.multipliers[-1][0] > now or self.multipliers[-1][0] == now + delay:
            self.multipliers.pop()
        self.multipliers.append((now + delay, multiplier))

    @rule(seconds=st.integers(min_value=1, max_value=3_600))
    def time_passes(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    # --- invariants -----------------------------------------------------

    @invariant()
    def supply_within_reserves(self) -> None:
        assert self.supply_breaches == []

    @invariant()
    def mints_rest_on_fresh_custody(self) -> None:
        assert self.stale_mints == []

    @invariant()
    def blocked_wallets_never_receive(self) -> None:
        for wallet in WALLETS:
            if self._blocked(wallet):
                assert self.token.balanceOf(wallet) <= self.blocked_snapshot[wallet], wallet

    @invariant()
    def paused_means_nothing_moves(self) -> None:
        if self.paused:
            assert self._balances() == self.snapshot

    @invariant()
    def ui_balance_follows_the_multiplier(self) -> None:
        multiplier = self._model_multiplier()
        assert self.token.uiMultiplier() == multiplier
        for wallet in WALLETS:
            assert self.token.balanceOfUI(wallet) == self.token.balanceOf(wallet) * multiplier // ONE

    @invariant()
    def supply_is_the_sum_of_balances(self) -> None:
        assert sum(self._balances().values()) == self.token.totalSupply()


class PermissionedStockTokenMachine(StockTokenMachine):
    profile = PERMISSIONED


@pytest.mark.parametrize(
    "machine", [StockTokenMachine, PermissionedStockTokenMachine], ids=["open", "permissioned"]
)
def test_stock_token_invariants(machine: type[StockTokenMachine], fresh_chain: Any) -> None:
    machine.deployment = deploy(machine.profile)
    machine.TestCase().runTest()


# --- failures a machine found, replayed step by step ---------------------------------------------------

Step = tuple[str, dict[str, int]]
MACHINES = pytest.mark.parametrize(
    "machine", [StockTokenMachine, PermissionedStockTokenMachine], ids=["open", "permissioned"]
)


def check_invariants(state: StockTokenMachine) -> None:
    """Run every invariant of the machine, as hypothesis does after each step."""
    for name, method in vars(StockTokenMachine).items():
        if hasattr(method, INVARIANT_MARKER):
            getattr(state, name)()


@contextmanager
def replaying(machine: type[StockTokenMachine]) -> Iterator[StockTokenMachine]:
    """Deploy for `machine` and start one example on it, rolled back afterwards."""
    machine.deployment = deploy(machine.profile)
    state = machine()
    try:
        check_invariants(state)
        yield state
    finally:
        state.teardown()


def play(state: StockTokenMachine, *steps: Step) -> None:
    """Run the rules named in `steps` with their arguments, the invariants checked after each."""
    for name, arguments in steps:
        getattr(state, name)(**arguments)
        check_invariants(state)


@MACHINES
def test_pinned_forced_transfer_during_a_pause(machine: type[StockTokenMachine], fresh_chain: Any) -> None:
    """The snapshot a forced transfer used to retake hid it from ``paused_means_nothing_moves``
    (found with ``forced_transfer`` let through a pause in a scratch copy of the token)."""
    with replaying(machine) as state:
        before = state._balances()
        play(state, ("toggle_pause", {}), ("forced_transfer", {"sender": 0, "to": 1, "amount": 1}))
        assert state._balances() == before

        play(state, ("toggle_pause", {}), ("forced_transfer", {"sender": 0, "to": 1, "amount": 1}))
        assert state._balances() == before | {
            WALLETS[0]: before[WALLETS[0]] - 1,
            WALLETS[1]: before[WALLETS[1]] + 1,
        }


@MACHINES
def test_pinned_recovery_during_a_pause(machine: type[StockTokenMachine], fresh_chain: Any) -> None:
    """As a forced transfer: a pause stops a wallet recovery (found like the forced transfer)."""
    with replaying(machine) as state:
        before = state._balances()
        play(state, ("toggle_pause", {}), ("recover_wallet", {"lost": 0, "new": 3}))
        assert state._balances() == before


@MACHINES
def test_pinned_frozen_receiver(machine: type[StockTokenMachine], fresh_chain: Any) -> None:
    """A removed receiver-freeze check let a frozen wallet receive (commit 48560f8: caught once the
    machine started from funded wallets); every path into the frozen wallet is tried."""
    with replaying(machine) as state:
        play(
            state,
            ("freeze", {"wallet": 1, "on": True}),
            ("transfer", {"sender": 0, "to": 1, "amount": 1}),
            ("approve_and_transfer_from", {"owner": 0, "spender": 2, "to": 1, "amount": 1}),
            ("permit_and_transfer_from", {"owner": 0, "spender": 2, "to": 1, "amount": 1}),
            ("mint", {"to": 1, "amount": 1}),
        )
        assert state.token.balanceOf(WALLETS[1]) == INITIAL_BALANCE


@MACHINES
def test_pinned_mint_on_an_old_observation_accepted_recently(
    machine: type[StockTokenMachine], fresh_chain: Any
) -> None:
    """Custody observed an hour ago, pushed now: measured from the push it looked fresh for one more
    heartbeat (found with the secure mint reading ``updatedAt`` again in a scratch copy)."""
    with replaying(machine) as state:
        play(
            state,
            ("time_passes", {"seconds": 3_600}),
            ("attest", {"reserves": INITIAL_RESERVES, "age": 3_600}),
            ("time_passes", {"seconds": 1}),
            ("mint", {"to": 0, "amount": 1}),
        )
        assert state.token.totalSupply() == len(FUNDED_WALLETS) * INITIAL_BALANCE


def test_pinned_examples_start_from_the_deployment(fresh_chain: Any) -> None:
    """An example that inherited the previous one's clock or supply judged nonsense (commit b1b31e0):
    the second example must find the chain as deployed."""
    StockTokenMachine.deployment = deploy(StockTokenMachine.profile)
    first = StockTokenMachine()
    try:
        play(first, ("time_passes", {"seconds": 3_600}), ("attest", {"reserves": 10**8, "age": 0}))
        play(first, ("mint", {"to": 3, "amount": 5}))
        assert first.token.totalSupply() == len(FUNDED_WALLETS) * INITIAL_BALANCE + 5
    finally:
        first.teardown()
    second = StockTokenMachine()  # asserts the deployed clock and supply
    second.teardown()
