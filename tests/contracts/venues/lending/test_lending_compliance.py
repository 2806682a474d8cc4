"""The stock token's own rules hold in the lending market: a permissioned token is accepted as collateral
only once the market contract is a registered wallet, a liquidator must be a wallet the token may pay,
and a sanctioned or frozen borrower moves no collateral out, neither to itself nor through a delegate.

Every refused call changes nothing: the totals, the positions and the balances stay.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import PERMISSIONED, TokenFactory, register
from tests.support.contracts.lending import (
    LLTV,
    PRICE,
    MarketParams,
    Snapshot,
    market_id,
    max_borrow,
    oracle_price,
    publish,
    snapshot_of,
)
from tests.support.contracts.venues import SHARE, USDC, Funder

VENUE_OPERATOR, LENDER, BORROWER, LIQUIDATOR, DELEGATE = 900, 1, 2, 3, 4
COLLATERAL = 10 * SHARE
LIQUIDITY = 100_000 * USDC
DEBT = max_borrow(COLLATERAL, oracle_price(PRICE), LLTV)


@pytest.fixture
def permissioned(deploy_token: TokenFactory) -> Any:
    return deploy_token(PERMISSIONED)


@pytest.fixture
def permissioned_feed(permissioned: Any, open_feed: Callable[[Any], Any]) -> Any:
    return open_feed(permissioned)


@pytest.fixture
def permissioned_params(
    permissioned: Any,
    permissioned_feed: Any,
    oracle_for: Callable[[Any], Any],
    create: Callable[..., MarketParams],
    lend: Callable[..., Any],
    lender: str,
) -> MarketParams:
    """A market against the permissioned token, with a lender's liquidity; the market is unregistered."""
    params = create(permissioned, oracle_for(permissioned_feed))
    lend(params, lender, LIQUIDITY)
    return params


def state_of(lending: Any, params: MarketParams, token: Any, usdc: Any, *users: str) -> Snapshot:
    return snapshot_of(lending, params, list(users), [usdc, token])


def refuse(state: Snapshot, reason: str, call: Callable[[], Any]) -> None:
    before = state()
    with boa.reverts(reason):
        call()
    assert state() == before


def sanction(sanctions_list: Any, admin: str, account: str) -> None:
    sanctions_list.addToSanctionsList([account], sender=admin)


# ------------------------------------------------------------------------------ permissioned


def test_permissioned_collateral_needs_the_market_to_be_a_registered_wallet(
    lending: Any,
    permissioned_params: MarketParams,
    permissioned: Any,
    usdc: Any,
    registry: Any,
    registrar: str,
    fund: Funder,
    borrower: str,
) -> None:
    register(registry, registrar, BORROWER, borrower)
    fund(permissioned, borrower, COLLATERAL, 0, lending.address)
    state = state_of(lending, permissioned_params, permissioned, usdc, borrower)

    refuse(
        state,
        "receiver is not a verified investor",
        lambda: lending.supply_collateral(permissioned_params, COLLATERAL, borrower, sender=borrower),
    )

    register(registry, registrar, VENUE_OPERATOR, lending.address)
    lending.supply_collateral(permissioned_params, COLLATERAL, borrower, sender=borrower)

    assert lending.position(market_id(permissioned_params), borrower) == (0, 0, COLLATERAL)
    assert permissioned.balanceOf(lending.address) == COLLATERAL


@pytest.fixture
def underwater_permissioned(
    lending: Any,
    permissioned_params: MarketParams,
    permissioned: Any,
    permissioned_feed: Any,
    registry: Any,
    registrar: str,
    fund: Funder,
    borrower: str,
    liquidator: str,
    reporters: list[LocalAccount],
) -> MarketParams:
    """A registered permissioned market whose borrower is liquidatable, the liquidator funded."""
    register(registry, registrar, VENUE_OPERATOR, lending.address)
    register(registry, registrar, BORROWER, borrower)
    fund(permissioned, borrower, COLLATERAL, 0, lending.address)
    lending.supply_collateral(permissioned_params, COLLATERAL, borrower, sender=borrower)
    lending.borrow(permissioned_params, DEBT, 0, borrower, borrower, sender=borrower)
    publish(permissioned_feed, reporters, PRICE * 9 // 10)
    fund(permissioned, liquidator, 0, LIQUIDITY, lending.address)
    return permissioned_params


def test_an_unverified_liquidator_cannot_take_permissioned_collateral(
    lending: Any,
    underwater_permissioned: MarketParams,
    permissioned: Any,
    usdc: Any,
    registry: Any,
    registrar: str,
    borrower: str,
    liquidator: str,
) -> None:
    state = state_of(lending, underwater_permissioned, permissioned, usdc, borrower, liquidator)

    refuse(
        state,
        "receiver is not a verified investor",
        lambda: lending.liquidate(underwater_permissioned, borrower, SHARE, 0, sender=liquidator),
    )

    register(registry, registrar, LIQUIDATOR, liquidator)
    lending.liquidate(underwater_permissioned, borrower, SHARE, 0, sender=liquidator)
    assert permissioned.balanceOf(liquidator) == SHARE


def test_permissioned_collateral_goes_only_to_a_verified_receiver(
    lending: Any,
    underwater_permissioned: MarketParams,
    permissioned: Any,
    usdc: Any,
    registry: Any,
    registrar: str,
    borrower: str,
    delegate: str,
) -> None:
    params = underwater_permissioned
    lending.set_authorization(delegate, True, sender=borrower)
    # Without debt: the withdrawal needs no price, only the token's consent.
    usdc.approve(lending.address, DEBT, sender=borrower)
    lending.repay(params, DEBT, 0, borrower, sender=borrower)
    state = state_of(lending, params, permissioned, usdc, borrower, delegate)

    refuse(
        state,
        "receiver is not a verified investor",
        lambda: lending.withdraw_collateral(params, SHARE, borrower, delegate, sender=delegate),
    )

    register(registry, registrar, DELEGATE, delegate)
    lending.withdraw_collateral(params, SHARE, borrower, delegate, sender=delegate)
    assert permissioned.balanceOf(delegate) == SHARE


# --------------------------------------------------------------------------- sanctions, freezes


@pytest.fixture
def indebted(
    lending: Any,
    params: MarketParams,
    lend: Callable[..., Any],
    pledge: Callable[..., None],
    token: Any,
    lender: str,
    borrower: str,
    delegate: str,
) -> MarketParams:
    """The open token's market: the borrower owes half its limit and has authorised its delegate."""
    lend(params, lender, LIQUIDITY)
    pledge(params, token, borrower, COLLATERAL)
    lending.borrow(params, DEBT // 2, 0, borrower, borrower, sender=borrower)
    lending.set_authorization(delegate, True, sender=borrower)
    return params


def test_a_sanctioned_liquidator_cannot_liquidate(
    lending: Any,
    indebted: MarketParams,
    token: Any,
    usdc: Any,
    sanctions_list: Any,
    admin: str,
    fund: Funder,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
) -> None:
    publish(feed, reporters, PRICE * 45 // 100)
    fund(token, liquidator, 0, LIQUIDITY, lending.address)
    sanction(sanctions_list, admin, liquidator)
    state = state_of(lending, indebted, token, usdc, borrower, liquidator)

    refuse(
        state,
        "receiver is sanctioned",
        lambda: lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator),
    )


def test_a_sanctioned_borrower_moves_no_collateral_out_but_can_be_liquidated(
    lending: Any,
    indebted: MarketParams,
    token: Any,
    usdc: Any,
    sanctions_list: Any,
    admin: str,
    fund: Funder,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    delegate: str,
    liquidator: str,
) -> None:
    sanction(sanctions_list, admin, borrower)
    state = state_of(lending, indebted, token, usdc, borrower, delegate)

    refuse(
        state,
        "receiver is sanctioned",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, borrower, sender=borrower),
    )
    refuse(
        state,
        "receiver is sanctioned",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, borrower, sender=delegate),
    )
    refuse(
        state,
        "sender is sanctioned",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, delegate, sender=delegate),
    )
    refuse(
        state,
        "sender is sanctioned",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, delegate, sender=borrower),
    )

    # The position stays liquidatable: the collateral goes to the liquidator, not to the borrower.
    publish(feed, reporters, PRICE * 45 // 100)
    fund(token, liquidator, 0, LIQUIDITY, lending.address)
    lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator)
    assert token.balanceOf(liquidator) == SHARE


def test_a_frozen_borrower_moves_no_collateral_out(
    lending: Any,
    indebted: MarketParams,
    token: Any,
    usdc: Any,
    compliance_agent: str,
    borrower: str,
    delegate: str,
) -> None:
    token.set_address_frozen(borrower, True, sender=compliance_agent)
    state = state_of(lending, indebted, token, usdc, borrower, delegate)

    refuse(
        state,
        "receiver is frozen",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, borrower, sender=borrower),
    )
    refuse(
        state,
        "sender is frozen",
        lambda: lending.withdraw_collateral(indebted, SHARE, borrower, delegate, sender=delegate),
    )

    token.set_address_frozen(borrower, False, sender=compliance_agent)
    lending.withdraw_collateral(indebted, SHARE, borrower, delegate, sender=delegate)
    assert token.balanceOf(delegate) == SHARE
