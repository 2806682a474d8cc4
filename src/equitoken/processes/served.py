"""A loopback HTTP server of ours in its own process: started, waited for, stopped.

The server prints one line `<prefix><address> listening on <url>` once it serves (a reporter, an
attester); until then `start` waits, and a process that exits first is reported with its log. The
process dies with the thread that started it, even by SIGKILL (`processes.tethered`).
"""

import select
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from equitoken.processes.tethered import tethered

# A server is a fresh Python process importing the platform: on a loaded 2-core CI machine that has
# taken over 20 s. A dead process is noticed at once, so a long wait costs nothing when it fails.
START_TIMEOUT = 60.0


class ServerUnavailableError(ConnectionError):
    """A server process exited, or did not say it serves, before the timeout."""


class ServedProcess:
    """One server process: `command` prints `ready_prefix…listening on <url>` once it serves."""

    def __init__(self, name: str, command: Sequence[str], ready_prefix: str, log_file: Path | None) -> None:
        self.name = name
        self.ready_prefix = ready_prefix
        self.log_file = log_file
        self._command = list(command)
        self.url: str | None = None
        self.address: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    @property
    def pid(self) -> int | None:
        """Return the server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """Return the command line that starts the server."""
        return list(self._command)

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Start the server and return once it serves; raise ServerUnavailableError."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> Self:
        """Start the server's process without waiting for it (start several, then `wait_ready` each)."""
        if self._process is not None:
            raise RuntimeError(f"{self.name} is already running (pid {self._process.pid})")
        self._log = self.log_file.open("a") if self.log_file is not None else None
        self._process = subprocess.Popen(
            tethered(self.command()),
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
            text=True,
        )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Self:
        """Return once the launched server serves; raise ServerUnavailableError (and stop it)."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not launched")
        try:
            line = self._wait_ready(self._process, time.monotonic() + timeout)
            self.address = line.removeprefix(self.ready_prefix).split(" ", 1)[0]
            self.url = line.rsplit(" ", 1)[-1].strip()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout` seconds)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.url = None

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would, and forget it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self, process: "subprocess.Popen[str]", deadline: float) -> str:
        output = process.stdout
        if output is None:
            raise RuntimeError(f"the output of {self.name} is not piped")
        while True:
            remaining = deadline - time.monotonic()
            if process.poll() is not None:
                raise ServerUnavailableError(
                    f"{self.name} exited with {process.returncode} before serving"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if remaining <= 0:
                raise ServerUnavailableError(f"{self.name} did not start within the timeout")
            ready, _, _ = select.select([output], [], [], min(remaining, 0.1))
            if ready:
                line = output.readline()
                if line.startswith(self.ready_prefix):
                    return line
                if not line:  # stdout closed: the process is exiting, the next poll says how
                    time.sleep(0.05)
