"""Role administration of both feeds, from snekmate's access_control."""

from typing import Any

import boa
from eth_utils.crypto import keccak

ACCESS_CONTROL_INTERFACE_ID = bytes.fromhex("7965db0b")
ERC165_INTERFACE_ID = bytes.fromhex("01ffc9a7")


def test_supports_access_control_interface(any_feed: Any) -> None:
    assert any_feed.supportsInterface(ACCESS_CONTROL_INTERFACE_ID)
    assert any_feed.supportsInterface(ERC165_INTERFACE_ID)


def test_updater_role_is_the_hash_of_its_name(any_feed: Any) -> None:
    assert any_feed.UPDATER_ROLE() == keccak(text="UPDATER_ROLE")
    assert any_feed.getRoleAdmin(any_feed.UPDATER_ROLE()) == any_feed.DEFAULT_ADMIN_ROLE()


def test_admin_grants_and_revokes_updater(any_feed: Any, admin: Any, non_updater: Any) -> None:
    role = any_feed.UPDATER_ROLE()

    any_feed.grantRole(role, non_updater, sender=admin)
    assert any_feed.hasRole(role, non_updater)
    any_feed.revokeRole(role, non_updater, sender=admin)
    assert not any_feed.hasRole(role, non_updater)


def test_grant_role_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.grantRole(any_feed.UPDATER_ROLE(), non_updater, sender=caller)


def test_revoke_role_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.revokeRole(any_feed.UPDATER_ROLE(), updater, sender=caller)


def test_set_role_admin_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.set_role_admin(any_feed.UPDATER_ROLE(), any_feed.UPDATER_ROLE(), sender=caller)


def test_renounce_role_only_for_itself(any_feed: Any, admin: Any, updater: Any) -> None:
    role = any_feed.UPDATER_ROLE()
    with boa.reverts("access_control: can only renounce roles for itself"):
        any_feed.renounceRole(role, updater, sender=admin)

    any_feed.renounceRole(role, updater, sender=updater)

    assert not any_feed.hasRole(role, updater)
