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
import sys
from collections.abc import Sequence
from pathlib import Path

from equitoken.bridge.attester import (
    AttestationRefusedError,
    Attester,
    BurnClaim,
    MalformedClaimError,
    load_config,
    network_from_config,
)
from equitoken.oracle.keys import load_key
from equitoken.processes.signing_server import Route, SigningServer

ATTESTATIONS_PATH = "/v1/attestations"
MAX_BODY_BYTES = 1_024
READY_PREFIX = "attester "


class AttesterServer(SigningServer):
    """An HTTP server answering for one attester."""

    def __init__(self, attester: Attester, host: str = "127.0.0.1", port: int = 0) -> None:
        self.attester = attester
        route = Route(
            ATTESTATIONS_PATH,
            lambda body: attester.attest(BurnClaim.from_json(body)).to_json(),
            malformed=(MalformedClaimError,),
            refused=(AttestationRefusedError,),
            malformed_code=MalformedClaimError.code,
            error_code="attester_error",
            max_body_bytes=MAX_BODY_BYTES,
        )
        super().__init__(attester.address, route, host, port)


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
