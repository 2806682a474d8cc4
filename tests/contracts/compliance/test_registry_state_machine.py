"""Random walks over a permissioned StockToken and its IdentityRegistry.

The registrar registers investors, adds and removes wallets, freezes
investors, blocks countries, sets the token's max balance and max
holders and unbinds and rebinds it while time passes (KYC expires); the minter mints, wallets
transfer (themselves or through a spender), the burner burns and the
compliance agent forces transfers.
A model of the identities predicts every restriction code; the invariants
compare the chain with the model:

- ``holder_count_matches``: the registry's holder count is the number of
  distinct investors (a wallet with no investor counts alone) holding a
  positive balance summed over their wallets;
- ``no_unverified_receiver``: no wallet that was unregistered, frozen,
  KYC-expired or in a blocked country when a mint or transfer was tried
  gained tokens by it;
- ``max_balance_respected``: no investor holds more than the max balance,
  except what it held when the limit was set or an agent forced on it,
  and that exemption only shrinks;
- ``identities_match_model`` and ``balances_match_model``: the registry and
  the token hold what the model expects.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import boa
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from tests.support.contracts import COUNTRY_CH, COUNTRY_DE, COUNTRY_US, mint
from tests.support.contracts.compliance import DAY

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
COUNTRY_NONE, COUNTRY_BLOCKED = 0, 2
MAX_WALLETS = 8

OK = 0
SENDER_FROZEN = 5
RECEIVER_FROZEN = 6
RECEIVER_NOT_VERIFIED = 10
RECEIVER_KYC_EXPIRED = 11
COUNTRY_NOT_ALLOWED = 13
MAX_BALANCE_EXCEEDED = 15
MAX_HOLDERS_REACHED = 16
TOKEN_NOT_BOUND = 19

WALLETS = 8
INVESTOR_IDS = st.integers(min_value=1, max_value=4)
WALLET_INDEXES = st.integers(min_value=0, max_value=WALLETS - 1)
COUNTRIES = st.sampled_from([COUNTRY_DE, COUNTRY_CH, COUNTRY_US])
AMOUNTS = st.integers(min_value=0, max_value=120)
POSITIVE_AMOUNTS = st.integers(min_value=1, max_value=120)

HolderKey = tuple[str, int | str]

# Deploy on a clean chain: calls get slower with every contract the worker deployed before.
pytestmark = pytest.mark.usefixtures("fresh_chain")


@dataclass
class InvestorModel:
    country: int
    kyc_expiry: int
    frozen: bool = False
    wallets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Deployment:
    registry: Any
    token: Any
    reserve_feed: Any
    registrar: str
    minter: str
    attester: str
    burner: str
    compliance_agent: str
    spender: str
    wallets: tuple[str, ...]


class RegistryMachine(RuleBasedStateMachine):
    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        # Each example starts from the deployment and is rolled back in
        # `teardown`, whatever boa's own hypothesis patch does.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        d = self.deployment
        self.registry, self.token = d.registry, d.token
        self.wallets = list(d.wallets)
        self.investors: dict[int, InvestorModel] = {}
        self.owner_of: dict[str, int] = {}
        self.balances: dict[str, int] = dict.fromkeys(self.wallets, 0)
        self.blocked: set[int] = set()
        self.max_balance = 0
        self.max_holders = 0
        self.bound = True
        # Holders allowed above max_balance: what they held when it was
        # set, or what a forced transfer put there; it only shrinks.
        self.exempt: dict[HolderKey, int] = {}
        self.ineligible_gains: list[str] = []

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # --- the model ---------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(boa.env.evm.patch.timestamp)

    def _key(self, wallet: str) -> HolderKey:
        investor_id = self.owner_of.get(wallet)
        return ("investor", investor_id) if investor_id else ("wallet", wallet)

    def _total(self, key: HolderKey) -> int:
        return sum(balance for wallet, balance in self.balances.items() if self._key(wallet) == key)

    def _holders(self) -> int:
        return len({self._key(wallet) for wallet, balance in self.balances.items() if balance > 0})

    def _receiver_code(self, receiver: str) -> int:
        investor_id = self.owner_of.get(receiver)
        if not investor_id:
            return RECEIVER_NOT_VERIFIED
        investor = self.investors[investor_id]
        if investor.frozen:
            return RECEIVER_FROZEN
        if investor.kyc_expiry < self._now():
            return RECEIVER_KYC_EXPIRED
        if investor.country in self.blocked:
            return COUNTRY_NOT_ALLOWED
        return OK

    def _expected_code(self, sender: str | None, receiver: str, amount: int) -> int:
        if not self.bound:
            return TOKEN_NOT_BOUND
        sender_id = self.owner_of.get(sender) if sender else None
        if sender_id and self.investors[sender_id].frozen:
            return SENDER_FROZEN
        code = self._receiver_code(receiver)
        if code != OK:
            return code
        same_investor = sender_id is not None and sender_id == self.owner_of.get(receiver)
        receiver_total = self._total(self._key(receiver))
        if self.max_balance and not same_investor and receiver_total + amount > self.max_balance:
            return MAX_BALANCE_EXCEEDED
        joins = amount > 0 and not same_investor and receiver_total == 0
        leaves = (
            amount > 0
            and not same_investor
            and sender is not None
            and self._total(self._key(sender)) == amount
        )
        if self.max_holders and joins and not leaves and self._holders() >= self.max_holders:
            return MAX_HOLDERS_REACHED
        return OK

    def _moved(self, sender: str | None, receiver: str | None, amount: int, *, enforced: bool) -> None:
        if sender is not None:
            self.balances[sender] -= amount
        if receiver is not None:
            self.balances[receiver] += amount
            key = self._key(receiver)
            if not enforced:
                self.exempt[key] = max(self.exempt.get(key, 0), self._total(key))
        for key in list(self.exempt):
            self.exempt[key] = min(self.exempt[key], self._total(key))

    def _funded(self, index: int) -> str:
        funded = [wallet for wallet in self.wallets if self.balances[wallet] > 0]
        return funded[index % len(funded)]

    def _watch_receiver(self, receiver: str, ineligible: bool, before: int) -> None:
        if ineligible and self.token.balanceOf(receiver) > before:
            self.ineligible_gains.append(receiver)

    def _set_rules(self) -> None:
        with boa.env.prank(self.deployment.registrar):
            self.registry.set_token_rules(
                self.token.address, False, False, 0, self.max_holders, self.max_balance
            )

    # --- a market to start from -------------------------------------------------------------------

    @initialize(
        countries=st.lists(COUNTRIES, min_size=3, max_size=3),
        owners=st.lists(st.integers(min_value=0, max_value=3), min_size=WALLETS - 2, max_size=WALLETS - 2),
        amounts=st.lists(st.integers(min_value=0, max_value=80), min_size=WALLETS - 2, max_size=WALLETS - 2),
    )
    def open_market(self, countries: list[int], owners: list[int], amounts: list[int]) -> None:
        """Register three investors, spread the first wallets among them (0: none) and mint to them."""
        for investor_id, country in enumerate(countries, start=1):
            self.set_investor(investor_id, country, 30)
        for index, investor_id in enumerate(owners):
            if investor_id:
                self.add_wallet(investor_id, index)
        for index, amount in enumerate(amounts):
            if amount and index in self.owner_of_index():
                self.mint(index, amount)

    def owner_of_index(self) -> set[int]:
        return {index for index, wallet in enumerate(self.wallets) if wallet in self.owner_of}

    # --- the registrar ------------------------------------------------------------------------------

    @rule(investor_id=INVESTOR_IDS, country=COUNTRIES, kyc_days=st.integers(min_value=0, max_value=60))
    def set_investor(self, investor_id: int, country: int, kyc_days: int) -> None:
        expiry = self._now() + kyc_days * DAY
        with boa.env.prank(self.deployment.registrar):
            self.registry.set_investor(investor_id, country, expiry, True)
        investor = self.investors.setdefault(investor_id, InvestorModel(country, expiry))
        investor.country, investor.kyc_expiry = country, expiry

    @rule(investor_id=INVESTOR_IDS, index=WALLET_INDEXES)
    def add_wallet(self, investor_id: int, index: int) -> None:
        wallet = self.wallets[index]
        investor = self.investors.get(investor_id)
        with boa.env.prank(self.deployment.registrar):
            if investor is None:
                with boa.reverts("registry: unknown investor"):
                    self.registry.add_wallet(investor_id, wallet)
                return
            if wallet in self.owner_of:
                with boa.reverts("registry: wallet already registered"):
                    self.registry.add_wallet(investor_id, wallet)
                return
            if len(investor.wallets) >= MAX_WALLETS or self.balances[wallet] > 0:
                # A funded wallet changing hands needs a holder re-sync (documented).
                return
            self.registry.add_wallet(investor_id, wallet)
        investor.wallets.append(wallet)
        self.owner_of[wallet] = investor_id

    @rule(index=WALLET_INDEXES)
    def remove_wallet(self, index: int) -> None:
        wallet = self.wallets[index]
        with boa.env.prank(self.deployment.registrar):
            if wallet not in self.owner_of:
                with boa.reverts("registry: unknown wallet"):
                    self.registry.remove_wallet(wallet)
                return
            if self.balances[wallet] > 0:
                return
            self.registry.remove_wallet(wallet)
        self.investors[self.owner_of.pop(wallet)].wallets.remove(wallet)

    @rule(investor_id=INVESTOR_IDS, frozen=st.booleans())
    def set_investor_frozen(self, investor_id: int, frozen: bool) -> None:
        with boa.env.prank(self.deployment.registrar):
            if investor_id not in self.investors:
                with boa.reverts("registry: unknown investor"):
                    self.registry.set_investor_frozen(investor_id, frozen)
                return
            self.registry.set_investor_frozen(investor_id, frozen)
        self.investors[investor_id].frozen = frozen

    @rule(country=COUNTRIES, blocked=st.booleans())
    def set_country_rule(self, country: int, blocked: bool) -> None:
        with boa.env.prank(self.deployment.registrar):
            self.registry.set_country_rules(
                self.token.address, [country], COUNTRY_BLOCKED if blocked else COUNTRY_NONE
            )
        if blocked:
            self.blocked.add(country)
        else:
            self.blocked.discard(country)

    @rule(max_balance=st.sampled_from([0, 40, 80, 150, 300]))
    def set_max_balance(self, max_balance: int) -> None:
        self.max_balance = max_balance
        self._set_rules()
        keys = {self._key(wallet) for wallet in self.wallets}
        self.exempt = {
            key: self._total(key) for key in keys if max_balance and self._total(key) > max_balance
        }

    @rule(max_holders=st.integers(min_value=0, max_value=4), at_cap=st.booleans())
    def set_max_holders(self, max_holders: int, at_cap: bool) -> None:
        self.max_holders = max(self._holders(), 1) if at_cap else max_holders
        self._set_rules()

    @rule(bound=st.booleans())
    def set_bound(self, bound: bool) -> None:
        with boa.env.prank(self.deployment.registrar):
            if bound:
                self.registry.bind_token(self.token.address)
            else:
                self.registry.unbind_token(self.token.address)
        self.bound = bound

    @rule(days=st.integers(min_value=0, max_value=20), seconds=st.integers(min_value=0, max_value=DAY))
    def time_passes(self, days: int, seconds: int) -> None:
        boa.env.time_travel(seconds=days * DAY + seconds)

    # --- movements ----------------------------------------------------------------------------------

    @rule(index=WALLET_INDEXES, amount=POSITIVE_AMOUNTS)
    def mint(self, index: int, amount: int) -> None:
        receiver = self.wallets[index]
        boa.env.time_travel(seconds=1)  # the reserve feed wants a newer observation
        expected = self._expected_code(None, receiver, amount)
        ineligible = self._receiver_code(receiver) != OK
        before = self.token.balanceOf(receiver)
        registry_code = self.registry.check_transfer(
            self.token.address, ZERO_ADDRESS, receiver, amount, 0, before
        )
        d = self.deployment

        if expected == OK:
            mint(self.token, d.reserve_feed, d.attester, d.minter, receiver, amount)
            self._moved(None, receiver, amount, enforced=True)
        else:
            with boa.reverts():
                mint(self.token, d.reserve_feed, d.attester, d.minter, receiver, amount)

        assert registry_code == expected
        self._watch_receiver(receiver, ineligible, before)

    @precondition(lambda self: any(self.balances.values()))
    @rule(index=WALLET_INDEXES, receiver_index=WALLET_INDEXES, amount=AMOUNTS, whole=st.booleans())
    def transfer(self, index: int, receiver_index: int, amount: int, whole: bool) -> None:
        self._try_transfer(None, index, receiver_index, amount, whole)

    @precondition(lambda self: any(self.balances.values()))
    @rule(index=WALLET_INDEXES, receiver_index=WALLET_INDEXES, amount=AMOUNTS, whole=st.booleans())
    def transfer_from(self, index: int, receiver_index: int, amount: int, whole: bool) -> None:
        self._try_transfer(self.deployment.spender, index, receiver_index, amount, whole)

    def _try_transfer(
        self, spender: str | None, index: int, receiver_index: int, amount: int, whole: bool
    ) -> None:
        sender, receiver = self._funded(index), self.wallets[receiver_index]
        amount = self.balances[sender] if whole else min(amount, self.balances[sender])
        expected = self._expected_code(sender, receiver, amount)
        ineligible = self._receiver_code(receiver) != OK
        before = self.token.balanceOf(receiver)
        if spender is None:
            code, reason = self.token.can_transfer(sender, receiver, amount)
        else:
            code, reason = self.token.can_transfer_from(spender, sender, receiver, amount)
            with boa.env.prank(sender):
                self.token.approve(spender, amount)

        with boa.env.prank(spender or sender):
            if expected == OK:
                self._send(spender, sender, receiver, amount)
                self._moved(sender, receiver, amount, enforced=True)
            else:
                with boa.reverts(reason):
                    self._send(spender, sender, receiver, amount)

        assert code == expected, f"the token's pre-check said {code}, the model {expected}"
        if sender != receiver:
            self._watch_receiver(receiver, ineligible, before)

    def _send(self, spender: str | None, sender: str, receiver: str, amount: int) -> None:
        if spender is None:
            self.token.transfer(receiver, amount)
        else:
            self.token.transferFrom(sender, receiver, amount)

    @precondition(lambda self: any(self.balances.values()))
    @rule(index=WALLET_INDEXES, amount=POSITIVE_AMOUNTS)
    def burn_from(self, index: int, amount: int) -> None:
        owner = self._funded(index)
        amount = min(amount, self.balances[owner])
        burner = self.deployment.burner
        with boa.env.prank(owner):
            self.token.approve(burner, amount)

        with boa.env.prank(burner):
            self.token.burn_from(owner, amount)

        self._moved(owner, None, amount, enforced=False)

    @precondition(lambda self: any(self.balances.values()))
    @rule(index=WALLET_INDEXES, receiver_index=WALLET_INDEXES, amount=POSITIVE_AMOUNTS)
    def forced_transfer(self, index: int, receiver_index: int, amount: int) -> None:
        sender, receiver = self._funded(index), self.wallets[receiver_index]
        amount = min(amount, self.balances[sender])

        with boa.env.prank(self.deployment.compliance_agent):
            self.token.forced_transfer(sender, receiver, amount)

        self._moved(sender, receiver, amount, enforced=False)

    # --- invariants ---------------------------------------------------------------------------------

    @invariant()
    def holder_count_matches(self) -> None:
        assert self.registry.holder_count(self.token.address) == self._holders()

    @invariant()
    def no_unverified_receiver(self) -> None:
        assert self.ineligible_gains == []

    @invariant()
    def max_balance_respected(self) -> None:
        if not self.max_balance:
            return
        for key in {self._key(wallet) for wallet in self.wallets}:
            total = self._total(key)
            assert total <= max(self.max_balance, self.exempt.get(key, 0)), f"{key} holds {total}"

    @invariant()
    def balances_match_model(self) -> None:
        assert {wallet: self.token.balanceOf(wallet) for wallet in self.wallets} == self.balances

    @invariant()
    def identities_match_model(self) -> None:
        for wallet in self.wallets:
            investor_id = self.owner_of.get(wallet, 0)
            expected = (investor_id, 0, 0, False)
            if investor_id:
                investor = self.investors[investor_id]
                expected = (investor_id, investor.country, investor.kyc_expiry, investor.frozen)
            identity = self.registry.identity(wallet)
            assert (identity.investor_id, identity.country, identity.kyc_expiry, identity.frozen) == expected


def test_registry_state_machine(
    registry: Any,
    token: Any,
    reserve_feed: Any,
    registrar: str,
    minter: str,
    attester: str,
    burner: str,
    compliance_agent: str,
    spender: str,
) -> None:
    RegistryMachine.deployment = Deployment(
        registry=registry,
        token=token,
        reserve_feed=reserve_feed,
        registrar=registrar,
        minter=minter,
        attester=attester,
        burner=burner,
        compliance_agent=compliance_agent,
        spender=spender,
        wallets=tuple(str(boa.env.generate_address(f"investor_wallet_{i}")) for i in range(WALLETS)),
    )
    run_state_machine_as_test(RegistryMachine)
