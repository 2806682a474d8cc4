"""The oracle benchmark measures real receipts on anvil (the guarded read meets its target) and the
latency from a source tick to the round that carries it, through real reporter processes."""

import itertools
import json
from datetime import UTC, date, datetime

import pytest
from bench.oracle import (
    FEED_DEVIATION_BPS,
    GUARDED_READ_TARGET,
    LATENCY_TICKER,
    TICK_MOVE_BPS,
    main,
    moved_bps,
    nearest_rank,
    quorum_for,
    render,
    source_ticks,
    tick_to_round,
)

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource


@pytest.mark.anvil
def test_figures_are_positive_updates_grow_with_reporters_and_the_guarded_read_meets_the_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--json", "--reporters", "1", "4", "7", "--repetitions", "2"]) == 0

    figures = json.loads(capsys.readouterr().out)

    assert set(figures) == {"update_gas", "guarded_read_gas", "plain_read_gas", "tick_to_round_ms"}
    assert figures["tick_to_round_ms"] > 0
    update_gas = [figures["update_gas"][n] for n in ("1", "4", "7")]
    assert all(gas > 21_000 for gas in update_gas)
    assert update_gas == sorted(set(update_gas))
    assert figures["plain_read_gas"] > 21_000
    assert figures["plain_read_gas"] < figures["guarded_read_gas"] < GUARDED_READ_TARGET


def test_the_table_shows_every_figure_and_the_verdict() -> None:
    table = render(
        {
            "update_gas": {"1": 60_000, "4": 90_000},
            "guarded_read_gas": 29_000,
            "plain_read_gas": 26_500,
            "tick_to_round_ms": 55.5,
        },
        [50.0, 55.5, 61.25, 1_200.0],
    )

    assert "update_gas[n=4]" in table
    assert "90,000" in table
    assert "+2,500 gas over a plain read (meets the 30,000 target)" in table
    assert "tick_to_round_ms p90" in table
    assert "1,200.0" in table
    assert "4 ticks of 2025 AAPL sessions, 4 reporter processes, quorum 3, anvil" in table


@pytest.mark.anvil
def test_each_tick_reaches_the_chain_as_a_round_carrying_the_moved_price() -> None:
    prices = ReplayPriceSource.default(MarketCalendar("XNYS"))

    latencies = tick_to_round(3)

    assert [latency.round_id for latency in latencies] == [2, 3, 4]
    for latency in latencies:
        assert latency.milliseconds > 0
        assert latency.observed_at >= latency.tick.at.timestamp()
        assert latency.moved_bps >= FEED_DEVIATION_BPS
        observed = datetime.fromtimestamp(latency.observed_at, UTC)
        assert latency.answer == prices.quote(LATENCY_TICKER, observed).price.units


def test_the_ticks_are_moves_past_the_deviation_in_2025_sessions() -> None:
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)

    ticks = source_ticks(prices, calendar, 21)

    assert len(ticks) == 21
    assert all(tick.at.year == 2025 and calendar.is_open(tick.at) for tick in ticks)
    assert [t.at for t in ticks] == sorted({t.at for t in ticks})
    for before, after in itertools.pairwise(ticks):
        assert after.price == prices.quote(LATENCY_TICKER, after.at).price
        assert TICK_MOVE_BPS <= moved_bps(before.price.units, after.price.units) < 1_000


def test_a_history_too_short_for_the_ticks_asked_is_refused() -> None:
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)

    with pytest.raises(ValueError, match="count must be at least 1, not 0"):
        source_ticks(prices, calendar, 0)
    with pytest.raises(ValueError, match=r"history from 2026-05-01 holds \d+ ticks, not 10000"):
        source_ticks(prices, calendar, 10_000, date(2026, 5, 1))


def test_percentiles_are_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]

    assert (nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 100)) == (
        10.0,
        18.0,
        20.0,
    )
    with pytest.raises(ValueError, match=r"a percent in 1\.\.100"):
        nearest_rank(values, 0)


def test_quorum_is_the_smallest_majority() -> None:
    assert [quorum_for(n) for n in (1, 4, 7, 10)] == [1, 3, 4, 6]


def test_reporter_counts_outside_the_feed_limit_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--reporters", "0", "4"])

    assert exit_info.value.code == 2
    assert "reporter counts must be between 1 and 16" in capsys.readouterr().err


def test_a_repetition_count_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--repetitions", "0"])

    assert exit_info.value.code == 2
    assert "repetitions must be at least 1, got 0" in capsys.readouterr().err
