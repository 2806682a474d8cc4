"""Eligibility: the engine asks before each new order or amendment; the registry answers from the database."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.venues.exchange.builders import INSTRUMENT, SHARE, limit, rules
from tests.venues.exchange.test_members import add_investor

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database
from equitoken.store.schema import InvestorRow, WalletRow
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.eligibility import RegistryEligibility
from equitoken.venues.exchange.engine import Exchange, NotEligibleError
from equitoken.venues.exchange.events import Accepted
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.orders import Amend, Side

NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
HOUSE = 900


def _open(_ticker: str) -> MarketStatus:
    return MarketStatus.OPEN


def _set(database: Database, investor_id: str, **values: object) -> None:
    with database.transaction() as session:
        session.execute(update(InvestorRow).where(InvestorRow.id == investor_id).values(**values))


@pytest.fixture
def members(database: Database) -> ExchangeMembers:
    add_investor(database, "inv-a", 1)
    with database.transaction() as session:
        session.add(
            WalletRow(address="0x" + "11" * 20, investor_id="inv-a", registered_on_chain=True, created_at=NOW)
        )
    add_investor(database, "inv-b", 2)
    return ExchangeMembers(database)


def _exchange(
    tmp_path: Path, database: Database, members: ExchangeMembers, **options: object
) -> tuple[Exchange, RegistryEligibility]:
    eligibility = RegistryEligibility(
        database,
        members,
        ManualClock(NOW),
        house_accounts=[HOUSE],
        **options,  # type: ignore[arg-type]
    )
    exchange = Exchange.open(
        tmp_path / "exchange", [rules()], _open, fsync=FsyncPolicy.PER_BATCH, eligibility=eligibility
    )
    for account in (members.account_of("inv-a"), members.account_of("inv-b"), HOUSE):
        exchange.accounts.credit_deposit(account, USDC, 10_000 * 10**6, f"usdc-{account}")
        exchange.accounts.credit_deposit(account, INSTRUMENT.symbol, 10 * SHARE, f"aapl-{account}")
    return exchange, eligibility


def test_an_eligible_member_and_a_house_account_trade(
    tmp_path: Path, database: Database, members: ExchangeMembers
) -> None:
    exchange, _ = _exchange(tmp_path, database, members)
    a = members.account_of("inv-a")

    exchange.submit("AAPL", limit(a, Side.BUY, 100, SHARE))
    outcome = exchange.submit("AAPL", limit(HOUSE, Side.SELL, 100, SHARE))

    assert len(outcome.trades) == 1


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"frozen": True}, "frozen"),
        ({"kyc_status": "pending"}, "KYC is pending"),
        ({"kyc_expires_at": NOW - timedelta(seconds=1)}, "KYC expired"),
    ],
)
def test_a_frozen_or_unverified_member_is_refused_and_nothing_changes(
    tmp_path: Path, database: Database, members: ExchangeMembers, values: dict[str, object], reason: str
) -> None:
    exchange, _ = _exchange(tmp_path, database, members)
    a = members.account_of("inv-a")
    before = exchange.snapshot()
    _set(database, "inv-a", **values)

    with pytest.raises(NotEligibleError, match=reason):
        exchange.submit("AAPL", limit(a, Side.SELL, 100, SHARE))

    assert exchange.snapshot() == before
    assert exchange.book("AAPL").open_orders() == []


def test_an_amendment_is_refused_once_the_member_is_frozen(
    tmp_path: Path, database: Database, members: ExchangeMembers
) -> None:
    exchange, _ = _exchange(tmp_path, database, members)
    a = members.account_of("inv-a")
    [accepted] = exchange.submit("AAPL", limit(a, Side.BUY, 100, SHARE)).events
    assert isinstance(accepted, Accepted)
    before = exchange.snapshot()
    _set(database, "inv-a", frozen=True)

    with pytest.raises(NotEligibleError, match="frozen"):
        exchange.amend("AAPL", Amend(a, accepted.order_id, 101, SHARE))

    assert exchange.snapshot() == before


def test_a_permissioned_buy_needs_a_registered_wallet_and_an_allowed_jurisdiction(
    tmp_path: Path, database: Database, members: ExchangeMembers
) -> None:
    exchange, _ = _exchange(
        tmp_path, database, members, permissioned=["AAPL"], jurisdictions={"AAPL": ["US"]}
    )
    a, b = members.account_of("inv-a"), members.account_of("inv-b")

    with pytest.raises(NotEligibleError, match="no registered wallet"):
        exchange.submit("AAPL", limit(b, Side.BUY, 100, SHARE))
    exchange.submit("AAPL", limit(b, Side.SELL, 120, SHARE))  # selling out stays open to everyone
    exchange.submit("AAPL", limit(a, Side.BUY, 100, SHARE))  # investors are onboarded in US
    _set(database, "inv-a", jurisdiction="GB")
    with pytest.raises(NotEligibleError, match="not open to investors in GB"):
        exchange.submit("AAPL", limit(a, Side.BUY, 101, SHARE))


def test_an_account_no_member_holds_is_refused(
    tmp_path: Path, database: Database, members: ExchangeMembers
) -> None:
    exchange, _ = _exchange(tmp_path, database, members)
    exchange.accounts.credit_deposit(77, USDC, 10**9, "usdc-77")

    with pytest.raises(NotEligibleError, match="no exchange member trades under account 77"):
        exchange.submit("AAPL", limit(77, Side.BUY, 100, SHARE))


def test_journals_replay_without_asking_eligibility(
    tmp_path: Path, database: Database, members: ExchangeMembers
) -> None:
    exchange, _ = _exchange(tmp_path, database, members)
    a = members.account_of("inv-a")
    exchange.submit("AAPL", limit(a, Side.BUY, 100, SHARE))
    before = exchange.snapshot()
    exchange.close()
    _set(database, "inv-a", frozen=True)

    reopened, _ = _exchange(tmp_path, database, members)

    assert reopened.snapshot() == before
