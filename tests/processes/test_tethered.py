"""A tethered command dies with the thread that started it, and starting one never runs Python
between fork and exec (which hung under libfaketime when another thread held a lock)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.faketime import moved_environment
from tests.support.processes import gone_within

from equitoken.processes.tethered import tethered

TETHER = [sys.executable, "-m", "equitoken.processes.tethered"]


def test_the_command_gets_sigterm_when_its_parent_is_killed() -> None:
    parent_script = (
        "import subprocess, sys\n"
        "from equitoken.processes.tethered import tethered\n"
        "child = subprocess.Popen(tethered(['sleep', '60']))\n"
        "print(child.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while _name(child) != "sleep" and time.monotonic() < deadline:  # the tether execs `sleep`
        time.sleep(0.05)
    assert _name(child) == "sleep"

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    assert gone_within(child, 10)


def test_the_command_keeps_its_pid_output_and_exit_code() -> None:
    result = subprocess.run(
        tethered(["sh", "-c", "echo $$; exit 3"]), capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 3
    assert result.stdout.strip().isdigit()


def test_a_command_that_cannot_run_is_named_with_exit_127() -> None:
    result = subprocess.run(tethered(["/nonexistent/anvil"]), capture_output=True, text=True, timeout=30)

    assert result.returncode == 127
    assert "cannot run /nonexistent/anvil: No such file or directory" in result.stderr


def test_a_parent_that_is_already_gone_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    # PID 1 is never this test's process: the tether must see that its parent is not the one named.
    result = subprocess.run([*TETHER, "1", "--", "touch", str(marker)], timeout=30)

    assert result.returncode == 1
    assert not marker.exists()


def test_bad_usage_is_refused_with_exit_2() -> None:
    for arguments in ([], ["12"], ["x", "--", "true"], ["12", "true"], ["12", "--"]):
        result = subprocess.run([*TETHER, *arguments], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, arguments
        assert "usage: python -m equitoken.processes.tethered PARENT_PID -- COMMAND" in result.stderr


def test_a_threaded_process_under_libfaketime_starts_hundreds_without_hanging() -> None:
    # Four threads reading the clock while the main thread starts children: with the parent-death
    # signal set in a preexec_fn, one child in a few dozen hung before exec, its parent with it.
    script = (
        "import subprocess, threading, time\n"
        "from equitoken.processes.tethered import tethered\n"
        "def spin():\n"
        "    while True:\n"
        "        time.time()\n"
        "for _ in range(4):\n"
        "    threading.Thread(target=spin, daemon=True).start()\n"
        "for _ in range(200):\n"
        "    subprocess.run(tethered(['true']), check=True)\n"
        "print('started 200')\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], env=moved_environment(3), capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started 200"


def _name(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()
