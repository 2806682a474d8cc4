"""Transfers between an investor's exchange account and its CFD account: the real exchange and CFD venue
journaled on disk, the members and transfers in a real database. A transfer moves the USDC once; a
process killed between its steps is finished by `resume()` after a restart (the venues reopened from
their journals), never doubled and never lost; a transfer the source cannot pay is refused before
anything is stored."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.venues.exchange.builders import rules

from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.model.errors import InsufficientFundsError
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import CfdTransferRow, InvestorRow
from equitoken.venues.cfd.instruments import CfdInstrument
from equitoken.venues.cfd.transfers import (
    CfdDirection,
    CfdTransferConflictError,
    CfdTransferError,
    CfdTransfers,
    CfdTransferState,
)
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue

DOLLAR = 10**6
INVESTOR = "inv-trader"
SEEDED = 1_000 * DOLLAR
NOW = datetime(2025, 6, 6, 15, 0, tzinfo=UTC)  # a Friday, in session


@dataclass
class World:
    directory: Path
    database: Database
    clock: ManualClock
    calendar: MarketCalendar
    exchange: ExchangeVenue
    cfd: CfdVenue
    members: ExchangeMembers
    transfers: CfdTransfers
    account: int

    def restart(self) -> None:
        """Stand in for a restart: close both venues and reopen them from their journals."""
        self.exchange.exchange.close()
        self.cfd.close()
        self.exchange, self.cfd = _venues(self.directory, self.clock, self.calendar)
        self.transfers = CfdTransfers(self.database, self.exchange, self.cfd, self.members, self.clock)

    def balances(self) -> tuple[int, int]:
        """Return the account's USDC on the exchange and in its CFD account."""
        known = self.account in self.cfd.engine.accounts_known()
        return (
            self.exchange.balance(self.account, USDC).available,
            self.cfd.margin(self.account).balance if known else 0,
        )

    def rows(self) -> int:
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(CfdTransferRow)) or 0)


def _venues(directory: Path, clock: ManualClock, calendar: MarketCalendar) -> tuple[ExchangeVenue, CfdVenue]:
    exchange = Exchange.open(
        directory / "exchange", [rules()], lambda _ticker: MarketStatus.OPEN, fsync=FsyncPolicy.PER_BATCH
    )
    cfd = CfdVenue.start(directory / "cfd.journal", [CfdInstrument("AAPL")], clock, calendar=calendar)
    return ExchangeVenue(exchange, clock=clock), cfd


@pytest.fixture
def world(tmp_path: Path, calendar: MarketCalendar) -> Iterator[World]:
    database = Database(sqlite_url(tmp_path / "cfd.sqlite"))
    database.migrate()
    clock = ManualClock(NOW)
    with database.transaction() as session:
        session.add(
            InvestorRow(
                id=INVESTOR,
                onchain_id=1,
                name="Ada Lovelace",
                jurisdiction="GB",
                category="retail",
                accredited=False,
                kyc_status="approved",
                kyc_expires_at=NOW + timedelta(days=365),
                created_at=NOW,
            )
        )
    members = ExchangeMembers(database, clock)
    account = members.account_of(INVESTOR)
    exchange, cfd = _venues(tmp_path, clock, calendar)
    exchange.credit_deposit(account, USDC, SEEDED, "seed")
    transfers = CfdTransfers(database, exchange, cfd, members, clock)
    yield World(tmp_path, database, clock, calendar, exchange, cfd, members, transfers, account)
    database.close()


def test_usdc_moves_to_the_cfd_account_and_back_once_per_id(world: World) -> None:
    there = world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 400 * DOLLAR, "t-1")
    again = world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 400 * DOLLAR, "t-1")

    assert there.state is CfdTransferState.CREDITED
    assert (there.account, there.amount) == (world.account, 400 * DOLLAR)
    assert again == there
    assert world.balances() == (600 * DOLLAR, 400 * DOLLAR)

    back = world.transfers.transfer(INVESTOR, CfdDirection.FROM_CFD, 150 * DOLLAR, "t-2")

    assert back.state is CfdTransferState.CREDITED
    assert world.balances() == (750 * DOLLAR, 250 * DOLLAR)
    assert [t.id for t in world.transfers.of_investor(INVESTOR)] == ["t-2", "t-1"]


@pytest.mark.parametrize("point", ["cfd_transfer_recorded", "cfd_transfer_debited"])
def test_a_crash_between_the_steps_is_finished_on_restart_never_doubled(world: World, point: str) -> None:
    with simulated_crash(point), pytest.raises(SimulatedCrash):
        world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 300 * DOLLAR, "t-1")
    stored = world.transfers.get("t-1")
    assert stored is not None
    assert stored.state is CfdTransferState.RECORDED
    debited = point == "cfd_transfer_debited"
    assert world.balances() == ((700 if debited else 1_000) * DOLLAR, 0)

    world.restart()
    [finished] = world.transfers.resume()

    assert finished.state is CfdTransferState.CREDITED
    assert world.balances() == (700 * DOLLAR, 300 * DOLLAR)
    # Asking again, resuming again, restarting again: nothing moves twice.
    assert world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 300 * DOLLAR, "t-1") == finished
    assert world.transfers.resume() == []
    world.restart()
    assert world.balances() == (700 * DOLLAR, 300 * DOLLAR)


def test_a_crash_on_the_way_back_is_finished_by_asking_again(world: World) -> None:
    world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 500 * DOLLAR, "t-1")
    with simulated_crash("cfd_transfer_debited"), pytest.raises(SimulatedCrash):
        world.transfers.transfer(INVESTOR, CfdDirection.FROM_CFD, 200 * DOLLAR, "t-2")
    assert world.balances() == (500 * DOLLAR, 300 * DOLLAR)  # out of the CFD account, not yet back

    world.restart()
    done = world.transfers.transfer(INVESTOR, CfdDirection.FROM_CFD, 200 * DOLLAR, "t-2")

    assert done.state is CfdTransferState.CREDITED
    assert world.balances() == (700 * DOLLAR, 300 * DOLLAR)


def test_a_recorded_transfer_whose_source_was_emptied_meanwhile_fails_having_moved_nothing(
    world: World,
) -> None:
    with simulated_crash("cfd_transfer_recorded"), pytest.raises(SimulatedCrash):
        world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 800 * DOLLAR, "t-1")
    world.exchange.request_withdrawal(world.account, USDC, 900 * DOLLAR, "elsewhere")

    [failed] = world.transfers.resume()

    assert failed.state is CfdTransferState.FAILED
    assert failed.reason is not None
    assert "never debited" in failed.reason
    assert world.balances() == (100 * DOLLAR, 0)


@pytest.mark.parametrize(
    ("direction", "amount", "transfer_id", "error", "message"),
    [
        (CfdDirection.TO_CFD, 1_001 * DOLLAR, "t-9", InsufficientFundsError, "less than"),
        (CfdDirection.FROM_CFD, 1 * DOLLAR, "t-9", CfdTransferError, "holds nothing yet"),
        (CfdDirection.TO_CFD, 0, "t-9", CfdTransferError, "positive"),
        (CfdDirection.TO_CFD, 1 * DOLLAR, "", CfdTransferError, "printable"),
        (CfdDirection.TO_CFD, 1 * DOLLAR, "x" * 65, CfdTransferError, "printable"),
    ],
)
def test_a_transfer_the_source_cannot_pay_is_refused_before_anything_is_stored(
    world: World,
    direction: CfdDirection,
    amount: int,
    transfer_id: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        world.transfers.transfer(INVESTOR, direction, amount, transfer_id)

    assert world.rows() == 0
    assert world.balances() == (SEEDED, 0)


def test_the_cfd_account_releases_only_its_free_margin_and_an_id_names_one_transfer(world: World) -> None:
    world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 100 * DOLLAR, "t-1")

    with pytest.raises(InsufficientFundsError, match="at most 100"):
        world.transfers.transfer(INVESTOR, CfdDirection.FROM_CFD, 101 * DOLLAR, "t-2")
    with pytest.raises(CfdTransferConflictError, match="already asked"):
        world.transfers.transfer(INVESTOR, CfdDirection.TO_CFD, 50 * DOLLAR, "t-1")

    assert world.rows() == 1
    assert world.balances() == (900 * DOLLAR, 100 * DOLLAR)
