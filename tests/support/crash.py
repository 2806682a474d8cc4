"""Run a crash test's worker process for real: `python -m <module> CONFIG.json`, killed by SIGKILL at a
crash point when one is named (see `equitoken.durable.crashpoints`)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from equitoken.durable.crashpoints import CRASH_ENV

ROOT = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL


def run_worker(module: str, config: dict[str, object], directory: Path, crash_at: str | None) -> int:
    """Write `config` to `directory/worker.json` and run `module` on it from the repository root, with
    `EQUITOKEN_CRASH_AT=crash_at` when given; return 0 (it finished) or `KILLED` (it died at the point),
    and fail with its stderr on anything else."""
    path = directory / "worker.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", module, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, KILLED):
        raise AssertionError(f"{module} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.returncode
