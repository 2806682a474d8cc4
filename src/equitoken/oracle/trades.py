"""Trades on our own venues: the tape a reporter prices a closed market from (`closed_market`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from equitoken.model.quantities import Price, Shares
from equitoken.model.time import require_aware
from equitoken.store.database import Database
from equitoken.store.schema import VenueTradeRow

MAX_VENUE_LENGTH = 40
MAX_TRADE_ID_LENGTH = 80
MAX_TICKER_LENGTH = 10


class InvalidTradeError(ValueError):
    """A trade that cannot be recorded; the message names the field."""

    code = "invalid_trade"


class ConflictingTradeError(ValueError):
    """A venue recorded another trade under an id it already used."""

    code = "conflicting_trade"


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One trade on one of our venues: `trade_id` is the venue's own, unique per venue."""

    venue: str
    trade_id: str
    ticker: str
    price: Price
    quantity: Shares
    traded_at: datetime

    def __post_init__(self) -> None:
        for name, value, limit in (
            ("venue", self.venue, MAX_VENUE_LENGTH),
            ("trade id", self.trade_id, MAX_TRADE_ID_LENGTH),
            ("ticker", self.ticker, MAX_TICKER_LENGTH),
        ):
            if not value or len(value) > limit or value != value.strip():
                raise InvalidTradeError(f"{name} {value!r} must be 1 to {limit} characters, no outer spaces")
        if self.price.units <= 0:
            raise InvalidTradeError(f"trade price {self.price} is not positive")
        if self.quantity.units <= 0:
            raise InvalidTradeError(f"trade quantity {self.quantity} is not positive")
        object.__setattr__(self, "traded_at", require_aware(self.traded_at, "trade time"))


class TradeTape(Protocol):
    """Where a reporter reads our venues' trades."""

    def trades(self, ticker: str, since: datetime, until: datetime) -> Sequence[VenueTrade]:
        """Return the trades of `ticker` with `since < traded_at <= until`, oldest first."""
        ...


class VenueTradeBook:
    """The `venue_trades` table: venues `record` their trades, reporters read them as a `TradeTape`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, trade: VenueTrade) -> bool:
        """Store `trade`; return False if the venue had already recorded it (the same trade again).

        Raise ConflictingTradeError if the venue recorded a different trade under the same id.
        """
        try:
            with self._database.transaction() as session:
                session.add(
                    VenueTradeRow(
                        venue=trade.venue,
                        trade_id=trade.trade_id,
                        ticker=trade.ticker,
                        price=trade.price.units,
                        quantity=trade.quantity.units,
                        traded_at=trade.traded_at,
                    )
                )
            return True
        except IntegrityError:
            existing = self._find(trade.venue, trade.trade_id)
            if existing is None:
                raise
            if existing != trade:
                raise ConflictingTradeError(
                    f"{trade.venue} already recorded trade {trade.trade_id} as {existing}; not {trade}"
                ) from None
            return False

    def trades(self, ticker: str, since: datetime, until: datetime) -> Sequence[VenueTrade]:
        """Return the trades of `ticker` with `since < traded_at <= until`, oldest first."""
        since, until = require_aware(since, "since"), require_aware(until, "until")
        with self._database.transaction() as session:
            rows = session.scalars(
                select(VenueTradeRow)
                .where(
                    VenueTradeRow.ticker == ticker,
                    VenueTradeRow.traded_at > since,
                    VenueTradeRow.traded_at <= until,
                )
                .order_by(VenueTradeRow.traded_at, VenueTradeRow.id)
            ).all()
            return [_trade(row) for row in rows]

    def _find(self, venue: str, trade_id: str) -> VenueTrade | None:
        with self._database.transaction() as session:
            row = session.scalars(
                select(VenueTradeRow).where(VenueTradeRow.venue == venue, VenueTradeRow.trade_id == trade_id)
            ).one_or_none()
            return None if row is None else _trade(row)


def _trade(row: VenueTradeRow) -> VenueTrade:
    return VenueTrade(
        row.venue, row.trade_id, row.ticker, Price(row.price), Shares(row.quantity), row.traded_at
    )
