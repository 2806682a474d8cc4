"""The oracle network of `equitoken up`: its reporters as processes of their own, and the transmitter.

The local platform runs `REPORTER_COUNT` reporters, each signing with its key in
`<data_dir>/oracle/` (made on the first run, then reused: the feeds register these addresses), and
every feed takes a round from `QUORUM` of them. Each reporter reads the platform's database (halts,
our venues' trades) and the market clock `up` records in `clock.json`; its stderr goes to
`<data_dir>/logs/reporter-<i>.log`. The transmitter sends the rounds, paid for by the issuer's
`price_updater` account: since the signatures make a round, that account only pays the gas.
"""

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.deployment import IssuanceDeployment, OracleMembers
from equitoken.market.clock import CLOCK_FILE
from equitoken.model.address import checksum
from equitoken.oracle.keys import key_path, reporter_keys
from equitoken.oracle.observation import FeedId
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter_client import ReporterClient, ReporterProcess
from equitoken.oracle.transmitter import DEFAULT_TIMEOUT, TransmitOutcome, TransmitResult, Transmitter

REPORTER_COUNT = 4
QUORUM = 3  # a majority of REPORTER_COUNT: one reporter may be down or lie
LOG_DIRECTORY = "logs"


def oracle_members(data_dir: Path) -> OracleMembers:
    """Return the local platform's reporters (their keys made on first use) and the feeds' quorum."""
    keys = reporter_keys(data_dir, REPORTER_COUNT)
    return OracleMembers(tuple(checksum(key.address) for key in keys), QUORUM)


class OracleNetwork:
    """Start the local reporters and the transmitter; `tick` sends the due rounds; `stop` ends both.

    `reporter_args` are extra options for every reporter (e.g. `--prices alpaca --tickers ...`); the
    reporters inherit this process's environment, so Alpaca's keys reach them. `timeout` is how long a
    tick waits for each reporter's answer.
    """

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        chain: EvmChain,
        sender: str,
        deployment: IssuanceDeployment,
        *,
        reporter_args: Sequence[str] = (),
        policy: PushPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.data_dir = data_dir
        self.chain = chain
        self.sender = sender
        self.feeds = {d.ticker: FeedId(chain.chain_id, d.price_feed) for d in deployment.instruments}
        self.policy = policy if policy is not None else PushPolicy()
        self.timeout = timeout
        logs = data_dir / LOG_DIRECTORY
        self.processes = [
            ReporterProcess(
                key_path(data_dir, index),
                database_url=database_url,
                clock_file=data_dir / CLOCK_FILE,
                log_file=logs / f"reporter-{index}.log",
                extra_args=tuple(reporter_args),
            )
            for index in range(1, REPORTER_COUNT + 1)
        ]
        self.clients: list[ReporterClient] = []
        self.transmitter: Transmitter | None = None
        self._keepers: list[_Keeper] = []

    def start(self) -> Self:
        """Start every reporter at once and wait until each is healthy; on any failure stop them all
        and raise the first error (`ReporterUnavailableError` names the reporter and its log)."""
        reporter_keys(self.data_dir, REPORTER_COUNT)
        (self.data_dir / LOG_DIRECTORY).mkdir(parents=True, exist_ok=True)
        self._keepers = [_Keeper(process) for process in self.processes]
        errors = [error for keeper in self._keepers if (error := keeper.started()) is not None]
        if errors:
            self.stop()
            raise errors[0]
        try:
            self.clients = [process.client(self.timeout) for process in self.processes]
            self.transmitter = Transmitter(
                self.chain, self.sender, self.feeds, self.clients, self.policy, timeout=self.timeout
            )
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def urls(self) -> list[str]:
        """Return the running reporters' URLs."""
        return [process.url for process in self.processes if process.url is not None]

    @property
    def pids(self) -> list[int]:
        """Return the running reporters' process ids."""
        return [process.pid for process in self.processes if process.pid is not None]

    def tick(self) -> list[TransmitResult]:
        """Send every feed's due round; return what became of each feed."""
        if self.transmitter is None:
            raise RuntimeError("the oracle network is not running: start() it first")
        return self.transmitter.tick()

    def stop(self) -> None:
        """Stop the transmitter, then the reporters, last started first; safe after a partial start."""
        if self.transmitter is not None:
            self.transmitter.close()
            self.transmitter = None
        for client in reversed(self.clients):
            client.close()
        self.clients = []
        for keeper in reversed(self._keepers):
            keeper.stop()
        self._keepers = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class _Keeper:
    """Start one reporter in a thread of its own, which stays until the reporter is stopped.

    Linux sends a child's `PR_SET_PDEATHSIG` signal when the THREAD that started it ends, not the
    process: a reporter started from a short-lived thread would be killed as soon as that thread
    ended. So each reporter's thread starts it, waits until told to stop, then stops it; all four
    start together, and a SIGKILL of the platform still takes every reporter with it.
    """

    def __init__(self, process: ReporterProcess) -> None:
        self.process = process
        self._started = threading.Event()
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"reporter {process.key_file.name}", daemon=True
        )
        self._thread.start()

    def started(self) -> BaseException | None:
        """Wait until the reporter serves or failed to start; return the failure, if any."""
        self._started.wait()
        return self._error

    def stop(self) -> None:
        """Stop the reporter and wait for its thread."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            self.process.start()
        except BaseException as error:  # handed to the starting thread, which raises it
            self._error = error
            return
        finally:
            self._started.set()
        try:
            self._stopping.wait()
        finally:
            self.process.stop()


class RoundLog:
    """Say what a tick did in one line, and a feed's trouble once until it changes.

    A feed whose reporters have no price (outside the replayed history, say) stays below its quorum
    at every pass: its reason is logged when it first appears, not every second.
    """

    def __init__(self, market_time: Callable[[], str]) -> None:
        self.market_time = market_time
        self._trouble: dict[str, TransmitOutcome] = {}

    def summary(self, results: Sequence[TransmitResult]) -> str | None:
        """Return the line to log for one tick's `results`, or None when there is nothing new."""
        lines = []
        sent = [r for r in results if r.outcome is TransmitOutcome.SENT]
        if sent:
            reasons = sorted({str(r.reason) for r in sent})
            count = f"{len(sent)} round" + ("s" if len(sent) > 1 else "")
            lines.append(f"oracle: {count} sent ({', '.join(reasons)}) at {self.market_time()} market time")
        for result in results:
            if result.outcome in (TransmitOutcome.SENT, TransmitOutcome.NOT_DUE, TransmitOutcome.LOST_RACE):
                self._trouble.pop(result.ticker, None)
                continue
            if self._trouble.get(result.ticker) is not result.outcome:
                self._trouble[result.ticker] = result.outcome
                lines.append(_trouble(result))
        return "\n".join(lines) or None


def _trouble(result: TransmitResult) -> str:
    line = f"oracle: {result.ticker} round {result.round_id} {result.outcome}"
    if result.detail:
        line += f": {result.detail}"
    if result.skipped:
        line += f" (skipped {'; '.join(result.skipped)})"
    return line
