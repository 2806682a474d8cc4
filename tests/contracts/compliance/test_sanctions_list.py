"""SanctionsList: the Chainalysis oracle interface, list upkeep and two-step ownership."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from tests.support.contracts import OPEN, TokenFactory
from tests.support.contracts.compliance import event_names

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
NOT_OWNER = "ownable: caller is not the owner"
MAX_BATCH = 256
RECEIVER_SANCTIONED = 3


@pytest.fixture(scope="module")
def sanctioned() -> str:
    return str(boa.env.generate_address("sanctioned"))


@pytest.fixture(scope="module")
def new_owner() -> str:
    return str(boa.env.generate_address("new_owner"))


# --- deployment -----------------------------------------------------------------------------------


def test_deployer_is_owner(sanctions_list: Any, admin: str) -> None:
    assert sanctions_list.owner() == admin
    assert sanctions_list.pending_owner() == ZERO_ADDRESS


def test_nobody_is_sanctioned_at_deploy(sanctions_list: Any, sanctioned: str, admin: str) -> None:
    assert not sanctions_list.isSanctioned(sanctioned)
    assert not sanctions_list.isSanctioned(admin)
    assert not sanctions_list.isSanctioned(ZERO_ADDRESS)


# --- addToSanctionsList ---------------------------------------------------------------------------


def test_add_sanctions_each_address_and_emits(
    sanctions_list: Any, admin: str, sanctioned: str, stranger: str, non_owner: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([sanctioned, stranger])
    [log] = sanctions_list.get_logs()

    assert sanctions_list.isSanctioned(sanctioned)
    assert sanctions_list.isSanctioned(stranger)
    assert not sanctions_list.isSanctioned(non_owner)
    assert type(log).__name__ == "SanctionedAddressesAdded"
    assert list(log.addrs) == [sanctioned, stranger]


def test_add_is_idempotent(sanctions_list: Any, admin: str, sanctioned: str) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([sanctioned])
        sanctions_list.addToSanctionsList([sanctioned, sanctioned])

    assert sanctions_list.isSanctioned(sanctioned)


def test_add_accepts_empty_and_full_batches(sanctions_list: Any, admin: str) -> None:
    batch = [str(boa.env.generate_address(f"listed_{i}")) for i in range(MAX_BATCH)]

    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([])
        empty_logs = event_names(sanctions_list)
        sanctions_list.addToSanctionsList(batch)

    assert empty_logs == ["SanctionedAddressesAdded"]
    assert sanctions_list.isSanctioned(batch[0])
    assert sanctions_list.isSanctioned(batch[-1])


def test_add_rejects_batch_above_max(sanctions_list: Any, admin: str) -> None:
    batch = [str(boa.env.generate_address(f"listed_{i}")) for i in range(MAX_BATCH + 1)]

    # The ABI decoder rejects a DynArray longer than its bound.
    with boa.env.prank(admin), boa.reverts():
        sanctions_list.addToSanctionsList(batch)

    assert not sanctions_list.isSanctioned(batch[0])


# --- removeFromSanctionsList ----------------------------------------------------------------------


def test_remove_clears_each_address_and_emits(
    sanctions_list: Any, admin: str, sanctioned: str, stranger: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([sanctioned, stranger])

    with boa.env.prank(admin):
        sanctions_list.removeFromSanctionsList([sanctioned])
    [log] = sanctions_list.get_logs()

    assert not sanctions_list.isSanctioned(sanctioned)
    assert sanctions_list.isSanctioned(stranger)
    assert type(log).__name__ == "SanctionedAddressesRemoved"
    assert list(log.addrs) == [sanctioned]


def test_remove_of_unlisted_address_is_a_no_op(sanctions_list: Any, admin: str, sanctioned: str) -> None:
    with boa.env.prank(admin):
        sanctions_list.removeFromSanctionsList([sanctioned])

    assert not sanctions_list.isSanctioned(sanctioned)


# --- only the owner -------------------------------------------------------------------------------

OwnerCall = Callable[[Any, str], Any]

OWNER_CALLS: dict[str, OwnerCall] = {
    "addToSanctionsList": lambda sl, target: sl.addToSanctionsList([target]),
    "removeFromSanctionsList": lambda sl, target: sl.removeFromSanctionsList([target]),
    "transfer_ownership": lambda sl, target: sl.transfer_ownership(target),
}


@pytest.mark.parametrize("caller_name", ["registrar", "non_owner", "sanctioned", "new_owner"])
@pytest.mark.parametrize("function", OWNER_CALLS)
def test_owner_function_rejects_every_other_caller(
    function: str,
    caller_name: str,
    sanctions_list: Any,
    sanctioned: str,
    registrar: str,
    non_owner: str,
    new_owner: str,
) -> None:
    caller = {
        "registrar": registrar,
        "non_owner": non_owner,
        "sanctioned": sanctioned,
        "new_owner": new_owner,
    }[caller_name]

    with boa.env.prank(caller), boa.reverts(NOT_OWNER):
        OWNER_CALLS[function](sanctions_list, sanctioned)


@pytest.mark.parametrize("function", OWNER_CALLS)
def test_former_owner_is_rejected_after_handover(
    function: str, sanctions_list: Any, admin: str, new_owner: str, sanctioned: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.transfer_ownership(new_owner)
    with boa.env.prank(new_owner):
        sanctions_list.accept_ownership()

    with boa.env.prank(admin), boa.reverts(NOT_OWNER):
        OWNER_CALLS[function](sanctions_list, sanctioned)


# --- two-step ownership ---------------------------------------------------------------------------


def test_transfer_ownership_sets_pending_owner_and_emits(
    sanctions_list: Any, admin: str, new_owner: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.transfer_ownership(new_owner)
    [log] = sanctions_list.get_logs()

    assert sanctions_list.owner() == admin
    assert sanctions_list.pending_owner() == new_owner
    assert (type(log).__name__, log.previous_owner, log.new_owner) == (
        "OwnershipTransferStarted",
        admin,
        new_owner,
    )


def test_accept_ownership_hands_over_and_emits(
    sanctions_list: Any, admin: str, new_owner: str, sanctioned: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.transfer_ownership(new_owner)

    with boa.env.prank(new_owner):
        sanctions_list.accept_ownership()
    [log] = sanctions_list.get_logs()

    assert sanctions_list.owner() == new_owner
    assert sanctions_list.pending_owner() == ZERO_ADDRESS
    assert (type(log).__name__, log.previous_owner, log.new_owner) == (
        "OwnershipTransferred",
        admin,
        new_owner,
    )
    with boa.env.prank(new_owner):
        sanctions_list.addToSanctionsList([sanctioned])
    assert sanctions_list.isSanctioned(sanctioned)


@pytest.mark.parametrize("caller_name", ["admin", "non_owner"])
def test_accept_ownership_rejects_anyone_but_pending_owner(
    caller_name: str, sanctions_list: Any, admin: str, new_owner: str, non_owner: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.transfer_ownership(new_owner)
    caller = {"admin": admin, "non_owner": non_owner}[caller_name]

    with boa.env.prank(caller), boa.reverts("ownable_2step: caller is not the new owner"):
        sanctions_list.accept_ownership()

    assert sanctions_list.owner() == admin


def test_accept_ownership_without_pending_transfer_reverts(sanctions_list: Any, new_owner: str) -> None:
    with boa.env.prank(new_owner), boa.reverts("ownable_2step: caller is not the new owner"):
        sanctions_list.accept_ownership()


def test_transfer_to_zero_address_cancels_pending_transfer(
    sanctions_list: Any, admin: str, new_owner: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.transfer_ownership(new_owner)
        sanctions_list.transfer_ownership(ZERO_ADDRESS)

    assert sanctions_list.pending_owner() == ZERO_ADDRESS
    with boa.env.prank(new_owner), boa.reverts("ownable_2step: caller is not the new owner"):
        sanctions_list.accept_ownership()


# --- as the tokens see it -------------------------------------------------------------------------


def test_token_blocks_a_sanctioned_receiver(
    sanctions_list: Any, admin: str, deploy_token: TokenFactory, holder: str, sanctioned: str
) -> None:
    token = deploy_token(OPEN)
    before = token.can_transfer(holder, sanctioned, 0)

    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([sanctioned])

    assert before[0] == 0
    assert tuple(token.can_transfer(holder, sanctioned, 0)) == (RECEIVER_SANCTIONED, "receiver is sanctioned")
