"""Every privileged function rejects every caller without its role; the admin moves in two steps."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from tests.support.contracts import ONE, ONE_SHARE, OPEN, Roles, TokenFactory, events, mint

MISSING_ROLE = "access_control: account is missing role"

# function name -> (role attribute of Roles that may call it, call with the token)
PRIVILEGED: dict[str, tuple[str, Callable[[Any, Roles], Any]]] = {
    "mint": ("minter", lambda t, r: t.mint(r.operator, ONE_SHARE)),
    "burn": ("burner", lambda t, r: t.burn(ONE_SHARE)),
    "burn_from": ("burner", lambda t, r: t.burn_from(r.operator, ONE_SHARE)),
    "pause": ("pauser", lambda t, r: t.pause()),
    "unpause": ("pauser", lambda t, r: t.unpause()),
    "setUIMultiplier": ("multiplier_updater", lambda t, r: t.setUIMultiplier(2 * ONE, 10**10)),
    "cancelPendingUIMultiplier": ("multiplier_updater", lambda t, r: t.cancelPendingUIMultiplier()),
    "set_address_frozen": ("compliance_agent", lambda t, r: t.set_address_frozen(r.operator, True)),
    "freeze_partial_tokens": ("compliance_agent", lambda t, r: t.freeze_partial_tokens(r.operator, 1)),
    "unfreeze_partial_tokens": ("compliance_agent", lambda t, r: t.unfreeze_partial_tokens(r.operator, 1)),
    "forced_transfer": ("compliance_agent", lambda t, r: t.forced_transfer(r.operator, r.minter, 1)),
    "recover_wallet": ("compliance_agent", lambda t, r: t.recover_wallet(r.operator, r.minter)),
    "set_sanctions_list": ("admin", lambda t, r: t.set_sanctions_list(r.operator)),
    "set_identity_registry": ("admin", lambda t, r: t.set_identity_registry(r.operator)),
    "set_terms_uri": ("admin", lambda t, r: t.set_terms_uri("ipfs://terms")),
    "set_reserve_feed": ("admin", lambda t, r: t.set_reserve_feed(r.operator, 60)),
    "set_reserve_margin": ("admin", lambda t, r: t.set_reserve_margin(100)),
    "set_secure_mint_enabled": ("admin", lambda t, r: t.set_secure_mint_enabled(False)),
    "grantRole": ("admin", lambda t, r: t.grantRole(t.MINTER_ROLE(), r.operator)),
    "revokeRole": ("admin", lambda t, r: t.revokeRole(t.MINTER_ROLE(), r.minter)),
}
ACTORS = ["admin", "minter", "burner", "pauser", "multiplier_updater", "compliance_agent", "operator"]


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory, reserve_feed: Any, attester: str, roles: Roles) -> Any:
    token = deploy_token(OPEN)
    mint(token, reserve_feed, attester, roles.minter, roles.operator, 10 * ONE_SHARE)
    return token


@pytest.mark.parametrize(
    ("function", "caller"),
    [(f, c) for f in sorted(PRIVILEGED) for c in [*ACTORS, "non_owner"] if c != PRIVILEGED[f][0]],
)
def test_privileged_function_rejects_other_callers(
    token: Any, roles: Roles, non_owner: str, function: str, caller: str
) -> None:
    account = non_owner if caller == "non_owner" else getattr(roles, caller)
    with boa.env.prank(account), boa.reverts(MISSING_ROLE):
        PRIVILEGED[function][1](token, roles)


@pytest.mark.parametrize(
    "caller",
    ["minter", "burner", "pauser", "multiplier_updater", "compliance_agent", "operator", "non_owner"],
)
def test_transfer_ownership_rejects_other_callers(
    token: Any, roles: Roles, non_owner: str, caller: str
) -> None:
    account = non_owner if caller == "non_owner" else getattr(roles, caller)
    with boa.env.prank(account), boa.reverts("ownable: caller is not the owner"):
        token.transfer_ownership(account)


def test_admin_moves_in_two_steps(token: Any, roles: Roles, non_owner: str) -> None:
    admin_role = token.DEFAULT_ADMIN_ROLE()
    with boa.env.prank(roles.admin):
        token.transfer_ownership(non_owner)
    assert token.pending_owner() == non_owner
    assert token.owner() == roles.admin
    assert token.hasRole(admin_role, roles.admin)
    with boa.env.prank(roles.minter), boa.reverts("ownable_2step: caller is not the new owner"):
        token.accept_ownership()
    with boa.env.prank(non_owner):
        token.accept_ownership()
    assert token.owner() == non_owner
    assert token.pending_owner() == "0x" + "00" * 20
    assert token.hasRole(admin_role, non_owner)
    assert not token.hasRole(admin_role, roles.admin)
    with boa.env.prank(roles.admin), boa.reverts(MISSING_ROLE):
        token.set_terms_uri("ipfs://old-admin")


def test_admin_role_cannot_be_granted_in_one_step(token: Any, roles: Roles, non_owner: str) -> None:
    with boa.env.prank(roles.admin), boa.reverts(MISSING_ROLE):
        token.grantRole(token.DEFAULT_ADMIN_ROLE(), non_owner)
    with boa.env.prank(roles.admin), boa.reverts(MISSING_ROLE):
        token.revokeRole(token.DEFAULT_ADMIN_ROLE(), roles.admin)


def test_admin_grants_and_revokes_operational_roles(token: Any, roles: Roles, non_owner: str) -> None:
    with boa.env.prank(roles.admin):
        token.grantRole(token.PAUSER_ROLE(), non_owner)
    with boa.env.prank(non_owner):
        token.pause()
    with boa.env.prank(roles.admin):
        token.revokeRole(token.PAUSER_ROLE(), non_owner)
    with boa.env.prank(non_owner), boa.reverts(MISSING_ROLE):
        token.unpause()


def test_a_role_holder_can_renounce_only_its_own_role(token: Any, roles: Roles) -> None:
    with boa.env.prank(roles.pauser), boa.reverts("access_control: can only renounce roles for itself"):
        token.renounceRole(token.MINTER_ROLE(), roles.minter)
    with boa.env.prank(roles.minter):
        token.renounceRole(token.MINTER_ROLE(), roles.minter)
    assert not token.hasRole(token.MINTER_ROLE(), roles.minter)


def test_deployer_holds_no_operational_role(deploy_token: TokenFactory, roles: Roles) -> None:
    token = deploy_token(OPEN)
    with boa.env.prank(roles.admin):
        fresh = token.deployer.deploy(
            "Fresh",
            "FRSHx",
            8,
            "US0000000000",
            "FRSH",
            "",
            OPEN,
            token.sanctions_list(),
            token.identity_registry(),
            token.reserve_feed(),
            60,
        )
    for role in (
        "MINTER_ROLE",
        "BURNER_ROLE",
        "PAUSER_ROLE",
        "MULTIPLIER_UPDATER_ROLE",
        "COMPLIANCE_AGENT_ROLE",
        "OPERATOR_ROLE",
    ):
        assert not fresh.hasRole(getattr(fresh, role)(), roles.admin)


def test_admin_setters_log_their_changes(token: Any, roles: Roles, non_owner: str) -> None:
    with boa.env.prank(roles.admin):
        token.set_terms_uri("ipfs://terms-v2")
        assert events(token) == [("TermsURISet", {"terms_uri": "ipfs://terms-v2"})]
        token.set_identity_registry(non_owner)
        assert events(token) == [("IdentityRegistrySet", {"identity_registry": non_owner})]
    assert token.terms_uri() == "ipfs://terms-v2"
    assert token.identity_registry() == non_owner


def test_registry_cannot_be_unset(token: Any, roles: Roles) -> None:
    with boa.env.prank(roles.admin), boa.reverts("token: registry is the zero address"):
        token.set_identity_registry("0x" + "00" * 20)


def test_role_admins_and_profile_constants(token: Any) -> None:
    admin_role = token.DEFAULT_ADMIN_ROLE()
    for role in (
        "MINTER_ROLE",
        "BURNER_ROLE",
        "PAUSER_ROLE",
        "MULTIPLIER_UPDATER_ROLE",
        "COMPLIANCE_AGENT_ROLE",
        "OPERATOR_ROLE",
    ):
        assert token.getRoleAdmin(getattr(token, role)()) == admin_role
    # Only the two-step transfer moves the admin role: its admin role is held by nobody.
    assert token.getRoleAdmin(admin_role) != admin_role
    assert (token.PROFILE_OPEN(), token.PROFILE_PERMISSIONED(), token.PROFILE_RESTRICTED()) == (0, 1, 2)
