"""Mint requests settled per second, end to end, on each chain and each database.

For every configuration the issuer is set up once (contracts deployed, one authorised participant
onboarded, funded with test USDC and its allowance given), then N small mint requests over a few
open-profile instruments are submitted, and ``Issuer.process()`` runs with the manual clock moved
one minute per round until none is open. The figure is N divided by the wall-clock seconds from the
first submit to the last settlement (intake, broker orders on replayed prices, on-chain payment,
minting and custody bookkeeping included; the setup is not). Every request must end ``completed``
and the issuer must reconcile, or the run fails. Run::

    python bench/issuance.py                      # a table, N=40, all four configurations
    python bench/issuance.py --requests 100       # more requests per configuration
    python bench/issuance.py --only inproc_sqlite --only anvil_sqlite
    python bench/issuance.py --json               # one JSON object of requests per second
"""

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.service import Issuer
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer, deploy_issuer_contracts
from equitoken.store.database import Database, sqlite_url
from equitoken.store.postgres import EmbeddedPostgres

CONFIGURATIONS = ("inproc_sqlite", "inproc_postgres", "anvil_sqlite", "anvil_postgres")
REFERENCE = "inproc_sqlite"
DEFAULT_REQUESTS = 40
TICKERS = ("AAPL", "MSFT", "NVDA")  # open profile, the first rows of the catalogue
QUANTITIES = ("1", "2", "0.5")
# Monday 2025-12-01, 10:00 New York: a regular session with replayed prices.
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
ROUND = timedelta(minutes=1)
MAX_ROUNDS = 200
ACCOUNTS = 14
USDC = 10**6
FUNDING = 10**9 * USDC
SLIPPAGE_BPS = 5


class BenchmarkError(RuntimeError):
    """A run that did not settle every request, or that does not reconcile."""


@dataclass(frozen=True)
class Result:
    configuration: str
    requests: int
    seconds: float
    rounds: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass
class Setup:
    issuer: Issuer
    clock: ManualClock
    investor_id: str
    wallet: str


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Resources:
    """The shared parts of a run: prices, calendar, and an anvil node or PostgreSQL server when asked."""

    def __init__(self, stack: ExitStack, directory: Path) -> None:
        self._stack = stack
        self.directory = directory
        self.calendar = MarketCalendar("XNYS")
        self.prices = ReplayPriceSource.default(self.calendar)
        self._postgres: EmbeddedPostgres | None = None

    def close_with_run(self, close: Callable[[], object]) -> None:
        """Call `close` when the run ends."""
        self._stack.callback(close)

    def chain(self, kind: str, name: str, clock: ManualClock) -> EvmChain:
        """Return a new empty chain of `kind` (``inproc`` or ``anvil``) on `clock`, closed with the run."""
        signers = SignerRegistry.anvil(ACCOUNTS)
        if kind == "inproc":
            from equitoken.chain.evm.inprocess import InProcessChain

            return InProcessChain(signers, clock=clock)
        # A node per configuration: each starts from genesis with no cached nonces.
        node = self._stack.enter_context(
            AnvilNode(accounts=ACCOUNTS, log_file=self.directory / f"{name}.log", clock=clock)
        )
        chain = self._stack.enter_context(node.chain())
        chain.signers = signers
        return chain

    def database(self, kind: str, name: str) -> Database:
        """Return a new migrated database of `kind` (``sqlite`` or ``postgres``), closed with the run."""
        if kind == "sqlite":
            url = sqlite_url(self.directory / f"{name}.sqlite")
        else:
            if self._postgres is None:
                _progress("starting PostgreSQL")
                self._postgres = EmbeddedPostgres(self.directory / "postgres")
                self._stack.callback(self._postgres.stop)
            url = self._postgres.create_database()
        database = Database(url)
        self._stack.callback(database.close)
        database.migrate()
        return database


def set_up(resources: Resources, configuration: str) -> Setup:
    """Deploy, onboard one authorised participant, fund and approve its USDC, and wire an issuer."""
    chain_kind, database_kind = configuration.split("_")
    clock = ManualClock(IN_SESSION)
    chain = resources.chain(chain_kind, configuration, clock)
    database = resources.database(database_kind, configuration)
    wallet = chain.accounts[10]
    contracts = deploy_issuer_contracts(chain, [i for i in load_catalogue() if i.ticker in TICKERS])
    roles, usdc = IssuerRoles.from_accounts(chain.accounts), contracts.usdc
    for holder in (wallet, roles.operator):
        usdc.mint(holder, FUNDING, sender=roles.admin)
    usdc.approve(roles.operator, FUNDING, sender=wallet)
    paper = PaperBrokerSettings(
        sqlite_url(resources.directory / f"{configuration}-broker.sqlite"), SLIPPAGE_BPS, fill_parts=1
    )
    assembled = assemble_issuer(
        chain,
        contracts.deployment,
        usdc.address,
        database,
        clock,
        broker=paper,
        prices=resources.prices,
        calendar=resources.calendar,
    )
    resources.close_with_run(assembled.close)
    issuer = assembled.issuer
    participant = issuer.investors.onboard(
        "Jane Street Financial Ltd",
        "GB",
        "authorised_participant",
        kyc_expires_at=IN_SESSION + timedelta(days=365),
    )
    issuer.investors.bind_wallet(participant.id, wallet)
    return Setup(issuer, clock, participant.id, wallet)


def run(setup: Setup, configuration: str, requests: int) -> Result:
    """Submit `requests` mints, process until none is open, check the outcome, and time it."""
    issuer = setup.issuer
    start = time.perf_counter()
    for n in range(requests):
        ticker = TICKERS[n % len(TICKERS)]
        quantity = QUANTITIES[n % len(QUANTITIES)]
        issuer.request_mint(setup.investor_id, setup.wallet, ticker, quantity, f"bench-{n}")
    rounds = 0
    while True:
        rounds += 1
        issuer.process()
        open_requests = issuer.requests(open_only=True)
        if not open_requests:
            break
        if rounds == MAX_ROUNDS:
            raise BenchmarkError(
                f"{configuration}: {len(open_requests)} requests still open after {MAX_ROUNDS} rounds, "
                f"e.g. {open_requests[0]}"
            )
        setup.clock.advance(ROUND)
    seconds = time.perf_counter() - start
    views = issuer.requests()
    unfinished = [v for v in views if v.state is not RequestState.COMPLETED]
    if len(views) != requests or unfinished:
        raise BenchmarkError(
            f"{configuration}: {len(views)} requests, {len(unfinished)} not completed, e.g. "
            f"{unfinished[0].id} {unfinished[0].state}: {unfinished[0].reason}"
            if unfinished
            else f"{configuration}: {len(views)} requests found, {requests} submitted"
        )
    reconciliation = issuer.reconcile()
    if not reconciliation.ok:
        raise BenchmarkError(f"{configuration}: does not reconcile: {reconciliation}")
    return Result(configuration, requests, seconds, rounds)


@contextmanager
def _resources() -> Iterator[Resources]:
    with tempfile.TemporaryDirectory(prefix="equitoken-bench-") as directory, ExitStack() as stack:
        yield Resources(stack, Path(directory))


def measure(requests: int = DEFAULT_REQUESTS, configurations: Sequence[str] = CONFIGURATIONS) -> list[Result]:
    """Set up and run each configuration in turn, each on a fresh chain and database."""
    results = []
    with _resources() as resources:
        for configuration in configurations:
            _progress(f"{configuration}: setting up")
            setup = set_up(resources, configuration)
            _progress(f"{configuration}: {requests} mint requests")
            result = run(setup, configuration, requests)
            _progress(
                f"{configuration}: {result.seconds:.2f} s, {result.rounds} rounds, {result.per_second:.1f}/s"
            )
            results.append(result)
    return results


def render(results: Sequence[Result]) -> str:
    """Return a readable table, with each configuration's ratio to the in-process SQLite run."""
    reference = next((r for r in results if r.configuration == REFERENCE), None)
    lines = [f"{'configuration':<18}{'requests':>10}{'rounds':>8}{'seconds':>10}{'requests/s':>12}   ratio"]
    for r in results:
        ratio = f"{r.per_second / reference.per_second:.2f}x" if reference else "-"
        figures = f"{r.requests:>10}{r.rounds:>8}{r.seconds:>10.2f}{r.per_second:>12.1f}"
        lines.append(f"{r.configuration:<18}{figures}   {ratio}")
    if reference:
        lines.append("")
        lines.append(f"ratio: settled requests per second against {REFERENCE}, the in-process reference")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of requests per second")
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, metavar="N", help="mint requests per configuration"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=CONFIGURATIONS,
        help="run this configuration only (repeat for several; default: all four)",
    )
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error(f"--requests must be at least 1, not {args.requests}")
    configurations = [c for c in CONFIGURATIONS if args.only is None or c in args.only]
    results = measure(args.requests, configurations)
    if args.json:
        print(json.dumps({r.configuration: r.per_second for r in results}))
    else:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
