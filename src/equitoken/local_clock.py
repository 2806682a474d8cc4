"""The local platform's simulated market time: replayed history, moving at wall-clock speed.

The replayed prices end on 2026-05-29, so the local platform cannot run on today's date. It runs
on a simulated clock instead: `now = replay_start + (wall now - epoch)`. The epoch is fixed at the
platform's first start and written to `<data dir>/clock.json`, so the `equitoken up` process and
every CLI invocation read the same simulated time.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from equitoken.market.clock import Clock, SystemClock, require_aware

# Monday 2025-12-01 09:30 New York: a regular session opens, with replayed prices for months after.
DEFAULT_REPLAY_START = datetime(2025, 12, 1, 14, 30, tzinfo=UTC)
CLOCK_FILE = "clock.json"


@dataclass(frozen=True)
class SimulatedClock:
    """A `Clock` at `replay_start` when the wall clock read `epoch`, advancing with the wall clock."""

    replay_start: datetime
    epoch: datetime
    wall: Clock = field(default_factory=SystemClock, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "replay_start", require_aware(self.replay_start, "replay start"))
        object.__setattr__(self, "epoch", require_aware(self.epoch, "clock epoch"))

    def now(self) -> datetime:
        """Return the simulated time in UTC."""
        return self.replay_start + (self.wall.now() - self.epoch)

    def to_json(self) -> str:
        """Serialise the replay start and the epoch."""
        return json.dumps(
            {"replay_start": self.replay_start.isoformat(), "epoch": self.epoch.isoformat()}, indent=2
        )

    @classmethod
    def from_json(cls, text: str, wall: Clock | None = None) -> "SimulatedClock":
        """Parse what `to_json` wrote."""
        data = json.loads(text)
        return cls(
            datetime.fromisoformat(data["replay_start"]),
            datetime.fromisoformat(data["epoch"]),
            wall or SystemClock(),
        )

    def save(self, path: Path) -> None:
        """Write the clock to `path` atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(self.to_json())
        partial.replace(path)

    @classmethod
    def load_or_start(
        cls, path: Path, *, replay_start: datetime = DEFAULT_REPLAY_START, wall: Clock | None = None
    ) -> "SimulatedClock":
        """Return the clock recorded at `path`, or start one now at `replay_start` and record it."""
        wall = wall or SystemClock()
        if path.is_file():
            return cls.from_json(path.read_text(), wall)
        clock = cls(replay_start, wall.now(), wall)
        clock.save(path)
        return clock
