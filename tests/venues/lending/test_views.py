"""`LendingReader` against hand computations: utilisation, the rate model's rate, health factor, LTV,
liquidation price and borrow limit, and the adapter's state as the feed moves through its statuses."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.support.lending import TOKEN, LendingWorld, build_world
from tests.support.venue_world import PRICE, USDC

from equitoken.chain.evm.compiler import compile_contract
from equitoken.model.quantities import Price, Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.lending.adapter import AdapterState
from equitoken.venues.lending.maths import SECONDS_PER_YEAR
from equitoken.venues.lending.parameters import WAD

WAD_INT = 10**18


def open_position(
    world: LendingWorld, ticker: str, tokens: int, borrowed: int, *, supplied: int = 10_000
) -> None:
    """Lend `supplied` dollars, deposit `tokens` whole tokens and borrow `borrowed` dollars."""
    client = world.client
    world.fund(world.lender, supplied * USDC)
    world.mint(ticker, world.borrower, tokens * TOKEN)
    client.supply(world.lender, ticker, Usd(supplied * USDC), key=f"supply-{ticker}")
    client.supply_collateral(world.borrower, ticker, TokenAmount(tokens * TOKEN, 8), key=f"deposit-{ticker}")
    client.borrow(world.borrower, ticker, Usd(borrowed * USDC), key=f"borrow-{ticker}")


@pytest.fixture(scope="module")
def free_world(tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    return build_world(tmp_path_factory.mktemp("lending-views"), ["AAPL", "SPY"], interest=False)


@pytest.fixture
def free(free_world: LendingWorld) -> Iterator[LendingWorld]:
    yield from free_world.rewound()


@pytest.fixture(scope="module")
def curve_world(tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    return build_world(tmp_path_factory.mktemp("lending-rates"), ["AAPL"])


@pytest.fixture
def curve(curve_world: LendingWorld) -> Iterator[LendingWorld]:
    yield from curve_world.rewound()


def test_a_market_reads_its_supply_borrow_and_utilisation(free: LendingWorld) -> None:
    open_position(free, "AAPL", tokens=10, borrowed=600)

    view = free.reader.market("AAPL")

    assert (view.supplied, view.borrowed, view.liquidity) == (
        Usd(10_000 * USDC),
        Usd(600 * USDC),
        Usd(9_400 * USDC),
    )
    assert view.utilisation == Decimal("0.06")
    assert (view.borrow_rate, view.borrow_apr, view.supply_apy) == (
        0,
        Decimal(0),
        Decimal(0),
    )  # no rate model
    assert view.price == Price(200 * PRICE)
    assert (view.parameters.max_ltv_bps, view.parameters.lltv_bps) == (4_000, 5_000)
    assert (view.closed_ltv_cut, view.grace_period) == (WAD // 10, 300)
    assert (view.state, view.state_label) == (AdapterState.OPEN, "open")


def test_a_position_reads_its_health_by_hand(free: LendingWorld) -> None:
    open_position(free, "AAPL", tokens=10, borrowed=600)

    position = free.reader.position("AAPL", free.borrower)

    # 10 AAPLx at $200 = $2,000 of collateral; LLTV 50%: $1,000 may be owed before liquidation.
    assert position.collateral == TokenAmount(10 * TOKEN, 8)
    assert position.debt == Usd(600 * USDC)
    assert position.borrow_shares == 600 * USDC * 10**6  # the first shares: a million per unit
    assert position.collateral_value == Usd(2_000 * USDC)
    assert position.ltv == Decimal("0.3")
    assert position.health_factor == Decimal(1_000) / Decimal(600)
    assert position.liquidation_price == Price(120 * PRICE)  # 600 / (10 x 50%)
    assert position.borrow_limit == Usd(800 * USDC)  # the max LTV: 40% of $2,000
    assert not position.liquidatable
    assert free.reader.positions(free.borrower) == [position]
    assert free.reader.positions(free.outsider) == []
    lender = free.reader.position("AAPL", free.lender)
    assert (lender.supplied, lender.debt, lender.health_factor) == (Usd(10_000 * USDC), Usd(0), None)


def test_a_price_drop_below_the_liquidation_price_makes_the_position_liquidatable(free: LendingWorld) -> None:
    open_position(free, "AAPL", tokens=10, borrowed=600)

    free.publish("AAPL", 119)
    position = free.reader.position("AAPL", free.borrower)

    assert position.health_factor == Decimal(595) / Decimal(600)  # $1,190 x 50% / $600
    assert position.liquidatable


def test_the_borrow_limit_takes_the_closed_market_cut(free: LendingWorld) -> None:
    open_position(free, "SPY", tokens=10, borrowed=600)

    free.publish("SPY", 200, MarketStatus.CLOSED)
    position = free.reader.position("SPY", free.borrower)

    # SPY lends to 73% open; closed, the LLTV (75%) less 10 points: 65% of $2,000.
    assert position.borrow_limit == Usd(1_300 * USDC)
    assert position.health_factor == Decimal(1_500) / Decimal(600)  # health stays at the LLTV


def test_the_rate_is_the_rate_models_curve_at_the_utilisation(curve: LendingWorld) -> None:
    open_position(curve, "AAPL", tokens=20, borrowed=900)
    irm = curve.lending.irm_contract(curve.chain)
    assert irm is not None
    rate_at_target = int(
        irm.rate_at_target(curve.lending.lending_market, curve.lending.market("AAPL").id_bytes)
    )

    view = curve.reader.market("AAPL")

    # u = 9%, e = (u - 90%) / 90% = -0.9; below the target the curve is r_T x (1 + 0.75 e).
    error = -9 * WAD_INT // 10
    expected = (75 * WAD_INT // 100 * error // WAD_INT + WAD_INT) * rate_at_target // WAD_INT
    assert view.utilisation == Decimal("0.09")
    assert view.borrow_rate == expected
    assert view.borrow_apr == Decimal(expected * SECONDS_PER_YEAR) / Decimal(WAD_INT)
    assert Decimal("0.01") < view.borrow_apr < Decimal("0.02")  # about 4% x 0.325
    assert view.borrow_apy == view.borrow_apr.exp() - 1
    assert view.supply_apy == view.borrow_apy * Decimal("0.09")


def test_interest_accrues_into_the_debt_and_the_supply(curve: LendingWorld) -> None:
    open_position(curve, "AAPL", tokens=20, borrowed=900)
    before = curve.reader.market("AAPL")

    curve.wait(30 * 86_400)
    after = curve.reader.market("AAPL")
    position = curve.reader.position("AAPL", curve.borrower)

    interest = after.borrowed.units - before.borrowed.units
    assert interest > 0
    assert after.supplied.units - before.supplied.units == interest
    assert position.debt == after.borrowed  # the only borrower owes it all
    # A month on $900 at u = 9%: the curve is 0.325 of the rate at target, which drifts down from 4%
    # towards its floor of 0.1% while the market idles below its target.
    assert 900 * USDC * 325 // 10**6 // 12 < interest < 900 * USDC * 13 // 1_000 // 12


def test_the_adapter_state_follows_the_feed(free: LendingWorld) -> None:
    reader = free.reader

    assert reader.market("AAPL").state_label == "open"
    free.publish("AAPL", 200, MarketStatus.CLOSED)
    assert reader.market("AAPL").state_label == "closed (LTV cut)"
    free.publish("AAPL", 190)
    assert reader.market("AAPL").state_label == "grace"
    free.wait(301)
    assert reader.market("AAPL").state is AdapterState.OPEN
    free.publish("AAPL", 190, MarketStatus.HALTED)
    halted = reader.market("AAPL")
    assert (halted.state_label, halted.price) == ("halted", None)
    free.publish("AAPL", 190)
    assert reader.market("AAPL").state is AdapterState.GRACE  # a halt lifted is a reopening too
    free.wait(7_201)
    assert reader.market("AAPL").state_label == "no price"  # the last round is stale
    free.publish("AAPL", 190)
    assert reader.market("AAPL").state is AdapterState.OPEN


def test_reserves_below_supply_pause_the_market(free: LendingWorld) -> None:
    free.mint("AAPL", free.borrower, 10 * TOKEN)
    instrument = free.issuance.instrument("AAPL")
    reserve = free.chain.at(instrument.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))

    reserve.update(9 * TOKEN, free.chain.timestamp("pending"), sender=free.roles.attester)

    assert free.reader.market("AAPL").state_label == "reserve-paused"


def test_a_position_without_a_price_has_no_health(free: LendingWorld) -> None:
    open_position(free, "AAPL", tokens=10, borrowed=600)

    free.publish("AAPL", 200, MarketStatus.HALTED)
    position = free.reader.position("AAPL", free.borrower)

    assert (position.price, position.health_factor, position.collateral_value, position.borrow_limit) == (
        None,
        None,
        None,
        None,
    )
    assert position.debt == Usd(600 * USDC)
    assert position.liquidation_price == Price(120 * PRICE)  # needs no price
