"""Shared pieces of the CFD tests: times in known sessions, a venue on a manual clock, amounts."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.instruments import PRICE_ONE, SIZE_ONE, USDC_ONE, CfdInstrument, CfdSettings
from equitoken.venues.cfd.venue import CfdVenue

# Friday 6 June 2025: regular session 13:30-20:00 UTC, pre-market from 08:00, post-market to 00:00.
FRIDAY_OPEN = datetime(2025, 6, 6, 15, 0, tzinfo=UTC)
FRIDAY_PRE_MARKET = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)
FRIDAY_AFTER_CLOSE = datetime(2025, 6, 6, 21, 0, tzinfo=UTC)
SATURDAY = datetime(2025, 6, 7, 15, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2025, 6, 9, 15, 0, tzinfo=UTC)
MONDAY_AFTER_CLOSE = datetime(2025, 6, 9, 21, 0, tzinfo=UTC)

TRADER = 1
OTHER_TRADER = 2
SYMBOL = "AAPL"
OTHER_SYMBOL = "MSFT"


def usdc(dollars: int) -> int:
    return dollars * USDC_ONE


def price(dollars: int) -> int:
    return dollars * PRICE_ONE


def shares(n: int) -> int:
    return n * SIZE_ONE


def instruments() -> list[CfdInstrument]:
    return [CfdInstrument(SYMBOL), CfdInstrument(OTHER_SYMBOL, max_leverage=10, spread_bps=0)]


def venue_at(
    start: datetime = FRIDAY_OPEN, settings: CfdSettings | None = None
) -> tuple[CfdVenue, ManualClock]:
    """Return an unjournaled venue whose two instruments are priced ($200, $100, open) at `start`."""
    clock = ManualClock(start)
    venue = CfdVenue.in_memory(instruments(), clock, settings)
    mark(venue, clock, SYMBOL, 200)
    mark(venue, clock, OTHER_SYMBOL, 100)
    return venue, clock


def mark(
    venue: CfdVenue, clock: ManualClock, symbol: str, dollars: int, status: MarketStatus = MarketStatus.OPEN
) -> None:
    venue.on_price(symbol, price(dollars), status, clock.now())


E = TypeVar("E")


def only(events: Sequence[object], kind: type[E]) -> E:
    """Return the one event of `events`, checking it is a `kind`."""
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, kind), event
    return event
