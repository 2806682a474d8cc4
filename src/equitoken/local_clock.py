"""The local platform's simulated market time: replayed history, moving at a chosen speed.

The replayed prices end on 2026-05-29, so the local platform cannot run on today's date. It runs
on a simulated clock instead: `now = anchor + (wall now - epoch) * speed`. The clock is fixed at the
platform's first start and written to `<data dir>/clock.json`, so the `equitoken up` process and
every CLI invocation read the same simulated time.

A change of speed re-bases the clock: the simulated time of that moment becomes the new anchor and
the wall time the new epoch, so market time never jumps, forwards or back.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from equitoken.market.clock import Clock, SystemClock, require_aware

# Monday 2025-12-01 09:30 New York: a regular session opens, with replayed prices for months after.
DEFAULT_REPLAY_START = datetime(2025, 12, 1, 14, 30, tzinfo=UTC)
CLOCK_FILE = "clock.json"
MAX_SPEED = 100_000


class ClockSpeedError(ValueError):
    """A speed the simulated clock cannot run at."""

    code = "invalid_speed"


def check_speed(speed: int) -> int:
    """Return `speed` if the clock can run at it; raise `ClockSpeedError` naming the problem."""
    if not 1 <= speed <= MAX_SPEED:
        raise ClockSpeedError(
            f"clock speed must be a whole number from 1 (real time) to {MAX_SPEED:,}, not {speed}"
        )
    return speed


@dataclass(frozen=True)
class SimulatedClock:
    """A `Clock` reading `anchor` when the wall clock read `epoch`, then moving `speed` times faster."""

    anchor: datetime
    epoch: datetime
    speed: int = 1
    wall: Clock = field(default_factory=SystemClock, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchor", require_aware(self.anchor, "clock anchor"))
        object.__setattr__(self, "epoch", require_aware(self.epoch, "clock epoch"))
        check_speed(self.speed)

    def now(self) -> datetime:
        """Return the simulated time in UTC."""
        return self.anchor + (self.wall.now() - self.epoch) * self.speed

    def at_speed(self, speed: int) -> "SimulatedClock":
        """Return this clock re-based to run at `speed` from now on (itself if the speed is unchanged)."""
        check_speed(speed)
        if speed == self.speed:
            return self
        wall_now = self.wall.now()
        return SimulatedClock(self.anchor + (wall_now - self.epoch) * self.speed, wall_now, speed, self.wall)

    def to_json(self) -> str:
        """Serialise the anchor, the epoch and the speed."""
        return json.dumps(
            {"anchor": self.anchor.isoformat(), "epoch": self.epoch.isoformat(), "speed": self.speed},
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, wall: Clock | None = None) -> "SimulatedClock":
        """Parse what `to_json` wrote (or the speed-less file of earlier versions, anchored by
        `replay_start`)."""
        data = json.loads(text)
        return cls(
            datetime.fromisoformat(data["anchor"] if "anchor" in data else data["replay_start"]),
            datetime.fromisoformat(data["epoch"]),
            int(data.get("speed", 1)),
            wall or SystemClock(),
        )

    def save(self, path: Path) -> None:
        """Write the clock to `path` atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(self.to_json())
        partial.replace(path)

    @classmethod
    def load(cls, path: Path, *, wall: Clock | None = None) -> "SimulatedClock | None":
        """Return the clock recorded at `path`, or None if there is none."""
        return cls.from_json(path.read_text(), wall) if path.is_file() else None

    @classmethod
    def load_or_start(
        cls,
        path: Path,
        *,
        replay_start: datetime = DEFAULT_REPLAY_START,
        speed: int | None = None,
        wall: Clock | None = None,
    ) -> "SimulatedClock":
        """Return the clock recorded at `path`, or start one now at `replay_start` and record it.

        With `speed`, the clock runs at that speed from now on: a recorded clock at another speed is
        re-based and recorded again. Without it, a recorded clock keeps its speed and a new one runs
        in real time.
        """
        wall = wall or SystemClock()
        recorded = cls.load(path, wall=wall)
        if recorded is None:
            clock = cls(replay_start, wall.now(), check_speed(speed or 1), wall)
        elif speed is None or speed == recorded.speed:
            return recorded
        else:
            clock = recorded.at_speed(speed)
        clock.save(path)
        return clock
