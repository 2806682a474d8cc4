"""The perpetuals venue through a replayed week of MSTR with a weekend, a -27% reopening gap and a 10-for-1
split (`tests/keepers/perps_week.py`), with its keeper, under both closed-market policies."""

from pathlib import Path

import pytest
from tests.keepers.perps_week import (
    POLICIES,
    STATE_CLOSED,
    STATE_DISCOVERY,
    STATE_OPEN,
    WAD,
    WeekReplay,
    replay,
)

from equitoken.venues.perps.parameters import DEFAULT_PARAMETERS

TICKER = "MSTR"
MAX_LEVERAGE = DEFAULT_PARAMETERS[TICKER].max_leverage
SKEW_SCALE = DEFAULT_PARAMETERS[TICKER].skew_scale


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WeekReplay]:
    root: Path = tmp_path_factory.mktemp("perps-week")
    results = {name: replay(name, policy, root / name) for name, policy in POLICIES.items()}
    print(*(r.table() for r in results.values()), sep="\n")
    return results


def test_the_mark_stays_within_each_policys_bounds_of_the_oracle(weeks: dict[str, WeekReplay]) -> None:
    closed, discovery = weeks["closed"], weeks["discovery"]
    for week in (closed, discovery):
        in_session = [t for t in week.ticks if t.state == STATE_OPEN]
        assert in_session
        assert all(t.mark == t.answer for t in in_session)  # in session the mark is the oracle
    # Closed policy: while closed, the mark is the close itself and nothing trades.
    frozen = [t for t in closed.ticks if t.state == STATE_CLOSED]
    assert frozen
    assert all(t.mark == t.close for t in frozen)
    assert closed.fills_while_closed == 0
    assert {t.state for t in closed.ticks} <= {STATE_OPEN, STATE_CLOSED}
    # Discovery policy: the oracle's closed price, clamped to 1 / max leverage around the close.
    moving = [t for t in discovery.ticks if t.state == STATE_DISCOVERY]
    assert moving
    for tick in moving:
        band = tick.close * WAD // MAX_LEVERAGE
        assert tick.mark == min(max(tick.answer, tick.close - band), tick.close + band)
    assert discovery.fills_while_closed > 0
    assert 0 < discovery.max_discovery_gap_bps <= 10_000 * WAD // MAX_LEVERAGE


def test_funding_drifts_toward_the_balanced_side(weeks: dict[str, WeekReplay]) -> None:
    for week in weeks.values():
        checked = 0
        for before, after in zip(week.ticks, week.ticks[1:], strict=False):
            # Only where the skew dominates what the next tick's own trades add for their seconds.
            if abs(before.skew) < SKEW_SCALE // 10_000 or after.funding_rate == before.funding_rate:
                continue
            checked += 1
            # A long-heavy market's rate rises (longs pay more), a short-heavy one's falls.
            assert (after.funding_rate - before.funding_rate > 0) == (before.skew > 0), (before, after)
        assert checked > 10


def test_liquidations_happen_only_where_the_policy_allows(weeks: dict[str, WeekReplay]) -> None:
    closed, discovery = weeks["closed"], weeks["discovery"]
    assert closed.liquidations
    assert discovery.liquidations
    # gTrade's rule: never while the market is closed; the first ones at the reopening price.
    assert all(r.state == STATE_OPEN for r in closed.liquidations)
    assert min(r.minutes_after_open for r in closed.liquidations) == 0
    assert all(r.state in (STATE_OPEN, STATE_DISCOVERY) for r in discovery.liquidations)
    for week in weeks.values():
        assert week.liquidation_rewards_usdc <= sum(r.margin_usdc for r in week.liquidations) * 10**6
        # Every position liquidated was below its maintenance margin: equity under notional / 10.
        assert all(r.equity_usdc < r.margin_usdc for r in week.liquidations)


def test_queued_orders_execute_at_the_reopening_under_the_closed_policy(weeks: dict[str, WeekReplay]) -> None:
    closed, discovery = weeks["closed"], weeks["discovery"]
    assert closed.queued_orders > 0
    assert closed.executed_orders + closed.cancelled_orders == closed.queued_orders
    assert discovery.queued_orders == 0


def test_the_split_changes_no_open_position(weeks: dict[str, WeekReplay]) -> None:
    for week in weeks.values():
        assert week.split_positions > 0
        assert week.split_changed == 0
        # The token price is continuous: the split moved the mark by the market, not by 10x.
        assert week.split_mark_after * 2 > week.split_mark_before > week.split_mark_after // 2
