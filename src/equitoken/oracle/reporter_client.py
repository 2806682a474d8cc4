"""Reaching a reporter process: `ReporterClient` over HTTP, `ReporterProcess` to start and stop one."""

import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError
from equitoken.oracle.observation import SignedObservation
from equitoken.oracle.reporter import ObservationRequest
from equitoken.oracle.reporter_server import HEALTH_PATH, OBSERVATIONS_PATH, READY_PREFIX
from equitoken.oracle.wire import WireError, observation_from_json, request_to_json
from equitoken.processes.tethered import tethered

DEFAULT_TIMEOUT = 2.0
# A reporter is a fresh Python process importing the platform: on a loaded 2-core CI machine that
# has taken over 20 s. A dead process is noticed at once, so a long wait costs nothing when it fails.
START_TIMEOUT = 60.0


class ReporterUnavailableError(EquitokenError, ConnectionError):
    """A reporter did not answer in time, or not with the protocol's JSON."""

    code = "reporter_unavailable"


class ReporterRefusedError(EquitokenError, ValueError):
    """A reporter answered but refused the request; `code` is the reporter's."""

    def __init__(self, url: str, code: str, message: str) -> None:
        super().__init__(f"reporter at {url} refused: {message}")
        self.code = code


class ReporterClient:
    """The reporter protocol over HTTP, each call bounded by `timeout` seconds."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._address: str | None = None

    @property
    def address(self) -> str:
        """Return the reporter's signing address (asked once, then remembered)."""
        if self._address is None:
            self._address = self.health()
        return self._address

    def health(self) -> str:
        """Return the reporter's address if it answers; raise ReporterUnavailableError otherwise."""
        body = self._call("GET", HEALTH_PATH)
        address = body.get("address")
        if body.get("status") != "ok" or not isinstance(address, str):
            raise ReporterUnavailableError(f"reporter at {self.url} is not healthy: {body}")
        return checksum(address)

    def observe(self, request: ObservationRequest) -> SignedObservation:
        """Return the reporter's signed observation for `request`."""
        body = self._call("POST", OBSERVATIONS_PATH, request_to_json(request))
        try:
            return observation_from_json(body)
        except (WireError, ValueError) as error:
            raise ReporterUnavailableError(
                f"reporter at {self.url} sent an invalid observation: {error}"
            ) from None

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=payload)
            body = response.json()
        except httpx.HTTPError as error:
            raise ReporterUnavailableError(f"reporter at {self.url} did not answer: {error!r}") from None
        except ValueError:
            raise ReporterUnavailableError(f"reporter at {self.url} answered {path} without JSON") from None
        if not isinstance(body, dict):
            raise ReporterUnavailableError(f"reporter at {self.url} answered {path} with {body!r}")
        if response.status_code != httpx.codes.OK:
            raise ReporterRefusedError(self.url, str(body.get("code")), str(body.get("message")))
        return body


class ReporterProcess:
    """One reporter server in a subprocess of ours; it dies with the thread that starts it (Linux)."""

    def __init__(
        self,
        key_file: Path,
        *,
        database_url: str | None = None,
        clock_file: Path | None = None,
        port: int = 0,
        log_file: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.key_file = key_file
        self.database_url = database_url
        self.clock_file = clock_file
        self.port = port
        self.log_file = log_file
        self.extra_args = extra_args
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
        command = [sys.executable, "-m", "equitoken.oracle.reporter_server", "--key-file", str(self.key_file)]
        command += ["--port", str(self.port)]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if self.clock_file:
            command += ["--clock-file", str(self.clock_file)]
        return command + list(self.extra_args)

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Start the server and return once it answers its health check; raise ReporterUnavailableError."""
        if self._process is not None:
            raise RuntimeError(f"reporter {self.key_file} is already running (pid {self._process.pid})")
        self._log = self.log_file.open("a") if self.log_file is not None else None
        self._process = subprocess.Popen(
            tethered(self.command()),
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
            text=True,
        )
        try:
            self.url = self._wait_ready(self._process, time.monotonic() + timeout)
            with ReporterClient(self.url) as client:
                self.address = client.health()
        except BaseException:
            self.stop()
            raise
        return self

    def client(self, timeout: float = DEFAULT_TIMEOUT) -> ReporterClient:
        """Return a client of the running server."""
        if self.url is None:
            raise RuntimeError(f"reporter {self.key_file} is not running: start() it first")
        return ReporterClient(self.url, timeout)

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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self, process: "subprocess.Popen[str]", deadline: float) -> str:
        output = process.stdout
        if output is None:
            raise RuntimeError("the reporter's output is not piped")
        while True:
            remaining = deadline - time.monotonic()
            if process.poll() is not None:
                raise ReporterUnavailableError(
                    f"reporter {self.key_file} exited with {process.returncode} before serving"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if remaining <= 0:
                raise ReporterUnavailableError(f"reporter {self.key_file} did not start within the timeout")
            ready, _, _ = select.select([output], [], [], min(remaining, 0.1))
            if ready:
                line = output.readline()
                if line.startswith(READY_PREFIX):
                    return line.rsplit(" ", 1)[-1].strip()
                if not line:  # stdout closed: the process is exiting, the next poll says how
                    time.sleep(0.05)
