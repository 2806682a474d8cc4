"""Deployers and actors for the lending venue: a real stock token and its real quorum `PriceFeed`, test
USDC, the `StockOracle` over that feed, a rate model whose rate a test sets (`FixedRateIrm`), the
`LendingMarket`, and funders of lenders and borrowers.

The token, the feed, the reserve feed, the registry and the sanctions list come from the venues' and
the contracts' conftests. The market starts open with a fresh price, past the reopening grace of the
feed's first round, and with fresh reserves. The units, the model of the market's maths and the
helpers live in ``tests.support.contracts.lending``.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import actor, attest, deployer
from tests.support.contracts.lending import (
    CLOSED_CUT,
    GRACE,
    LLTV,
    LLTV_HALF,
    MAX_AGE,
    MAX_ANSWER,
    PRICE,
    ZERO,
    MarketParams,
    market_id,
)
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import OPEN, Funder

# ------------------------------------------------------------------------------------ deployers


@pytest.fixture(scope="session")
def lending_deployer() -> Any:
    return deployer("venues/lending/LendingMarket.vy")


@pytest.fixture(scope="session")
def stock_oracle_deployer() -> Any:
    return deployer("venues/lending/StockOracle.vy")


@pytest.fixture(scope="session")
def fixed_irm_deployer() -> Any:
    return deployer("mocks/FixedRateIrm.vy")


# --------------------------------------------------------------------------------------- actors


@pytest.fixture(scope="module")
def lender() -> str:
    return actor("lender")


@pytest.fixture(scope="module")
def borrower() -> str:
    return actor("borrower")


@pytest.fixture(scope="module")
def liquidator() -> str:
    return actor("liquidator")


@pytest.fixture(scope="module")
def delegate() -> str:
    return actor("delegate")


@pytest.fixture(scope="module")
def fee_recipient() -> str:
    return actor("fee_recipient")


# ------------------------------------------------------------------------------------ contracts


@pytest.fixture(scope="module")
def open_feed(
    feed_for: Callable[[Any], Any], reporters: list[LocalAccount], admin: str
) -> Callable[[Any], Any]:
    """Deploy a token's feed, free of move and interval bounds, open for longer than the grace."""

    def deploy(token: Any) -> Any:
        feed = feed_for(token)
        with boa.env.prank(admin):
            feed.set_bounds(0, feed.max_report_age(), 0)
        transmit(feed, reporters, PRICE, OPEN)
        boa.env.time_travel(seconds=GRACE)
        transmit(feed, reporters, PRICE, OPEN)
        return feed

    return deploy


@pytest.fixture(scope="module")
def feed(open_feed: Callable[[Any], Any], token: Any) -> Any:
    return open_feed(token)


@pytest.fixture(scope="module")
def oracle_for(stock_oracle_deployer: Any, admin: str) -> Callable[[Any], Any]:
    """Deploy the StockOracle of a feed: USDC's 6 decimals, `MAX_AGE`, no band, `CLOSED_CUT`, `GRACE`."""

    def deploy(feed: Any) -> Any:
        with boa.env.prank(admin):
            return stock_oracle_deployer.deploy(
                feed.address, 6, MAX_AGE, 1, MAX_ANSWER, CLOSED_CUT, GRACE, admin
            )

    return deploy


@pytest.fixture(scope="module")
def oracle(oracle_for: Callable[[Any], Any], feed: Any, token: Any, reserve_feed: Any, attester: str) -> Any:
    attest(reserve_feed, attester, token.totalSupply())
    return oracle_for(feed)


@pytest.fixture(scope="module")
def irm(fixed_irm_deployer: Any) -> Any:
    return fixed_irm_deployer.deploy(0)


@pytest.fixture(scope="module")
def lending(lending_deployer: Any, admin: str, irm: Any, fee_recipient: str) -> Any:
    """The lending market contract: the zero and the fixed rate models, LLTVs 0.75 and 0.5 enabled."""
    with boa.env.prank(admin):
        market = lending_deployer.deploy(admin)
        market.enable_irm(ZERO)
        market.enable_irm(irm.address)
        market.enable_lltv(LLTV)
        market.enable_lltv(LLTV_HALF)
        market.set_fee_recipient(fee_recipient)
    return market


@pytest.fixture(scope="module")
def create(lending: Any, usdc: Any, irm: Any) -> Callable[..., MarketParams]:
    """Create the USDC market against `token` priced by `oracle`."""

    def make(token: Any, oracle: Any, lltv: int = LLTV, rate_model: str | None = None) -> MarketParams:
        params = MarketParams(usdc.address, token.address, oracle.address, rate_model or irm.address, lltv)
        lending.create_market(params)
        return params

    return make


@pytest.fixture(scope="module")
def params(create: Callable[..., MarketParams], token: Any, oracle: Any) -> MarketParams:
    return create(token, oracle)


@pytest.fixture(scope="module")
def id_(params: MarketParams) -> bytes:
    return market_id(params)


# ------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def lend(lending: Any, usdc: Any, fund: Funder) -> Callable[..., tuple[int, int]]:
    """Fund `who` with `assets` of USDC and supply them to `params`; return (assets, shares)."""

    def supply(params: MarketParams, who: str, assets: int) -> tuple[int, int]:
        fund(usdc, who, 0, assets, lending.address)
        with boa.env.prank(who):
            result: tuple[int, int] = lending.supply(params, assets, 0, who)
        return result

    return supply


@pytest.fixture(scope="module")
def pledge(lending: Any, fund: Funder) -> Callable[..., None]:
    """Mint `who` `collateral` of the market's token and deposit it as collateral."""

    def deposit(params: MarketParams, token: Any, who: str, collateral: int) -> None:
        fund(token, who, collateral, 0, lending.address)
        with boa.env.prank(who):
            lending.supply_collateral(params, collateral, who)

    return deposit
