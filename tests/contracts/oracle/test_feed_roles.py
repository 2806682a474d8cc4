"""Role administration of both feeds, from snekmate's access_control.

The reserve feed's writer holds `UPDATER_ROLE`; the price feed has no writer role (signatures
authenticate its rounds), so the shared tests administer a role of that name on both.
"""

from typing import Any

import boa
from eth_utils.crypto import keccak

ACCESS_CONTROL_INTERFACE_ID = bytes.fromhex("7965db0b")
ERC165_INTERFACE_ID = bytes.fromhex("01ffc9a7")
UPDATER_ROLE = keccak(text="UPDATER_ROLE")


def test_supports_access_control_interface(any_feed: Any) -> None:
    assert any_feed.supportsInterface(ACCESS_CONTROL_INTERFACE_ID)
    assert any_feed.supportsInterface(ERC165_INTERFACE_ID)


def test_reserve_updater_role_is_the_hash_of_its_name(reserve_feed: Any) -> None:
    assert reserve_feed.UPDATER_ROLE() == UPDATER_ROLE


def test_price_feed_has_no_writer_role(price_feed: Any) -> None:
    assert not hasattr(price_feed, "UPDATER_ROLE")
    assert not hasattr(price_feed, "update")


def test_roles_are_administered_by_the_admin_role(any_feed: Any) -> None:
    assert any_feed.getRoleAdmin(UPDATER_ROLE) == any_feed.DEFAULT_ADMIN_ROLE()


def test_admin_grants_and_revokes_updater(any_feed: Any, admin: Any, non_updater: Any) -> None:
    role = UPDATER_ROLE

    any_feed.grantRole(role, non_updater, sender=admin)
    assert any_feed.hasRole(role, non_updater)
    any_feed.revokeRole(role, non_updater, sender=admin)
    assert not any_feed.hasRole(role, non_updater)


def test_grant_role_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.grantRole(UPDATER_ROLE, non_updater, sender=caller)


def test_revoke_role_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.revokeRole(UPDATER_ROLE, updater, sender=caller)


def test_set_role_admin_rejects_non_admin(any_feed: Any, updater: Any, non_updater: Any) -> None:
    for caller in (updater, non_updater):
        with boa.reverts("access_control: account is missing role"):
            any_feed.set_role_admin(UPDATER_ROLE, UPDATER_ROLE, sender=caller)


def test_renounce_role_only_for_itself(any_feed: Any, admin: Any, updater: Any) -> None:
    role = UPDATER_ROLE
    any_feed.grantRole(role, updater, sender=admin)
    with boa.reverts("access_control: can only renounce roles for itself"):
        any_feed.renounceRole(role, updater, sender=admin)
    assert any_feed.hasRole(role, updater)

    any_feed.renounceRole(role, updater, sender=updater)

    assert not any_feed.hasRole(role, updater)


def test_a_new_admin_administers_the_price_feed(price_feed: Any, admin: Any, non_updater: Any) -> None:
    admin_role = price_feed.DEFAULT_ADMIN_ROLE()
    price_feed.grantRole(admin_role, non_updater, sender=admin)

    price_feed.set_deviation_bps(100, sender=non_updater)
    price_feed.renounceRole(admin_role, admin, sender=admin)

    assert price_feed.deviation_bps() == 100
    with boa.reverts("access_control: account is missing role"):
        price_feed.set_quorum(4, sender=admin)
