"""A reporter in its own process over HTTP: it observes on market time and the platform's database,
answers refusals as JSON, and dies with the process that started it."""

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.ports import free_port
from tests.support.processes import alive, gone_within

from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import SimulatedClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.closed_market import ClosedPolicy
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.keys import key_path, reporter_keys
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.reporter import ObservationRequest, Reporter
from equitoken.oracle.reporter_client import (
    ReporterClient,
    ReporterProcess,
    ReporterRefusedError,
    ReporterUnavailableError,
)
from equitoken.oracle.sources import MarketObservationSource
from equitoken.store.database import Database, sqlite_url

FEED = FeedId(31337, "0x" + "ef" * 20)
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
AT = int(IN_SESSION.timestamp())


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("platform")
    reporter_keys(data_dir, 1)
    # Market time as `equitoken up` records it: 2025-12-01 10:00 New York, running in real time.
    SimulatedClock(IN_SESSION, datetime.now(UTC), 1).save(data_dir / "clock.json")
    Database(sqlite_url(data_dir / "equitoken.sqlite")).migrate()
    return data_dir


@pytest.fixture(scope="module")
def reporter(platform_dir: Path) -> Iterator[ReporterProcess]:
    process = ReporterProcess(
        key_path(platform_dir, 1),
        database_url=sqlite_url(platform_dir / "equitoken.sqlite"),
        clock_file=platform_dir / "clock.json",
        log_file=platform_dir / "reporter.log",
    )
    with process:
        yield process


def test_the_process_signs_what_an_in_process_reporter_with_its_key_signs(
    reporter: ReporterProcess, platform_dir: Path, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    [key] = reporter_keys(platform_dir, 1)
    local = Reporter(key, MarketObservationSource(prices, calendar))
    request = ObservationRequest(FEED, "AAPL", 2, AT)

    with reporter.client() as client:
        remote = client.observe(request)
        address = client.address

    assert remote.is_authentic()
    assert address == reporter.address == key.address
    assert remote == local.observe(request)


def test_the_process_sees_halts_declared_in_the_database(
    reporter: ReporterProcess, platform_dir: Path
) -> None:
    database = Database(sqlite_url(platform_dir / "equitoken.sqlite"))
    HaltBook(database, ["MSFT"]).declare("MSFT", IN_SESSION - timedelta(minutes=5), None, "news pending")

    with reporter.client() as client:
        observation = client.observe(ObservationRequest(FEED, "MSFT", 1, AT)).observation

    assert observation.status is MarketStatus.HALTED


def test_refusals_come_back_with_their_code(reporter: ReporterProcess) -> None:
    tomorrow = AT + 86_400
    with reporter.client() as client:
        with pytest.raises(ReporterRefusedError, match="ahead of the reporter's clock") as refused:
            client.observe(ObservationRequest(FEED, "AAPL", 1, tomorrow, ClosedPolicy.INTERNAL))
        assert refused.value.code == "observation_refused"
        with pytest.raises(ReporterRefusedError, match="unknown ticker") as no_price:
            client.observe(ObservationRequest(FEED, "NOPE", 1, AT))
        assert no_price.value.code == "no_price"


def test_a_malformed_body_is_refused_with_400(reporter: ReporterProcess) -> None:
    assert reporter.url is not None
    response = httpx.post(f"{reporter.url}/v1/observations", content=b"{not json")
    wrong_field = httpx.post(f"{reporter.url}/v1/observations", json={"ticker": 1})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
    assert wrong_field.status_code == 400
    assert "must be" in wrong_field.json()["message"]


def test_a_dead_reporter_is_unavailable_within_the_timeout() -> None:
    started = time.monotonic()
    with (
        ReporterClient(f"http://127.0.0.1:{free_port()}", timeout=0.5) as client,
        pytest.raises(ReporterUnavailableError, match="did not answer"),
    ):
        client.observe(ObservationRequest(FEED, "AAPL", 1, AT))

    assert time.monotonic() - started < 5


def test_the_reporter_dies_with_the_process_that_started_it(platform_dir: Path, tmp_path: Path) -> None:
    parent_script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from equitoken.oracle.reporter_client import ReporterProcess\n"
        "process = ReporterProcess(Path(sys.argv[1])).start()\n"
        "print(process.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_script, str(key_path(platform_dir, 1))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    assert gone_within(child, 10)
