"""Deployers and actors for the perpetuals: a real stock token and its real quorum `PriceFeed` (from
the venues' and the contracts' conftests), test USDC, the `PerpVault` with an LP's deposit, and the
`PerpMarket` of the token, registered in the vault, open with a fresh price.

The units, the model of the market's maths and the helpers live in ``tests.support.contracts.perps``.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import actor, deployer
from tests.support.contracts.oracle import transmit
from tests.support.contracts.perps import LP_ASSETS, MAX_AGE, MAX_ANSWER, PRICE, USDC
from tests.support.contracts.venues import OPEN


@pytest.fixture(scope="session")
def vault_deployer() -> Any:
    return deployer("venues/perps/PerpVault.vy")


@pytest.fixture(scope="session")
def market_deployer() -> Any:
    return deployer("venues/perps/PerpMarket.vy")


@pytest.fixture(scope="module")
def lp() -> str:
    return actor("lp")


@pytest.fixture(scope="module")
def liquidator() -> str:
    return actor("liquidator")


@pytest.fixture(scope="module")
def keeper() -> str:
    return actor("keeper")


@pytest.fixture(scope="module")
def feed(feed_for: Callable[[Any], Any], token: Any, reporters: list[LocalAccount], admin: str) -> Any:
    """The token's feed, free of move and interval bounds, open at `PRICE`."""
    feed = feed_for(token)
    with boa.env.prank(admin):
        feed.set_bounds(0, feed.max_report_age(), 0)
    transmit(feed, reporters, PRICE, OPEN)
    return feed


@pytest.fixture(scope="module")
def vault(vault_deployer: Any, usdc: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return vault_deployer.deploy(usdc.address)


@pytest.fixture(scope="module")
def market(market_deployer: Any, vault: Any, usdc: Any, feed: Any, token: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        market = market_deployer.deploy(
            usdc.address, vault.address, feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )
        vault.add_market(market.address)
    return market


@pytest.fixture(scope="module")
def give(usdc: Any, admin: str) -> Callable[[str, int, str], None]:
    """Mint `who` `amount` USDC and approve `spender` for all of it."""

    def mint(who: str, amount: int, spender: str) -> None:
        with boa.env.prank(admin):
            usdc.mint(who, amount)
        with boa.env.prank(who):
            usdc.approve(spender, 2**256 - 1)

    return mint


@pytest.fixture(scope="module")
def funded(market: Any, vault: Any, give: Callable[[str, int, str], None], lp: str, trader: str) -> Any:
    """The market with an LP's `LP_ASSETS` in the vault and a trader holding 100,000 USDC."""
    give(lp, LP_ASSETS, vault.address)
    with boa.env.prank(lp):
        vault.deposit(LP_ASSETS, lp)
    give(trader, 100_000 * USDC, market.address)
    return market
