"""Reaching an attester: `AttesterClient` over HTTP, `AttesterProcess` to start and stop one."""

import sys
from pathlib import Path
from typing import Any

import httpx

from equitoken.bridge.attester import Attestation, BurnClaim
from equitoken.bridge.attester_server import ATTESTATIONS_PATH, READY_PREFIX
from equitoken.model.errors import EquitokenError
from equitoken.processes.served import ServedProcess

DEFAULT_TIMEOUT = 5.0


class AttesterUnavailableError(EquitokenError, ConnectionError):
    """An attester did not answer, refused, or answered with something that is not an attestation."""

    code = "attester_unavailable"


class AttesterClient:
    """The attester protocol over HTTP."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def attest(self, claim: BurnClaim) -> Attestation:
        """Return the attester's signed message for the claimed burn; raise AttesterUnavailableError."""
        try:
            response = self._http.post(ATTESTATIONS_PATH, json=claim.to_json())
            body: Any = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise AttesterUnavailableError(f"attester at {self.url} did not answer: {error!r}") from None
        if response.status_code != httpx.codes.OK:
            message = body.get("message") if isinstance(body, dict) else body
            raise AttesterUnavailableError(f"attester at {self.url} refused: {message}")
        try:
            return Attestation.from_json(body)
        except ValueError as error:
            raise AttesterUnavailableError(f"attester at {self.url} sent no attestation: {error}") from None

    def close(self) -> None:
        self._http.close()


class AttesterProcess(ServedProcess):
    """One attester server in a subprocess of ours; it dies with the thread that starts it (Linux)."""

    def __init__(self, key_file: Path, config: Path, *, log_file: Path | None = None) -> None:
        command = [sys.executable, "-m", "equitoken.bridge.attester_server"]
        command += ["--key-file", str(key_file), "--config", str(config)]
        super().__init__(f"attester {key_file}", command, READY_PREFIX, log_file)

    def client(self, timeout: float = DEFAULT_TIMEOUT) -> AttesterClient:
        """Return a client of the running server."""
        if self.url is None:
            raise RuntimeError(f"{self.name} is not running: start() it first")
        return AttesterClient(self.url, timeout)
