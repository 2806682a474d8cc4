"""Sanctions, freezes, pause, forced transfers, recovery and the profiles."""

from typing import Any

import boa
import pytest
from tests.support.contracts import (
    COUNTRY_US,
    ONE_SHARE,
    OPEN,
    PERMISSIONED,
    RESTRICTED,
    Roles,
    TokenFactory,
    events,
    mint,
    register,
)

ZERO = "0x" + "00" * 20


@pytest.fixture
def token(deploy_token: TokenFactory, reserve_feed: Any, attester: str, minter: str, holder: str) -> Any:
    token = deploy_token(OPEN)
    mint(token, reserve_feed, attester, minter, holder, 100 * ONE_SHARE)
    return token


def sanction(sanctions_list: Any, admin: str, *accounts: str) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList(list(accounts))


# --- sanctions -------------------------------------------------------------


def test_sanctioned_sender_cannot_transfer(
    token: Any, sanctions_list: Any, admin: str, holder: str, receiver: str
) -> None:
    sanction(sanctions_list, admin, holder)
    assert token.can_transfer(holder, receiver, ONE_SHARE) == (2, "sender is sanctioned")
    with boa.env.prank(holder), boa.reverts("sender is sanctioned"):
        token.transfer(receiver, ONE_SHARE)


def test_sanctioned_receiver_cannot_receive(
    token: Any, sanctions_list: Any, admin: str, holder: str, receiver: str
) -> None:
    sanction(sanctions_list, admin, receiver)
    assert token.can_transfer(holder, receiver, ONE_SHARE) == (3, "receiver is sanctioned")
    with boa.env.prank(holder), boa.reverts("receiver is sanctioned"):
        token.transfer(receiver, ONE_SHARE)


def test_sanctioned_spender_cannot_spend_an_allowance(
    token: Any, sanctions_list: Any, admin: str, holder: str, spender: str, receiver: str
) -> None:
    with boa.env.prank(holder):
        token.approve(spender, ONE_SHARE)
    sanction(sanctions_list, admin, spender)
    assert token.can_transfer_from(spender, holder, receiver, ONE_SHARE) == (4, "spender is sanctioned")
    with boa.env.prank(spender), boa.reverts("spender is sanctioned"):
        token.transferFrom(holder, receiver, ONE_SHARE)
    assert token.allowance(holder, spender) == ONE_SHARE


def test_sanctioned_receiver_cannot_be_minted_to(
    token: Any, sanctions_list: Any, admin: str, minter: str, receiver: str
) -> None:
    sanction(sanctions_list, admin, receiver)
    with boa.env.prank(minter), boa.reverts("receiver is sanctioned"):
        token.mint(receiver, ONE_SHARE)


def test_without_a_sanctions_list_the_check_is_off(
    token: Any, sanctions_list: Any, admin: str, holder: str, receiver: str
) -> None:
    sanction(sanctions_list, admin, receiver)
    with boa.env.prank(admin):
        token.set_sanctions_list(ZERO)
    assert events(token) == [("SanctionsListSet", {"sanctions_list": ZERO})]
    with boa.env.prank(holder):
        token.transfer(receiver, ONE_SHARE)
    assert token.balanceOf(receiver) == ONE_SHARE


# --- freezes ---------------------------------------------------------------


def test_frozen_sender_cannot_send(token: Any, compliance_agent: str, holder: str, receiver: str) -> None:
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(holder, True)
    assert events(token) == [
        ("AddressFrozen", {"account": holder, "frozen": True, "agent": compliance_agent})
    ]
    assert token.is_frozen(holder)
    with boa.env.prank(holder), boa.reverts("sender is frozen"):
        token.transfer(receiver, ONE_SHARE)


def test_frozen_receiver_cannot_receive(
    token: Any, compliance_agent: str, minter: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(receiver, True)
    with boa.env.prank(holder), boa.reverts("receiver is frozen"):
        token.transfer(receiver, ONE_SHARE)
    with boa.env.prank(minter), boa.reverts("receiver is frozen"):
        token.mint(receiver, ONE_SHARE)


def test_unfrozen_address_moves_again(token: Any, compliance_agent: str, holder: str, receiver: str) -> None:
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(holder, True)
        token.set_address_frozen(holder, False)
    with boa.env.prank(holder):
        token.transfer(receiver, ONE_SHARE)
    assert not token.is_frozen(holder)


def test_freezing_the_zero_address_reverts(token: Any, compliance_agent: str) -> None:
    with boa.env.prank(compliance_agent), boa.reverts("freezes: account is the zero address"):
        token.set_address_frozen(ZERO, True)


def test_partial_freeze_locks_part_of_the_balance(
    token: Any, compliance_agent: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 70 * ONE_SHARE)
    assert events(token) == [("TokensFrozen", {"account": holder, "amount": 70 * ONE_SHARE})]
    assert token.frozen_tokens(holder) == 70 * ONE_SHARE
    assert token.can_transfer(holder, receiver, 31 * ONE_SHARE) == (7, "amount exceeds the unfrozen balance")
    with boa.env.prank(holder), boa.reverts("amount exceeds the unfrozen balance"):
        token.transfer(receiver, 31 * ONE_SHARE)
    with boa.env.prank(holder):
        token.transfer(receiver, 30 * ONE_SHARE)
    assert token.balanceOf(holder) == 70 * ONE_SHARE


def test_partial_freeze_cannot_exceed_the_balance(token: Any, compliance_agent: str, holder: str) -> None:
    with boa.env.prank(compliance_agent), boa.reverts("freezes: amount exceeds the unfrozen balance"):
        token.freeze_partial_tokens(holder, 100 * ONE_SHARE + 1)


def test_partial_freeze_of_zero_reverts(token: Any, compliance_agent: str, holder: str) -> None:
    with boa.env.prank(compliance_agent), boa.reverts("freezes: amount is zero"):
        token.freeze_partial_tokens(holder, 0)
    with boa.env.prank(compliance_agent), boa.reverts("freezes: amount is zero"):
        token.unfreeze_partial_tokens(holder, 0)


def test_unfreeze_partial_releases_tokens(token: Any, compliance_agent: str, holder: str) -> None:
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 50 * ONE_SHARE)
        token.unfreeze_partial_tokens(holder, 20 * ONE_SHARE)
    assert events(token) == [("TokensUnfrozen", {"account": holder, "amount": 20 * ONE_SHARE})]
    assert token.frozen_tokens(holder) == 30 * ONE_SHARE
    with boa.env.prank(compliance_agent), boa.reverts("freezes: amount exceeds the frozen tokens"):
        token.unfreeze_partial_tokens(holder, 30 * ONE_SHARE + 1)


def test_address_freeze_and_partial_freeze_are_independent(
    token: Any, compliance_agent: str, holder: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 10 * ONE_SHARE)
        token.set_address_frozen(holder, True)
        token.set_address_frozen(holder, False)
    assert token.frozen_tokens(holder) == 10 * ONE_SHARE


# --- pause -----------------------------------------------------------------


def test_pause_stops_every_movement(
    token: Any,
    pauser: str,
    minter: str,
    burner: str,
    compliance_agent: str,
    holder: str,
    receiver: str,
    spender: str,
) -> None:
    with boa.env.prank(holder):
        token.approve(spender, ONE_SHARE)
        token.approve(burner, ONE_SHARE)
    with boa.env.prank(pauser):
        token.pause()
    assert token.paused()
    assert token.can_transfer(holder, receiver, ONE_SHARE) == (1, "token is paused")
    with boa.env.prank(holder), boa.reverts("token is paused"):
        token.transfer(receiver, ONE_SHARE)
    with boa.env.prank(spender), boa.reverts("token is paused"):
        token.transferFrom(holder, receiver, ONE_SHARE)
    with boa.env.prank(minter), boa.reverts("token is paused"):
        token.mint(receiver, ONE_SHARE)
    with boa.env.prank(burner), boa.reverts("token is paused"):
        token.burn_from(holder, ONE_SHARE)
    with boa.env.prank(compliance_agent), boa.reverts("token is paused"):
        token.forced_transfer(holder, receiver, ONE_SHARE)
    with boa.env.prank(compliance_agent), boa.reverts("token is paused"):
        token.recover_wallet(holder, receiver)


def test_unpause_lets_tokens_move(token: Any, pauser: str, holder: str, receiver: str) -> None:
    with boa.env.prank(pauser):
        token.pause()
        token.unpause()
    with boa.env.prank(holder):
        token.transfer(receiver, ONE_SHARE)
    assert token.balanceOf(receiver) == ONE_SHARE


def test_pause_twice_and_unpause_twice_revert(token: Any, pauser: str) -> None:
    with boa.env.prank(pauser), boa.reverts("pausable: contract is not paused"):
        token.unpause()
    with boa.env.prank(pauser):
        token.pause()
    with boa.env.prank(pauser), boa.reverts("pausable: contract is paused"):
        token.pause()


# --- burn ------------------------------------------------------------------


def test_burner_burns_its_own_tokens(token: Any, burner: str, holder: str) -> None:
    with boa.env.prank(holder):
        token.transfer(burner, 10 * ONE_SHARE)
    with boa.env.prank(burner):
        token.burn(4 * ONE_SHARE)
    assert token.balanceOf(burner) == 6 * ONE_SHARE
    assert token.totalSupply() == 96 * ONE_SHARE


def test_burner_burns_from_a_holder_on_allowance(token: Any, burner: str, holder: str) -> None:
    with boa.env.prank(holder):
        token.approve(burner, 10 * ONE_SHARE)
    with boa.env.prank(burner):
        token.burn_from(holder, 10 * ONE_SHARE)
    assert token.balanceOf(holder) == 90 * ONE_SHARE
    assert token.allowance(holder, burner) == 0
    with boa.env.prank(burner), boa.reverts("erc20: insufficient allowance"):
        token.burn_from(holder, 1)


def test_burn_checks(
    token: Any, burner: str, holder: str, compliance_agent: str, sanctions_list: Any, admin: str
) -> None:
    with boa.env.prank(holder):
        token.approve(burner, 2**256 - 1)
    with boa.env.prank(burner), boa.reverts("token: amount is zero"):
        token.burn_from(holder, 0)
    with boa.env.prank(burner), boa.reverts("amount exceeds the balance"):
        token.burn_from(holder, 100 * ONE_SHARE + 1)
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 60 * ONE_SHARE)
    with boa.env.prank(burner), boa.reverts("amount exceeds the unfrozen balance"):
        token.burn_from(holder, 41 * ONE_SHARE)
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(holder, True)
    with boa.env.prank(burner), boa.reverts("sender is frozen"):
        token.burn_from(holder, ONE_SHARE)
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(holder, False)
    sanction(sanctions_list, admin, holder)
    with boa.env.prank(burner), boa.reverts("sender is sanctioned"):
        token.burn_from(holder, ONE_SHARE)


# --- forced transfer and recovery -------------------------------------------


def test_forced_transfer_moves_frozen_tokens(
    token: Any, compliance_agent: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 80 * ONE_SHARE)
        token.set_address_frozen(holder, True)
        token.forced_transfer(holder, receiver, 50 * ONE_SHARE)
    assert events(token) == [
        ("TokensUnfrozen", {"account": holder, "amount": 30 * ONE_SHARE}),
        ("Transfer", {"sender": holder, "receiver": receiver, "value": 50 * ONE_SHARE}),
        (
            "ForcedTransfer",
            {"sender": holder, "receiver": receiver, "amount": 50 * ONE_SHARE, "agent": compliance_agent},
        ),
    ]
    assert token.balanceOf(receiver) == 50 * ONE_SHARE
    assert token.frozen_tokens(holder) == 50 * ONE_SHARE


def test_forced_transfer_never_reaches_a_sanctioned_receiver(
    token: Any, compliance_agent: str, sanctions_list: Any, admin: str, holder: str, receiver: str
) -> None:
    sanction(sanctions_list, admin, receiver)
    with boa.env.prank(compliance_agent), boa.reverts("receiver is sanctioned"):
        token.forced_transfer(holder, receiver, ONE_SHARE)


def test_forced_transfer_input_checks(token: Any, compliance_agent: str, holder: str, receiver: str) -> None:
    with boa.env.prank(compliance_agent), boa.reverts("token: amount is zero"):
        token.forced_transfer(holder, receiver, 0)
    with boa.env.prank(compliance_agent), boa.reverts("amount exceeds the balance"):
        token.forced_transfer(holder, receiver, 100 * ONE_SHARE + 1)
    with boa.env.prank(compliance_agent), boa.reverts("receiver is the zero address"):
        token.forced_transfer(holder, ZERO, ONE_SHARE)


def test_recover_wallet_moves_balance_and_freeze_state(
    token: Any, compliance_agent: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.freeze_partial_tokens(holder, 25 * ONE_SHARE)
        token.recover_wallet(holder, receiver)
    assert events(token)[-1] == (
        "WalletRecovered",
        {"lost_wallet": holder, "new_wallet": receiver, "amount": 100 * ONE_SHARE, "agent": compliance_agent},
    )
    assert token.balanceOf(holder) == 0
    assert token.balanceOf(receiver) == 100 * ONE_SHARE
    assert token.frozen_tokens(receiver) == 25 * ONE_SHARE
    assert token.frozen_tokens(holder) == 0


def test_recover_wallet_input_checks(
    token: Any, compliance_agent: str, holder: str, receiver: str, sanctions_list: Any, admin: str
) -> None:
    with boa.env.prank(compliance_agent), boa.reverts("token: wallets are the same"):
        token.recover_wallet(holder, holder)
    with boa.env.prank(compliance_agent), boa.reverts("token: lost wallet holds no tokens"):
        token.recover_wallet(receiver, holder)
    with boa.env.prank(compliance_agent), boa.reverts("receiver is the zero address"):
        token.recover_wallet(holder, ZERO)
    sanction(sanctions_list, admin, receiver)
    with boa.env.prank(compliance_agent), boa.reverts("receiver is sanctioned"):
        token.recover_wallet(holder, receiver)


# --- profiles --------------------------------------------------------------


@pytest.fixture
def permissioned(
    deploy_token: TokenFactory,
    registry: Any,
    registrar: str,
    reserve_feed: Any,
    attester: str,
    minter: str,
    holder: str,
) -> Any:
    token = deploy_token(PERMISSIONED)
    register(registry, registrar, 1, holder)
    mint(token, reserve_feed, attester, minter, holder, 100 * ONE_SHARE)
    return token


def test_permissioned_token_needs_a_verified_receiver(
    permissioned: Any, registry: Any, registrar: str, holder: str, receiver: str
) -> None:
    assert permissioned.can_transfer(holder, receiver, ONE_SHARE) == (
        10,
        "receiver is not a verified investor",
    )
    with boa.env.prank(holder), boa.reverts("receiver is not a verified investor"):
        permissioned.transfer(receiver, ONE_SHARE)
    register(registry, registrar, 2, receiver)
    with boa.env.prank(holder):
        permissioned.transfer(receiver, ONE_SHARE)
    assert permissioned.balanceOf(receiver) == ONE_SHARE


def test_permissioned_mint_needs_a_verified_receiver(permissioned: Any, minter: str, receiver: str) -> None:
    with boa.env.prank(minter), boa.reverts("receiver is not a verified investor"):
        permissioned.mint(receiver, ONE_SHARE)


def test_permissioned_blocked_country_and_expired_kyc(
    permissioned: Any, registry: Any, registrar: str, holder: str, receiver: str, spender: str
) -> None:
    register(registry, registrar, 2, receiver, country=COUNTRY_US)
    with boa.env.prank(registrar):
        registry.set_country_rules(permissioned.address, [COUNTRY_US], 2)
    assert permissioned.can_transfer(holder, receiver, ONE_SHARE)[0] == 13
    register(registry, registrar, 3, spender, kyc_days=1)
    boa.env.time_travel(seconds=2 * 86_400)
    with boa.env.prank(holder), boa.reverts("receiver's KYC has expired"):
        permissioned.transfer(spender, ONE_SHARE)


def test_an_unbound_token_cannot_move(
    permissioned: Any, registry: Any, registrar: str, holder: str, receiver: str
) -> None:
    register(registry, registrar, 2, receiver)
    with boa.env.prank(registrar):
        registry.unbind_token(permissioned.address)
    with boa.env.prank(holder), boa.reverts("token is not bound to the registry"):
        permissioned.transfer(receiver, ONE_SHARE)


def test_permissioned_recovery_needs_the_same_investor(
    permissioned: Any,
    registry: Any,
    registrar: str,
    compliance_agent: str,
    holder: str,
    receiver: str,
    spender: str,
) -> None:
    register(registry, registrar, 2, receiver)
    with boa.env.prank(compliance_agent), boa.reverts("token: wallets belong to different investors"):
        permissioned.recover_wallet(holder, receiver)
    with boa.env.prank(registrar):
        registry.add_wallet(1, spender)
    with boa.env.prank(compliance_agent):
        permissioned.recover_wallet(holder, spender)
    assert permissioned.balanceOf(spender) == 100 * ONE_SHARE
    assert registry.holder_count(permissioned.address) == 1


def test_permissioned_recovery_needs_a_registered_lost_wallet(
    permissioned: Any, compliance_agent: str, holder: str, spender: str
) -> None:
    # A forced transfer may park tokens on an unregistered wallet, by design.
    with boa.env.prank(compliance_agent):
        permissioned.forced_transfer(holder, spender, ONE_SHARE)
    with boa.env.prank(compliance_agent), boa.reverts("token: lost wallet is not registered"):
        permissioned.recover_wallet(spender, holder)


@pytest.fixture
def restricted(
    deploy_token: TokenFactory,
    registry: Any,
    registrar: str,
    reserve_feed: Any,
    attester: str,
    minter: str,
    holder: str,
    operator: str,
) -> Any:
    token = deploy_token(RESTRICTED)
    register(registry, registrar, 1, holder)
    register(registry, registrar, 9, operator)
    mint(token, reserve_feed, attester, minter, operator, 100 * ONE_SHARE)
    return token


def test_restricted_holders_cannot_transfer_to_each_other(
    restricted: Any, operator: str, holder: str, registry: Any, registrar: str, receiver: str
) -> None:
    register(registry, registrar, 2, receiver)
    with boa.env.prank(operator):
        restricted.transfer(holder, 10 * ONE_SHARE)
    assert restricted.can_transfer(holder, receiver, ONE_SHARE) == (
        9,
        "only an operator may move restricted tokens",
    )
    with boa.env.prank(holder), boa.reverts("only an operator may move restricted tokens"):
        restricted.transfer(receiver, ONE_SHARE)


def test_restricted_operator_moves_holder_tokens_on_allowance(
    restricted: Any, operator: str, holder: str, registry: Any, registrar: str, receiver: str, spender: str
) -> None:
    register(registry, registrar, 2, receiver)
    with boa.env.prank(operator):
        restricted.transfer(holder, 10 * ONE_SHARE)
    with boa.env.prank(holder):
        restricted.approve(operator, 10 * ONE_SHARE)
        restricted.approve(spender, 10 * ONE_SHARE)
    with boa.env.prank(spender), boa.reverts("only an operator may move restricted tokens"):
        restricted.transferFrom(holder, receiver, ONE_SHARE)
    with boa.env.prank(operator):
        restricted.transferFrom(holder, receiver, 4 * ONE_SHARE)
    assert restricted.balanceOf(receiver) == 4 * ONE_SHARE


def test_restricted_operator_still_needs_a_verified_receiver(
    restricted: Any, operator: str, receiver: str
) -> None:
    with boa.env.prank(operator), boa.reverts("receiver is not a verified investor"):
        restricted.transfer(receiver, ONE_SHARE)


def test_unknown_codes_have_a_reason(token: Any, holder: str, receiver: str, roles: Roles) -> None:
    code, reason = token.can_transfer(holder, receiver, ONE_SHARE)
    assert (code, reason) == (0, "transfer allowed")
