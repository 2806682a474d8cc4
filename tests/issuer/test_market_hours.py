"""Requests made while the market is closed are queued and filled at the next session's replayed prices."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.platform import SLIPPAGE_BPS, USDC, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database
from equitoken.store.schema import FillRow


@pytest.mark.parametrize(
    ("placed_at", "next_session"),
    [
        (datetime(2025, 11, 29, 15, 0, tzinfo=UTC), date(2025, 12, 1)),  # Saturday
        (datetime(2025, 11, 27, 16, 0, tzinfo=UTC), date(2025, 11, 28)),  # Thanksgiving
        (datetime(2025, 11, 28, 19, 0, tzinfo=UTC), date(2025, 12, 1)),  # half day, 14:00 New York
    ],
    ids=["saturday", "holiday", "half-day-afternoon"],
)
def test_closed_market_order_fills_at_the_next_session_open(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
    placed_at: datetime,
    next_session: date,
) -> None:
    platform = build_platform(evm_chain, database, prices, calendar, tmp_path, start=placed_at, fill_parts=1)
    platform.approve_mint(10**6 * USDC)
    request = platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "2", "closed")

    platform.issuer.process()
    queued = platform.issuer.request(request.id)
    assert queued.state is RequestState.ORDERED
    assert queued.filled_quantity.units == 0

    platform.run(step=timedelta(minutes=30))

    done = platform.issuer.request(request.id)
    assert done.state is RequestState.COMPLETED
    session = calendar.session_on(next_session)
    assert session is not None
    with platform.issuer.db.transaction() as db_session:
        fills = list(db_session.scalars(select(FillRow).where(FillRow.request_id == request.id)))
    assert len(fills) == 1
    assert session.open <= fills[0].filled_at < session.open + timedelta(minutes=1)
    # The fill is the session's opening price from the real bars, moved by the broker's slippage.
    bar = prices.daily_bar("AAPL", next_session)
    assert bar is not None
    opening = bar.open.scaled_bps(SLIPPAGE_BPS)
    assert done.filled_notional == opening.notional(done.quantity, round_up=True)
