"""Reaching a reporter process: `ReporterClient` over HTTP, `ReporterProcess` to start and stop one."""

import sys
from pathlib import Path
from typing import Any, Self

import httpx

from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError
from equitoken.oracle.observation import SignedObservation
from equitoken.oracle.reporter import ObservationRequest
from equitoken.oracle.reporter_server import OBSERVATIONS_PATH, READY_PREFIX
from equitoken.oracle.wire import WireError, observation_from_json, request_to_json
from equitoken.processes.served import START_TIMEOUT, ServedProcess, ServerUnavailableError
from equitoken.processes.signing_server import HEALTH_PATH

DEFAULT_TIMEOUT = 2.0


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


class ReporterProcess(ServedProcess):
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
        command = [sys.executable, "-m", "equitoken.oracle.reporter_server", "--key-file", str(key_file)]
        command += ["--port", str(port)]
        if database_url:
            command += ["--database-url", database_url]
        if clock_file:
            command += ["--clock-file", str(clock_file)]
        super().__init__(f"reporter {key_file}", [*command, *extra_args], READY_PREFIX, log_file)
        self.key_file = key_file

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Start the server and return once it answers its health check; raise ReporterUnavailableError."""
        try:
            super().start(timeout)
        except ServerUnavailableError as error:
            raise ReporterUnavailableError(str(error)) from None
        assert self.url is not None
        try:
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
