"""An exchange with an AAPL book and its AAPL.L ledger book, the ledger desk on the paper broker over
replayed prices, and three members (two verified, one whose KYC is pending), for the ledger tests and
their crash worker."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.venues.exchange.builders import INSTRUMENT

from equitoken.brokers.paper import PaperBroker
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.prices import PriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import InvestorRow
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.eligibility import RegistryEligibility
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.ledger import LedgerDesk, ledger_rules
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.rules import BookRules
from equitoken.venues.exchange.venue import ExchangeVenue

# Monday 2025-12-01, 10:00 New York: a regular session with replayed prices.
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
USDC_UNIT = 10**6
DEPOSIT = 1_000 * USDC_UNIT
INVESTORS = ("inv-a", "inv-b", "inv-pending")


def open_members(database: Database, *, create: bool) -> ExchangeMembers:
    """Return the members (adding the investors when `create`): accounts 1, 2 and 3 in INVESTORS order."""
    if create:
        with database.transaction() as session:
            for number, investor_id in enumerate(INVESTORS, start=1):
                session.add(
                    InvestorRow(
                        id=investor_id,
                        onchain_id=1_000 + number,
                        name=investor_id,
                        jurisdiction="US",
                        category="retail",
                        accredited=False,
                        kyc_status="pending" if investor_id == "inv-pending" else "approved",
                        kyc_expires_at=IN_SESSION + timedelta(days=365),
                        frozen=False,
                        created_at=IN_SESSION,
                    )
                )
    members = ExchangeMembers(database)
    for investor_id in INVESTORS:
        members.account_of(investor_id)
    return members


def _open_market(_ticker: str) -> MarketStatus:
    return MarketStatus.OPEN


@dataclass
class LedgerWorld:
    """Everything a ledger test touches."""

    database: Database
    clock: ManualClock
    broker: PaperBroker
    exchange: Exchange
    venue: ExchangeVenue
    members: ExchangeMembers
    desk: LedgerDesk

    def account(self, investor_id: str) -> int:
        return self.members.account_of(investor_id)

    def run(self, *, max_rounds: int = 60) -> None:
        """Process and move the clock a minute at a time until no ledger order is open."""
        for _ in range(max_rounds):
            self.desk.process()
            if not self.desk.orders(open_only=True):
                return
            self.clock.advance(timedelta(minutes=1))
        raise AssertionError(f"ledger orders still open: {self.desk.orders(open_only=True)}")

    def close(self) -> None:
        self.exchange.close()


def book_rules() -> list[BookRules]:
    return [BookRules(INSTRUMENT, 0, 10), ledger_rules("AAPL")]


def open_world(
    database: Database,
    prices: PriceSource,
    calendar: MarketCalendar,
    directory: Path,
    clock: ManualClock,
    *,
    create: bool,
    broker: PaperBroker | None = None,
    status: Callable[[str], MarketStatus] = _open_market,
) -> LedgerWorld:
    """Open (or with `create`, set up and fund) the exchange in `directory` and the desk on `database`."""
    members = open_members(database, create=create)
    if broker is None:
        url = sqlite_url(directory / "paper-broker.sqlite")
        broker = PaperBroker(prices, calendar, clock, url, slippage_bps=5, fill_parts=2)
    exchange = Exchange.open(directory / "exchange", book_rules(), status, fsync=FsyncPolicy.PER_BATCH)
    venue = ExchangeVenue(exchange)
    if create:
        for investor_id in INVESTORS:
            account = members.account_of(investor_id)
            venue.credit_deposit(account, USDC, DEPOSIT, f"usdc-{account}")
    eligibility = RegistryEligibility(database, members, clock)
    desk = LedgerDesk(database, venue, broker, prices, clock, eligibility=eligibility)
    return LedgerWorld(database, clock, broker, exchange, venue, members, desk)
