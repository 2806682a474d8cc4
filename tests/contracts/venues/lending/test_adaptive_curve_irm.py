"""AdaptiveCurveIrm: the curve around the rate at target, the rate at target's drift with the utilisation
error and its bounds, the view against the call, the state kept per (lending market, market id), and the
contract against the Python model of ``tests.support.contracts.lending_irm`` over random utilisations
and elapsed times, one call and random walks of calls.

The callers are lending markets only by role: the model keys its state by `msg.sender`, so any address
can play one.
"""

from typing import Any, ClassVar

import boa
import pytest
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.support.contracts import actor, deployer, events
from tests.support.contracts.lending_irm import (
    ADJUSTMENT_SPEED,
    CURVE_STEEPNESS,
    INITIAL_RATE_AT_TARGET,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    TARGET_UTILISATION,
    WAD,
    YEAR,
    Accrual,
    borrow_rate,
    curve,
    per_year,
    utilisation_error,
)

DAY = 86_400
SUPPLY = 1_000_000 * 10**6  # a million USDC, raw units
AT_TARGET = SUPPLY * TARGET_UTILISATION // WAD
MARKET_ID = keccak(b"AAPLx/USDC")
OTHER_ID = keccak(b"MSFTx/USDC")

UTILISATIONS = st.integers(min_value=0, max_value=WAD)
SUPPLIES = st.integers(min_value=0, max_value=10**30)
ELAPSED = st.integers(min_value=0, max_value=20 * YEAR)
SHORT_ELAPSED = st.integers(min_value=0, max_value=60 * DAY)

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="session")
def irm_deployer() -> Any:
    return deployer("venues/lending/AdaptiveCurveIrm.vy")


@pytest.fixture(scope="module")
def irm(irm_deployer: Any) -> Any:
    return irm_deployer.deploy()


@pytest.fixture(scope="module")
def lending_market() -> str:
    return actor("lending_market")


@pytest.fixture(scope="module")
def other_market() -> str:
    return actor("other_lending_market")


# ------------------------------------------------------------------------------------- helpers


def now() -> int:
    return int(boa.env.evm.patch.timestamp)


def borrowed(utilisation: int, supply: int = SUPPLY) -> int:
    """Return the borrow that puts `supply` at `utilisation` (WAD), rounded down."""
    return supply * utilisation // WAD


def accrue(irm: Any, market: str, borrow: int, *, elapsed: int = 0, id: bytes = MARKET_ID) -> int:
    """Call `borrow_rate` as `market` for an interval of `elapsed` seconds that ends now."""
    with boa.env.prank(market):
        rate: int = irm.borrow_rate(id, SUPPLY, borrow, now() - elapsed)
    return rate


def view(irm: Any, market: str, borrow: int, *, elapsed: int = 0, id: bytes = MARKET_ID) -> int:
    rate: int = irm.borrow_rate_view(market, id, SUPPLY, borrow, now() - elapsed)
    return rate


def start_after(irm: Any, market: str, borrow: int, elapsed: int) -> int:
    """Start the market at the initial rate at target, let `elapsed` seconds pass at `borrow`, accrue.

    Return the rate at target reached.
    """
    accrue(irm, market, AT_TARGET)
    boa.env.time_travel(seconds=elapsed)
    accrue(irm, market, borrow, elapsed=elapsed)
    reached: int = irm.rate_at_target(market, MARKET_ID)
    return reached


# ---------------------------------------------------------------------------------- parameters


def test_the_parameters_are_the_adaptive_curve_s(irm: Any) -> None:
    assert irm.CURVE_STEEPNESS() == CURVE_STEEPNESS == 4 * WAD
    assert irm.TARGET_UTILISATION() == TARGET_UTILISATION == 9 * WAD // 10
    assert irm.ADJUSTMENT_SPEED() == ADJUSTMENT_SPEED
    assert irm.INITIAL_RATE_AT_TARGET() == INITIAL_RATE_AT_TARGET
    assert irm.MIN_RATE_AT_TARGET() == MIN_RATE_AT_TARGET
    assert irm.MAX_RATE_AT_TARGET() == MAX_RATE_AT_TARGET
    assert per_year(ADJUSTMENT_SPEED) == pytest.approx(50)
    assert per_year(INITIAL_RATE_AT_TARGET) == pytest.approx(0.04)
    assert per_year(MIN_RATE_AT_TARGET) == pytest.approx(0.001)
    assert per_year(MAX_RATE_AT_TARGET) == pytest.approx(2.0)


# ---------------------------------------------------------------------------------- first call


def test_before_its_first_call_a_market_has_no_rate_at_target_and_views_the_initial_one(
    irm: Any, lending_market: str
) -> None:
    assert irm.rate_at_target(lending_market, MARKET_ID) == 0
    assert view(irm, lending_market, AT_TARGET) == INITIAL_RATE_AT_TARGET
    assert view(irm, lending_market, SUPPLY) == 4 * INITIAL_RATE_AT_TARGET


def test_the_first_call_starts_at_the_initial_rate_at_target_whatever_the_elapsed_time(
    irm: Any, lending_market: str
) -> None:
    boa.env.time_travel(seconds=3 * YEAR)

    with boa.env.prank(lending_market):
        rate = irm.borrow_rate(MARKET_ID, SUPPLY, SUPPLY, 0)

    assert rate == 4 * INITIAL_RATE_AT_TARGET
    assert irm.rate_at_target(lending_market, MARKET_ID) == INITIAL_RATE_AT_TARGET


def test_a_call_logs_the_rate_and_the_rate_at_target_it_reached(irm: Any, lending_market: str) -> None:
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=DAY)
    expected = borrow_rate(INITIAL_RATE_AT_TARGET, SUPPLY, SUPPLY, DAY)

    rate = accrue(irm, lending_market, SUPPLY, elapsed=DAY)

    assert rate == expected.borrow_rate
    assert events(irm) == [
        (
            "BorrowRateUpdate",
            {
                "market": lending_market,
                "id": MARKET_ID,
                "avg_borrow_rate": expected.borrow_rate,
                "rate_at_target": expected.rate_at_target,
            },
        )
    ]


# --------------------------------------------------------------------------------------- curve


def test_the_curve_gives_the_rate_at_target_at_the_target_and_steepness_times_it_at_the_ends(
    irm: Any, lending_market: str
) -> None:
    rate_at_target = start_after(irm, lending_market, borrowed(95 * WAD // 100), 10 * DAY)
    assert rate_at_target != INITIAL_RATE_AT_TARGET

    assert view(irm, lending_market, AT_TARGET) == rate_at_target
    assert view(irm, lending_market, SUPPLY) == 4 * rate_at_target
    assert view(irm, lending_market, 0) == rate_at_target // 4


@given(utilisation=UTILISATIONS, higher=UTILISATIONS)
@SLOW
def test_the_rate_rises_with_the_utilisation(
    irm: Any, lending_market: str, utilisation: int, higher: int
) -> None:
    low, high = sorted((utilisation, higher))
    assert view(irm, lending_market, borrowed(low)) <= view(irm, lending_market, borrowed(high))


def test_zero_supply_counts_as_zero_utilisation(irm: Any, lending_market: str) -> None:
    rate_at_target = start_after(irm, lending_market, borrowed(WAD // 2), 3 * DAY)
    timestamp = now()

    empty = irm.borrow_rate_view(lending_market, MARKET_ID, 0, 0, timestamp)
    unborrowed = irm.borrow_rate_view(lending_market, MARKET_ID, SUPPLY, 0, timestamp)
    with boa.env.prank(lending_market):
        called = irm.borrow_rate(MARKET_ID, 0, 0, timestamp)

    assert empty == unborrowed == called == curve(rate_at_target, -WAD)
    assert irm.rate_at_target(lending_market, MARKET_ID) == rate_at_target


def test_a_borrow_above_the_supply_counts_as_full_utilisation(irm: Any, lending_market: str) -> None:
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=DAY)

    full = view(irm, lending_market, SUPPLY, elapsed=DAY)

    assert view(irm, lending_market, 2 * SUPPLY, elapsed=DAY) == full


# ------------------------------------------------------------------------------------ adaptation


@given(elapsed=ELAPSED)
@SLOW
def test_at_the_target_the_rate_at_target_never_moves(irm: Any, lending_market: str, elapsed: int) -> None:
    with boa.env.anchor():
        rate_at_target = start_after(irm, lending_market, AT_TARGET, elapsed)

        assert rate_at_target == INITIAL_RATE_AT_TARGET
        assert view(irm, lending_market, AT_TARGET) == INITIAL_RATE_AT_TARGET


@pytest.mark.parametrize("utilisation", [91 * WAD // 100, 95 * WAD // 100, WAD])
def test_above_the_target_the_rate_at_target_rises_with_time(
    irm: Any, lending_market: str, utilisation: int
) -> None:
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=60 * DAY)
    borrow = borrowed(utilisation)

    rates = [view(irm, lending_market, borrow, elapsed=days * DAY) for days in (0, 1, 7, 30, 60)]

    assert rates[0] == curve(INITIAL_RATE_AT_TARGET, utilisation_error(SUPPLY, borrow))
    assert rates == sorted(set(rates))
    accrue(irm, lending_market, borrow, elapsed=DAY)
    assert irm.rate_at_target(lending_market, MARKET_ID) > INITIAL_RATE_AT_TARGET


@pytest.mark.parametrize("utilisation", [0, WAD // 2, 89 * WAD // 100])
def test_below_the_target_the_rate_at_target_falls_with_time(
    irm: Any, lending_market: str, utilisation: int
) -> None:
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=60 * DAY)
    borrow = borrowed(utilisation)

    rates = [view(irm, lending_market, borrow, elapsed=days * DAY) for days in (0, 1, 7, 30, 60)]

    assert rates == sorted(set(rates), reverse=True)
    accrue(irm, lending_market, borrow, elapsed=DAY)
    assert irm.rate_at_target(lending_market, MARKET_ID) < INITIAL_RATE_AT_TARGET


@pytest.mark.parametrize("years", [1, 100, 10_000])
def test_the_rate_at_target_stops_at_its_bounds(irm: Any, lending_market: str, years: int) -> None:
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=years * YEAR)

    assert view(irm, lending_market, 0, elapsed=years * YEAR) > MIN_RATE_AT_TARGET // 4
    assert view(irm, lending_market, SUPPLY, elapsed=years * YEAR) < 4 * MAX_RATE_AT_TARGET
    accrue(irm, lending_market, SUPPLY, elapsed=years * YEAR)
    assert irm.rate_at_target(lending_market, MARKET_ID) == MAX_RATE_AT_TARGET
    assert view(irm, lending_market, SUPPLY) == 4 * MAX_RATE_AT_TARGET

    boa.env.time_travel(seconds=years * YEAR)
    accrue(irm, lending_market, 0, elapsed=years * YEAR)
    assert irm.rate_at_target(lending_market, MARKET_ID) == MIN_RATE_AT_TARGET
    assert view(irm, lending_market, 0) == MIN_RATE_AT_TARGET // 4


def test_a_last_update_in_the_future_reverts_once_a_market_started(irm: Any, lending_market: str) -> None:
    accrue(irm, lending_market, AT_TARGET)

    with boa.reverts():
        view(irm, lending_market, AT_TARGET, elapsed=-1)
    with boa.env.prank(lending_market), boa.reverts():
        irm.borrow_rate(MARKET_ID, SUPPLY, AT_TARGET, now() + 1)


def test_the_figures_of_the_design(irm: Any, lending_market: str) -> None:
    """Morpho's published examples, from 4% a year at the target (the trapezoid, not the exact mean)."""
    accrue(irm, lending_market, AT_TARGET)
    boa.env.time_travel(seconds=45 * DAY)

    # 45 days at 95% (error 50%): 4% * exp(50 * 45 / 365 * 0.5) = 87.22% a year.
    with boa.env.anchor():
        accrue(irm, lending_market, borrowed(95 * WAD // 100), elapsed=45 * DAY)
        assert per_year(irm.rate_at_target(lending_market, MARKET_ID)) == pytest.approx(0.8722, rel=0.005)
    # 5 days at 100%: 16% a year times the mean of exp(50 / 365 * x) over [0, 5], 1.4361: 22.98% a year.
    assert per_year(view(irm, lending_market, SUPPLY, elapsed=5 * DAY)) == pytest.approx(0.2298, rel=0.02)
    # 5 days at 0%: 1% a year times the mean of exp(-50 / 365 * x), 0.7240: 0.724% a year.
    assert per_year(view(irm, lending_market, 0, elapsed=5 * DAY)) == pytest.approx(0.00724, rel=0.02)


# ----------------------------------------------------------------------------------- the view


@given(utilisation=UTILISATIONS, elapsed=SHORT_ELAPSED, warm_up=SHORT_ELAPSED)
@SLOW
def test_the_view_returns_what_the_market_gets(
    irm: Any, lending_market: str, utilisation: int, elapsed: int, warm_up: int
) -> None:
    with boa.env.anchor():
        start_after(irm, lending_market, borrowed(utilisation), warm_up)
        boa.env.time_travel(seconds=elapsed)
        borrow = borrowed(WAD - utilisation)

        viewed = view(irm, lending_market, borrow, elapsed=elapsed)

        assert accrue(irm, lending_market, borrow, elapsed=elapsed) == viewed


# ----------------------------------------------------------------------------------- isolation


def test_each_lending_market_and_each_market_id_keeps_its_own_rate_at_target(
    irm: Any, lending_market: str, other_market: str
) -> None:
    moved = start_after(irm, lending_market, SUPPLY, 10 * DAY)

    assert irm.rate_at_target(other_market, MARKET_ID) == 0
    assert irm.rate_at_target(lending_market, OTHER_ID) == 0
    assert view(irm, other_market, SUPPLY) == 4 * INITIAL_RATE_AT_TARGET

    accrue(irm, other_market, 0)
    accrue(irm, lending_market, 0, id=OTHER_ID)
    boa.env.time_travel(seconds=DAY)
    accrue(irm, other_market, 0, elapsed=DAY)

    assert irm.rate_at_target(lending_market, MARKET_ID) == moved
    assert irm.rate_at_target(lending_market, OTHER_ID) == INITIAL_RATE_AT_TARGET
    assert irm.rate_at_target(other_market, MARKET_ID) < INITIAL_RATE_AT_TARGET


# ------------------------------------------------------------------------------ against the model


@given(
    supply=SUPPLIES,
    borrow_share=UTILISATIONS,
    warm_up=st.tuples(SUPPLIES, UTILISATIONS, ELAPSED),
    elapsed=ELAPSED,
)
@SLOW
def test_one_call_follows_the_model(
    irm: Any,
    lending_market: str,
    supply: int,
    borrow_share: int,
    warm_up: tuple[int, int, int],
    elapsed: int,
) -> None:
    warm_supply, warm_share, warm_elapsed = warm_up
    warm_borrow = borrowed(warm_share, warm_supply)
    with boa.env.anchor(), boa.env.prank(lending_market):
        irm.borrow_rate(MARKET_ID, SUPPLY, AT_TARGET, now())
        boa.env.time_travel(seconds=warm_elapsed)
        irm.borrow_rate(MARKET_ID, warm_supply, warm_borrow, now() - warm_elapsed)
        start = irm.rate_at_target(lending_market, MARKET_ID)
        warmed = borrow_rate(INITIAL_RATE_AT_TARGET, warm_supply, warm_borrow, warm_elapsed)
        assert start == warmed.rate_at_target
        boa.env.time_travel(seconds=elapsed)
        borrow = borrowed(borrow_share, supply)

        rate = irm.borrow_rate(MARKET_ID, supply, borrow, now() - elapsed)

        assert Accrual(rate, irm.rate_at_target(lending_market, MARKET_ID)) == borrow_rate(
            start, supply, borrow, elapsed
        )


class RateModelMachine(RuleBasedStateMachine):
    """Two lending markets accrue two market ids each at random utilisations and intervals.

    Invariants: ``rates_at_target_match_the_model`` (the stored rate at target of every (market, id)
    is the model's) and ``rates_at_target_within_bounds``.
    """

    irm: ClassVar[Any]
    markets: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.model: dict[tuple[str, bytes], int] = {}
        self.last_update: dict[tuple[str, bytes], int] = {}

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    @rule(seconds=st.integers(min_value=0, max_value=30 * DAY))
    def time_passes(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    @rule(
        market=st.integers(min_value=0, max_value=1),
        id=st.sampled_from([MARKET_ID, OTHER_ID]),
        supply=SUPPLIES,
        borrow_share=UTILISATIONS,
    )
    def accrue(self, market: int, id: bytes, supply: int, borrow_share: int) -> None:
        caller, key = self.markets[market], (self.markets[market], id)
        borrow = borrowed(borrow_share, supply)
        last_update = self.last_update.get(key, 0)
        expected = borrow_rate(self.model.get(key, 0), supply, borrow, now() - last_update)

        with boa.env.prank(caller):
            rate = self.irm.borrow_rate(id, supply, borrow, last_update)

        assert rate == expected.borrow_rate
        self.model[key] = expected.rate_at_target
        self.last_update[key] = now()

    @invariant()
    def rates_at_target_match_the_model(self) -> None:
        for market in self.markets:
            for id in (MARKET_ID, OTHER_ID):
                assert self.irm.rate_at_target(market, id) == self.model.get((market, id), 0)

    @invariant()
    def rates_at_target_within_bounds(self) -> None:
        for rate_at_target in self.model.values():
            assert MIN_RATE_AT_TARGET <= rate_at_target <= MAX_RATE_AT_TARGET


def test_random_walks_follow_the_model(irm: Any, lending_market: str, other_market: str) -> None:
    RateModelMachine.irm = irm
    RateModelMachine.markets = (lending_market, other_market)
    RateModelMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=20, deadline=None)
    RateModelMachine.TestCase().runTest()
