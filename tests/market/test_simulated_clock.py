"""The simulated market clock: shared through its file, at a chosen speed, never jumping."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from equitoken.market.clock import DEFAULT_REPLAY_START, ClockSpeedError, ManualClock, SimulatedClock

WALL = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def test_starts_at_the_replay_start_and_moves_with_the_wall_clock(tmp_path: Path) -> None:
    wall = ManualClock(WALL)
    clock = SimulatedClock.load_or_start(tmp_path / "clock.json", wall=wall)
    assert clock.now() == DEFAULT_REPLAY_START

    wall.advance(timedelta(seconds=90))

    assert clock.now() == DEFAULT_REPLAY_START + timedelta(seconds=90)


def test_is_shared_through_its_file(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    wall = ManualClock(WALL)
    SimulatedClock.load_or_start(path, wall=wall)
    wall.advance(timedelta(hours=1))

    later = SimulatedClock.load_or_start(path, wall=wall)

    assert later.epoch == WALL
    assert later.now() == DEFAULT_REPLAY_START + timedelta(hours=1)


def test_runs_speed_times_faster_than_the_wall_clock(tmp_path: Path) -> None:
    wall = ManualClock(WALL)
    clock = SimulatedClock.load_or_start(tmp_path / "clock.json", speed=600, wall=wall)

    wall.advance(timedelta(minutes=17))

    assert clock.now() == DEFAULT_REPLAY_START + timedelta(minutes=17 * 600)  # 7 days and 2 hours


def test_a_change_of_speed_rebases_without_a_jump_and_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    wall = ManualClock(WALL)
    SimulatedClock.load_or_start(path, speed=60, wall=wall)
    wall.advance(timedelta(minutes=10))  # 10 market hours at speed 60
    before = SimulatedClock.load_or_start(path, wall=wall).now()

    faster = SimulatedClock.load_or_start(path, speed=600, wall=wall)

    assert faster.now() == before == DEFAULT_REPLAY_START + timedelta(hours=10)
    wall.advance(timedelta(seconds=6))
    assert faster.now() == before + timedelta(hours=1)
    reread = SimulatedClock.load_or_start(path, wall=wall)
    assert reread.speed == 600
    assert reread.now() == faster.now()
    assert json.loads(path.read_text())["anchor"] == before.isoformat()


def test_the_same_speed_keeps_the_recorded_clock(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    wall = ManualClock(WALL)
    first = SimulatedClock.load_or_start(path, speed=60, wall=wall)
    wall.advance(timedelta(minutes=5))

    again = SimulatedClock.load_or_start(path, speed=60, wall=wall)

    assert again == first


def test_reads_the_file_of_earlier_versions(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    path.write_text(json.dumps({"replay_start": DEFAULT_REPLAY_START.isoformat(), "epoch": WALL.isoformat()}))
    wall = ManualClock(WALL + timedelta(minutes=1))

    clock = SimulatedClock.load_or_start(path, wall=wall)

    assert (clock.speed, clock.now()) == (1, DEFAULT_REPLAY_START + timedelta(minutes=1))


@pytest.mark.parametrize("speed", [0, -5, 100_001])
def test_a_bad_speed_is_refused_and_changes_nothing(tmp_path: Path, speed: int) -> None:
    path = tmp_path / "clock.json"
    wall = ManualClock(WALL)
    SimulatedClock.load_or_start(path, speed=10, wall=wall)
    recorded = path.read_text()

    with pytest.raises(ClockSpeedError, match=f"clock speed must be a whole number from 1 .* not {speed}"):
        SimulatedClock.load_or_start(path, speed=speed, wall=wall)

    assert path.read_text() == recorded
