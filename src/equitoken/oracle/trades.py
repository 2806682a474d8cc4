"""Trades on our own venues: the tape a reporter prices a closed market from (`closed_market`).

Units: our venues trade raw token units, priced per whole raw token (the feed's answer is that
token price). Under the UI multiplier m in force (`model.multiplier`), one whole raw token stands
for m / 1e18 shares, so a trade at token price P of raw quantity Q is, in shares, a trade at
P * 1e18 / m of Q * m / 1e18 shares (both rounded down, the notional kept within rounding). The
tape holds trades in shares only: a closed market is priced from the share's last close, and a
split or a reinvested dividend changes m, not the token's price. Venues convert once, as they
record, with the multiplier in force at the trade's time (`VenueTrade.of_tokens`); what reads the
tape never needs to know which venue traded or under which multiplier.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from equitoken.model.errors import EquitokenError
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Price, Shares
from equitoken.model.time import require_aware
from equitoken.store.database import Database
from equitoken.store.schema import VenueTradeRow

MAX_VENUE_LENGTH = 40
MAX_TRADE_ID_LENGTH = 80
MAX_TICKER_LENGTH = 10


class InvalidTradeError(EquitokenError, ValueError):
    """A trade that cannot be recorded; the message names the field."""

    code = "invalid_trade"


class ConflictingTradeError(EquitokenError, ValueError):
    """A venue recorded another trade under an id it already used."""

    code = "conflicting_trade"


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One trade on one of our venues, in shares: `trade_id` is the venue's own, unique per venue.

    `price` is per share and `quantity` in shares, share-equivalent under the multiplier in force
    when the trade was made; build it from a trade in token units with `of_tokens`.
    """

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

    @classmethod
    def of_tokens(
        cls,
        venue: str,
        trade_id: str,
        ticker: str,
        token_price: Price,
        token_quantity: Shares,
        multiplier: Multiplier,
        traded_at: datetime,
    ) -> "VenueTrade":
        """Return a trade made in raw token units as the tape keeps it, in shares (see the module).

        `token_price` is per whole raw token, `token_quantity` the raw units as shares one for one
        (`Shares.from_token_units`), and `multiplier` the one in force at `traded_at`.
        """
        # A whole raw token stands for m/1e18 shares: the share's price is the token's divided by it.
        return cls(
            venue,
            trade_id,
            ticker,
            Price(multiplier.raw(token_price.units)),
            Shares(multiplier.ui(token_quantity.units)),
            traded_at,
        )


MultiplierAt = Callable[[str, datetime], Multiplier]
"""(ticker, time) -> the UI multiplier of `ticker`'s token in force at that time (`uiMultiplierAt`)."""


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
