"""Watching processes the code under test started but does not hand back."""

from pathlib import Path


def alive(pid: int) -> bool:
    """Return whether `pid` runs; a zombie (dead, not yet reaped by init) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
