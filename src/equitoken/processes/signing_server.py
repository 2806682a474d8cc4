"""A loopback JSON server for one signing key, as the oracle's reporters and the bridge's attesters run.

- `GET /v1/health` answers `{"status": "ok", "address": "0x…"}`;
- `POST <route.path>` takes a JSON body and answers what `route.answer` returns (200), or
  `{"code": …, "message": …}` with 400 (not JSON, or one of `route.malformed`), 422 (one of
  `route.refused`), 413 (too large), 500 (anything else: the caller gets the cause, the server goes
  on) or 404 (another path).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HEALTH_PATH = "/v1/health"


@dataclass(frozen=True)
class Route:
    """The one POST a signing server answers, and how its errors map to statuses (each has a `code`)."""

    path: str
    answer: Callable[[Any], dict[str, Any]]
    malformed: tuple[type[Exception], ...]
    refused: tuple[type[Exception], ...]
    malformed_code: str
    error_code: str
    max_body_bytes: int


class SigningServer(ThreadingHTTPServer):
    """An HTTP server answering `route` for the key at `address`."""

    daemon_threads = True

    def __init__(self, address: str, route: Route, host: str = "127.0.0.1", port: int = 0) -> None:
        self.address = address
        self.route = route
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """Return the base URL the server listens on."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: SigningServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path != HEALTH_PATH:
            self._problem(HTTPStatus.NOT_FOUND, "not_found", f"no resource {self.path}")
            return
        self._send(HTTPStatus.OK, {"status": "ok", "address": self.server.address})

    def do_POST(self) -> None:
        route = self.server.route
        if self.path != route.path:
            self._problem(HTTPStatus.NOT_FOUND, "not_found", f"no resource {self.path}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > route.max_body_bytes:
            self.close_connection = True
            message = f"a request has at most {route.max_body_bytes} bytes, not {length}"
            self._problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", message)
            return
        try:
            answer = route.answer(json.loads(self.rfile.read(length) or b"null"))
        except json.JSONDecodeError as error:
            self._problem(HTTPStatus.BAD_REQUEST, route.malformed_code, f"the body is not JSON: {error}")
        except route.malformed as error:
            self._problem(HTTPStatus.BAD_REQUEST, _code(error), str(error))
        except route.refused as error:
            self._problem(HTTPStatus.UNPROCESSABLE_ENTITY, _code(error), str(error))
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            self._problem(HTTPStatus.INTERNAL_SERVER_ERROR, route.error_code, message)
        else:
            self._send(HTTPStatus.OK, answer)

    def log_message(self, format: str, *args: Any) -> None:
        # Callers ask every few seconds: an access log would say nothing worth the noise.
        return

    def _problem(self, status: HTTPStatus, code: str, message: str) -> None:
        self._send(status, {"code": code, "message": message})

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _code(error: Exception) -> str:
    return str(getattr(error, "code", type(error).__name__))
