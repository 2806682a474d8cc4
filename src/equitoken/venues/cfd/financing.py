"""Overnight financing, charged once per session at its close, by calendar nights.

We charge by calendar nights, not MT5's fixed "triple Wednesday": the session that closes on day d
charges every night until the next session's date (1 on a weekday, 3 on a Friday, 4 before a
Monday holiday), read from the real exchange calendar, so weekends and holidays are paid for
exactly once, by the positions open when the gap starts.

amount = notional at the mid * rate_bps * nights / (365 * 10_000), signed for the trader: a long
pays `long_rate_bps`, a short receives `short_rate_bps` (pays it when negative). Charges round up
and credits round down (the venue keeps the sub-unit).
"""

from equitoken.market.calendar import MarketCalendar, Session
from equitoken.venues.cfd.instruments import CfdInstrument
from equitoken.venues.cfd.positions import CfdSide

DAYS_PER_YEAR = 365


def nights_after(calendar: MarketCalendar, session: Session) -> int:
    """Return the calendar nights from `session` to the next session (1 on an ordinary weekday)."""
    return (calendar.next_session(session.close).date - session.date).days


def financing(instrument: CfdInstrument, side: CfdSide, notional: int, nights: int) -> int:
    """Return what a position of `notional` USDC gains (negative: pays) over `nights` nights."""
    paid = instrument.long_rate_bps if side is CfdSide.LONG else -instrument.short_rate_bps
    # The trader gains floor(-notional * paid * nights / year): a charge rounds up, a credit down.
    return -(notional * paid * nights) // (DAYS_PER_YEAR * 10_000)
