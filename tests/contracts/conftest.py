"""Deployers and role-named actors for every contract test.

Tests run on titanoboa's in-process EVM; its pytest plugin isolates each
test with ``boa.env.anchor()``, so module-scoped deployments are cheap
and never leak state between tests.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.chain.evm.artifacts import contract_path
from equitoken.chain.evm.deployment import TOKEN_ROLE_HOLDERS

DECIMALS = 8
ONE_SHARE = 10**DECIMALS
ONE = 10**18
HEARTBEAT = 3_600
COUNTRY_DE = 276
COUNTRY_CH = 756
COUNTRY_US = 840
OPEN, PERMISSIONED, RESTRICTED = 0, 1, 2
AAPL_ISIN = "US0378331005"


def _deployer(relative: str) -> Any:
    return boa.load_partial(str(contract_path(relative)))


@pytest.fixture(scope="session")
def stock_token_deployer() -> Any:
    return _deployer("token/StockToken.vy")


@pytest.fixture(scope="session")
def registry_deployer() -> Any:
    return _deployer("compliance/IdentityRegistry.vy")


@pytest.fixture(scope="session")
def sanctions_deployer() -> Any:
    return _deployer("compliance/SanctionsList.vy")


@pytest.fixture(scope="session")
def reserve_feed_deployer() -> Any:
    return _deployer("oracle/ReserveFeed.vy")


def _actor(name: str) -> str:
    address: str = boa.env.generate_address(name)
    return address


@pytest.fixture(scope="module")
def admin() -> str:
    return _actor("admin")


@pytest.fixture(scope="module")
def minter() -> str:
    return _actor("minter")


@pytest.fixture(scope="module")
def burner() -> str:
    return _actor("burner")


@pytest.fixture(scope="module")
def pauser() -> str:
    return _actor("pauser")


@pytest.fixture(scope="module")
def multiplier_updater() -> str:
    return _actor("multiplier_updater")


@pytest.fixture(scope="module")
def compliance_agent() -> str:
    return _actor("compliance_agent")


@pytest.fixture(scope="module")
def operator() -> str:
    return _actor("operator")


@pytest.fixture(scope="module")
def registrar() -> str:
    return _actor("registrar")


@pytest.fixture(scope="module")
def attester() -> str:
    return _actor("attester")


@pytest.fixture(scope="module")
def non_owner() -> str:
    return _actor("non_owner")


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
    return _actor("receiver")


@pytest.fixture(scope="module")
def spender() -> str:
    return _actor("spender")


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


@dataclass(frozen=True)
class Roles:
    admin: str
    minter: str
    burner: str
    pauser: str
    multiplier_updater: str
    compliance_agent: str
    operator: str


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


def attest(feed: Any, attester: str, reserves: int) -> None:
    """Publish `reserves` raw units as the latest reserve answer, observed now."""
    with boa.env.prank(attester):
        feed.update(reserves, boa.env.evm.patch.timestamp)


TokenFactory = Callable[..., Any]


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


def register(
    registry: Any,
    registrar: str,
    investor_id: int,
    *wallets: str,
    country: int = COUNTRY_DE,
    accredited: bool = True,
    kyc_days: int = 365,
) -> None:
    """Register an investor with `wallets`, verified for `kyc_days`."""
    expiry = boa.env.evm.patch.timestamp + kyc_days * 86_400
    with boa.env.prank(registrar):
        registry.set_investor(investor_id, country, expiry, accredited)
        for wallet in wallets:
            registry.add_wallet(investor_id, wallet)


def mint(token: Any, feed: Any, attester: str, minter: str, to: str, amount: int) -> None:
    """Attest enough reserves, then mint `amount` to `to`."""
    attest(feed, attester, token.totalSupply() + amount)
    with boa.env.prank(minter):
        token.mint(to, amount)


def events(contract: Any) -> list[tuple[str, dict[str, Any]]]:
    """Return the events the last call emitted as (name, arguments) pairs."""
    return [
        (type(log).__name__, {k: v for k, v in log._asdict().items() if k != "address"})
        for log in contract.get_logs()
    ]


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
