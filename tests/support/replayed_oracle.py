"""One ticker's real issuance and oracle network over replayed prices, on an in-process chain.

For the harnesses that replay a stretch of history through a venue and its keepers
(`tests/keepers/perps_week.py`, `tests/keepers/lending_gap.py`). `issue` deploys a real issuance of
one ticker on a fresh `InProcessChain` whose genesis is ten minutes before the replay starts, its
quorum `PriceFeed` signed by four reporters (quorum 3); the harness then sets up what it needs before
the first round (feed policies, investors, venues). `start_oracle` runs the reporters in process
over `ReplayPriceSource` + `MarketObservationSource` + `HaltBook` + `ClosedPricing` (the venues'
trade tape) from a migrated SQLite database, behind the oracle's `Transmitter`, and pushes the first
round; `ReplayedOracle.tick` moves the replay's `ManualClock` and the chain to a replayed time and
pushes the next.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from tests.support.reporters import IN_PROCESS_TIMEOUT

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import (
    DeployedInstrument,
    IssuanceDeployment,
    IssuerRoles,
    OracleMembers,
    deploy_issuance,
)
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.closed_market import ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter import ObservationClient, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTradeBook
from equitoken.oracle.transmitter import Transmitter
from equitoken.store.database import Database, sqlite_url

REPORTERS = 4
QUORUM = 3


def unix(at: datetime) -> int:
    """Return `at` as a Unix timestamp."""
    return int(at.timestamp())


@dataclass(frozen=True)
class ReplayedIssuance:
    """A fresh chain with one ticker issued; its reporters are not running yet."""

    chain: InProcessChain
    roles: IssuerRoles
    deployment: IssuanceDeployment
    ticker: str
    instrument: DeployedInstrument
    token: Contract
    feed: Contract
    reporter_keys: tuple[LocalAccount, ...]


@dataclass(frozen=True)
class ReplayedOracle:
    """The feed's transmitter and in-process reporters over replayed prices, and the replay's clock."""

    chain: InProcessChain
    tape: VenueTradeBook
    transmitter: Transmitter
    clock: ManualClock

    def tick(self, at: datetime) -> None:
        """Move the clock and the chain to `at` (the chain at least a second on); push the feed's round."""
        self.clock.set(at)
        self.chain.set_next_block_timestamp(max(unix(at), self.chain.timestamp() + 1))
        self.transmitter.tick()


def issue(ticker: str, accounts: int, start: datetime) -> ReplayedIssuance:
    """Issue `ticker` on a fresh chain of `accounts` dev accounts, its genesis ten minutes before `start`."""
    chain = InProcessChain(SignerRegistry.anvil(accounts), genesis_timestamp=unix(start) - 600)
    roles = IssuerRoles.from_accounts(chain.accounts)
    keys = tuple(Account.from_key(bytes([i + 1]) * 32) for i in range(REPORTERS))
    catalogue = {i.ticker: i for i in load_catalogue()}
    deployment = deploy_issuance(
        chain, roles, [catalogue[ticker]], oracle=OracleMembers(tuple(k.address for k in keys), QUORUM)
    )
    instrument = deployment.instrument(ticker)
    token = chain.at(instrument.token, compile_contract("token/StockToken.vy"))
    feed = chain.at(instrument.price_feed, compile_contract("oracle/PriceFeed.vy"))
    return ReplayedIssuance(chain, roles, deployment, ticker, instrument, token, feed, keys)


def start_oracle(issuance: ReplayedIssuance, database: Path, at: datetime) -> ReplayedOracle:
    """Run the reporters over replayed prices with a migrated database at `database`; push a round at `at`."""
    calendar = MarketCalendar("XNYS")
    store = Database(sqlite_url(database))
    store.migrate()
    tape = VenueTradeBook(store)
    source = MarketObservationSource(
        ReplayPriceSource(calendar), calendar, HaltBook(store, [issuance.ticker]), ClosedPricing(tape)
    )
    reporters: list[ObservationClient] = [Reporter(key, source) for key in issuance.reporter_keys]
    chain = issuance.chain
    transmitter = Transmitter(
        chain,
        issuance.roles.price_updater,
        {issuance.ticker: FeedId(chain.chain_id, issuance.instrument.price_feed)},
        reporters,
        PushPolicy(),
        timeout=IN_PROCESS_TIMEOUT,
    )
    oracle = ReplayedOracle(chain, tape, transmitter, ManualClock(at))
    oracle.tick(at)
    return oracle
