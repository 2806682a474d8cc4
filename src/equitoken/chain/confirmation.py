"""When a chain's news is final enough to act on, and how to wait for it, whatever the chain family.

A block is confirmed once `confirmations` newer blocks are built on it: 0 on a local node that never
reorganises, more on a real network (the indexer, and later the bridge, act only on confirmed
blocks). Waiting polls from a few milliseconds (a local node answers at once) backing off to a
second (a real network takes seconds).
"""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_POLL_SECONDS = 0.005
LAST_POLL_SECONDS = 1.0


def confirmed_head(head: int, confirmations: int) -> int:
    """Return the newest block buried under `confirmations` newer ones, with `head` the newest of all."""
    if confirmations < 0:
        raise ValueError(f"confirmations must be 0 or more, got {confirmations}")
    return head - confirmations


def wait_for(
    fetch: Callable[[], T | None], timeout: float, first_interval: float = FIRST_POLL_SECONDS
) -> T | None:
    """Call `fetch` until it returns something, backing off; return None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    interval = first_interval
    while True:
        found = fetch()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
        interval = min(interval * 1.5, LAST_POLL_SECONDS)
