"""Watching processes the code under test started but does not hand back."""

import signal
import subprocess
import time
from pathlib import Path

import pytest


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


def interrupt(process: "subprocess.Popen[bytes]", seconds: float, log: Path) -> int:
    """Press Ctrl-C in `process` (an `equitoken up`) and return its exit code; fail, with its log, if it
    still runs after `seconds`: then a second Ctrl-C has it print where each thread waits, and stop."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait(seconds)
        pytest.fail(f"up did not stop within {seconds} s of Ctrl-C:\n{log.read_text(errors='replace')}")
