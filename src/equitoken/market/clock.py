"""Clocks: the current time as a timezone-aware UTC datetime, from the wall, by hand, or simulated.

The simulated clock replays history: `now = anchor + (wall now - epoch) * speed`. The local platform
runs on one, because the replayed prices end on 2026-05-29; it is written to a file so that the
`equitoken up` process and every CLI invocation read the same simulated time. A change of speed
re-bases the clock: the simulated time of that moment becomes the new anchor and the wall time the
new epoch, so market time never jumps, forwards or back.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from equitoken.model.errors import EquitokenError
from equitoken.model.time import Clock, require_aware

# Monday 2025-12-01 09:30 New York: a regular session opens, with replayed prices for months after.
DEFAULT_REPLAY_START = datetime(2025, 12, 1, 14, 30, tzinfo=UTC)
CLOCK_FILE = "clock.json"
MAX_SPEED = 100_000


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to, and never backwards (tests and replays)."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "clock start")

    def now(self) -> datetime:
        """Return the time last set."""
        return self._now

    def set(self, t: datetime) -> None:
        """Move the clock to `t`; raise ValueError if `t` is earlier than now."""
        t = require_aware(t, "clock time")
        if t < self._now:
            raise ValueError(f"clock cannot go back from {self._now.isoformat()} to {t.isoformat()}")
        self._now = t

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` and return the new time; raise ValueError if negative."""
        if delta < timedelta(0):
            raise ValueError(f"clock cannot advance by a negative duration {delta}")
        self._now += delta
        return self._now


class ClockSpeedError(EquitokenError, ValueError):
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
