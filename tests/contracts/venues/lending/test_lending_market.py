"""LendingMarket, unit by unit: governance, markets, every revert path (and that a refused call changes
nothing: the totals, every position, every balance), and the happy paths against the Python model of
the market's maths: virtual shares, interest, fees, the liquidation incentive and bad debt.

The collateral is a real stock token priced by the real StockOracle over the real quorum PriceFeed;
the rate model is `FixedRateIrm`, whose rate a test sets. The market starts open at $200 a token.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE, attest, deployer
from tests.support.contracts.lending import (
    CLOSED_CUT,
    LLTV,
    LLTV_HALF,
    MAX_FEE,
    MAX_LIF,
    ORACLE_PRICE_SCALE,
    PRICE,
    VIRTUAL_ASSETS,
    VIRTUAL_SHARES,
    WAD,
    ZERO,
    MarketParams,
    Snapshot,
    lif,
    market_events,
    market_id,
    max_borrow,
    mul_div,
    now,
    oracle_price,
    publish,
    snapshot_of,
    taylor,
    to_assets,
    to_shares,
)
from tests.support.contracts.venues import CLOSED, HALTED, OPEN, SHARE, USDC, Funder

COLLATERAL = 10 * SHARE  # $2,000 at $200
LIQUIDITY = 100_000 * USDC
P = oracle_price(PRICE)
MAX_OPEN = max_borrow(COLLATERAL, P, LLTV)  # $1,500
MAX_CLOSED = max_borrow(COLLATERAL, P, LLTV - CLOSED_CUT)  # $1,300
YEAR = 365 * 86_400
TEN_PERCENT = WAD // 10 // YEAR  # a year's 10%, per second
OTHER = "0x" + "11" * 20


@dataclass(frozen=True)
class Desk:
    """The market and the actors a parametrised call talks about."""

    lending: Any
    params: MarketParams
    lender: str
    borrower: str
    liquidator: str
    delegate: str


Call = Callable[[Desk], Any]


@pytest.fixture
def desk(
    lending: Any, params: MarketParams, lender: str, borrower: str, liquidator: str, delegate: str
) -> Desk:
    return Desk(lending, params, lender, borrower, liquidator, delegate)


@pytest.fixture
def state(
    lending: Any,
    params: MarketParams,
    lender: str,
    borrower: str,
    liquidator: str,
    delegate: str,
    fee_recipient: str,
    usdc: Any,
    token: Any,
) -> Snapshot:
    return snapshot_of(
        lending, params, [lender, borrower, liquidator, delegate, fee_recipient], [usdc, token]
    )


@contextmanager
def refused(state: Snapshot, reason: str) -> Iterator[None]:
    """Expect the block to revert with `reason` and to leave the totals, positions and balances."""
    before = state()
    with boa.reverts(reason):
        yield
    assert state() == before


@pytest.fixture
def funded(
    params: MarketParams,
    lend: Callable[..., Any],
    pledge: Callable[..., None],
    token: Any,
    lender: str,
    borrower: str,
) -> MarketParams:
    """The market with a lender's liquidity and a borrower's collateral, no debt yet."""
    lend(params, lender, LIQUIDITY)
    pledge(params, token, borrower, COLLATERAL)
    return params


@pytest.fixture
def indebted(funded: MarketParams, lending: Any, borrower: str) -> MarketParams:
    """The borrower owes the most the LLTV allows."""
    lending.borrow(funded, MAX_OPEN, 0, borrower, borrower, sender=borrower)
    return funded


@pytest.fixture
def provide(fund: Funder, usdc: Any, lending: Any) -> Callable[[str, int], None]:
    """Give `who` `dollars` of USDC, approved to the lending market."""

    def give(who: str, dollars: int) -> None:
        fund(usdc, who, 0, dollars, lending.address)

    return give


def totals(lending: Any, params: MarketParams) -> tuple[int, int, int, int, int, int]:
    market = lending.market(market_id(params))
    return tuple(market)


def debt_of(lending: Any, params: MarketParams, user: str) -> int:
    """Return what `user` owes, rounded up as the market rounds it."""
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, params)
    return to_assets(lending.position(market_id(params), user)[1], borrow_assets, borrow_shares, True)


# ---------------------------------------------------------------------------------- governance


def test_deployment_refuses_a_zero_owner(lending_deployer: Any) -> None:
    with boa.reverts("lending: zero address"):
        lending_deployer.deploy(ZERO)


def test_deployment_state(lending: Any, admin: str, irm: Any, fee_recipient: str) -> None:
    assert lending.owner() == admin
    assert lending.is_irm_enabled(ZERO)
    assert lending.is_irm_enabled(irm.address)
    assert not lending.is_irm_enabled(OTHER)
    assert lending.is_lltv_enabled(LLTV)
    assert lending.is_lltv_enabled(LLTV_HALF)
    assert not lending.is_lltv_enabled(WAD // 3)
    assert lending.fee_recipient() == fee_recipient
    constants = (lending.VIRTUAL_SHARES(), lending.VIRTUAL_ASSETS(), lending.ORACLE_PRICE_SCALE())
    assert constants == (VIRTUAL_SHARES, VIRTUAL_ASSETS, ORACLE_PRICE_SCALE)
    assert (lending.MAX_FEE(), lending.MAX_LIQUIDATION_INCENTIVE_FACTOR()) == (MAX_FEE, MAX_LIF)
    assert lending.LIQUIDATION_CURSOR() == 3 * WAD // 10


def test_governance_enables_rate_models_and_lltvs_and_sets_fees(
    lending: Any, params: MarketParams, admin: str, non_owner: str
) -> None:
    lending.enable_irm(OTHER, sender=admin)
    assert market_events(lending) == [("EnableIrm", {"irm": OTHER})]
    lending.enable_lltv(WAD - 1, sender=admin)
    assert market_events(lending) == [("EnableLltv", {"lltv": WAD - 1})]
    lending.set_fee(params, MAX_FEE, sender=admin)
    assert market_events(lending)[-1] == ("SetFee", {"id": market_id(params), "new_fee": MAX_FEE})
    lending.set_fee_recipient(non_owner, sender=admin)
    assert market_events(lending) == [("SetFeeRecipient", {"new_fee_recipient": non_owner})]

    assert lending.is_irm_enabled(OTHER)
    assert lending.is_lltv_enabled(WAD - 1)
    assert totals(lending, params)[5] == MAX_FEE
    assert lending.fee_recipient() == non_owner


def _governance(lending: Any, params: MarketParams) -> tuple[Any, ...]:
    return (
        lending.owner(),
        lending.is_irm_enabled(OTHER),
        lending.is_lltv_enabled(WAD // 3),
        lending.fee_recipient(),
        totals(lending, params),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.lending.enable_irm(OTHER),
        lambda d: d.lending.enable_lltv(WAD // 3),
        lambda d: d.lending.set_fee(d.params, WAD // 10),
        lambda d: d.lending.set_fee_recipient(OTHER),
        lambda d: d.lending.transfer_ownership(OTHER),
        lambda d: d.lending.renounce_ownership(),
    ],
    ids=[
        "enable_irm",
        "enable_lltv",
        "set_fee",
        "set_fee_recipient",
        "transfer_ownership",
        "renounce_ownership",
    ],
)
def test_governance_is_the_owners_alone(desk: Desk, non_owner: str, call: Call) -> None:
    before = _governance(desk.lending, desk.params)

    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        call(desk)

    assert _governance(desk.lending, desk.params) == before


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda d, irm: d.lending.enable_irm(irm), "lending: already set"),
        (lambda d, irm: d.lending.enable_irm(ZERO), "lending: already set"),
        (lambda d, irm: d.lending.enable_lltv(LLTV), "lending: already set"),
        (lambda d, irm: d.lending.enable_lltv(WAD), "lending: max LLTV exceeded"),
        (lambda d, irm: d.lending.enable_lltv(2 * WAD), "lending: max LLTV exceeded"),
        (lambda d, irm: d.lending.set_fee(d.params, 0), "lending: already set"),
        (lambda d, irm: d.lending.set_fee(d.params, MAX_FEE + 1), "lending: max fee exceeded"),
        (
            lambda d, irm: d.lending.set_fee(d.params._replace(lltv=LLTV_HALF), WAD // 10),
            "lending: market not created",
        ),
        (lambda d, irm: d.lending.set_fee_recipient(d.lending.fee_recipient()), "lending: already set"),
    ],
    ids=[
        "irm_twice",
        "zero_irm_twice",
        "lltv_twice",
        "lltv_one",
        "lltv_above_one",
        "same_fee",
        "fee_above_max",
        "fee_of_no_market",
        "same_recipient",
    ],
)
def test_governance_refuses_bad_values_and_changes_nothing(
    desk: Desk, irm: Any, admin: str, call: Callable[[Desk, str], Any], reason: str
) -> None:
    uncreated = market_id(desk.params._replace(lltv=LLTV_HALF))
    before = (_governance(desk.lending, desk.params), tuple(desk.lending.market(uncreated)))

    with boa.env.prank(admin), boa.reverts(reason):
        call(desk, irm.address)

    assert (_governance(desk.lending, desk.params), tuple(desk.lending.market(uncreated))) == before


def test_a_fee_set_on_no_market_does_not_create_it(
    lending: Any, params: MarketParams, admin: str, lender: str, provide: Callable[[str, int], None]
) -> None:
    uncreated = params._replace(lltv=LLTV_HALF)
    with boa.env.prank(admin), boa.reverts("lending: market not created"):
        lending.set_fee(uncreated, WAD // 10)
    provide(lender, USDC)

    with boa.env.prank(lender), boa.reverts("lending: market not created"):
        lending.supply(uncreated, USDC, 0, lender)
    lending.create_market(uncreated)


def test_set_fee_accrues_at_the_old_fee_first(
    lending: Any, indebted: MarketParams, irm: Any, admin: str, fee_recipient: str
) -> None:
    irm.set_rate(TEN_PERCENT)
    boa.env.time_travel(seconds=30 * 86_400)

    lending.set_fee(indebted, WAD // 10, sender=admin)

    name, accrued = market_events(lending)[0]
    assert name == "AccrueInterest"
    assert accrued["interest"] > 0
    assert accrued["fee_shares"] == 0
    assert lending.position(market_id(indebted), fee_recipient)[0] == 0
    assert totals(lending, indebted)[4] == now()


def test_set_authorization_grants_and_revokes(lending: Any, borrower: str, delegate: str) -> None:
    lending.set_authorization(delegate, True, sender=borrower)
    assert market_events(lending) == [
        (
            "SetAuthorization",
            {"caller": borrower, "authorizer": borrower, "authorized": delegate, "new_is_authorized": True},
        )
    ]
    assert lending.is_authorized(borrower, delegate)

    with boa.reverts("lending: already set"):
        lending.set_authorization(delegate, True, sender=borrower)
    lending.set_authorization(delegate, False, sender=borrower)

    assert not lending.is_authorized(borrower, delegate)
    with boa.reverts("lending: already set"):
        lending.set_authorization(delegate, False, sender=borrower)


# -------------------------------------------------------------------------------------- markets


def test_create_market_records_the_market(lending: Any, usdc: Any, token: Any, oracle: Any, irm: Any) -> None:
    params = MarketParams(usdc.address, token.address, oracle.address, irm.address, LLTV_HALF)
    calls = irm.calls()

    id_ = lending.create_market(params)

    assert market_events(lending) == [
        (
            "CreateMarket",
            {
                "id": id_,
                "loan_token": usdc.address,
                "collateral_token": token.address,
                "oracle": oracle.address,
                "irm": irm.address,
                "lltv": LLTV_HALF,
            },
        )
    ]
    assert id_ == market_id(params) == lending.market_id(params)
    assert tuple(lending.market(id_)) == (0, 0, 0, 0, now(), 0)
    assert tuple(lending.id_to_market_params(id_)) == params
    # A stateful rate model starts its curve at creation.
    assert irm.calls() == calls + 1


def test_a_market_without_a_rate_model_accrues_no_interest(
    create: Callable[..., MarketParams],
    lending: Any,
    token: Any,
    oracle: Any,
    lend: Callable[..., Any],
    pledge: Callable[..., None],
    lender: str,
    borrower: str,
) -> None:
    params = create(token, oracle, LLTV, ZERO)
    lend(params, lender, LIQUIDITY)
    pledge(params, token, borrower, COLLATERAL)
    lending.borrow(params, MAX_OPEN, 0, borrower, borrower, sender=borrower)
    before = totals(lending, params)
    boa.env.time_travel(seconds=YEAR)

    assert totals(lending, params) == tuple(lending.expected_market(market_id(params))) == before
    lending.accrue_interest(params)

    assert totals(lending, params) == (*before[:4], now(), 0)
    assert market_events(lending) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"irm": OTHER}, "lending: IRM not enabled"),
        ({"lltv": WAD // 3}, "lending: LLTV not enabled"),
        ({"loan_token": ZERO}, "lending: zero address"),
        ({"collateral_token": ZERO}, "lending: zero address"),
        ({"oracle": ZERO}, "lending: zero address"),
        ({}, "lending: market already created"),
    ],
    ids=["irm", "lltv", "loan_token", "collateral_token", "oracle", "twice"],
)
def test_create_market_refuses_and_changes_nothing(
    lending: Any, params: MarketParams, change: dict[str, Any], reason: str
) -> None:
    refused_params = params._replace(**change)
    id_ = market_id(refused_params)
    before = (tuple(lending.market(id_)), tuple(lending.id_to_market_params(id_)))

    with boa.reverts(reason):
        lending.create_market(refused_params)

    assert (tuple(lending.market(id_)), tuple(lending.id_to_market_params(id_))) == before


# ----------------------------------------------------------------------------- refused inputs


UNCREATED = [
    lambda d, p: d.lending.supply(p, USDC, 0, d.lender, sender=d.lender),
    lambda d, p: d.lending.withdraw(p, USDC, 0, d.lender, d.lender, sender=d.lender),
    lambda d, p: d.lending.borrow(p, USDC, 0, d.borrower, d.borrower, sender=d.borrower),
    lambda d, p: d.lending.repay(p, USDC, 0, d.borrower, sender=d.borrower),
    lambda d, p: d.lending.supply_collateral(p, SHARE, d.borrower, sender=d.borrower),
    lambda d, p: d.lending.withdraw_collateral(p, SHARE, d.borrower, d.borrower, sender=d.borrower),
    lambda d, p: d.lending.liquidate(p, d.borrower, SHARE, 0, sender=d.liquidator),
    lambda d, p: d.lending.accrue_interest(p),
]
UNCREATED_IDS = [
    "supply",
    "withdraw",
    "borrow",
    "repay",
    "supply_collateral",
    "withdraw_collateral",
    "liquidate",
    "accrue_interest",
]


@pytest.mark.parametrize("call", UNCREATED, ids=UNCREATED_IDS)
def test_every_entry_point_refuses_a_market_not_created(
    desk: Desk, indebted: MarketParams, state: Snapshot, call: Callable[[Desk, MarketParams], Any]
) -> None:
    uncreated = indebted._replace(lltv=LLTV_HALF)

    with refused(state, "lending: market not created"):
        call(desk, uncreated)
    assert tuple(desk.lending.market(market_id(uncreated))) == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("amounts", [(0, 0), (1, 1)], ids=["both_zero", "both_set"])
@pytest.mark.parametrize(
    "call",
    [
        lambda d, a, s: d.lending.supply(d.params, a, s, d.lender, sender=d.lender),
        lambda d, a, s: d.lending.withdraw(d.params, a, s, d.lender, d.lender, sender=d.lender),
        lambda d, a, s: d.lending.borrow(d.params, a, s, d.borrower, d.borrower, sender=d.borrower),
        lambda d, a, s: d.lending.repay(d.params, a, s, d.borrower, sender=d.borrower),
        lambda d, a, s: d.lending.liquidate(d.params, d.borrower, a, s, sender=d.liquidator),
    ],
    ids=["supply", "withdraw", "borrow", "repay", "liquidate"],
)
def test_exactly_one_of_assets_and_shares(
    desk: Desk,
    indebted: MarketParams,
    state: Snapshot,
    call: Callable[[Desk, int, int], Any],
    amounts: tuple[int, int],
) -> None:
    with refused(state, "lending: inconsistent input"):
        call(desk, *amounts)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.lending.supply(d.params, USDC, 0, ZERO, sender=d.lender),
        lambda d: d.lending.withdraw(d.params, USDC, 0, d.lender, ZERO, sender=d.lender),
        lambda d: d.lending.borrow(d.params, USDC, 0, d.borrower, ZERO, sender=d.borrower),
        lambda d: d.lending.repay(d.params, USDC, 0, ZERO, sender=d.borrower),
        lambda d: d.lending.supply_collateral(d.params, SHARE, ZERO, sender=d.borrower),
        lambda d: d.lending.withdraw_collateral(d.params, SHARE, d.borrower, ZERO, sender=d.borrower),
    ],
    ids=["supply", "withdraw", "borrow", "repay", "supply_collateral", "withdraw_collateral"],
)
def test_no_zero_address(desk: Desk, indebted: MarketParams, state: Snapshot, call: Call) -> None:
    with refused(state, "lending: zero address"):
        call(desk)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.lending.supply_collateral(d.params, 0, d.borrower, sender=d.borrower),
        lambda d: d.lending.withdraw_collateral(d.params, 0, d.borrower, d.borrower, sender=d.borrower),
    ],
    ids=["supply_collateral", "withdraw_collateral"],
)
def test_no_zero_collateral(desk: Desk, indebted: MarketParams, state: Snapshot, call: Call) -> None:
    with refused(state, "lending: zero assets"):
        call(desk)


DELEGATED = [
    lambda d: d.lending.withdraw(d.params, USDC, 0, d.lender, d.delegate, sender=d.delegate),
    lambda d: d.lending.borrow(d.params, USDC, 0, d.borrower, d.delegate, sender=d.delegate),
    lambda d: d.lending.withdraw_collateral(d.params, SHARE, d.borrower, d.delegate, sender=d.delegate),
]


@pytest.mark.parametrize("call", DELEGATED, ids=["withdraw", "borrow", "withdraw_collateral"])
def test_only_the_owner_or_its_delegate_acts_for_a_position(
    desk: Desk, funded: MarketParams, state: Snapshot, usdc: Any, token: Any, call: Call
) -> None:
    with refused(state, "lending: unauthorized"):
        call(desk)

    for owner in (desk.lender, desk.borrower):
        desk.lending.set_authorization(desk.delegate, True, sender=owner)
    call(desk)
    assert usdc.balanceOf(desk.delegate) + token.balanceOf(desk.delegate) > 0

    for owner in (desk.lender, desk.borrower):
        desk.lending.set_authorization(desk.delegate, False, sender=owner)
    with refused(state, "lending: unauthorized"):
        call(desk)


def test_anyone_may_supply_and_repay_for_another(
    lending: Any, indebted: MarketParams, provide: Callable[[str, int], None], delegate: str, borrower: str
) -> None:
    provide(delegate, 2 * USDC)
    id_ = market_id(indebted)
    borrow_shares = lending.position(id_, borrower)[1]

    lending.supply(indebted, USDC, 0, borrower, sender=delegate)
    lending.repay(indebted, USDC, 0, borrower, sender=delegate)

    assert lending.position(id_, borrower)[0] > 0
    assert lending.position(id_, borrower)[1] < borrow_shares


# ------------------------------------------------------------------------------ collateral checks


def test_a_borrow_above_the_lltv_is_refused(
    lending: Any, funded: MarketParams, state: Snapshot, borrower: str, delegate: str
) -> None:
    with refused(state, "lending: insufficient collateral"):
        lending.borrow(funded, MAX_OPEN + 1, 0, borrower, borrower, sender=borrower)
    with refused(state, "lending: insufficient collateral"):
        lending.borrow(funded, USDC, 0, delegate, delegate, sender=delegate)

    lending.borrow(funded, MAX_OPEN, 0, borrower, borrower, sender=borrower)

    assert debt_of(lending, funded, borrower) == MAX_OPEN
    with refused(state, "lending: insufficient collateral"):
        lending.borrow(funded, 0, 1, borrower, borrower, sender=borrower)


def test_a_closed_market_lends_up_to_the_lltv_less_the_cut(
    lending: Any,
    funded: MarketParams,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
) -> None:
    fine_when_open = MAX_CLOSED + 100 * USDC
    with boa.env.anchor():
        lending.borrow(funded, fine_when_open, 0, borrower, borrower, sender=borrower)

    publish(feed, reporters, PRICE, CLOSED)

    with refused(state, "lending: insufficient collateral"):
        lending.borrow(funded, fine_when_open, 0, borrower, borrower, sender=borrower)
    with refused(state, "lending: insufficient collateral"):
        lending.borrow(funded, MAX_CLOSED + 1, 0, borrower, borrower, sender=borrower)
    lending.borrow(funded, MAX_CLOSED, 0, borrower, borrower, sender=borrower)
    assert debt_of(lending, funded, borrower) == MAX_CLOSED


def _most_withdrawable(debt: int, max_ltv: int) -> int:
    """Return the most collateral a position owing `debt` may withdraw at PRICE and `max_ltv`."""
    kept = next(
        c
        for c in range(debt * WAD // max_ltv * ORACLE_PRICE_SCALE // P - 2, COLLATERAL + 1)
        if debt <= max_borrow(c, P, max_ltv)
    )
    return COLLATERAL - kept


@pytest.mark.parametrize(
    ("status", "max_ltv"), [(OPEN, LLTV), (CLOSED, LLTV - CLOSED_CUT)], ids=["open", "closed"]
)
def test_a_collateral_withdrawal_keeps_the_position_within_the_lltv_less_the_cut(
    lending: Any,
    funded: MarketParams,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    status: int,
    max_ltv: int,
) -> None:
    debt = 1_000 * USDC
    lending.borrow(funded, debt, 0, borrower, borrower, sender=borrower)
    publish(feed, reporters, PRICE, status)
    most = _most_withdrawable(debt, max_ltv)

    with refused(state, "lending: insufficient collateral"):
        lending.withdraw_collateral(funded, most + 1, borrower, borrower, sender=borrower)
    lending.withdraw_collateral(funded, most, borrower, borrower, sender=borrower)

    assert lending.position(market_id(funded), borrower)[2] == COLLATERAL - most


def test_no_more_collateral_than_deposited(
    lending: Any, funded: MarketParams, state: Snapshot, borrower: str
) -> None:
    with refused(state, "lending: insufficient collateral"):
        lending.withdraw_collateral(funded, COLLATERAL + 1, borrower, borrower, sender=borrower)

    lending.withdraw_collateral(funded, COLLATERAL, borrower, borrower, sender=borrower)

    assert market_events(lending) == [
        (
            "WithdrawCollateral",
            {
                "id": market_id(funded),
                "caller": borrower,
                "on_behalf": borrower,
                "receiver": borrower,
                "assets": COLLATERAL,
            },
        )
    ]
    assert lending.position(market_id(funded), borrower) == (0, 0, 0)


def test_collateral_without_debt_needs_no_price(
    lending: Any, funded: MarketParams, feed: Any, reporters: list[LocalAccount], borrower: str, token: Any
) -> None:
    publish(feed, reporters, PRICE, HALTED)

    lending.withdraw_collateral(funded, COLLATERAL, borrower, borrower, sender=borrower)

    assert token.balanceOf(borrower) == COLLATERAL


# ----------------------------------------------------------------------- liquidity and supply


def test_a_borrow_beyond_the_liquidity_is_refused(
    lending: Any,
    funded: MarketParams,
    state: Snapshot,
    pledge: Callable[..., None],
    token: Any,
    borrower: str,
) -> None:
    pledge(funded, token, borrower, 100 * COLLATERAL)

    with refused(state, "lending: insufficient liquidity"):
        lending.borrow(funded, LIQUIDITY + 1, 0, borrower, borrower, sender=borrower)

    lending.borrow(funded, LIQUIDITY, 0, borrower, borrower, sender=borrower)


def test_lent_out_liquidity_cannot_be_withdrawn(
    lending: Any, indebted: MarketParams, state: Snapshot, lender: str
) -> None:
    with refused(state, "lending: insufficient liquidity"):
        lending.withdraw(indebted, LIQUIDITY, 0, lender, lender, sender=lender)
    with refused(state, "lending: insufficient liquidity"):
        lending.withdraw(indebted, LIQUIDITY - MAX_OPEN + 1, 0, lender, lender, sender=lender)

    lending.withdraw(indebted, LIQUIDITY - MAX_OPEN, 0, lender, lender, sender=lender)

    _, _, borrow_assets, _, _, _ = totals(lending, indebted)
    assert totals(lending, indebted)[0] == borrow_assets == MAX_OPEN


def test_no_more_than_ones_shares(
    lending: Any, funded: MarketParams, state: Snapshot, lender: str, delegate: str
) -> None:
    shares = lending.position(market_id(funded), lender)[0]

    with refused(state, "lending: insufficient supply"):
        lending.withdraw(funded, 0, shares + 1, lender, lender, sender=lender)
    with refused(state, "lending: insufficient supply"):
        lending.withdraw(funded, LIQUIDITY + 1, 0, lender, lender, sender=lender)
    with refused(state, "lending: insufficient supply"):
        lending.withdraw(funded, 1, 0, delegate, delegate, sender=delegate)


def test_no_more_repaid_than_owed(
    lending: Any, indebted: MarketParams, state: Snapshot, provide: Callable[[str, int], None], borrower: str
) -> None:
    provide(borrower, 10 * USDC)
    borrow_shares = lending.position(market_id(indebted), borrower)[1]

    with refused(state, "lending: repaying more than the debt"):
        lending.repay(indebted, 0, borrow_shares + 1, borrower, sender=borrower)
    with refused(state, "lending: repaying more than the debt"):
        lending.repay(indebted, MAX_OPEN + USDC, 0, borrower, sender=borrower)

    assert lending.repay(indebted, 0, borrow_shares, borrower, sender=borrower) == (MAX_OPEN, borrow_shares)
    assert lending.position(market_id(indebted), borrower) == (0, 0, COLLATERAL)
    assert totals(lending, indebted)[2:4] == (0, 0)


def test_the_loan_tokens_own_reasons_propagate(
    lending: Any, params: MarketParams, state: Snapshot, lender: str
) -> None:
    with refused(state, "erc20: insufficient allowance"):
        lending.supply(params, USDC, 0, lender, sender=lender)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.lending.supply(d.params, 0, 2**128, d.lender, sender=d.lender),
        lambda d: d.lending.supply_collateral(d.params, 2**128, d.borrower, sender=d.borrower),
    ],
    ids=["supply_shares", "collateral"],
)
def test_totals_and_positions_stay_within_128_bits(
    desk: Desk, funded: MarketParams, state: Snapshot, call: Call
) -> None:
    with refused(state, "lending: max uint128 exceeded"):
        call(desk)


# --------------------------------------------------------------------------- the oracle's word


def test_a_halt_stops_borrows_withdrawals_and_liquidations(
    lending: Any,
    indebted: MarketParams,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    lender: str,
    provide: Callable[[str, int], None],
) -> None:
    publish(feed, reporters, PRICE // 2, HALTED)
    reason = "guard: market halted"

    with refused(state, reason):
        lending.borrow(indebted, USDC, 0, borrower, borrower, sender=borrower)
    with refused(state, reason):
        lending.withdraw_collateral(indebted, 1, borrower, borrower, sender=borrower)
    with refused(state, reason):
        lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator)

    # Lenders, and borrowers who repay, need no price.
    provide(borrower, USDC)
    lending.repay(indebted, USDC, 0, borrower, sender=borrower)
    lending.withdraw(indebted, USDC, 0, lender, lender, sender=lender)


def test_a_stale_price_stops_borrows_and_withdrawals(
    lending: Any, indebted: MarketParams, state: Snapshot, borrower: str
) -> None:
    boa.env.time_travel(seconds=7_201)

    with refused(state, "guard: stale price"):
        lending.borrow(indebted, USDC, 0, borrower, borrower, sender=borrower)
    with refused(state, "guard: stale price"):
        lending.withdraw_collateral(indebted, 1, borrower, borrower, sender=borrower)


def test_short_reserves_stop_borrows_only(
    lending: Any,
    funded: MarketParams,
    state: Snapshot,
    token: Any,
    reserve_feed: Any,
    attester: str,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
) -> None:
    lending.borrow(funded, MAX_OPEN, 0, borrower, borrower, sender=borrower)
    attest(reserve_feed, attester, token.totalSupply() - 1)

    with refused(state, "oracle: reserves below supply"):
        lending.borrow(funded, USDC, 0, borrower, borrower, sender=borrower)

    provide(borrower, 100 * USDC)
    lending.repay(funded, 100 * USDC, 0, borrower, sender=borrower)
    lending.withdraw_collateral(funded, SHARE // 10, borrower, borrower, sender=borrower)
    publish(feed, reporters, PRICE * 9 // 10)
    provide(liquidator, MAX_OPEN)
    lending.liquidate(funded, borrower, SHARE, 0, sender=liquidator)
    assert token.balanceOf(liquidator) == SHARE


def test_liquidations_wait_for_the_reopening_grace(
    lending: Any,
    indebted: MarketParams,
    state: Snapshot,
    oracle: Any,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
) -> None:
    publish(feed, reporters, PRICE, CLOSED)
    reopened_at = publish(feed, reporters, PRICE * 9 // 10, OPEN, after=3_600)
    provide(liquidator, MAX_OPEN)

    with refused(state, "oracle: reopening grace"):
        lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator)

    boa.env.time_travel(seconds=reopened_at + oracle.grace_period() - now())
    lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator)


def test_a_closed_market_liquidates_at_the_frozen_close(
    lending: Any,
    indebted: MarketParams,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
) -> None:
    publish(feed, reporters, PRICE * 9 // 10, CLOSED)
    provide(liquidator, MAX_OPEN)

    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, indebted)
    quoted = mul_div(SHARE, oracle_price(PRICE * 9 // 10), ORACLE_PRICE_SCALE, True)
    shares = to_shares(mul_div(quoted, WAD, lif(LLTV), True), borrow_assets, borrow_shares, True)

    seized, repaid = lending.liquidate(indebted, borrower, SHARE, 0, sender=liquidator)

    assert (seized, repaid) == (SHARE, to_assets(shares, borrow_assets, borrow_shares, True))


def test_a_split_moves_nothing_for_positions(
    lending: Any,
    indebted: MarketParams,
    state: Snapshot,
    token: Any,
    feed: Any,
    reporters: list[LocalAccount],
    multiplier_updater: str,
    borrower: str,
    liquidator: str,
) -> None:
    token.setUIMultiplier(4 * ONE, now() + 60, sender=multiplier_updater)
    # Reporters observe the share price, a quarter of the old one; the feed answers the token price.
    publish(feed, reporters, PRICE // 4, OPEN, after=60)
    assert feed.latestRoundData()[1] == PRICE

    with refused(state, "lending: insufficient collateral"):
        lending.borrow(indebted, 0, 1, borrower, borrower, sender=borrower)
    with refused(state, "lending: position healthy"):
        lending.liquidate(indebted, borrower, 1, 0, sender=liquidator)
    assert debt_of(lending, indebted, borrower) == MAX_OPEN


# ---------------------------------------------------------------------------- supply and withdraw


def test_supply_by_assets_and_by_shares_at_the_virtual_share_price(
    lending: Any,
    params: MarketParams,
    provide: Callable[[str, int], None],
    lender: str,
    delegate: str,
    usdc: Any,
) -> None:
    id_ = market_id(params)
    provide(lender, 3 * LIQUIDITY)

    assert lending.supply(params, LIQUIDITY, 0, lender, sender=lender) == (
        LIQUIDITY,
        LIQUIDITY * VIRTUAL_SHARES,
    )
    assert market_events(lending) == [
        (
            "Supply",
            {
                "id": id_,
                "caller": lender,
                "on_behalf": lender,
                "assets": LIQUIDITY,
                "shares": LIQUIDITY * VIRTUAL_SHARES,
            },
        )
    ]
    shares = 12_345_678_901
    assets = to_assets(shares, *totals(lending, params)[:2], True)
    assert lending.supply(params, 0, shares, delegate, sender=lender) == (assets, shares)

    assert totals(lending, params)[:2] == (LIQUIDITY + assets, LIQUIDITY * VIRTUAL_SHARES + shares)
    assert lending.position(id_, delegate) == (shares, 0, 0)
    assert usdc.balanceOf(lending.address) == LIQUIDITY + assets


def test_withdraw_by_assets_rounds_shares_up_and_by_shares_rounds_assets_down(
    lending: Any,
    indebted: MarketParams,
    irm: Any,
    lender: str,
    receiver: str,
    usdc: Any,
) -> None:
    # Interest makes a share worth more than a millionth of a unit, so the rounding shows.
    irm.set_rate(TEN_PERCENT)
    boa.env.time_travel(seconds=YEAR)
    lending.accrue_interest(indebted)
    id_ = market_id(indebted)
    supply_assets, supply_shares = totals(lending, indebted)[:2]
    expected_shares = to_shares(USDC, supply_assets, supply_shares, True)

    assert lending.withdraw(indebted, USDC, 0, lender, receiver, sender=lender) == (USDC, expected_shares)
    assert market_events(lending) == [
        (
            "Withdraw",
            {
                "id": id_,
                "caller": lender,
                "on_behalf": lender,
                "receiver": receiver,
                "assets": USDC,
                "shares": expected_shares,
            },
        )
    ]
    supply_assets, supply_shares = totals(lending, indebted)[:2]
    expected_assets = to_assets(777_777_777, supply_assets, supply_shares, False)
    assert lending.withdraw(indebted, 0, 777_777_777, lender, receiver, sender=lender) == (
        expected_assets,
        777_777_777,
    )
    assert usdc.balanceOf(receiver) == USDC + expected_assets


def test_a_first_depositor_cannot_inflate_the_share_price_to_steal(
    lending: Any,
    params: MarketParams,
    provide: Callable[[str, int], None],
    usdc: Any,
    lender: str,
    delegate: str,
) -> None:
    attacker, victim = delegate, lender
    provide(attacker, 10_000 * USDC)
    provide(victim, 1_000 * USDC)

    # The attacker takes the first shares for one unit, then donates to the market directly.
    lending.supply(params, 1, 0, attacker, sender=attacker)
    usdc.transfer(lending.address, 9_000 * USDC, sender=attacker)
    victim_shares = lending.supply(params, 1_000 * USDC, 0, victim, sender=victim)[1]
    assert victim_shares > 0

    id_ = market_id(params)
    attacker_shares = lending.position(id_, attacker)[0]
    lending.withdraw(params, 0, attacker_shares, attacker, attacker, sender=attacker)
    lending.withdraw(params, 0, victim_shares, victim, victim, sender=victim)

    assert usdc.balanceOf(attacker) <= 1_000 * USDC
    assert usdc.balanceOf(victim) >= 1_000 * USDC - 1


def test_a_tiny_first_deposit_still_gets_shares(
    lending: Any, params: MarketParams, provide: Callable[[str, int], None], lender: str
) -> None:
    provide(lender, 1)

    assert lending.supply(params, 1, 0, lender, sender=lender) == (1, VIRTUAL_SHARES)


# ------------------------------------------------------------------------------- borrow and repay


def test_borrow_and_repay_by_assets_and_by_shares(
    lending: Any,
    funded: MarketParams,
    provide: Callable[[str, int], None],
    borrower: str,
    receiver: str,
    usdc: Any,
) -> None:
    id_ = market_id(funded)
    assert lending.borrow(funded, 500 * USDC, 0, borrower, receiver, sender=borrower) == (
        500 * USDC,
        500 * USDC * VIRTUAL_SHARES,
    )
    assert market_events(lending) == [
        (
            "Borrow",
            {
                "id": id_,
                "caller": borrower,
                "on_behalf": borrower,
                "receiver": receiver,
                "assets": 500 * USDC,
                "shares": 500 * USDC * VIRTUAL_SHARES,
            },
        )
    ]
    assert usdc.balanceOf(receiver) == 500 * USDC
    shares = 3_333_333_333
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, funded)
    assets = to_assets(shares, borrow_assets, borrow_shares, False)
    assert lending.borrow(funded, 0, shares, borrower, borrower, sender=borrower) == (assets, shares)

    provide(borrower, 1_000 * USDC)
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, funded)
    repaid_shares = to_shares(100 * USDC, borrow_assets, borrow_shares, False)
    assert lending.repay(funded, 100 * USDC, 0, borrower, sender=borrower) == (100 * USDC, repaid_shares)
    assert market_events(lending) == [
        (
            "Repay",
            {
                "id": id_,
                "caller": borrower,
                "on_behalf": borrower,
                "assets": 100 * USDC,
                "shares": repaid_shares,
            },
        )
    ]
    left = lending.position(id_, borrower)[1]
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, funded)
    owed = to_assets(left, borrow_assets, borrow_shares, True)
    assert lending.repay(funded, 0, left, borrower, sender=borrower) == (owed, left)

    assert lending.position(id_, borrower) == (0, 0, COLLATERAL)
    assert totals(lending, funded)[2:4] == (0, 0)
    # Rounding up the last shares' assets leaves the market the odd unit, never short of one.
    assert usdc.balanceOf(lending.address) == LIQUIDITY + (100 * USDC + owed) - (500 * USDC + assets)
    assert usdc.balanceOf(lending.address) >= LIQUIDITY


def test_supply_collateral_pulls_the_token(
    lending: Any, params: MarketParams, pledge: Callable[..., None], token: Any, borrower: str
) -> None:
    pledge(params, token, borrower, COLLATERAL)

    assert market_events(lending) == [
        (
            "SupplyCollateral",
            {"id": market_id(params), "caller": borrower, "on_behalf": borrower, "assets": COLLATERAL},
        )
    ]
    assert lending.position(market_id(params), borrower) == (0, 0, COLLATERAL)
    assert token.balanceOf(lending.address) == COLLATERAL
    # Collateral earns nothing and moves no totals.
    assert totals(lending, params)[:4] == (0, 0, 0, 0)


# ------------------------------------------------------------------------------------- interest


def test_interest_accrues_to_lenders(
    lending: Any,
    indebted: MarketParams,
    irm: Any,
    provide: Callable[[str, int], None],
    lender: str,
    borrower: str,
) -> None:
    irm.set_rate(TEN_PERCENT)
    elapsed = 30 * 86_400
    boa.env.time_travel(seconds=elapsed)
    interest = MAX_OPEN * taylor(TEN_PERCENT, elapsed) // WAD
    expected = tuple(lending.expected_market(market_id(indebted)))

    lending.accrue_interest(indebted)

    assert market_events(lending) == [
        (
            "AccrueInterest",
            {
                "id": market_id(indebted),
                "prev_borrow_rate": TEN_PERCENT,
                "interest": interest,
                "fee_shares": 0,
            },
        )
    ]
    assert totals(lending, indebted) == expected
    assert expected == (
        LIQUIDITY + interest,
        LIQUIDITY * VIRTUAL_SHARES,
        MAX_OPEN + interest,
        MAX_OPEN * VIRTUAL_SHARES,
        now(),
        0,
    )
    assert debt_of(lending, indebted, borrower) == MAX_OPEN + interest
    provide(borrower, interest)
    lending.repay(indebted, 0, MAX_OPEN * VIRTUAL_SHARES, borrower, sender=borrower)
    shares = lending.position(market_id(indebted), lender)[0]
    withdrawn = lending.withdraw(indebted, 0, shares, lender, lender, sender=lender)[0]
    assert withdrawn == to_assets(shares, LIQUIDITY + interest, LIQUIDITY * VIRTUAL_SHARES, False)
    assert LIQUIDITY + interest - 1 <= withdrawn <= LIQUIDITY + interest


def test_fees_are_paid_in_supply_shares_to_the_recipient(
    lending: Any,
    indebted: MarketParams,
    irm: Any,
    admin: str,
    fee_recipient: str,
    usdc: Any,
) -> None:
    fee = WAD // 10
    lending.set_fee(indebted, fee, sender=admin)
    irm.set_rate(TEN_PERCENT)
    elapsed = 90 * 86_400
    boa.env.time_travel(seconds=elapsed)
    supply_assets, supply_shares = totals(lending, indebted)[:2]
    interest = MAX_OPEN * taylor(TEN_PERCENT, elapsed) // WAD
    fee_amount = interest * fee // WAD
    fee_shares = to_shares(fee_amount, supply_assets + interest - fee_amount, supply_shares, False)

    lending.accrue_interest(indebted)

    assert market_events(lending)[0][1]["fee_shares"] == fee_shares > 0
    assert lending.position(market_id(indebted), fee_recipient)[0] == fee_shares
    assert totals(lending, indebted)[1] == supply_shares + fee_shares
    withdrawn = lending.withdraw(indebted, 0, fee_shares, fee_recipient, fee_recipient, sender=fee_recipient)[
        0
    ]
    assert fee_amount - 1 <= withdrawn <= fee_amount
    assert usdc.balanceOf(fee_recipient) == withdrawn


# ---------------------------------------------------------------------------------- liquidation


def test_the_liquidation_incentive_factor() -> None:
    assert lif(LLTV_HALF) == MAX_LIF == 115 * WAD // 100  # 1 / (1 - 0.15) = 1.176 is capped
    assert lif(LLTV) == 1_081_081_081_081_081_081  # 1 / (1 - 0.075)


@pytest.mark.parametrize("lltv", [LLTV_HALF, LLTV], ids=["lltv_0.5", "lltv_0.75"])
def test_liquidation_pays_the_incentive(
    lending: Any,
    params: MarketParams,
    create: Callable[..., MarketParams],
    token: Any,
    oracle: Any,
    lend: Callable[..., Any],
    pledge: Callable[..., None],
    provide: Callable[[str, int], None],
    feed: Any,
    reporters: list[LocalAccount],
    lender: str,
    borrower: str,
    liquidator: str,
    usdc: Any,
    lltv: int,
) -> None:
    params = params if lltv == LLTV else create(token, oracle, lltv)
    id_ = market_id(params)
    lend(params, lender, LIQUIDITY)
    pledge(params, token, borrower, COLLATERAL)
    lending.borrow(params, max_borrow(COLLATERAL, P, lltv), 0, borrower, borrower, sender=borrower)
    price = oracle_price(PRICE * 9 // 10)
    publish(feed, reporters, PRICE * 9 // 10)
    provide(liquidator, LIQUIDITY)
    factor = lif(lltv)

    # By repaid shares: the collateral worth the repaid assets times the incentive.
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, params)
    repaid_shares = lending.position(id_, borrower)[1] // 10
    repaid_down = to_assets(repaid_shares, borrow_assets, borrow_shares, False)
    expected_seized = mul_div(repaid_down * factor // WAD, ORACLE_PRICE_SCALE, price, False)
    expected_repaid = to_assets(repaid_shares, borrow_assets, borrow_shares, True)
    assert lending.liquidate(params, borrower, 0, repaid_shares, sender=liquidator) == (
        expected_seized,
        expected_repaid,
    )
    assert market_events(lending)[-1:] == [
        (
            "Liquidate",
            {
                "id": id_,
                "caller": liquidator,
                "borrower": borrower,
                "repaid_assets": expected_repaid,
                "repaid_shares": repaid_shares,
                "seized_assets": expected_seized,
                "bad_debt_assets": 0,
                "bad_debt_shares": 0,
            },
        )
    ]
    # The seized collateral is worth the repaid debt times the incentive, rounded against the liquidator.
    value = expected_seized * price // ORACLE_PRICE_SCALE
    assert 0 <= expected_repaid * factor - value * WAD <= 4 * WAD

    # By seized collateral: the debt it repays is its value divided by the incentive.
    _, _, borrow_assets, borrow_shares, _, _ = totals(lending, params)
    seized = SHARE
    quoted = mul_div(seized, price, ORACLE_PRICE_SCALE, True)
    shares = to_shares(mul_div(quoted, WAD, factor, True), borrow_assets, borrow_shares, True)
    repaid = to_assets(shares, borrow_assets, borrow_shares, True)
    assert lending.liquidate(params, borrower, seized, 0, sender=liquidator) == (seized, repaid)

    assert token.balanceOf(liquidator) == expected_seized + seized
    assert usdc.balanceOf(liquidator) == LIQUIDITY - expected_repaid - repaid
    assert lending.position(id_, borrower)[2] == COLLATERAL - expected_seized - seized


def test_a_healthy_position_is_not_liquidated(
    lending: Any, indebted: MarketParams, state: Snapshot, borrower: str, lender: str, liquidator: str
) -> None:
    with refused(state, "lending: position healthy"):
        lending.liquidate(indebted, borrower, 1, 0, sender=liquidator)
    with refused(state, "lending: position healthy"):
        lending.liquidate(indebted, borrower, 0, 1, sender=liquidator)
    # A position without debt.
    with refused(state, "lending: position healthy"):
        lending.liquidate(indebted, lender, 1, 0, sender=liquidator)


def test_a_liquidation_repays_no_more_than_the_debt_and_seizes_no_more_than_the_collateral(
    lending: Any,
    indebted: MarketParams,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
) -> None:
    provide(liquidator, LIQUIDITY)
    borrow_shares = lending.position(market_id(indebted), borrower)[1]
    publish(feed, reporters, PRICE * 9 // 10)

    # Seizing all the collateral of a position still worth more than its debt would repay too much.
    with refused(state, "lending: repaying more than the debt"):
        lending.liquidate(indebted, borrower, COLLATERAL, 0, sender=liquidator)
    with refused(state, "lending: repaying more than the debt"):
        lending.liquidate(indebted, borrower, 0, borrow_shares + 1, sender=liquidator)

    # Underwater once the incentive is paid: repaying everything would seize more than there is.
    publish(feed, reporters, PRICE * 65 // 100)
    with refused(state, "lending: seizing more than the collateral"):
        lending.liquidate(indebted, borrower, 0, borrow_shares, sender=liquidator)
    with refused(state, "lending: seizing more than the collateral"):
        lending.liquidate(indebted, borrower, COLLATERAL + 1, 0, sender=liquidator)


def test_a_position_liquidated_in_full_keeps_its_remaining_collateral(
    lending: Any,
    indebted: MarketParams,
    feed: Any,
    reporters: list[LocalAccount],
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
) -> None:
    provide(liquidator, LIQUIDITY)
    borrow_shares = lending.position(market_id(indebted), borrower)[1]
    publish(feed, reporters, PRICE * 9 // 10)

    seized, repaid = lending.liquidate(indebted, borrower, 0, borrow_shares, sender=liquidator)

    assert repaid == MAX_OPEN
    assert lending.position(market_id(indebted), borrower) == (0, 0, COLLATERAL - seized)
    assert totals(lending, indebted)[2:4] == (0, 0)


def test_underwater_positions_are_cleared_whole_and_the_bad_debt_written_off(
    lending: Any,
    indebted: MarketParams,
    state: Snapshot,
    feed: Any,
    reporters: list[LocalAccount],
    lender: str,
    borrower: str,
    liquidator: str,
    provide: Callable[[str, int], None],
    usdc: Any,
) -> None:
    id_ = market_id(indebted)
    provide(liquidator, LIQUIDITY)
    publish(feed, reporters, PRICE * 65 // 100)  # LTV 1.15: past 1 / LIF, the incentive takes it under
    price = oracle_price(PRICE * 65 // 100)

    # A partial liquidation would leave a worse loan-to-value.
    with refused(state, "lending: liquidation worsens health"):
        lending.liquidate(indebted, borrower, COLLATERAL // 2, 0, sender=liquidator)

    supply_assets, supply_shares, borrow_assets, borrow_shares, _, _ = totals(lending, indebted)
    quoted = mul_div(COLLATERAL, price, ORACLE_PRICE_SCALE, True)
    repaid_shares = to_shares(mul_div(quoted, WAD, lif(LLTV), True), borrow_assets, borrow_shares, True)
    repaid = to_assets(repaid_shares, borrow_assets, borrow_shares, True)
    # What is left after the repayment: the borrower's shares are all the market's.
    bad_shares = borrow_shares - repaid_shares
    left = borrow_assets - repaid
    bad_assets = min(left, to_assets(bad_shares, left, bad_shares, True))

    assert lending.liquidate(indebted, borrower, COLLATERAL, 0, sender=liquidator) == (COLLATERAL, repaid)

    name, event = market_events(lending)[-1]
    assert name == "Liquidate"
    assert (event["bad_debt_shares"], event["bad_debt_assets"]) == (bad_shares, bad_assets)
    assert bad_assets == MAX_OPEN - repaid > 0
    assert lending.position(id_, borrower) == (0, 0, 0)
    assert totals(lending, indebted)[:4] == (supply_assets - bad_assets, supply_shares, 0, 0)
    # The lenders bear it: every unit lent out now comes back as cash, less the bad debt.
    lender_shares = lending.position(id_, lender)[0]
    withdrawn = lending.withdraw(indebted, 0, lender_shares, lender, lender, sender=lender)[0]
    assert withdrawn == to_assets(lender_shares, supply_assets - bad_assets, supply_shares, False)
    assert LIQUIDITY - bad_assets - 1 <= withdrawn <= LIQUIDITY - bad_assets


# ------------------------------------------------------------------------------- token answers


def test_a_transfer_answered_with_false_is_refused(
    lending: Any, token: Any, oracle: Any, irm: Any, lender: str
) -> None:
    quiet = deployer("mocks/FalseReturningToken.vy").deploy()
    params = MarketParams(quiet.address, token.address, oracle.address, irm.address, LLTV)
    lending.create_market(params)
    quiet.mint(lender, LIQUIDITY)
    quiet.approve(lending.address, LIQUIDITY, sender=lender)
    state = snapshot_of(lending, params, [lender], [quiet])

    # Pulling: the token answers false, nothing moves.
    quiet.set_failing(True)
    with refused(state, "lending: transfer failed"):
        lending.supply(params, LIQUIDITY, 0, lender, sender=lender)

    # Sending: the token answers false, the withdrawal is undone.
    quiet.set_failing(False)
    lending.supply(params, LIQUIDITY, 0, lender, sender=lender)
    quiet.set_failing(True)
    with refused(state, "lending: transfer failed"):
        lending.withdraw(params, LIQUIDITY, 0, lender, lender, sender=lender)
