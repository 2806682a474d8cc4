"""A reporter as its own process, serving the reporter protocol (`wire`) over HTTP on loopback.

    python -m equitoken.oracle.reporter_server --key-file .data/oracle/reporter-1.key \\
        --database-url sqlite:///.data/equitoken.sqlite --clock-file .data/clock.json

- `GET /v1/health` answers `{"status": "ok", "address": "0x…"}`;
- `POST /v1/observations` takes a request and answers the signed observation (200), or
  `{"code": …, "message": …}` with 400 (malformed), 422 (refused, or no price at that time), 413
  (too large) or 404 (another path).

The process prints `reporter <address> listening on <url>` once it serves; started by
`ReporterProcess`, it dies with the thread that started it (`equitoken.processes.tethered`).
With `--clock-file` (the `clock.json` that `equitoken up` records) it reads market time as every
CLI command does, re-reading the file so that a change of speed is followed; without it, the wall
clock. With `--database-url` it sees the trading halts and our venues' trades; without it, neither.
"""

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import SimulatedClock, SystemClock
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.time import Clock
from equitoken.oracle.closed_market import DEFAULT_HALF_LIFE, ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.keys import load_key
from equitoken.oracle.reporter import DEFAULT_FUTURE_TOLERANCE, ObservationRefusedError, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTradeBook
from equitoken.oracle.wire import WireError, observation_to_json, request_from_json
from equitoken.processes.signing_server import Route, SigningServer
from equitoken.store.database import Database

OBSERVATIONS_PATH = "/v1/observations"
MAX_BODY_BYTES = 4_096
READY_PREFIX = "reporter "


class RecordedClock:
    """Market time as recorded by `equitoken up` in `clock.json`, read again at every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        """Return the simulated market time; raise FileNotFoundError if no clock is recorded."""
        clock = SimulatedClock.load(self.path)
        if clock is None:
            raise FileNotFoundError(f"no market clock recorded at {self.path}; start `equitoken up` first")
        return clock.now()


class ReporterServer(SigningServer):
    """An HTTP server answering the reporter protocol for one reporter."""

    def __init__(self, reporter: Reporter, host: str = "127.0.0.1", port: int = 0) -> None:
        self.reporter = reporter
        route = Route(
            OBSERVATIONS_PATH,
            lambda body: observation_to_json(reporter.observe(request_from_json(body))),
            malformed=(WireError,),
            refused=(ObservationRefusedError, NoPriceError),
            malformed_code=WireError.code,
            error_code="reporter_error",
            max_body_bytes=MAX_BODY_BYTES,
        )
        super().__init__(reporter.address, route, host, port)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m equitoken.oracle.reporter_server", description=__doc__)
    parser.add_argument("--key-file", type=Path, required=True, help="file holding the 0x-hex private key")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: one the OS picks)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--database-url", help="the platform's database: trading halts and venue trades")
    parser.add_argument(
        "--clock-file", type=Path, help="the market clock `equitoken up` records (clock.json)"
    )
    parser.add_argument("--prices", choices=["replay", "alpaca"], default="replay", help="price source")
    parser.add_argument("--tickers", default="", help="comma-separated tickers (--prices alpaca)")
    parser.add_argument("--exchange", default="XNYS", help="the market calendar's MIC (default XNYS)")
    parser.add_argument(
        "--half-life",
        type=int,
        default=int(DEFAULT_HALF_LIFE.total_seconds()),
        help="half-life of the internal closed-market price, in seconds",
    )
    parser.add_argument(
        "--future-tolerance",
        type=int,
        default=int(DEFAULT_FUTURE_TOLERANCE.total_seconds()),
        help="seconds a requested time may be ahead of the reporter's clock",
    )
    return parser.parse_args(argv)


def build_reporter(arguments: argparse.Namespace) -> Reporter:
    """Return the reporter the command line describes."""
    clock: Clock = RecordedClock(arguments.clock_file) if arguments.clock_file else SystemClock()
    calendar = MarketCalendar(arguments.exchange)
    prices: PriceSource
    if arguments.prices == "alpaca":
        from equitoken.market.alpaca import AlpacaPriceSource  # only this choice pays for alpaca-py

        tickers = [t.strip() for t in arguments.tickers.split(",") if t.strip()]
        if not tickers:
            raise ValueError("--prices alpaca needs --tickers, e.g. --tickers AAPL,MSFT")
        prices = AlpacaPriceSource.from_environment(calendar, tickers, clock=clock)
    else:
        prices = ReplayPriceSource(calendar)
    halts: HaltBook | None = None
    tape: VenueTradeBook | None = None
    if arguments.database_url:
        database = Database(arguments.database_url)
        halts = HaltBook(database, prices.tickers())
        tape = VenueTradeBook(database)
    closed = ClosedPricing(tape, timedelta(seconds=arguments.half_life))
    source = MarketObservationSource(prices, calendar, halts, closed)
    tolerance = timedelta(seconds=arguments.future_tolerance)
    return Reporter(load_key(arguments.key_file), source, clock, tolerance)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one reporter until the process is stopped."""
    arguments = _arguments(argv)
    try:
        reporter = build_reporter(arguments)
        server = ReporterServer(reporter, arguments.host, arguments.port)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{READY_PREFIX}{reporter.address} listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
