"""A real platform behind the real API and dashboard: anvil and a local Solana, SQLite, the paper
broker on replayed prices, the indexer and the liabilities built from it, uvicorn on a free loopback
port, and a settler thread that moves market time, runs the workflow and indexes, so a request
settles within seconds; the order processor beside the tokens, its orders filled by the same thread."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn
from tests.support.order_processor import processor_world
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.api.app import create_app
from equitoken.api.context import ApiContext
from equitoken.api.keys import ApiKeys
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.dashboard import mount_dashboard
from equitoken.indexer import IndexedChain, Indexer
from equitoken.indexer.solana import IndexedSolana
from equitoken.issuer.investors import Investor
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.issuer.orders.operator import ProcessorOperator
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.platform.private import open_private_companies
from equitoken.proofs.liabilities import Liabilities
from equitoken.store.database import Database, sqlite_url

# Market time per settler tick: a mint (pay, order, two partial fills, mint) takes a few ticks.
MARKET_STEP = timedelta(seconds=10)
TICK_SECONDS = 0.2


class Settler:
    """Advance the market clock, run one workflow pass and index, every tick, in a background thread."""

    def __init__(
        self, platform: Platform, indexer: Indexer, lock: threading.Lock, operator: ProcessorOperator
    ) -> None:
        self.platform = platform
        self.operator = operator
        self.indexer = indexer
        self.lock = lock
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="settler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; raise whatever stopped it early, so a broken workflow fails the tests."""
        self._stop.set()
        self._thread.join(timeout=30)
        if self.error is not None:
            raise RuntimeError("the settler thread failed") from self.error

    def _run(self) -> None:
        try:
            while not self._stop.wait(TICK_SECONDS):
                with self.lock:
                    self.platform.issuer.process()
                    self.operator.process()
                    self.platform.clock.advance(MARKET_STEP)
                    self.indexer.poll()
        except BaseException as error:
            self.error = error


@dataclass
class Keys:
    operator: str
    participant: str
    other_participant: str
    investor: str


@dataclass
class Dashboard:
    """The served platform: its URL, the keys of each role, and the platform underneath."""

    url: str
    keys: Keys
    platform: Platform
    other_participant: Investor
    investor: Investor
    lock: threading.Lock


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app_factory: Callable[[], object]) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; yield its base URL."""
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(app_factory(), log_level="warning", lifespan="off"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def running_dashboard(tmp: Path, prices: ReplayPriceSource, calendar: MarketCalendar) -> Iterator[Dashboard]:
    """Start anvil, deploy and wire an issuer, serve the API with the dashboard, and keep settling."""
    with (
        AnvilNode(accounts=ACCOUNTS, log_file=tmp / "anvil.log", timestamp=GENESIS) as node,
        node.chain() as chain,
    ):
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        database = Database(sqlite_url(tmp / "issuer.sqlite"))
        database.migrate()
        platform = build_platform(chain, database, prices, calendar, tmp, solana=True)
        issuer = platform.issuer
        kyc = platform.clock.now() + timedelta(days=365)
        other = issuer.investors.onboard(
            "Flow Traders B.V.", "NL", "authorised_participant", kyc_expires_at=kyc
        )
        issuer.investors.bind_wallet(other.id, platform.other_wallet)
        investor = issuer.investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=kyc)
        # Both participants pay for mints in USDC: approve the treasury once for all the tests.
        allowance = 1_000_000 * 10**6
        platform.approve_mint(allowance)
        platform.usdc.approve(platform.onchain.roles.operator, allowance, sender=platform.other_wallet)
        keys = ApiKeys(database, platform.clock)
        issued = Keys(
            operator=keys.issue("operator", None, "operator"),
            participant=keys.issue("participant", platform.participant.id, "jane street"),
            other_participant=keys.issue("participant", other.id, "flow traders"),
            investor=keys.issue("investor", investor.id, "ada"),
        )
        lock = threading.Lock()
        assert platform.solana is not None
        assert isinstance(platform.solana.chain, LiteSvmChain)
        on_solana = IndexedSolana(platform.solana.chain, platform.solana.deployment)
        indexer = Indexer(
            database, [IndexedChain(chain, platform.onchain.deployment, confirmations=0)], solana=[on_solana]
        )
        indexer.poll()
        orders = processor_world(platform, prices)
        context = ApiContext(
            issuer=issuer,
            calendar=calendar,
            prices=prices,
            broker=platform.broker,
            clock=platform.clock,
            database=database,
            indexer=indexer,
            liabilities=Liabilities(indexer, issuer, b"the dashboard tests' proof secret"),
            processor=ProcessorDesk(orders.quoter, orders.operator),
            private=open_private_companies(issuer, tmp, lambda _: None),
        )

        def app() -> object:
            created = create_app(context)
            mount_dashboard(created)
            return created

        settler = Settler(platform, indexer, lock, orders.operator)
        with serve(app) as url:
            settler.start()
            try:
                yield Dashboard(url, issued, platform, issuer.investors.get(other.id), investor, lock)
            finally:
                settler.stop()
        database.close()
