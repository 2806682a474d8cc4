"""Members: each investor's exchange account number, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from equitoken.issuer.errors import UnknownInvestorError
from equitoken.store.database import Database
from equitoken.store.schema import ExchangeAccountRow, InvestorRow
from equitoken.venues.exchange.members import ExchangeMembers, UnknownAccountError

ONBOARDED = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def add_investor(database: Database, investor_id: str, onchain_id: int) -> None:
    with database.transaction() as session:
        session.add(
            InvestorRow(
                id=investor_id,
                onchain_id=onchain_id,
                name=investor_id,
                jurisdiction="US",
                category="retail",
                accredited=False,
                kyc_status="approved",
                kyc_expires_at=datetime(2030, 1, 1, tzinfo=UTC),
                frozen=False,
                created_at=ONBOARDED,
            )
        )


def test_accounts_are_numbered_from_one_in_order_of_first_use(database: Database) -> None:
    for number, investor in enumerate(["inv-a", "inv-b", "inv-c"], start=1):
        add_investor(database, investor, number)
    members = ExchangeMembers(database)

    assert members.account_of("inv-b") == 1
    assert members.account_of("inv-a") == 2
    assert members.account_of("inv-b") == 1
    assert members.investor_of(2) == "inv-a"
    assert members.accounts() == {1: "inv-b", 2: "inv-a"}


def test_a_new_members_object_on_the_same_database_finds_the_same_accounts(database: Database) -> None:
    add_investor(database, "inv-a", 1)
    first = ExchangeMembers(database).account_of("inv-a")

    assert ExchangeMembers(database).account_of("inv-a") == first
    assert ExchangeMembers(database).investor_of(first) == "inv-a"


def test_an_unknown_investor_is_refused_and_opens_nothing(database: Database) -> None:
    members = ExchangeMembers(database)

    with pytest.raises(UnknownInvestorError, match="inv-ghost"):
        members.account_of("inv-ghost")

    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ExchangeAccountRow)) == 0


@pytest.mark.parametrize("account", [0, 7, -1, True, "1"])
def test_an_unknown_account_is_refused(database: Database, account: object) -> None:
    add_investor(database, "inv-a", 1)
    members = ExchangeMembers(database)
    members.account_of("inv-a")

    with pytest.raises(UnknownAccountError, match="account"):
        members.investor_of(account)  # type: ignore[arg-type]


def test_concurrent_first_uses_give_every_investor_one_distinct_account(database: Database) -> None:
    investors = [f"inv-{n}" for n in range(8)]
    for number, investor in enumerate(investors, start=1):
        add_investor(database, investor, number)
    members = ExchangeMembers(database)

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(members.account_of, investors * 2))

    by_investor = dict(zip(investors * 2, numbers, strict=True))
    assert numbers == [by_investor[i] for i in investors * 2]
    # A race lost on PostgreSQL may spend a sequence number, so numbers are distinct, not gap-free.
    assert len(set(by_investor.values())) == len(investors)
    assert min(by_investor.values()) >= 1
