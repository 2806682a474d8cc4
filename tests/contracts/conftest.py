"""Deployers and role-named actors for every contract test.

Tests run on titanoboa's in-process EVM; its pytest plugin isolates each
test with ``boa.env.anchor()``, so module-scoped deployments are cheap
and never leak state between tests. The units, profiles and helpers
(`register`, `mint`, `events`, ...) live in ``tests.support.contracts``.
"""

from collections.abc import Iterator
from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from tests.support.contracts import AAPL_ISIN, DECIMALS, HEARTBEAT, OPEN, Roles, TokenFactory, actor, deployer

from equitoken.chain.evm.deployment import TOKEN_ROLE_HOLDERS


@pytest.fixture(scope="session")
def stock_token_deployer() -> Any:
    return deployer("token/StockToken.vy")


@pytest.fixture(scope="session")
def registry_deployer() -> Any:
    return deployer("compliance/IdentityRegistry.vy")


@pytest.fixture(scope="session")
def sanctions_deployer() -> Any:
    return deployer("compliance/SanctionsList.vy")


@pytest.fixture(scope="session")
def reserve_feed_deployer() -> Any:
    return deployer("oracle/ReserveFeed.vy")


@pytest.fixture(scope="module")
def admin() -> str:
    return actor("admin")


@pytest.fixture(scope="module")
def minter() -> str:
    return actor("minter")


@pytest.fixture(scope="module")
def burner() -> str:
    return actor("burner")


@pytest.fixture(scope="module")
def pauser() -> str:
    return actor("pauser")


@pytest.fixture(scope="module")
def multiplier_updater() -> str:
    return actor("multiplier_updater")


@pytest.fixture(scope="module")
def compliance_agent() -> str:
    return actor("compliance_agent")


@pytest.fixture(scope="module")
def operator() -> str:
    return actor("operator")


@pytest.fixture(scope="module")
def registrar() -> str:
    return actor("registrar")


@pytest.fixture(scope="module")
def attester() -> str:
    return actor("attester")


@pytest.fixture(scope="module")
def non_owner() -> str:
    return actor("non_owner")


@pytest.fixture(scope="module")
def holder_key() -> LocalAccount:
    """A holder whose key signs permits."""
    account: LocalAccount = Account.from_key(b"\x11" * 32)
    return account


@pytest.fixture(scope="module")
def holder(holder_key: LocalAccount) -> str:
    return str(holder_key.address)


@pytest.fixture(scope="module")
def receiver() -> str:
    return actor("receiver")


@pytest.fixture(scope="module")
def spender() -> str:
    return actor("spender")


@pytest.fixture(scope="module")
def sanctions_list(sanctions_deployer: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return sanctions_deployer.deploy()


@pytest.fixture(scope="module")
def reserve_feed(reserve_feed_deployer: Any, admin: str, attester: str) -> Any:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(DECIMALS, "AAPLx reserves")
        feed.grantRole(feed.UPDATER_ROLE(), attester)
    return feed


@pytest.fixture(scope="module")
def registry(registry_deployer: Any, admin: str, registrar: str) -> Any:
    with boa.env.prank(admin):
        reg = registry_deployer.deploy()
        reg.grantRole(reg.REGISTRAR_ROLE(), registrar)
    return reg


@pytest.fixture(scope="module")
def roles(
    admin: str,
    minter: str,
    burner: str,
    pauser: str,
    multiplier_updater: str,
    compliance_agent: str,
    operator: str,
) -> Roles:
    return Roles(admin, minter, burner, pauser, multiplier_updater, compliance_agent, operator)


@pytest.fixture(scope="module")
def deploy_token(
    stock_token_deployer: Any,
    roles: Roles,
    sanctions_list: Any,
    registry: Any,
    registrar: str,
    reserve_feed: Any,
) -> TokenFactory:
    """Deploy a stock token with every role granted to its named actor."""

    def deploy(profile: int = OPEN, *, reserve_feed_address: str | None = None, **overrides: Any) -> Any:
        args: dict[str, Any] = {
            "name_": "Apple Inc. tokenized stock",
            "symbol_": "AAPLx",
            "decimals_": DECIMALS,
            "isin_": AAPL_ISIN,
            "ticker_": "AAPL",
            "terms_uri_": "https://equitoken.example/terms/AAPLx",
            "profile_": profile,
            "sanctions_list_": sanctions_list.address,
            "identity_registry_": registry.address,
            "reserve_feed_": reserve_feed_address or reserve_feed.address,
            "reserve_heartbeat_": HEARTBEAT,
        }
        args.update(overrides)
        with boa.env.prank(roles.admin):
            token = stock_token_deployer.deploy(*args.values())
            for role, holder in TOKEN_ROLE_HOLDERS:
                token.grantRole(getattr(token, role)(), getattr(roles, holder))
        if profile != OPEN:
            with boa.env.prank(registrar):
                registry.bind_token(token.address)
        return token

    return deploy


@pytest.fixture(scope="module")
def fresh_chain() -> Iterator[Any]:
    """Run the module on a new in-process chain, the worker's own chain restored afterwards.

    py-evm journals every account whose storage was ever written and
    checkpoints all of them on each call, so a worker that already ran
    many contract tests makes every later call slower. Long random runs
    ask for this fixture before any deployment fixture.
    """
    env = boa.Env()
    with boa.swap_env(env):
        yield env
