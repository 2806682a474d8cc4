"""Watching processes the code under test started but does not hand back."""

import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Return whether `pid` runs; a zombie (dead, not yet reaped by init) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    """Return whether `pid` is dead within `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)
