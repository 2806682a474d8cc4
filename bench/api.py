"""API throughput and p99 latency on loopback, with the load coming from a second process.

The API (uvicorn, one process) serves a real issuer: the in-process chain and SQLite, the paper broker
on replayed prices, one authorised participant funded with test USDC and its allowance given. A second
process (spawned) drives it with several threads, each with its own HTTP connection, and times every
call: first `GET /instruments/{ticker}/quote`, then `POST /requests` (mints of 0.05 share, each with a
new idempotency key; every one must be answered 201). The rate limit is lifted for the run. Run::

    python bench/api.py                   # a table
    python bench/api.py --quick           # a short run
    python bench/api.py --json            # {"quotes": {"rps", "p99_ms"}, "mint_requests": {...}}
"""

import argparse
import json
import math
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import httpx
import uvicorn

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.issuance import Resources, set_up

from equitoken.api import ApiContext, Role, create_app
from equitoken.api.ratelimit import RateLimit
from equitoken.brokers.paper import PaperBroker
from equitoken.store.database import sqlite_url

CONFIGURATION = "inproc_sqlite"
QUOTE_PATH = "/api/v1/instruments/AAPL/quote"
REQUESTS_PATH = "/api/v1/requests"
MINT_QUANTITY = "0.05"


class BenchmarkError(RuntimeError):
    """A call the API did not answer as it should have."""


@dataclass(frozen=True)
class Measurement:
    operation: str
    calls: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.calls / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def drive(
    base_url: str, headers: dict[str, str], wallet: str, operation: str, calls: int, threads: int
) -> tuple[float, list[float]]:
    """Make `calls` calls of `operation` over `threads` connections; return the seconds and latencies."""
    shares = [calls // threads + (1 if t < calls % threads else 0) for t in range(threads)]

    def worker(thread: int) -> list[float]:
        latencies = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            client.get(QUOTE_PATH)  # open the connection before timing
            for n in range(shares[thread]):
                start = time.perf_counter()
                if operation == "quotes":
                    response = client.get(QUOTE_PATH)
                    expected = 200
                else:
                    response = client.post(
                        REQUESTS_PATH,
                        json={"kind": "mint", "ticker": "AAPL", "quantity": MINT_QUANTITY, "wallet": wallet},
                        headers={"Idempotency-Key": f"bench-{thread}-{n}"},
                    )
                    expected = 201
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != expected:
                    raise BenchmarkError(f"{operation}: answered {response.status_code}: {response.text}")
        return latencies

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    return time.perf_counter() - start, [latency for result in results for latency in result]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(directory: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """Serve the API over a fresh issuer on a free loopback port; yield its URL, a participant's headers
    and wallet."""
    with ExitStack() as stack:
        resources = Resources(stack, directory)
        setup = set_up(resources, CONFIGURATION)
        issuer = setup.issuer
        context = ApiContext(
            issuer=issuer,
            calendar=resources.calendar,
            prices=resources.prices,
            # The paper broker keeps its state in its database: this one sees the issuer's orders.
            broker=PaperBroker(
                resources.prices,
                resources.calendar,
                setup.clock,
                sqlite_url(directory / f"{CONFIGURATION}-broker.sqlite"),
            ),
            clock=setup.clock,
            database=issuer.db,
            rate_limit=RateLimit(per_second=1e9, burst=10**9),
        )
        key = context.keys.issue(Role.PARTICIPANT, setup.investor_id, "bench")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", {"X-API-Key": key}, setup.wallet
        finally:
            server.should_exit = True
            thread.join()


def measure(calls: dict[str, int], threads: int) -> list[Measurement]:
    """Serve the API and drive each operation from a second process."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp)) as (url, headers, wallet),
        ProcessPoolExecutor(1, mp_context=get_context("spawn")) as load,
    ):
        results = []
        for operation, count in calls.items():
            seconds, latencies = load.submit(drive, url, headers, wallet, operation, count, threads).result()
            results.append(Measurement(operation, count, seconds, latencies))
        return results


def render(results: list[Measurement], threads: int) -> str:
    lines = [
        f"API on loopback: uvicorn over an issuer on the in-process chain and SQLite; "
        f"load from a second process, {threads} connections",
        f"{'operation':<14} {'calls':>7} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for r in results:
        p50, p99 = r.percentile_ms(0.5), r.percentile_ms(0.99)
        lines.append(f"{r.operation:<14} {r.calls:>7} {r.rps:>9.1f} {p50:>8.2f} {p99:>8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of rps and p99 per operation"
    )
    parser.add_argument("--quick", action="store_true", help="a short run (a few dozen calls each)")
    parser.add_argument("--quotes", type=int, default=2000, help="quote calls (default 2000)")
    parser.add_argument("--mints", type=int, default=400, help="mint requests (default 400)")
    parser.add_argument("--threads", type=int, default=8, help="connections of the load process (default 8)")
    args = parser.parse_args(argv)
    calls = (
        {"quotes": 40, "mint_requests": 20}
        if args.quick
        else {"quotes": args.quotes, "mint_requests": args.mints}
    )
    for name, count in calls.items():
        if count < 1:
            parser.error(f"{name}: the number of calls must be at least 1, not {count}")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, not {args.threads}")
    results = measure(calls, args.threads)
    if args.json:
        print(json.dumps({r.operation: {"rps": r.rps, "p99_ms": r.percentile_ms(0.99)} for r in results}))
    else:
        print(render(results, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
