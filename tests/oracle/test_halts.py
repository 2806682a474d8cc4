"""Trading halts in the database: declared once, in force over their span, lifted, and checked."""

from datetime import UTC, datetime, timedelta

import pytest

from equitoken.oracle.halts import (
    Halt,
    HaltBook,
    HaltConflictError,
    HaltError,
    NoHaltError,
    UnservedTickerError,
)
from equitoken.store.database import Database

START = datetime(2025, 12, 1, 16, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)


def book(database: Database) -> HaltBook:
    return HaltBook(database, ["AAPL", "MSFT"])


def test_a_halt_is_in_force_from_its_start_until_its_end(database: Database) -> None:
    halts = book(database)
    halt = halts.declare("AAPL", START, END, "news pending")

    assert halt == Halt("AAPL", START, END, "news pending")
    assert halts.in_force("AAPL", START - timedelta(microseconds=1)) is None
    assert halts.in_force("AAPL", START) == halt
    assert halts.in_force("AAPL", END - timedelta(microseconds=1)) == halt
    assert halts.in_force("AAPL", END) is None
    assert halts.in_force("MSFT", START) is None


def test_declaring_the_same_halt_again_changes_nothing(database: Database) -> None:
    halts = book(database)
    first = halts.declare("AAPL", START, None, "LULD pause")

    again = halts.declare("AAPL", START, None, " LULD pause ")

    assert again == first
    assert halts.halts("AAPL") == [first]


def test_an_open_ended_halt_lasts_until_lifted(database: Database) -> None:
    halts = book(database)
    halts.declare("AAPL", START, None, "regulatory")
    lifted_at = START + timedelta(hours=2)

    assert halts.in_force("AAPL", START + timedelta(days=3)) is not None
    lifted = halts.lift("AAPL", lifted_at)

    assert lifted == Halt("AAPL", START, lifted_at, "regulatory")
    assert halts.in_force("AAPL", lifted_at) is None
    assert halts.in_force("AAPL", lifted_at - timedelta(seconds=1)) == lifted
    # The open-ended declaration repeated after the lift is the same halt, not a new one.
    assert halts.declare("AAPL", START, None, "regulatory") == lifted


def test_a_halt_overlapping_another_is_refused_and_changes_nothing(database: Database) -> None:
    halts = book(database)
    halts.declare("AAPL", START, END, "news pending")

    with pytest.raises(HaltConflictError, match="overlaps the halt of AAPL"):
        halts.declare("AAPL", START + timedelta(minutes=10), None, "other")
    with pytest.raises(HaltConflictError, match="overlaps"):
        halts.declare("AAPL", START, END + timedelta(minutes=1), "news pending")

    assert halts.halts("AAPL") == [Halt("AAPL", START, END, "news pending")]
    assert halts.declare("AAPL", END, None, "second halt").start == END  # back to back is fine


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (
            ("TSLA", START, None, "x"),
            UnservedTickerError,
            "unknown ticker 'TSLA'; halts are kept for: AAPL, MSFT",
        ),
        (("AAPL", START, START, "x"), HaltError, "ends at .* not after its start"),
        (("AAPL", START, None, "  "), HaltError, "reason must be 1 to 200 characters"),
        (("AAPL", START, None, "x" * 201), HaltError, "reason must be 1 to 200 characters"),
        (("AAPL", datetime(2025, 12, 1, 16, 0), None, "x"), ValueError, "halt start .* has no timezone"),
    ],
)
def test_a_bad_declaration_is_refused_and_stores_nothing(
    database: Database, args: tuple[str, datetime, datetime | None, str], error: type[Exception], message: str
) -> None:
    halts = book(database)

    with pytest.raises(error, match=message):
        halts.declare(*args)

    assert halts.halts("AAPL") == []


def test_lifting_needs_a_halt_in_force(database: Database) -> None:
    halts = book(database)
    with pytest.raises(NoHaltError, match="no halt of AAPL is in force"):
        halts.lift("AAPL", START)
    halts.declare("AAPL", START, None, "x")
    with pytest.raises(HaltError, match="cannot be lifted at its own start"):
        halts.lift("AAPL", START)

    assert halts.halts("AAPL") == [Halt("AAPL", START, None, "x")]


def test_each_book_sees_the_halts_another_declared(database: Database) -> None:
    book(database).declare("MSFT", START, END, "news pending")

    assert book(database).in_force("MSFT", START) == Halt("MSFT", START, END, "news pending")
