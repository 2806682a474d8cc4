"""Run a command with the system clock moved ahead, by libfaketime (the `libfaketime` wheel's library).

    python -m tests.support.faketime --years 3 -- python -m pytest -m anvil tests

Every process the command starts inherits the moved clock: Python, the anvil node, the embedded
PostgreSQL server, the oracle's reporter processes. Monotonic clocks stay real (sleeps and timeouts
keep working). Before running the command, a child process is asked the time; if it is not moved,
the run fails instead of passing vacuously on today's date.
"""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libfaketime

SECONDS_PER_YEAR = 365 * 86_400
# What libfaketime's own variables add to a process's environment.
VARIABLES = ("LD_PRELOAD", "LD_LIBRARY_PATH", "FAKETIME", "DONT_FAKE_MONOTONIC")


def real_time_environment() -> dict[str, str]:
    """Return this process's environment without libfaketime, for a child that must keep real time."""
    return {k: v for k, v in os.environ.items() if k not in VARIABLES}


@contextmanager
def children_on_real_time() -> Iterator[None]:
    """Start children on real time inside this block (a helper process that starts its own, such as
    Playwright's driver, cannot be given an environment)."""
    saved = {k: os.environ.pop(k) for k in VARIABLES if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def moved_environment(years: int) -> dict[str, str]:
    """Return this process's environment with libfaketime preloaded `years` ahead."""
    library = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src"
    if not (library / "libfaketime.so.1").is_file():
        raise SystemExit(f"libfaketime's library is missing from {library}; reinstall the libfaketime wheel")
    return {
        **os.environ,
        "LD_LIBRARY_PATH": str(library),
        "LD_PRELOAD": "libfaketime.so.1",
        "FAKETIME": f"+{years * 365}d",
        "DONT_FAKE_MONOTONIC": "1",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3, help="how far ahead the clock runs")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("give the command to run after --")
    environment = moved_environment(arguments.years)
    probe = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    ahead = float(probe.stdout) - time.time()
    wanted = arguments.years * SECONDS_PER_YEAR
    if abs(ahead - wanted) > 86_400:
        raise SystemExit(f"libfaketime did not move the clock: {ahead / SECONDS_PER_YEAR:.2f} years ahead")
    print(f"faketime: the clock runs {arguments.years} years ahead for: {' '.join(command)}", flush=True)
    return subprocess.run(command, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
