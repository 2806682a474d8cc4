"""Client order ids: an open or a close with an order id trades once, whatever repeats it; a repeat
answers the first fill and changes nothing; the id on another order is refused; a restart keeps them."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.commands import Close, Open
from equitoken.venues.cfd.errors import ConflictingOrderError, InvalidCommandError, MarketClosedError
from equitoken.venues.cfd.events import Closed, Opened
from equitoken.venues.cfd.journal import decode_command, encode_record, read_cfd_journal
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.cfd.venue import CfdVenue

from .builders import (
    FRIDAY_AFTER_CLOSE,
    FRIDAY_OPEN,
    OTHER_SYMBOL,
    OTHER_TRADER,
    SYMBOL,
    TRADER,
    instruments,
    mark,
    only,
    price,
    shares,
    usdc,
    venue_at,
)


def funded_venue() -> tuple[CfdVenue, ManualClock]:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(10_000), "d1")
    venue.deposit(OTHER_TRADER, usdc(10_000), "d2")
    return venue, clock


def test_a_repeated_open_answers_the_first_fill_and_trades_nothing() -> None:
    venue, clock = funded_venue()
    first = venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1")
    clock.advance(timedelta(seconds=10))
    mark(venue, clock, SYMBOL, 210)  # the market moved: a second fill would differ
    before = venue.snapshot()

    again = venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1")

    assert again == first
    assert only(again, Opened).entry_price < price(210)
    assert venue.snapshot() == before
    assert len(venue.positions(TRADER)) == 1


def test_a_repeated_close_answers_the_first_fill_even_once_the_position_is_gone() -> None:
    venue, clock = funded_venue()
    opened = only(venue.open_position(TRADER, SYMBOL, CfdSide.SHORT, shares(3), order_id="o-1"), Opened)
    first = venue.close_position(TRADER, opened.position_id, order_id="c-1")
    mark(venue, clock, SYMBOL, 190)
    before = venue.snapshot()

    again = venue.close_position(TRADER, opened.position_id, order_id="c-1")

    assert again == first
    assert only(again, Closed).remaining == 0
    assert venue.snapshot() == before


def test_a_partial_close_repeated_closes_its_part_once() -> None:
    venue, _ = funded_venue()
    opened = only(venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(4)), Opened)
    first = venue.close_position(TRADER, opened.position_id, shares(1), order_id="c-1")

    again = venue.close_position(TRADER, opened.position_id, shares(1), order_id="c-1")

    assert again == first
    [position] = venue.positions(TRADER)
    assert position.size == shares(3)


@pytest.mark.parametrize(
    "reuse",
    [
        lambda v: v.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(3), 2, order_id="o-1"),
        lambda v: v.open_position(TRADER, SYMBOL, CfdSide.SHORT, shares(2), 2, order_id="o-1"),
        lambda v: v.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 3, order_id="o-1"),
        lambda v: v.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1"),
        lambda v: v.open_position(OTHER_TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1"),
        lambda v: v.close_position(TRADER, 1, order_id="o-1"),
    ],
    ids=["size", "side", "leverage", "symbol", "account", "a-close"],
)
def test_an_order_id_reused_for_another_order_is_refused_and_changes_nothing(reuse: object) -> None:
    venue, _ = funded_venue()
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1")
    before = venue.snapshot()

    with pytest.raises(ConflictingOrderError, match="'o-1' was already used for Open") as refused:
        reuse(venue)  # type: ignore[operator]

    assert refused.value.code == "cfd_conflicting_order"
    assert venue.snapshot() == before


def test_a_refused_order_is_not_remembered_so_its_id_may_trade_later() -> None:
    venue, clock = funded_venue()
    clock.set(FRIDAY_AFTER_CLOSE)
    mark(venue, clock, SYMBOL, 200, MarketStatus.CLOSED)
    with pytest.raises(MarketClosedError):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1), order_id="o-1")
    assert venue.engine.order("o-1") is None

    clock.set(FRIDAY_OPEN + timedelta(days=3))  # Monday
    mark(venue, clock, SYMBOL, 200)
    opened = venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1), order_id="o-1")

    assert venue.engine.order("o-1") == (
        ("Open", TRADER, SYMBOL, int(CfdSide.LONG), shares(1), 5),
        tuple(opened),
    )


@pytest.mark.parametrize("order_id", [7, "x" * 129])
def test_a_malformed_order_id_is_refused(order_id: object) -> None:
    venue, _ = funded_venue()
    before = venue.snapshot()

    with pytest.raises(InvalidCommandError, match="order id"):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1), order_id=order_id)  # type: ignore[arg-type]

    assert venue.snapshot() == before


def test_the_order_ids_are_part_of_the_state() -> None:
    venue, _ = funded_venue()
    opened = venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1), 2, order_id="o-1")

    orders = json.loads(venue.snapshot())["orders"]

    assert orders == {
        "o-1": [["Open", TRADER, SYMBOL, int(CfdSide.LONG), shares(1), 2], [["Opened", *opened[0]]]]
    }


def test_a_restart_keeps_the_order_ids_and_a_repeat_is_not_journaled(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = CfdVenue.start(path, instruments(), clock)
    venue.deposit(TRADER, usdc(1_000), "d1")
    mark(venue, clock, SYMBOL, 200)
    opened = venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1")
    position_id = only(opened, Opened).position_id
    venue.open_position(TRADER, SYMBOL, CfdSide.SHORT, shares(1))  # no order id
    closed = venue.close_position(TRADER, position_id, shares(1), order_id="c-1")
    records = len(read_cfd_journal(path).payloads)
    venue.close_position(TRADER, position_id, shares(1), order_id="c-1")
    assert len(read_cfd_journal(path).payloads) == records  # a repeat changed nothing
    state = venue.snapshot()
    venue.close()

    restarted = CfdVenue.start(path, instruments(), clock)

    assert restarted.snapshot() == state
    assert restarted.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2), 2, order_id="o-1") == opened
    assert restarted.close_position(TRADER, position_id, shares(1), order_id="c-1") == closed
    with pytest.raises(ConflictingOrderError):
        restarted.close_position(TRADER, position_id, shares(1), order_id="o-1")
    assert restarted.snapshot() == state
    restarted.close()


def test_an_order_without_an_id_is_journaled_as_before_order_ids() -> None:
    old = b'[["Open",1,"AAPL",1,100,2,5],[]]'

    command = decode_command(old)

    assert command == Open(1, "AAPL", 1, 100, 2, 5)
    assert command.order_id == ""
    assert encode_record(command, []) == old
    assert decode_command(encode_record(Close(1, 2, 0, 5, "c-1"), [])) == Close(1, 2, 0, 5, "c-1")


def test_a_journal_from_before_order_ids_replays(tmp_path: Path) -> None:
    path = tmp_path / "cfd.journal"
    clock = ManualClock(FRIDAY_OPEN)
    venue = CfdVenue.start(path, instruments(), clock)
    venue.deposit(TRADER, usdc(1_000), "d1")
    mark(venue, clock, SYMBOL, 200)
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(2))
    venue.close_position(TRADER, 1, shares(1))
    state = venue.snapshot()
    venue.close()
    commands = [json.loads(p)[0] for p in read_cfd_journal(path).payloads]
    assert [c for c in commands if c[0] in ("Open", "Close")] == [  # the records of before order ids
        ["Open", TRADER, SYMBOL, int(CfdSide.LONG), shares(2), 5, commands[-1][-1]],
        ["Close", TRADER, 1, shares(1), commands[-1][-1]],
    ]

    restarted = CfdVenue.start(path, instruments(), clock)

    assert restarted.snapshot() == state
    assert json.loads(restarted.snapshot())["orders"] == {}
    restarted.close()
