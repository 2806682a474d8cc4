"""What every contract test shares: the token's units and profiles, role-named actors, and helpers that
register investors, attest reserves, mint and read a call's events.

Tests run on titanoboa's in-process EVM; its pytest plugin isolates each test with
``boa.env.anchor()``, so module-scoped deployments are cheap and never leak state between tests. The
fixtures that deploy the contracts live in ``tests/contracts/conftest.py``; the areas' own helpers in
``tests.support.contracts.compliance``, ``.oracle`` and ``.venues``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa

from equitoken.chain.evm.artifacts import contract_path

DECIMALS = 8
ONE_SHARE = 10**DECIMALS
ONE = 10**18
HEARTBEAT = 3_600
COUNTRY_DE = 276
COUNTRY_CH = 756
COUNTRY_US = 840
OPEN, PERMISSIONED, RESTRICTED = 0, 1, 2
AAPL_ISIN = "US0378331005"


def deployer(relative: str) -> Any:
    """Return the deployer of the contract at `relative` (under the contracts' directory)."""
    return boa.load_partial(str(contract_path(relative)))


def actor(name: str) -> str:
    """Return the address boa names `name`."""
    address: str = boa.env.generate_address(name)
    return address


@dataclass(frozen=True)
class Roles:
    admin: str
    minter: str
    burner: str
    pauser: str
    multiplier_updater: str
    compliance_agent: str
    operator: str


def attest(feed: Any, attester: str, reserves: int, *, age: int = 0) -> None:
    """Publish `reserves` raw units as the latest reserve answer, observed `age` seconds ago."""
    with boa.env.prank(attester):
        feed.update(reserves, boa.env.evm.patch.timestamp - age)


TokenFactory = Callable[..., Any]


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
