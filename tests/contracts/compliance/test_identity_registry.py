"""IdentityRegistry: the registrar's functions, the views and access control.

The transfer rules (`check_transfer`, `on_transfer`, holder counts) are in
``test_registry_transfer_rules.py``.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_utils.crypto import keccak
from tests.support.contracts import COUNTRY_CH, COUNTRY_DE, COUNTRY_US, register
from tests.support.contracts.compliance import BUYER_ID, DAY, SELLER_ID, event_names, issue

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MISSING_ROLE = "access_control: account is missing role"
COUNTRY_NONE, COUNTRY_ALLOWED, COUNTRY_BLOCKED = 0, 1, 2
MAX_WALLETS = 8


def _expiry(days: int = 365) -> int:
    return int(boa.env.evm.patch.timestamp) + days * DAY


# --- deployment, constants and roles -------------------------------------------------------------


def test_constants(registry: Any) -> None:
    assert registry.REGISTRAR_ROLE() == keccak(text="REGISTRAR_ROLE")
    assert registry.MAX_WALLETS() == MAX_WALLETS
    assert (registry.COUNTRY_NONE(), registry.COUNTRY_ALLOWED(), registry.COUNTRY_BLOCKED()) == (0, 1, 2)


def test_deployer_is_admin_and_not_registrar(registry: Any, admin: str, registrar: str) -> None:
    assert registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin)
    assert not registry.hasRole(registry.REGISTRAR_ROLE(), admin)
    assert registry.hasRole(registry.REGISTRAR_ROLE(), registrar)
    assert not registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), registrar)
    assert registry.getRoleAdmin(registry.REGISTRAR_ROLE()) == registry.DEFAULT_ADMIN_ROLE()


def test_supports_erc165_and_access_control_interfaces(registry: Any) -> None:
    assert registry.supportsInterface(bytes.fromhex("01ffc9a7"))
    assert registry.supportsInterface(bytes.fromhex("7965db0b"))
    assert not registry.supportsInterface(bytes.fromhex("ffffffff"))


def test_admin_grants_and_revokes_registrar(registry: Any, admin: str, stranger: str) -> None:
    role = registry.REGISTRAR_ROLE()

    with boa.env.prank(admin):
        registry.grantRole(role, stranger)
    granted = registry.hasRole(role, stranger)
    with boa.env.prank(admin):
        registry.revokeRole(role, stranger)

    assert granted
    assert not registry.hasRole(role, stranger)
    with boa.env.prank(stranger), boa.reverts(MISSING_ROLE):
        registry.set_holder_count(stranger, 1)


def test_registrar_cannot_grant_roles(registry: Any, registrar: str, stranger: str) -> None:
    with boa.env.prank(registrar), boa.reverts(MISSING_ROLE):
        registry.grantRole(registry.REGISTRAR_ROLE(), stranger)
    with boa.env.prank(registrar), boa.reverts(MISSING_ROLE):
        registry.revokeRole(registry.REGISTRAR_ROLE(), registrar)


def test_registrar_renounces_own_role_only(registry: Any, registrar: str, admin: str) -> None:
    role = registry.REGISTRAR_ROLE()
    with boa.env.prank(admin), boa.reverts("access_control: can only renounce roles for itself"):
        registry.renounceRole(role, registrar)

    with boa.env.prank(registrar):
        registry.renounceRole(role, registrar)

    assert not registry.hasRole(role, registrar)
    with boa.env.prank(registrar), boa.reverts(MISSING_ROLE):
        registry.set_investor(SELLER_ID, COUNTRY_DE, _expiry(), True)


# --- every privileged function rejects every other caller -----------------------------------------

RegistrarCall = Callable[[Any, str, str], Any]

# Each call succeeds when the registrar makes it on the `registered_world`
# fixture below; (registry, token address, registered wallet) -> result.
PRIVILEGED_CALLS: dict[str, RegistrarCall] = {
    "set_investor": lambda reg, tok, wallet: reg.set_investor(BUYER_ID, COUNTRY_US, _expiry(), False),
    "set_investor_frozen": lambda reg, tok, wallet: reg.set_investor_frozen(SELLER_ID, True),
    "add_wallet": lambda reg, tok, wallet: reg.add_wallet(SELLER_ID, boa.env.generate_address("new_wallet")),
    "remove_wallet": lambda reg, tok, wallet: reg.remove_wallet(wallet),
    "bind_token": lambda reg, tok, wallet: reg.bind_token(tok),
    "unbind_token": lambda reg, tok, wallet: reg.unbind_token(tok),
    "set_token_rules": lambda reg, tok, wallet: reg.set_token_rules(tok, True, True, 1, 1, 1),
    "set_country_rules": lambda reg, tok, wallet: reg.set_country_rules(tok, [COUNTRY_US], COUNTRY_BLOCKED),
    "set_holder_count": lambda reg, tok, wallet: reg.set_holder_count(tok, 7),
}

NON_REGISTRARS = ["admin", "token", "stranger", "seller"]


@pytest.fixture
def registered_world(registry: Any, registrar: str, seller: str) -> str:
    """Investor SELLER_ID with one wallet, `seller`."""
    register(registry, registrar, SELLER_ID, seller)
    return seller


@pytest.mark.parametrize("function", PRIVILEGED_CALLS)
def test_registrar_may_call_every_privileged_function(
    function: str, registry: Any, registrar: str, token: Any, registered_world: str
) -> None:
    with boa.env.prank(registrar):
        PRIVILEGED_CALLS[function](registry, token.address, registered_world)

    assert event_names(registry)


@pytest.mark.parametrize("caller_name", NON_REGISTRARS)
@pytest.mark.parametrize("function", PRIVILEGED_CALLS)
def test_privileged_function_rejects_non_registrar(
    function: str,
    caller_name: str,
    registry: Any,
    token: Any,
    registered_world: str,
    admin: str,
    stranger: str,
) -> None:
    callers = {"admin": admin, "token": token.address, "stranger": stranger, "seller": registered_world}
    caller = callers[caller_name]

    with boa.env.prank(caller), boa.reverts(MISSING_ROLE):
        PRIVILEGED_CALLS[function](registry, token.address, registered_world)


@pytest.mark.parametrize("function", PRIVILEGED_CALLS)
def test_privileged_function_rejects_revoked_registrar(
    function: str, registry: Any, admin: str, registrar: str, token: Any, registered_world: str
) -> None:
    with boa.env.prank(admin):
        registry.revokeRole(registry.REGISTRAR_ROLE(), registrar)

    with boa.env.prank(registrar), boa.reverts(MISSING_ROLE):
        PRIVILEGED_CALLS[function](registry, token.address, registered_world)


# --- set_investor ---------------------------------------------------------------------------------


def test_set_investor_creates_record_and_emits(registry: Any, registrar: str) -> None:
    expiry = _expiry()

    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_DE, expiry, True)
    logs = registry.get_logs()

    record = registry.investor(SELLER_ID)
    assert (record.country, record.kyc_expiry, record.accredited, record.frozen) == (
        COUNTRY_DE,
        expiry,
        True,
        False,
    )
    assert list(record.wallets) == []
    [log] = logs
    assert type(log).__name__ == "InvestorSet"
    assert (log.investor_id, log.country, log.kyc_expiry, log.accredited) == (
        SELLER_ID,
        COUNTRY_DE,
        expiry,
        True,
    )


def test_set_investor_rejects_zero_id(registry: Any, registrar: str) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: investor id is zero"):
        registry.set_investor(0, COUNTRY_DE, _expiry(), True)


@pytest.mark.parametrize("country", [0, 1_000, 65_535])
def test_set_investor_rejects_non_iso_country(registry: Any, registrar: str, country: int) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: country is not ISO 3166 numeric"):
        registry.set_investor(SELLER_ID, country, _expiry(), True)


@pytest.mark.parametrize("country", [1, 999])
def test_set_investor_accepts_country_bounds(registry: Any, registrar: str, country: int) -> None:
    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, country, _expiry(), True)

    assert registry.investor(SELLER_ID).country == country


def test_set_investor_update_propagates_to_every_wallet(
    registry: Any, registrar: str, seller: str, seller_second_wallet: str
) -> None:
    register(
        registry, registrar, SELLER_ID, seller, seller_second_wallet, country=COUNTRY_DE, accredited=True
    )
    new_expiry = _expiry(30)

    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_CH, new_expiry, False)

    for wallet in (seller, seller_second_wallet):
        identity = registry.identity(wallet)
        assert (identity.investor_id, identity.country, identity.kyc_expiry, identity.accredited) == (
            SELLER_ID,
            COUNTRY_CH,
            new_expiry,
            False,
        )


def test_set_investor_keeps_frozen_flag_and_wallets(registry: Any, registrar: str, seller: str) -> None:
    register(registry, registrar, SELLER_ID, seller)
    with boa.env.prank(registrar):
        registry.set_investor_frozen(SELLER_ID, True)

    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_US, _expiry(), True)

    assert registry.investor(SELLER_ID).frozen
    assert registry.identity(seller).frozen
    assert list(registry.wallets_of(SELLER_ID)) == [seller]


# --- set_investor_frozen --------------------------------------------------------------------------


def test_freeze_and_unfreeze_every_wallet(
    registry: Any, registrar: str, seller: str, seller_second_wallet: str
) -> None:
    register(registry, registrar, SELLER_ID, seller, seller_second_wallet)

    with boa.env.prank(registrar):
        registry.set_investor_frozen(SELLER_ID, True)
    frozen_logs = registry.get_logs()
    frozen = [registry.identity(w).frozen for w in (seller, seller_second_wallet)]
    verified_while_frozen = [registry.is_verified(w) for w in (seller, seller_second_wallet)]
    with boa.env.prank(registrar):
        registry.set_investor_frozen(SELLER_ID, False)
    unfrozen_logs = registry.get_logs()

    assert frozen == [True, True]
    assert verified_while_frozen == [False, False]
    assert registry.investor(SELLER_ID).frozen is False
    assert [registry.identity(w).frozen for w in (seller, seller_second_wallet)] == [False, False]
    assert all(registry.is_verified(w) for w in (seller, seller_second_wallet))
    [log] = frozen_logs
    assert (type(log).__name__, log.investor_id, log.frozen) == ("InvestorFrozen", SELLER_ID, True)
    [log] = unfrozen_logs
    assert (log.investor_id, log.frozen) == (SELLER_ID, False)


def test_freeze_rejects_unknown_investor(registry: Any, registrar: str) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: unknown investor"):
        registry.set_investor_frozen(SELLER_ID, True)


# --- add_wallet -----------------------------------------------------------------------------------


def test_add_wallet_binds_wallet_and_emits(registry: Any, registrar: str, seller: str) -> None:
    expiry = _expiry()
    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_DE, expiry, True)

    with boa.env.prank(registrar):
        registry.add_wallet(SELLER_ID, seller)
    logs = registry.get_logs()

    assert registry.investor_of(seller) == SELLER_ID
    identity = registry.identity(seller)
    assert tuple(identity) == (SELLER_ID, COUNTRY_DE, expiry, True, False)
    assert list(registry.wallets_of(SELLER_ID)) == [seller]
    assert registry.is_verified(seller)
    [log] = logs
    assert (type(log).__name__, log.investor_id, log.wallet) == ("WalletAdded", SELLER_ID, seller)


def test_add_wallet_rejects_zero_address(registry: Any, registrar: str) -> None:
    register(registry, registrar, SELLER_ID)

    with boa.env.prank(registrar), boa.reverts("registry: wallet is the zero address"):
        registry.add_wallet(SELLER_ID, ZERO_ADDRESS)


def test_add_wallet_rejects_unknown_investor(registry: Any, registrar: str, seller: str) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: unknown investor"):
        registry.add_wallet(SELLER_ID, seller)


def test_add_wallet_rejects_wallet_of_same_investor(registry: Any, registrar: str, seller: str) -> None:
    register(registry, registrar, SELLER_ID, seller)

    with boa.env.prank(registrar), boa.reverts("registry: wallet already registered"):
        registry.add_wallet(SELLER_ID, seller)


def test_add_wallet_rejects_wallet_of_other_investor(
    registry: Any, registrar: str, seller: str, buyer: str
) -> None:
    register(registry, registrar, SELLER_ID, seller)
    register(registry, registrar, BUYER_ID, buyer)

    with boa.env.prank(registrar), boa.reverts("registry: wallet already registered"):
        registry.add_wallet(BUYER_ID, seller)

    assert registry.investor_of(seller) == SELLER_ID


def test_add_wallet_allows_max_wallets_then_rejects(registry: Any, registrar: str) -> None:
    wallets = [str(boa.env.generate_address(f"wallet_{i}")) for i in range(MAX_WALLETS + 1)]
    register(registry, registrar, SELLER_ID, *wallets[:MAX_WALLETS])

    with boa.env.prank(registrar), boa.reverts("registry: investor has the max number of wallets"):
        registry.add_wallet(SELLER_ID, wallets[MAX_WALLETS])

    assert list(registry.wallets_of(SELLER_ID)) == wallets[:MAX_WALLETS]
    assert all(registry.investor_of(w) == SELLER_ID for w in wallets[:MAX_WALLETS])
    assert registry.investor_of(wallets[MAX_WALLETS]) == 0


# --- remove_wallet --------------------------------------------------------------------------------


def test_remove_wallet_unbinds_it_and_emits(
    registry: Any, registrar: str, seller: str, seller_second_wallet: str
) -> None:
    register(registry, registrar, SELLER_ID, seller, seller_second_wallet)

    with boa.env.prank(registrar):
        registry.remove_wallet(seller)
    logs = registry.get_logs()

    assert registry.investor_of(seller) == 0
    assert tuple(registry.identity(seller)) == (0, 0, 0, False, False)
    assert not registry.is_verified(seller)
    assert list(registry.wallets_of(SELLER_ID)) == [seller_second_wallet]
    assert registry.investor_of(seller_second_wallet) == SELLER_ID
    [log] = logs
    assert (type(log).__name__, log.investor_id, log.wallet) == ("WalletRemoved", SELLER_ID, seller)


def test_remove_wallet_rejects_unknown_wallet(
    registry: Any, registrar: str, unregistered_wallet: str
) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: unknown wallet"):
        registry.remove_wallet(unregistered_wallet)


def test_remove_wallet_rejects_removed_wallet(registry: Any, registrar: str, seller: str) -> None:
    register(registry, registrar, SELLER_ID, seller)
    with boa.env.prank(registrar):
        registry.remove_wallet(seller)

    with boa.env.prank(registrar), boa.reverts("registry: unknown wallet"):
        registry.remove_wallet(seller)


def test_removed_wallet_can_join_another_investor(
    registry: Any, registrar: str, seller: str, buyer: str
) -> None:
    register(registry, registrar, SELLER_ID, seller)
    register(registry, registrar, BUYER_ID, buyer, country=COUNTRY_US)
    with boa.env.prank(registrar):
        registry.remove_wallet(seller)

    with boa.env.prank(registrar):
        registry.add_wallet(BUYER_ID, seller)

    assert registry.investor_of(seller) == BUYER_ID
    assert registry.identity(seller).country == COUNTRY_US
    assert list(registry.wallets_of(SELLER_ID)) == []


def _packed_wallet_count(registry: Any, wallet: str) -> int:
    """Bits 146..153 of the wallet's storage word: its investor's number of wallets."""
    words = registry._storage._wallets.get()  # boa keys the dump by alias when there is one
    try:
        key = boa.env.lookup_alias(wallet)
    except KeyError:
        key = wallet
    count: int = (words.get(key, 0) >> 146) & 0xFF
    return count


def test_packed_wallet_count_follows_adds_and_removes(
    registry: Any, registrar: str, seller: str, seller_second_wallet: str
) -> None:
    register(registry, registrar, SELLER_ID, seller, seller_second_wallet)
    counts_before = [_packed_wallet_count(registry, w) for w in (seller, seller_second_wallet)]

    with boa.env.prank(registrar):
        registry.remove_wallet(seller)

    assert counts_before == [2, 2]
    assert _packed_wallet_count(registry, seller_second_wallet) == 1
    assert _packed_wallet_count(registry, seller) == 0


def test_remove_wallet_updates_remaining_wallet_count(
    registry: Any,
    registrar: str,
    token: Any,
    reserve_feed: Any,
    attester: str,
    minter: str,
    seller: str,
    seller_second_wallet: str,
    buyer: str,
) -> None:
    """The remaining wallet stops summing the removed one's balance into its investor's.

    With two wallets the max-balance rule adds the other wallet's balance;
    once one is removed, the survivor's word must say "one wallet".
    """
    register(registry, registrar, SELLER_ID, seller, seller_second_wallet)
    register(registry, registrar, BUYER_ID, buyer)
    issue(token, reserve_feed, attester, minter, seller, 60)
    issue(token, reserve_feed, attester, minter, seller_second_wallet, 30)
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, False, False, 0, 0, 100)
    blocked_before = registry.check_transfer(token.address, buyer, seller_second_wallet, 20, 0, 30)

    with boa.env.prank(registrar):
        registry.remove_wallet(seller)

    assert blocked_before == 15
    assert registry.check_transfer(token.address, buyer, seller_second_wallet, 20, 0, 30) == 0
    assert list(registry.wallets_of(SELLER_ID)) == [seller_second_wallet]


# --- bind_token / unbind_token --------------------------------------------------------------------


def test_bind_token_sets_bound_and_emits(registry: Any, registrar: str, stranger: str) -> None:
    with boa.env.prank(registrar):
        registry.bind_token(stranger)
    logs = registry.get_logs()

    assert registry.token_rules(stranger).bound
    [log] = logs
    assert (type(log).__name__, log.token, log.bound) == ("TokenBound", stranger, True)


def test_bind_token_rejects_zero_address(registry: Any, registrar: str) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: token is the zero address"):
        registry.bind_token(ZERO_ADDRESS)


def test_unbind_token_clears_bound_keeps_rules(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, True, True, 123, 4, 5)

    with boa.env.prank(registrar):
        registry.unbind_token(token.address)
    logs = registry.get_logs()

    rules = registry.token_rules(token.address)
    assert tuple(rules) == (False, True, True, 123, 4, 5)
    [log] = logs
    assert (type(log).__name__, log.token, log.bound) == ("TokenBound", token.address, False)


def test_rebinding_keeps_rules(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, False, True, 0, 9, 0)
        registry.unbind_token(token.address)

    with boa.env.prank(registrar):
        registry.bind_token(token.address)

    assert tuple(registry.token_rules(token.address)) == (True, False, True, 0, 9, 0)


# --- set_token_rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        (False, False, 0, 0, 0),
        (True, False, 1, 1, 1),
        (False, True, 2**64 - 1, 2**32 - 1, 2**128 - 1),
        (True, True, 1_900_000_000, 500, 10**20),
    ],
)
def test_set_token_rules_round_trips(
    registry: Any, registrar: str, token: Any, rules: tuple[bool, bool, int, int, int]
) -> None:
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, *rules)
    logs = registry.get_logs()

    assert tuple(registry.token_rules(token.address)) == (True, *rules)
    [log] = logs
    assert type(log).__name__ == "TokenRulesSet"
    assert (
        log.token,
        log.allow_list,
        log.accredited_only,
        log.lockup_until,
        log.max_holders,
        log.max_balance,
    ) == (
        token.address,
        *rules,
    )


def test_set_token_rules_on_unbound_token_leaves_it_unbound(
    registry: Any, registrar: str, stranger: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_token_rules(stranger, True, False, 0, 0, 0)

    assert tuple(registry.token_rules(stranger)) == (False, True, False, 0, 0, 0)


def test_set_token_rules_replaces_every_field(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, True, True, 2**64 - 1, 2**32 - 1, 2**128 - 1)

    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, False, False, 0, 0, 0)

    assert tuple(registry.token_rules(token.address)) == (True, False, False, 0, 0, 0)


def test_set_token_rules_rejects_zero_address(registry: Any, registrar: str) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: token is the zero address"):
        registry.set_token_rules(ZERO_ADDRESS, False, False, 0, 0, 0)


def test_token_rules_of_unknown_token_are_empty(registry: Any, stranger: str) -> None:
    assert tuple(registry.token_rules(stranger)) == (False, False, False, 0, 0, 0)


# --- set_country_rules / country_rule -------------------------------------------------------------


def test_set_country_rules_marks_each_country_and_emits(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_US, COUNTRY_CH], COUNTRY_BLOCKED)
    logs = registry.get_logs()

    assert registry.country_rule(token.address, COUNTRY_US) == COUNTRY_BLOCKED
    assert registry.country_rule(token.address, COUNTRY_CH) == COUNTRY_BLOCKED
    assert registry.country_rule(token.address, COUNTRY_DE) == COUNTRY_NONE
    [log] = logs
    assert (type(log).__name__, log.token, list(log.countries), log.rule) == (
        "CountryRulesSet",
        token.address,
        [COUNTRY_US, COUNTRY_CH],
        COUNTRY_BLOCKED,
    )


def test_country_rules_are_per_token(registry: Any, registrar: str, token: Any, stranger: str) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_US], COUNTRY_ALLOWED)

    assert registry.country_rule(token.address, COUNTRY_US) == COUNTRY_ALLOWED
    assert registry.country_rule(stranger, COUNTRY_US) == COUNTRY_NONE


def test_set_country_rules_overwrites_and_clears(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_US], COUNTRY_BLOCKED)
        registry.set_country_rules(token.address, [COUNTRY_US], COUNTRY_ALLOWED)
    allowed = registry.country_rule(token.address, COUNTRY_US)

    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_US], COUNTRY_NONE)

    assert allowed == COUNTRY_ALLOWED
    assert registry.country_rule(token.address, COUNTRY_US) == COUNTRY_NONE


def test_set_country_rules_accepts_empty_list(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [], COUNTRY_BLOCKED)

    assert event_names(registry) == ["CountryRulesSet"]


def test_set_country_rules_rejects_unknown_rule(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: unknown country rule"):
        registry.set_country_rules(token.address, [COUNTRY_US], 3)


@pytest.mark.parametrize("bad_country", [0, 1_000])
def test_set_country_rules_rejects_non_iso_country_atomically(
    registry: Any, registrar: str, token: Any, bad_country: int
) -> None:
    with boa.env.prank(registrar), boa.reverts("registry: country is not ISO 3166 numeric"):
        registry.set_country_rules(token.address, [COUNTRY_US, bad_country], COUNTRY_BLOCKED)

    assert registry.country_rule(token.address, COUNTRY_US) == COUNTRY_NONE


# --- set_holder_count / holder_count --------------------------------------------------------------


def test_set_holder_count_resyncs_and_emits(registry: Any, registrar: str, token: Any) -> None:
    with boa.env.prank(registrar):
        registry.set_holder_count(token.address, 42)
    logs = registry.get_logs()

    assert registry.holder_count(token.address) == 42
    [log] = logs
    assert (type(log).__name__, log.token, log.holder_count) == ("HolderCountSet", token.address, 42)


def test_holder_count_starts_at_zero(registry: Any, token: Any) -> None:
    assert registry.holder_count(token.address) == 0


# --- views ----------------------------------------------------------------------------------------


def test_views_of_unknown_wallet_and_investor(registry: Any, unregistered_wallet: str) -> None:
    assert registry.investor_of(unregistered_wallet) == 0
    assert tuple(registry.identity(unregistered_wallet)) == (0, 0, 0, False, False)
    assert not registry.is_verified(unregistered_wallet)
    record = registry.investor(SELLER_ID)
    assert (record.country, record.kyc_expiry, record.accredited, record.frozen) == (0, 0, False, False)
    assert list(registry.wallets_of(SELLER_ID)) == []


def test_views_of_registered_wallets(
    registry: Any, registrar: str, seller: str, seller_second_wallet: str, buyer: str
) -> None:
    register(
        registry, registrar, SELLER_ID, seller, seller_second_wallet, country=COUNTRY_CH, accredited=False
    )
    register(registry, registrar, BUYER_ID, buyer, country=COUNTRY_US)

    assert [registry.investor_of(w) for w in (seller, seller_second_wallet, buyer)] == [
        SELLER_ID,
        SELLER_ID,
        BUYER_ID,
    ]
    assert list(registry.wallets_of(SELLER_ID)) == [seller, seller_second_wallet]
    assert list(registry.investor(SELLER_ID).wallets) == [seller, seller_second_wallet]
    assert registry.identity(seller) == registry.identity(seller_second_wallet)
    assert registry.identity(buyer).country == COUNTRY_US
    assert registry.identity(seller).accredited is False


def test_investor_without_wallets_verifies_nothing(registry: Any, registrar: str, seller: str) -> None:
    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_DE, _expiry(), True)

    assert registry.investor_of(seller) == 0
    assert not registry.is_verified(seller)


def test_is_verified_until_kyc_expiry_inclusive(registry: Any, registrar: str, seller: str) -> None:
    expiry = _expiry(1)
    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_DE, expiry, True)
        registry.add_wallet(SELLER_ID, seller)

    boa.env.time_travel(seconds=DAY)
    at_expiry = registry.is_verified(seller)
    boa.env.time_travel(seconds=1)

    assert at_expiry
    assert not registry.is_verified(seller)
    assert registry.identity(seller).kyc_expiry == expiry


def test_renewing_kyc_verifies_again(registry: Any, registrar: str, seller: str) -> None:
    register(registry, registrar, SELLER_ID, seller, kyc_days=1)
    boa.env.time_travel(seconds=2 * DAY)
    expired = not registry.is_verified(seller)

    with boa.env.prank(registrar):
        registry.set_investor(SELLER_ID, COUNTRY_DE, _expiry(30), True)

    assert expired
    assert registry.is_verified(seller)
