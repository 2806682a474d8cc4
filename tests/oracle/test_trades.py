"""Our venues' trade tape in the database: recorded once, read back by ticker and time."""

from datetime import UTC, datetime, timedelta

import pytest

from equitoken.model.quantities import Price, Shares
from equitoken.oracle.trades import ConflictingTradeError, VenueTrade, VenueTradeBook
from equitoken.store.database import Database

AT = datetime(2025, 12, 1, 22, 0, tzinfo=UTC)


def trade(trade_id: str, minutes: int, ticker: str = "AAPL", price: int = 20_000_000_000) -> VenueTrade:
    return VenueTrade(
        "our-ats", trade_id, ticker, Price(price), Shares(2 * 10**9), AT + timedelta(minutes=minutes)
    )


def test_trades_come_back_oldest_first_within_the_window(database: Database) -> None:
    book = VenueTradeBook(database)
    for item in (trade("b", 20), trade("a", 10), trade("c", 30), trade("m", 15, ticker="MSFT")):
        assert book.record(item)

    window = book.trades("AAPL", AT + timedelta(minutes=10), AT + timedelta(minutes=20))

    assert window == [trade("b", 20)]
    assert book.trades("AAPL", AT, AT + timedelta(hours=1)) == [
        trade("a", 10),
        trade("b", 20),
        trade("c", 30),
    ]


def test_recording_the_same_trade_again_adds_nothing(database: Database) -> None:
    book = VenueTradeBook(database)

    assert book.record(trade("a", 10))
    assert not book.record(trade("a", 10))
    assert book.trades("AAPL", AT, AT + timedelta(hours=1)) == [trade("a", 10)]


def test_another_trade_under_a_used_id_is_refused_and_changes_nothing(database: Database) -> None:
    book = VenueTradeBook(database)
    book.record(trade("a", 10))

    with pytest.raises(ConflictingTradeError, match="already recorded trade a"):
        book.record(trade("a", 10, price=1))

    assert book.trades("AAPL", AT, AT + timedelta(hours=1)) == [trade("a", 10)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price": Price(0)}, "trade price 0 is not positive"),
        ({"quantity": Shares(-1)}, "trade quantity -0.000000001 is not positive"),
        ({"venue": ""}, "venue '' must be 1 to 40"),
        ({"trade_id": "x" * 81}, "trade id 'x+' must be 1 to 80"),
        ({"ticker": " AAPL"}, "ticker ' AAPL' must be"),
        ({"traded_at": datetime(2025, 12, 1, 22, 0)}, "has no timezone"),
    ],
)
def test_a_bad_trade_is_refused_before_it_is_stored(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "venue": "our-ats",
        "trade_id": "a",
        "ticker": "AAPL",
        "price": Price(1),
        "quantity": Shares(1),
        "traded_at": AT,
    }
    with pytest.raises(ValueError, match=message):
        VenueTrade(**(base | fields))  # type: ignore[arg-type]
