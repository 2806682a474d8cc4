"""Kill the ledger desk for real at every step of a buy and of a sale, restart it, and check that each
order happened once: one broker order, one custody entry, the account credited its shares, refund and
proceeds once, and every ledger unit backed by custody."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.crash import KILLED, run_worker
from tests.support.ledger import DEPOSIT, IN_SESSION, open_world

from equitoken.durable.crashpoints import EXCHANGE_LEDGER
from equitoken.issuer.custody import CustodyLedger, custody_account
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database
from equitoken.store.schema import LedgerEntryRow
from equitoken.venues.exchange.accounts import USDC, read_ledger
from equitoken.venues.exchange.ledger import LedgerState, client_order_id

pytestmark = [pytest.mark.crash, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]

BUY_USDC = 10 * 10**6
SELL_UNITS = 10**7  # 0.01 share
SELL_POINTS = ("ledger_custody", "ledger_credited")


def _worker(database: Database, tmp_path: Path, run: int, crash_at: str | None) -> int:
    config = {
        "database_url": database.url,
        "directory": str(tmp_path),
        # Each run starts later than the last, as a restarted process would.
        "start": (IN_SESSION + timedelta(minutes=10 * run)).isoformat(),
        "buy_usdc": BUY_USDC,
        "sell_units": SELL_UNITS,
    }
    return run_worker("tests.venues.exchange.ledger_worker", config, tmp_path, crash_at)


def test_a_ledger_buy_and_sale_happen_once_across_kills_at_every_step(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> None:
    open_world(database, prices, calendar, tmp_path, ManualClock(IN_SESSION), create=True).close()

    points = [*EXCHANGE_LEDGER, *SELL_POINTS]
    for run, point in enumerate(points):
        assert _worker(database, tmp_path, run, point) == KILLED, f"never reached {point}"
    assert _worker(database, tmp_path, len(points), None) == 0

    world = open_world(database, prices, calendar, tmp_path, ManualClock(IN_SESSION), create=False)
    try:
        account = world.account("inv-a")
        bought, sold = world.desk.order("crash-buy"), world.desk.order("crash-sell")
        assert bought.state is LedgerState.DONE
        assert sold.state is LedgerState.DONE
        buy_order = world.broker.order(client_order_id("crash-buy"))
        sell_order = world.broker.order(client_order_id("crash-sell"))
        assert buy_order is not None
        assert sell_order is not None
        assert bought.filled_shares == buy_order.filled_quantity
        assert sold.filled_shares.units == SELL_UNITS == sell_order.filled_quantity.units
        # One broker order each (the paper broker keeps them all).
        assert len({o.order_id for o in (buy_order, sell_order)}) == 2
        held = bought.filled_shares.units - SELL_UNITS
        assert world.venue.balance(account, "AAPL.L").total == held
        usdc = DEPOSIT - bought.filled_usd.units + sold.filled_usd.units
        assert world.venue.balance(account, USDC).total == usdc
        # Each of the account's settlement transfers is journaled once.
        transfers, _ = read_ledger(tmp_path / "exchange" / "ledger.journal")
        ids = [t.transfer_id for t in transfers if t.kind in ("credit", "debit")]
        assert sorted(ids) == sorted(
            [
                "ledger-pay:crash-buy",
                "ledger-shares:crash-buy",
                "ledger-refund:crash-buy",
                "ledger-pay:crash-sell",
                "ledger-proceeds:crash-sell",
            ]
        )
        with database.transaction() as session:
            causes = list(session.scalars(select(LedgerEntryRow.cause)))
            ledger = CustodyLedger()
            custody = ledger.balance(session, custody_account("AAPL"), "AAPL")
            allocation = ledger.ledger_allocation(session, "AAPL")
        assert sorted(causes) == ["exchange-ledger:crash-buy", "exchange-ledger:crash-sell"]
        # Each order moved through each of its states once, whatever the kills interrupted.
        for order_id in ("crash-buy", "crash-sell"):
            assert [e.to_state for e in world.desk.events(order_id)] == [
                "requested",
                "ordered",
                "settling",
                "done",
            ]
        assert custody == allocation == held
    finally:
        world.close()
