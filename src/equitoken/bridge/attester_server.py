"""An attester as its own process, serving attestations over HTTP on loopback.

    python -m equitoken.bridge.attester_server --key-file .data/bridge/attester-1.key \\
        --config .data/bridge/bridge.json

- `GET /v1/health` answers `{"status": "ok", "address": "0x…"}`;
- `POST /v1/attestations` takes a claim `{"source_chain": …, "tx": …, "log_index": …}` and answers
  the signed message (200), or `{"code": …, "message": …}` with 400 (malformed), 422 (refused:
  no such burn, not final, unknown end) or 404 (another path).

The configuration names each chain the bridge joins: its family, JSON-RPC URL, confirmation depth
and pools (`bridge.attester.network_from_config`); the attester reads the chains itself. The process
prints `attester <address> listening on <url>` once it serves.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from equitoken.bridge.attester import (
    AttestationRefusedError,
    Attester,
    BurnClaim,
    load_config,
    network_from_config,
)
from equitoken.oracle.keys import load_key

HEALTH_PATH = "/v1/health"
ATTESTATIONS_PATH = "/v1/attestations"
MAX_BODY_BYTES = 1_024
READY_PREFIX = "attester "


class AttesterServer(ThreadingHTTPServer):
    """An HTTP server answering for one attester."""

    daemon_threads = True

    def __init__(self, attester: Attester, host: str = "127.0.0.1", port: int = 0) -> None:
        self.attester = attester
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: AttesterServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path != HEALTH_PATH:
            self._send(HTTPStatus.NOT_FOUND, _problem("not_found", f"no resource {self.path}"))
            return
        self._send(HTTPStatus.OK, {"status": "ok", "address": self.server.attester.address})

    def do_POST(self) -> None:
        if self.path != ATTESTATIONS_PATH:
            self._send(HTTPStatus.NOT_FOUND, _problem("not_found", f"no resource {self.path}"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            message = f"a claim has at most {MAX_BODY_BYTES} bytes, not {length}"
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _problem("too_large", message))
            return
        try:
            claim = BurnClaim.from_json(json.loads(self.rfile.read(length) or b"null"))
        except json.JSONDecodeError as error:
            self._send(HTTPStatus.BAD_REQUEST, _problem("malformed", f"the body is not JSON: {error}"))
            return
        except AttestationRefusedError as error:
            self._send(HTTPStatus.BAD_REQUEST, _problem("malformed", str(error)))
            return
        try:
            attestation = self.server.attester.attest(claim)
        except AttestationRefusedError as error:
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, _problem(error.code, str(error)))
        except Exception as error:  # a chain that does not answer: the relayer asks again later
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                _problem("attester_error", f"{type(error).__name__}: {error}"),
            )
        else:
            self._send(HTTPStatus.OK, attestation.to_json())

    def log_message(self, format: str, *args: Any) -> None:
        return  # the relayer asks for every burn: an access log would say nothing worth the noise

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _problem(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one attester until the process is stopped."""
    parser = argparse.ArgumentParser(prog="python -m equitoken.bridge.attester_server", description=__doc__)
    parser.add_argument("--key-file", type=Path, required=True, help="file holding the 0x-hex private key")
    parser.add_argument("--config", type=Path, required=True, help="the bridge configuration (bridge.json)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: one the OS picks)")
    arguments = parser.parse_args(argv)
    try:
        attester = Attester(load_key(arguments.key_file), network_from_config(load_config(arguments.config)))
        server = AttesterServer(attester, "127.0.0.1", arguments.port)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{READY_PREFIX}{attester.address} listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
