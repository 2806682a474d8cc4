"""Ledger balances follow a split once custody has and it is in effect: every account's AAPL.L scaled by
the ratio, its open ledger orders cancelled first, each account once, however often the desk runs."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.ledger import IN_SESSION, LedgerWorld, open_world
from tests.venues.exchange.builders import limit

from equitoken.issuer.custody import CustodyLedger, Line, surplus_account
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Usd
from equitoken.store.database import Database
from equitoken.store.schema import CorporateActionRow, ExchangeLedgerSplitRow
from equitoken.venues.exchange.orders import Side

AAPL_L = "AAPL.L"


@pytest.fixture
def world(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> Iterator[LedgerWorld]:
    world = open_world(database, prices, calendar, tmp_path, ManualClock(IN_SESSION), create=True)
    yield world
    world.close()


def _split(world: LedgerWorld, new: int, old: int) -> str:
    """Record a split of AAPL effective in an hour and scale custody as its custody step does: every
    share account x new/old, the rounding to the issuer's surplus."""
    action_id = f"split-aapl-{new}-{old}"
    now = world.clock.now()
    ledger = CustodyLedger()
    with world.database.transaction() as session:
        session.add(
            CorporateActionRow(
                id=action_id,
                ticker="AAPL",
                kind="split" if new > old else "reverse_split",
                ex_date=now.date(),
                record_date=now.date(),
                effective_at=now + timedelta(hours=1),
                ratio_new=new,
                ratio_old=old,
                amount_per_share=0,
                fee_bps_per_year=0,
                fee_periods_per_year=0,
                source="test",
                state="custody_adjusted",
                chain_id=1,
                created_at=now,
                updated_at=now,
            )
        )
        balances = ledger.balances(session, "", "AAPL")
        lines = [Line(account, "AAPL", b * new // old - b) for (account, _), b in sorted(balances.items())]
        lines.append(Line(surplus_account("AAPL"), "AAPL", -sum(line.amount for line in lines)))
        ledger.post(session, f"ca:{action_id}:custody", "split", lines, at=now)
    return action_id


def test_a_split_scales_every_ledger_balance_once_when_it_takes_effect(world: LedgerWorld) -> None:
    a, b = world.account("inv-a"), world.account("inv-b")
    world.desk.buy(a, "AAPL", Usd.parse("300"), "buy-a")
    world.desk.buy(b, "AAPL", Usd.parse("100"), "buy-b")
    world.run()
    held_a, held_b = (world.venue.balance(x, AAPL_L).available for x in (a, b))
    # 0.01 share offered at $1,000: rests on the book, locked
    world.venue.submit(AAPL_L, limit(a, Side.SELL, 100_000, 10**7))
    assert world.venue.balance(a, AAPL_L).locked > 0

    action_id = _split(world, 4, 1)
    world.desk.process()
    assert world.venue.balance(a, AAPL_L).total == held_a  # not in effect yet: custody over-covers

    world.clock.advance(timedelta(hours=1))
    world.desk.process()
    assert world.venue.balance(a, AAPL_L).available == 4 * held_a  # the order was cancelled first
    assert world.venue.balance(a, AAPL_L).locked == 0
    assert world.venue.balance(b, AAPL_L).available == 4 * held_b
    with world.database.transaction() as session:
        allocation = CustodyLedger().ledger_allocation(session, "AAPL")
        [followed] = session.scalars(select(ExchangeLedgerSplitRow)).all()
    assert world.desk.outstanding()["AAPL"].units <= allocation  # custody's allocation still covers them
    assert followed.action_id == action_id

    world.desk.buy(b, "AAPL", Usd.parse("50"), "buy-after")  # after the split: not scaled again
    world.run()
    after = world.venue.balance(b, AAPL_L).available
    world.desk.process()
    assert world.venue.balance(a, AAPL_L).available == 4 * held_a
    assert world.venue.balance(b, AAPL_L).available == after
