"""Issuance follows the NYSE calendar, not a weekday rule: Thanksgiving 2025-11-27 is closed, the half
day after it closes at 13:00 New York time, the weekend is closed, and each refusal names the next
opening. A quote never outlives the session's close."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.attestation_desk import Desk, build_desk

from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.attestation.errors import OutsideIssuanceHoursError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database
from equitoken.store.schema import AttestationQuoteRow

# Wednesday 2025-11-26, 10:00 New York.
BEFORE_THANKSGIVING = datetime(2025, 11, 26, 15, 0, tzinfo=UTC)
HALF_DAY_CLOSE = datetime(2025, 11, 28, 18, 0, tzinfo=UTC)  # 13:00 New York


def test_quotes_follow_holidays_half_days_and_weekends(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk = build_desk(inproc_chain, sqlite_db, prices, calendar, tmp_path, start=BEFORE_THANKSGIVING)
    clock, attestation, wallet = desk.platform.clock, desk.attestation, desk.platform.wallet
    attestation.restock("AAPL", "5")
    desk.run()
    # A quote lives a minute from the next block's time (blocks may run ahead of the clock).
    next_block = max(int(clock.now().timestamp()), desk.chain.timestamp() + 1)
    assert attestation.quote(wallet, "AAPL", "buy", "1").quote.expiry == next_block + 60

    closed = [
        # Thanksgiving, at what would be mid-session: the next opening is the half day's.
        (datetime(2025, 11, 27, 16, 0, tzinfo=UTC), "2025-11-28 09:30 New York time"),
        # The half day, at its 13:00 close and after: the next opening is Monday's.
        (HALF_DAY_CLOSE, "2025-12-01 09:30 New York time"),
        (datetime(2025, 11, 28, 19, 30, tzinfo=UTC), "2025-12-01 09:30 New York time"),
        # The weekend.
        (datetime(2025, 11, 29, 16, 0, tzinfo=UTC), "2025-12-01 09:30 New York time"),
        (datetime(2025, 11, 30, 22, 0, tzinfo=UTC), "2025-12-01 09:30 New York time"),
    ]
    for at, next_open in closed[:1]:
        clock.set(at)
        _refused(desk, next_open)

    # The half day is open until 13:00, and a quote signed a little before expires at the close.
    clock.set(datetime(2025, 11, 28, 17, 59, 30, tzinfo=UTC))
    desk.publish("AAPL")
    late = attestation.quote(wallet, "AAPL", "buy", "1")
    assert late.quote.expiry == int(HALF_DAY_CLOSE.timestamp())

    for at, next_open in closed[1:]:
        clock.set(at)
        _refused(desk, next_open)

    clock.set(datetime(2025, 12, 1, 14, 30, tzinfo=UTC))  # Monday 09:30 New York: open again
    desk.publish("AAPL")
    attestation.quote(wallet, "AAPL", "buy", "0.5")


def _refused(desk: Desk, next_open: str) -> None:
    with desk.platform.issuer.db.transaction() as session:
        before = session.query(AttestationQuoteRow).count()
    with pytest.raises(OutsideIssuanceHoursError, match=f"opens next at {next_open}"):
        desk.attestation.quote(desk.platform.wallet, "AAPL", "buy", "1")
    with desk.platform.issuer.db.transaction() as session:
        assert session.query(AttestationQuoteRow).count() == before
