"""Rate limiting: a token bucket per API key, kept in this process's memory.

Each key may make `burst` calls at once, refilled at `per_second`. The buckets live in memory, so
they reset when the server restarts and are per process: several API processes behind a balancer
each allow the full rate.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """How fast one API key may call: `per_second` sustained, `burst` at once."""

    per_second: float = 50.0
    burst: int = 100

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"rate limit must be positive, not {self.per_second} per second")
        if self.burst < 1:
            raise ValueError(f"rate limit burst must be at least 1, not {self.burst}")


class RateLimiter:
    """Token buckets per key; `take` spends one token or says how long until one is back."""

    def __init__(self, limit: RateLimit, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of `key`'s bucket and return 0, or return the seconds to wait for one."""
        now = self._monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - then) * self.limit.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.limit.per_second


def retry_after_seconds(wait: float) -> str:
    """Return a `Retry-After` value (whole seconds, at least 1) for a wait."""
    return str(max(1, math.ceil(wait)))
