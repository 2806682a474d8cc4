"""IdentityRegistry transfer rules: `check_transfer`, `on_transfer` and holder counts.

Each rule is checked twice: through the registry's view with explicit
balances, and through a real `permissioned` StockToken, which calls
`on_transfer` with the balances before the movement.
"""

from typing import Any

import boa
import pytest
from tests.support.contracts import COUNTRY_CH, COUNTRY_DE, COUNTRY_US, register
from tests.support.contracts.compliance import BUYER_ID, DAY, SELLER_ID, issue

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
THIRD_ID = 3
COUNTRY_ALLOWED, COUNTRY_BLOCKED = 1, 2

OK = 0
SENDER_FROZEN = 5
RECEIVER_FROZEN = 6
RECEIVER_NOT_VERIFIED = 10
RECEIVER_KYC_EXPIRED = 11
COUNTRY_NOT_ALLOWED = 13
NOT_ACCREDITED = 14
MAX_BALANCE_EXCEEDED = 15
MAX_HOLDERS_REACHED = 16
LOCKED_UP = 17
TOKEN_NOT_BOUND = 19

REASONS = {
    SENDER_FROZEN: "sender is frozen",
    RECEIVER_FROZEN: "receiver is frozen",
    RECEIVER_NOT_VERIFIED: "receiver is not a verified investor",
    RECEIVER_KYC_EXPIRED: "receiver's KYC has expired",
    COUNTRY_NOT_ALLOWED: "receiver's country is not allowed",
    NOT_ACCREDITED: "receiver is not accredited",
    MAX_BALANCE_EXCEEDED: "receiver would exceed the max balance",
    MAX_HOLDERS_REACHED: "token has reached its max holders",
    LOCKED_UP: "token is in its lock-up period",
    TOKEN_NOT_BOUND: "token is not bound to the registry",
}


@pytest.fixture
def issuer(token: Any, reserve_feed: Any, attester: str, minter: str) -> Any:
    """Mint `amount` of the permissioned token to a wallet."""

    def mint_to(to: str, amount: int) -> None:
        issue(token, reserve_feed, attester, minter, to, amount)

    return mint_to


@pytest.fixture
def parties(registry: Any, registrar: str, seller: str, buyer: str) -> None:
    """A seller and a buyer, both verified German accredited investors."""
    register(registry, registrar, SELLER_ID, seller)
    register(registry, registrar, BUYER_ID, buyer)


@pytest.fixture
def funded_seller(parties: None, issuer: Any, seller: str) -> str:
    issuer(seller, 100)
    return seller


def _rules(registry: Any, registrar: str, token: Any, **changes: Any) -> None:
    rules = {
        "allow_list": False,
        "accredited_only": False,
        "lockup_until": 0,
        "max_holders": 0,
        "max_balance": 0,
    }
    rules.update(changes)
    with boa.env.prank(registrar):
        registry.set_token_rules(token.address, *rules.values())


def _check(registry: Any, token: Any, sender: str, receiver: str, amount: int) -> int:
    """The registry's code for a movement, with the token's current balances."""
    sender_balance = token.balanceOf(sender) if sender != ZERO_ADDRESS else 0
    code: int = registry.check_transfer(
        token.address, sender, receiver, amount, sender_balance, token.balanceOf(receiver)
    )
    return code


def _assert_transfer_blocked(
    token: Any, registry: Any, sender: str, receiver: str, amount: int, code: int
) -> None:
    assert _check(registry, token, sender, receiver, amount) == code
    assert tuple(token.can_transfer(sender, receiver, amount)) == (code, REASONS[code])
    balances = (token.balanceOf(sender), token.balanceOf(receiver))
    count = registry.holder_count(token.address)
    with boa.env.prank(sender), boa.reverts(REASONS[code]):
        token.transfer(receiver, amount)
    assert (token.balanceOf(sender), token.balanceOf(receiver)) == balances
    assert registry.holder_count(token.address) == count


def _transfer(token: Any, sender: str, receiver: str, amount: int) -> None:
    with boa.env.prank(sender):
        token.transfer(receiver, amount)


def _burn(token: Any, burner: str, owner: str, amount: int) -> None:
    with boa.env.prank(owner):
        token.approve(burner, amount)
    with boa.env.prank(burner):
        token.burn_from(owner, amount)


# --- a verified transfer passes -------------------------------------------------------------------


def test_verified_transfer_is_allowed(registry: Any, token: Any, funded_seller: str, buyer: str) -> None:
    assert _check(registry, token, funded_seller, buyer, 40) == OK
    assert tuple(token.can_transfer(funded_seller, buyer, 40)) == (OK, "transfer allowed")

    _transfer(token, funded_seller, buyer, 40)

    assert (token.balanceOf(funded_seller), token.balanceOf(buyer)) == (60, 40)


# --- token not bound (19) -------------------------------------------------------------------------


def test_check_transfer_of_unbound_token_is_19(
    registry: Any, parties: None, seller: str, buyer: str, stranger: str
) -> None:
    assert registry.check_transfer(stranger, seller, buyer, 1, 1, 0) == TOKEN_NOT_BOUND


def test_unbound_token_cannot_transfer_or_mint(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str, minter: str
) -> None:
    with boa.env.prank(registrar):
        registry.unbind_token(token.address)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, TOKEN_NOT_BOUND)
    with boa.env.prank(minter), boa.reverts(REASONS[TOKEN_NOT_BOUND]):
        token.mint(buyer, 10)


def test_on_transfer_from_unbound_caller_returns_19_and_changes_nothing(
    registry: Any, token: Any, funded_seller: str, buyer: str, stranger: str
) -> None:
    count = registry.holder_count(token.address)

    with boa.env.prank(stranger):
        mint_code = registry.on_transfer(ZERO_ADDRESS, buyer, 10, 0, 0, True)
        transfer_code = registry.on_transfer(funded_seller, buyer, 100, 100, 0, True)

    assert (mint_code, transfer_code) == (TOKEN_NOT_BOUND, TOKEN_NOT_BOUND)
    assert registry.holder_count(stranger) == 0
    assert registry.holder_count(token.address) == count


def test_on_transfer_unenforced_from_unbound_caller_counts_only_its_own_holders(
    registry: Any, token: Any, funded_seller: str, buyer: str, stranger: str
) -> None:
    count = registry.holder_count(token.address)

    with boa.env.prank(stranger):
        code = registry.on_transfer(ZERO_ADDRESS, buyer, 10, 0, 0, False)

    assert code == OK
    assert registry.holder_count(stranger) == 1
    assert registry.holder_count(token.address) == count


# --- receiver not verified (10) -------------------------------------------------------------------


def test_unregistered_receiver_is_10(
    registry: Any, token: Any, funded_seller: str, unregistered_wallet: str, minter: str
) -> None:
    _assert_transfer_blocked(token, registry, funded_seller, unregistered_wallet, 10, RECEIVER_NOT_VERIFIED)
    with boa.env.prank(minter), boa.reverts(REASONS[RECEIVER_NOT_VERIFIED]):
        token.mint(unregistered_wallet, 10)


def test_removed_wallet_is_not_verified_receiver(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    with boa.env.prank(registrar):
        registry.remove_wallet(buyer)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, RECEIVER_NOT_VERIFIED)


# --- receiver frozen (6) --------------------------------------------------------------------------


def test_frozen_receiver_is_6(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str, minter: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_investor_frozen(BUYER_ID, True)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, RECEIVER_FROZEN)
    with boa.env.prank(minter), boa.reverts(REASONS[RECEIVER_FROZEN]):
        token.mint(buyer, 10)


def test_unfrozen_receiver_may_receive_again(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_investor_frozen(BUYER_ID, True)
        registry.set_investor_frozen(BUYER_ID, False)

    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 10


# --- receiver KYC expired (11) --------------------------------------------------------------------


def test_expired_kyc_receiver_is_11_only_after_expiry(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer_second_wallet: str, issuer: Any
) -> None:
    register(registry, registrar, THIRD_ID, buyer_second_wallet, kyc_days=1)
    expiry = registry.identity(buyer_second_wallet).kyc_expiry
    boa.env.time_travel(seconds=expiry - int(boa.env.evm.patch.timestamp))
    at_expiry = _check(registry, token, funded_seller, buyer_second_wallet, 10)

    boa.env.time_travel(seconds=1)

    assert at_expiry == OK
    _assert_transfer_blocked(token, registry, funded_seller, buyer_second_wallet, 10, RECEIVER_KYC_EXPIRED)
    with pytest.raises(boa.BoaError, match="KYC has expired"):
        issuer(buyer_second_wallet, 10)


# --- country rules (13) ---------------------------------------------------------------------------


def test_blocked_country_is_13(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str, minter: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_DE], COUNTRY_BLOCKED)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, COUNTRY_NOT_ALLOWED)
    with boa.env.prank(minter), boa.reverts(REASONS[COUNTRY_NOT_ALLOWED]):
        token.mint(buyer, 10)


def test_blocking_another_country_leaves_receiver_alone(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_US], COUNTRY_BLOCKED)

    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 10


def test_country_block_applies_to_its_token_only(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str, stranger: str
) -> None:
    with boa.env.prank(registrar):
        registry.bind_token(stranger)
        registry.set_country_rules(stranger, [COUNTRY_DE], COUNTRY_BLOCKED)

    assert registry.check_transfer(stranger, funded_seller, buyer, 10, 100, 0) == COUNTRY_NOT_ALLOWED
    assert _check(registry, token, funded_seller, buyer, 10) == OK


def test_allow_list_mode_rejects_country_not_allowed(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    _rules(registry, registrar, token, allow_list=True)
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_CH], COUNTRY_ALLOWED)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, COUNTRY_NOT_ALLOWED)


def test_allow_list_mode_accepts_allowed_country(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    _rules(registry, registrar, token, allow_list=True)
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_DE, COUNTRY_CH], COUNTRY_ALLOWED)

    assert _check(registry, token, funded_seller, buyer, 10) == OK
    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 10


def test_allow_list_mode_rejects_blocked_country(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    _rules(registry, registrar, token, allow_list=True)
    with boa.env.prank(registrar):
        registry.set_country_rules(token.address, [COUNTRY_DE], COUNTRY_BLOCKED)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, COUNTRY_NOT_ALLOWED)


# --- accredited only (14) -------------------------------------------------------------------------


def test_accredited_only_rejects_non_accredited_receiver(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer_second_wallet: str
) -> None:
    register(registry, registrar, THIRD_ID, buyer_second_wallet, accredited=False)
    ok_before = _check(registry, token, funded_seller, buyer_second_wallet, 10)

    _rules(registry, registrar, token, accredited_only=True)

    assert ok_before == OK
    _assert_transfer_blocked(token, registry, funded_seller, buyer_second_wallet, 10, NOT_ACCREDITED)


def test_accredited_only_accepts_accredited_receiver(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    _rules(registry, registrar, token, accredited_only=True)

    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 10


# --- max balance per investor (15) ----------------------------------------------------------------


@pytest.fixture
def buyer_with_two_funded_wallets(
    registry: Any, registrar: str, funded_seller: str, buyer: str, buyer_second_wallet: str, issuer: Any
) -> tuple[str, str]:
    """The buyer holds 40 in each of two wallets: 80 in all."""
    with boa.env.prank(registrar):
        registry.add_wallet(BUYER_ID, buyer_second_wallet)
    issuer(buyer, 40)
    issuer(buyer_second_wallet, 40)
    return buyer, buyer_second_wallet


def test_max_balance_sums_every_wallet_of_the_receiver(
    registry: Any,
    registrar: str,
    token: Any,
    funded_seller: str,
    buyer_with_two_funded_wallets: tuple[str, str],
) -> None:
    _, second_wallet = buyer_with_two_funded_wallets
    _rules(registry, registrar, token, max_balance=100)

    # 40 + 21 = 61 in the receiving wallet, but 101 for the investor.
    _assert_transfer_blocked(token, registry, funded_seller, second_wallet, 21, MAX_BALANCE_EXCEEDED)
    _transfer(token, funded_seller, second_wallet, 20)

    assert token.balanceOf(second_wallet) == 60
    assert _check(registry, token, funded_seller, second_wallet, 1) == MAX_BALANCE_EXCEEDED


def test_max_balance_limits_mints_across_wallets(
    registry: Any,
    registrar: str,
    token: Any,
    buyer_with_two_funded_wallets: tuple[str, str],
    minter: str,
    issuer: Any,
) -> None:
    buyer, _ = buyer_with_two_funded_wallets
    _rules(registry, registrar, token, max_balance=100)

    with pytest.raises(boa.BoaError, match="exceed the max balance"):
        issuer(buyer, 21)
    issuer(buyer, 20)

    assert token.balanceOf(buyer) == 60


def test_moving_between_own_wallets_is_not_limited(
    registry: Any, registrar: str, token: Any, buyer_with_two_funded_wallets: tuple[str, str]
) -> None:
    buyer, second_wallet = buyer_with_two_funded_wallets
    _rules(registry, registrar, token, max_balance=50)  # the buyer already holds 80

    assert _check(registry, token, buyer, second_wallet, 40) == OK
    _transfer(token, buyer, second_wallet, 40)

    assert (token.balanceOf(buyer), token.balanceOf(second_wallet)) == (0, 80)


def test_max_balance_with_single_wallet(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    _rules(registry, registrar, token, max_balance=30)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 31, MAX_BALANCE_EXCEEDED)
    _transfer(token, funded_seller, buyer, 30)

    assert token.balanceOf(buyer) == 30


# --- max holders (16) -----------------------------------------------------------------------------


@pytest.fixture
def two_holders_at_cap(
    registry: Any,
    registrar: str,
    token: Any,
    funded_seller: str,
    buyer: str,
    buyer_second_wallet: str,
    issuer: Any,
) -> str:
    """Seller and buyer hold; the cap is 2; a third investor is verified and holds nothing."""
    issuer(buyer, 50)
    register(registry, registrar, THIRD_ID, buyer_second_wallet)
    _rules(registry, registrar, token, max_holders=2)
    assert registry.holder_count(token.address) == 2
    return buyer_second_wallet


def test_max_holders_blocks_a_new_holder(
    registry: Any, token: Any, funded_seller: str, two_holders_at_cap: str, issuer: Any
) -> None:
    newcomer = two_holders_at_cap

    _assert_transfer_blocked(token, registry, funded_seller, newcomer, 10, MAX_HOLDERS_REACHED)
    with pytest.raises(boa.BoaError, match="max holders"):
        issuer(newcomer, 10)


def test_max_holders_allows_transfers_between_holders(
    registry: Any, token: Any, funded_seller: str, buyer: str, two_holders_at_cap: str
) -> None:
    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 60
    assert registry.holder_count(token.address) == 2


def test_max_holders_allows_swap_of_holder_at_cap(
    registry: Any, token: Any, funded_seller: str, two_holders_at_cap: str
) -> None:
    newcomer = two_holders_at_cap

    assert _check(registry, token, funded_seller, newcomer, 100) == OK
    _transfer(token, funded_seller, newcomer, 100)

    assert (token.balanceOf(funded_seller), token.balanceOf(newcomer)) == (0, 100)
    assert registry.holder_count(token.address) == 2


def test_max_holders_zero_means_no_limit(
    registry: Any, registrar: str, token: Any, funded_seller: str, two_holders_at_cap: str
) -> None:
    _rules(registry, registrar, token, max_holders=0)

    _transfer(token, funded_seller, two_holders_at_cap, 10)

    assert registry.holder_count(token.address) == 3


# --- lock-up (17) ---------------------------------------------------------------------------------


def test_lockup_blocks_transfers_until_it_ends(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    lockup_until = int(boa.env.evm.patch.timestamp) + DAY
    _rules(registry, registrar, token, lockup_until=lockup_until)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, LOCKED_UP)
    boa.env.time_travel(seconds=lockup_until - int(boa.env.evm.patch.timestamp))
    _transfer(token, funded_seller, buyer, 10)

    assert token.balanceOf(buyer) == 10


def test_mints_are_not_locked_up(
    registry: Any, registrar: str, token: Any, parties: None, buyer: str, issuer: Any
) -> None:
    _rules(registry, registrar, token, lockup_until=int(boa.env.evm.patch.timestamp) + 30 * DAY)

    assert registry.check_transfer(token.address, ZERO_ADDRESS, buyer, 10, 0, 0) == OK
    issuer(buyer, 10)

    assert token.balanceOf(buyer) == 10


# --- sender frozen (5) ----------------------------------------------------------------------------


def test_frozen_sender_is_5(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_investor_frozen(SELLER_ID, True)

    _assert_transfer_blocked(token, registry, funded_seller, buyer, 10, SENDER_FROZEN)


def test_frozen_sender_outranks_receiver_checks(
    registry: Any, registrar: str, token: Any, funded_seller: str, unregistered_wallet: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_investor_frozen(SELLER_ID, True)

    assert _check(registry, token, funded_seller, unregistered_wallet, 10) == SENDER_FROZEN


def test_frozen_investor_cannot_move_between_own_wallets(
    registry: Any, registrar: str, token: Any, funded_seller: str, seller_second_wallet: str
) -> None:
    with boa.env.prank(registrar):
        registry.add_wallet(SELLER_ID, seller_second_wallet)
        registry.set_investor_frozen(SELLER_ID, True)

    _assert_transfer_blocked(token, registry, funded_seller, seller_second_wallet, 10, SENDER_FROZEN)


# --- holder count through real mints, transfers and burns -----------------------------------------


def test_mint_to_two_wallets_of_one_investor_counts_one_holder(
    registry: Any,
    registrar: str,
    token: Any,
    parties: None,
    buyer: str,
    buyer_second_wallet: str,
    issuer: Any,
) -> None:
    with boa.env.prank(registrar):
        registry.add_wallet(BUYER_ID, buyer_second_wallet)

    issuer(buyer, 10)
    issuer(buyer_second_wallet, 10)

    assert registry.holder_count(token.address) == 1


def test_mint_to_second_investor_counts_two(
    registry: Any, token: Any, funded_seller: str, buyer: str, issuer: Any
) -> None:
    issuer(buyer, 10)
    issuer(buyer, 10)

    assert registry.holder_count(token.address) == 2


def test_transfer_of_whole_balance_to_new_investor_keeps_count(
    registry: Any, token: Any, funded_seller: str, buyer: str
) -> None:
    _transfer(token, funded_seller, buyer, 100)

    assert registry.holder_count(token.address) == 1


def test_partial_transfer_to_new_investor_adds_holder(
    registry: Any, token: Any, funded_seller: str, buyer: str
) -> None:
    _transfer(token, funded_seller, buyer, 1)

    assert registry.holder_count(token.address) == 2


def test_transfer_of_whole_balance_to_existing_holder_removes_one(
    registry: Any, token: Any, funded_seller: str, buyer: str, issuer: Any
) -> None:
    issuer(buyer, 5)

    _transfer(token, funded_seller, buyer, 100)

    assert registry.holder_count(token.address) == 1


def test_transfer_of_zero_to_new_investor_keeps_count(
    registry: Any, token: Any, funded_seller: str, buyer: str
) -> None:
    _transfer(token, funded_seller, buyer, 0)

    assert registry.holder_count(token.address) == 1


def test_moving_whole_balance_to_own_wallet_keeps_count(
    registry: Any, registrar: str, token: Any, funded_seller: str, seller_second_wallet: str
) -> None:
    with boa.env.prank(registrar):
        registry.add_wallet(SELLER_ID, seller_second_wallet)

    _transfer(token, funded_seller, seller_second_wallet, 100)

    assert registry.holder_count(token.address) == 1


def test_emptying_one_of_two_funded_wallets_keeps_count(
    registry: Any, token: Any, funded_seller: str, buyer_with_two_funded_wallets: tuple[str, str]
) -> None:
    buyer, second_wallet = buyer_with_two_funded_wallets

    _transfer(token, buyer, funded_seller, 40)

    assert registry.holder_count(token.address) == 2
    _transfer(token, second_wallet, funded_seller, 40)
    assert registry.holder_count(token.address) == 1


def test_burn_to_zero_removes_holder(
    registry: Any, token: Any, funded_seller: str, buyer: str, burner: str, issuer: Any
) -> None:
    issuer(buyer, 10)

    _burn(token, burner, funded_seller, 40)
    partial = registry.holder_count(token.address)
    _burn(token, burner, funded_seller, 60)

    assert partial == 2
    assert registry.holder_count(token.address) == 1
    assert token.balanceOf(funded_seller) == 0


def test_burn_from_registered_burner_wallet(
    registry: Any, registrar: str, token: Any, funded_seller: str, burner: str
) -> None:
    register(registry, registrar, THIRD_ID, burner)
    _transfer(token, funded_seller, burner, 100)

    with boa.env.prank(burner):
        token.burn(100)

    assert registry.holder_count(token.address) == 0


def test_forced_transfer_to_unregistered_wallet_counts_it_alone(
    registry: Any, token: Any, funded_seller: str, unregistered_wallet: str, compliance_agent: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.forced_transfer(funded_seller, unregistered_wallet, 30)

    assert registry.holder_count(token.address) == 2


def test_recover_wallet_keeps_count(
    registry: Any,
    registrar: str,
    token: Any,
    funded_seller: str,
    seller_second_wallet: str,
    compliance_agent: str,
) -> None:
    with boa.env.prank(registrar):
        registry.add_wallet(SELLER_ID, seller_second_wallet)

    with boa.env.prank(compliance_agent):
        token.recover_wallet(funded_seller, seller_second_wallet)

    assert token.balanceOf(seller_second_wallet) == 100
    assert registry.holder_count(token.address) == 1


# --- on_transfer called directly by a bound caller -----------------------------------------------


@pytest.fixture
def bound_caller(registry: Any, registrar: str, parties: None, stranger: str) -> str:
    """An address bound as a token; its investors hold one wallet each, so no balanceOf is read."""
    with boa.env.prank(registrar):
        registry.bind_token(stranger)
    return stranger


def test_on_transfer_rejected_movement_is_not_counted(
    registry: Any, bound_caller: str, unregistered_wallet: str
) -> None:
    with boa.env.prank(bound_caller):
        code = registry.on_transfer(ZERO_ADDRESS, unregistered_wallet, 10, 0, 0, True)

    assert code == RECEIVER_NOT_VERIFIED
    assert registry.holder_count(bound_caller) == 0


def test_on_transfer_counts_allowed_movements(
    registry: Any, bound_caller: str, seller: str, buyer: str
) -> None:
    with boa.env.prank(bound_caller):
        minted = registry.on_transfer(ZERO_ADDRESS, seller, 10, 0, 0, True)
        after_mint = registry.holder_count(bound_caller)
        moved = registry.on_transfer(seller, buyer, 4, 10, 0, True)
        after_partial = registry.holder_count(bound_caller)
        moved_rest = registry.on_transfer(seller, buyer, 6, 6, 4, True)

    assert (minted, moved, moved_rest) == (OK, OK, OK)
    assert (after_mint, after_partial) == (1, 2)
    assert registry.holder_count(bound_caller) == 1


def test_on_transfer_unenforced_skips_rules_but_counts(
    registry: Any, bound_caller: str, unregistered_wallet: str
) -> None:
    with boa.env.prank(bound_caller):
        code = registry.on_transfer(ZERO_ADDRESS, unregistered_wallet, 10, 0, 0, False)

    assert code == OK
    assert registry.holder_count(bound_caller) == 1


def test_on_transfer_reports_country_of_receiver(
    registry: Any, registrar: str, bound_caller: str, seller: str, buyer: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_investor(BUYER_ID, COUNTRY_US, int(boa.env.evm.patch.timestamp) + DAY, True)
        registry.set_country_rules(bound_caller, [COUNTRY_US], COUNTRY_BLOCKED)

    with boa.env.prank(bound_caller):
        code = registry.on_transfer(seller, buyer, 1, 10, 0, True)

    assert code == COUNTRY_NOT_ALLOWED
    assert registry.identity(seller).country == COUNTRY_DE


# --- holder count while unbound, drifted or moved to the same wallet ------------------------------


def test_unenforced_movement_while_unbound_is_counted(
    registry: Any, registrar: str, token: Any, funded_seller: str, buyer: str, compliance_agent: str
) -> None:
    with boa.env.prank(registrar):
        registry.unbind_token(token.address)

    with boa.env.prank(compliance_agent):
        token.forced_transfer(funded_seller, buyer, 50)

    assert registry.holder_count(token.address) == 2


def test_burn_after_unbound_forced_transfer_succeeds(
    registry: Any,
    registrar: str,
    token: Any,
    funded_seller: str,
    buyer: str,
    compliance_agent: str,
    burner: str,
) -> None:
    with boa.env.prank(registrar):
        registry.unbind_token(token.address)
    with boa.env.prank(compliance_agent):
        token.forced_transfer(funded_seller, buyer, 50)
    with boa.env.prank(registrar):
        registry.bind_token(token.address)
    _transfer(token, funded_seller, buyer, 50)

    _burn(token, burner, buyer, 100)

    assert token.totalSupply() == 0
    assert registry.holder_count(token.address) == 0


def test_drifted_count_saturates_at_zero(
    registry: Any, registrar: str, token: Any, funded_seller: str, burner: str
) -> None:
    with boa.env.prank(registrar):
        registry.set_holder_count(token.address, 0)

    _burn(token, burner, funded_seller, 100)

    assert token.balanceOf(funded_seller) == 0
    assert registry.holder_count(token.address) == 0


def test_forced_transfer_to_self_keeps_count(
    registry: Any, token: Any, funded_seller: str, unregistered_wallet: str, compliance_agent: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.forced_transfer(funded_seller, unregistered_wallet, 30)
        token.forced_transfer(unregistered_wallet, unregistered_wallet, 30)

    assert registry.holder_count(token.address) == 2
