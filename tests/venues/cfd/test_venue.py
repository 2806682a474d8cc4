"""The command API: trading, margin, stop-outs, financing, corporate actions and every refusal."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from equitoken.model.errors import InsufficientFundsError
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.errors import (
    CfdError,
    CloseTooLargeError,
    FinancingAlreadyChargedError,
    InsufficientMarginError,
    InvalidCommandError,
    InvalidSizeError,
    LeverageTooHighError,
    MarketClosedError,
    MarketHaltedError,
    OutOfOrderPriceError,
    StalePriceError,
    UnknownCfdAccountError,
    UnknownCfdInstrumentError,
    UnknownPositionError,
)
from equitoken.venues.cfd.events import (
    BalanceReset,
    Closed,
    Deposited,
    DividendIgnored,
    FinancingCharged,
    MarginCall,
    Opened,
    PositionAdjusted,
    SessionClosed,
    SplitApplied,
    StopOut,
    Withdrew,
)
from equitoken.venues.cfd.instruments import CfdSettings
from equitoken.venues.cfd.positions import CfdSide, CloseReason
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import ConflictingTransferError

from .builders import (
    FRIDAY_AFTER_CLOSE,
    FRIDAY_OPEN,
    FRIDAY_PRE_MARKET,
    MONDAY_AFTER_CLOSE,
    OTHER_SYMBOL,
    OTHER_TRADER,
    SATURDAY,
    SYMBOL,
    TRADER,
    mark,
    only,
    price,
    shares,
    usdc,
    venue_at,
)


def funded(dollars: int = 10_000) -> CfdVenue:
    venue, _ = venue_at()
    venue.deposit(TRADER, usdc(dollars), "first")
    return venue


# Deposits and withdrawals


def test_a_deposit_is_credited_once_per_id() -> None:
    venue, _ = venue_at()

    assert venue.deposit(TRADER, usdc(100), "d1") == [Deposited(TRADER, usdc(100), "d1", usdc(100))]
    assert venue.deposit(TRADER, usdc(100), "d1") == []
    assert venue.margin(TRADER).balance == usdc(100)


def test_a_withdrawal_is_limited_to_free_margin() -> None:
    venue = funded(1_000)
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(10), 5)  # $400 margin, $1 spread
    free = venue.margin(TRADER).free_margin

    with pytest.raises(InsufficientMarginError):
        venue.withdraw(TRADER, free + 1, "w1")
    events = venue.withdraw(TRADER, free, "w1")

    assert events == [Withdrew(TRADER, free, "w1", usdc(1_000) - free)]
    assert venue.margin(TRADER).free_margin == 0
    assert venue.withdraw(TRADER, free, "w1") == []  # a retry
    with pytest.raises(ConflictingTransferError):
        venue.withdraw(TRADER, free - 1, "w1")


# Opening and closing


def test_a_long_opens_at_the_ask_and_closes_at_the_bid() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")

    opened = only(venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(10), 5), Opened)
    mark(venue, clock, SYMBOL, 210)
    closed = only(venue.close_position(TRADER, opened.position_id), Closed)

    assert opened == Opened(1, TRADER, SYMBOL, int(CfdSide.LONG), shares(10), 20_010_000_000, 5, usdc(400))
    # Bid at $210 is $209.895: 10 * ($209.895 - $200.10).
    assert closed == Closed(1, TRADER, SYMBOL, shares(10), 20_989_500_000, 97_950_000, CloseReason.TRADER, 0)
    assert venue.margin(TRADER).balance == usdc(1_000) + 97_950_000
    assert venue.positions(TRADER) == []


def test_a_short_profits_when_the_price_falls_and_a_partial_close_keeps_the_rest() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    opened = only(
        venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.SHORT, shares(10)), Opened
    )  # no spread, 1:10
    mark(venue, clock, OTHER_SYMBOL, 90)

    closed = only(venue.close_position(TRADER, opened.position_id, shares(4)), Closed)

    assert opened.leverage == 10
    assert closed.pnl == usdc(40)
    assert closed.remaining == shares(6)
    [position] = venue.positions(TRADER)
    assert position.size == shares(6)
    assert venue.margin(TRADER).equity == usdc(1_000) + usdc(100)


def test_an_open_needs_free_margin_for_its_margin_and_spread() -> None:
    venue = funded(400)

    with pytest.raises(InsufficientMarginError) as refused:
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(10), 5)  # $400 margin + $1 spread

    assert isinstance(refused.value, InsufficientFundsError)
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(9), 5)


# Sessions, halts and stale prices


def test_trading_needs_the_regular_session_unless_extended_hours_are_on() -> None:
    closed_venue, _ = venue_at(FRIDAY_PRE_MARKET)
    closed_venue.deposit(TRADER, usdc(1_000), "d")
    extended_venue, _ = venue_at(FRIDAY_PRE_MARKET, CfdSettings(extended_hours=True))
    extended_venue.deposit(TRADER, usdc(1_000), "d")

    with pytest.raises(MarketClosedError, match="pre_market"):
        closed_venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))
    [opened] = extended_venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))

    assert isinstance(opened, Opened)


def test_nothing_trades_on_a_weekend_even_in_extended_hours() -> None:
    venue, clock = venue_at(FRIDAY_OPEN, CfdSettings(extended_hours=True))
    venue.deposit(TRADER, usdc(1_000), "d")
    opened = only(venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1)), Opened)
    clock.set(SATURDAY)
    mark(venue, clock, SYMBOL, 200, MarketStatus.CLOSED)

    with pytest.raises(MarketClosedError):
        venue.close_position(TRADER, opened.position_id)


def test_a_halted_or_stale_price_stops_trading() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    mark(venue, clock, SYMBOL, 200, MarketStatus.HALTED)

    with pytest.raises(MarketHaltedError):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))
    clock.advance(timedelta(seconds=61))
    with pytest.raises(StalePriceError):
        venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(1))


def test_an_oracle_reporting_closed_in_regular_hours_stops_trading() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    mark(venue, clock, SYMBOL, 200, MarketStatus.CLOSED)

    with pytest.raises(MarketClosedError, match="oracle closed"):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))


# Margin call, stop-out, negative balance protection


def test_a_falling_price_makes_a_margin_call_then_stops_out_the_largest_loss_first() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(10), 10)  # $100 margin
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(10), 5)  # $400 margin

    mark(venue, clock, SYMBOL, 160)  # equity ~ $599, used $420: 142%
    call = venue.on_price(OTHER_SYMBOL, price(75), MarketStatus.OPEN, clock.now())  # ~ $349 / $395
    stop = venue.on_price(SYMBOL, price(140), MarketStatus.OPEN, clock.now())  # ~ $148 / $355

    assert [type(e) for e in call] == [MarginCall]
    assert [type(e) for e in stop] == [StopOut, Closed]
    closed = stop[1]
    assert isinstance(closed, Closed)
    assert closed.position_id == 2
    assert closed.reason == CloseReason.STOP_OUT
    figures = venue.margin(TRADER)
    assert figures.level_bps is not None
    assert figures.level_bps >= 5_000
    assert [p.position_id for p in venue.positions(TRADER)] == [1]


def test_a_gap_through_zero_closes_everything_and_writes_off_the_debt() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(20), 5)
    clock.set(MONDAY_AFTER_CLOSE - timedelta(hours=2))

    events = venue.on_price(SYMBOL, price(100), MarketStatus.OPEN, clock.now())

    assert [type(e) for e in events] == [StopOut, Closed, BalanceReset]
    assert isinstance(events[0], StopOut)
    assert events[0].equity < 0
    figures = venue.margin(TRADER)
    assert (figures.balance, figures.equity, figures.level_bps) == (0, 0, None)


# Financing


def test_the_friday_close_charges_three_nights_and_a_second_charge_is_refused() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(10_000), "d")
    long = only(venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(365)), Opened)  # $36,500
    short = only(venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.SHORT, shares(365)), Opened)
    clock.set(FRIDAY_AFTER_CLOSE)

    events = venue.on_session_close()

    assert events == [
        FinancingCharged(long.position_id, TRADER, OTHER_SYMBOL, 3, -usdc(204) // 10),
        FinancingCharged(short.position_id, TRADER, OTHER_SYMBOL, 3, usdc(54) // 10),
        SessionClosed("2025-06-06", 3),
    ]
    assert venue.margin(TRADER).balance == usdc(10_000) - usdc(15)
    with pytest.raises(FinancingAlreadyChargedError):
        venue.on_session_close()
    clock.set(MONDAY_AFTER_CLOSE)
    assert venue.on_session_close()[-1] == SessionClosed("2025-06-09", 1)


# Corporate actions


def test_a_split_adjusts_sizes_entries_and_the_price_and_a_dividend_pays_nothing() -> None:
    venue, _ = venue_at()
    venue.deposit(TRADER, usdc(10_000), "d")
    venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(10))
    equity = venue.margin(TRADER).equity

    events = venue.on_split(OTHER_SYMBOL, 4, 1)
    dividend = venue.on_dividend(OTHER_SYMBOL, usdc(1))

    assert events == [
        SplitApplied(OTHER_SYMBOL, 4, 1, price(25)),
        PositionAdjusted(1, TRADER, shares(40), price(25)),
    ]
    assert dividend == [DividendIgnored(OTHER_SYMBOL, usdc(1))]
    assert venue.margin(TRADER).equity == equity


def test_a_reverse_split_closes_a_position_too_small_to_survive_it() -> None:
    venue, _ = venue_at()
    venue.deposit(TRADER, usdc(10_000), "d")
    venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.LONG, shares(1))
    venue.positions()  # a copy: the venue's own is untouched
    venue.engine.positions()[0].size = 1  # as if a long run of splits had shrunk it

    events = venue.on_split(OTHER_SYMBOL, 1, 10)

    assert [type(e) for e in events] == [SplitApplied, Closed]
    assert isinstance(events[1], Closed)
    assert events[1].reason == CloseReason.CORPORATE


# Refusals: each public entry point, each named error, nothing changed


def _refusals() -> list[tuple[str, Callable[[CfdVenue], object], type[CfdError] | type[Exception]]]:
    long, short = CfdSide.LONG, CfdSide.SHORT
    return [
        ("deposit zero", lambda v: v.deposit(TRADER, 0, "z"), InvalidSizeError),
        ("deposit negative account", lambda v: v.deposit(-5, usdc(1), "n"), InvalidCommandError),
        ("deposit reused id", lambda v: v.deposit(TRADER, usdc(5), "first"), ConflictingTransferError),
        ("withdraw unknown account", lambda v: v.withdraw(OTHER_TRADER, 1, "w"), UnknownCfdAccountError),
        ("withdraw zero", lambda v: v.withdraw(TRADER, 0, "w"), InvalidSizeError),
        ("withdraw too much", lambda v: v.withdraw(TRADER, usdc(10_001), "w"), InsufficientMarginError),
        (
            "open unknown instrument",
            lambda v: v.open_position(TRADER, "ZZZZ", long, shares(1)),
            UnknownCfdInstrumentError,
        ),
        (
            "open unknown account",
            lambda v: v.open_position(OTHER_TRADER, SYMBOL, long, shares(1)),
            UnknownCfdAccountError,
        ),
        ("open zero size", lambda v: v.open_position(TRADER, SYMBOL, long, 0), InvalidSizeError),
        (
            "open negative size",
            lambda v: v.open_position(TRADER, SYMBOL, short, -shares(1)),
            InvalidSizeError,
        ),
        (
            "open below minimum",
            lambda v: v.open_position(TRADER, SYMBOL, long, shares(1) // 1000),
            InvalidSizeError,
        ),
        ("open bad side", lambda v: v.open_position(TRADER, SYMBOL, 7, shares(1)), InvalidCommandError),  # type: ignore[arg-type]
        (
            "open leverage too high",
            lambda v: v.open_position(TRADER, SYMBOL, long, shares(1), 6),
            LeverageTooHighError,
        ),
        (
            "open leverage zero",
            lambda v: v.open_position(TRADER, SYMBOL, long, shares(1), 0),
            LeverageTooHighError,
        ),
        (
            "open without margin",
            lambda v: v.open_position(TRADER, SYMBOL, long, shares(1_000)),
            InsufficientMarginError,
        ),
        ("close unknown account", lambda v: v.close_position(OTHER_TRADER, 1), UnknownCfdAccountError),
        ("close unknown position", lambda v: v.close_position(TRADER, 99), UnknownPositionError),
        ("close more than held", lambda v: v.close_position(TRADER, 1, shares(2)), CloseTooLargeError),
        ("close negative", lambda v: v.close_position(TRADER, 1, -1), InvalidSizeError),
        (
            "price unknown instrument",
            lambda v: v.on_price("ZZZZ", price(1), MarketStatus.OPEN, FRIDAY_OPEN),
            UnknownCfdInstrumentError,
        ),
        ("price zero", lambda v: v.on_price(SYMBOL, 0, MarketStatus.OPEN, FRIDAY_OPEN), InvalidSizeError),
        ("price bad status", lambda v: v.on_price(SYMBOL, 1, 9, FRIDAY_OPEN), InvalidCommandError),  # type: ignore[arg-type]
        (
            "price out of order",
            lambda v: v.on_price(SYMBOL, 1, MarketStatus.OPEN, FRIDAY_PRE_MARKET),
            OutOfOrderPriceError,
        ),
        (
            "session close before any",
            lambda v: v.on_session_close(FRIDAY_PRE_MARKET.replace(year=2014)),
            FinancingAlreadyChargedError,
        ),
        ("split unknown instrument", lambda v: v.on_split("ZZZZ", 2, 1), UnknownCfdInstrumentError),
        ("split one for one", lambda v: v.on_split(SYMBOL, 2, 2), InvalidCommandError),
        ("split zero", lambda v: v.on_split(SYMBOL, 0, 1), InvalidCommandError),
        ("dividend unknown instrument", lambda v: v.on_dividend("ZZZZ", 1), UnknownCfdInstrumentError),
        ("dividend zero", lambda v: v.on_dividend(SYMBOL, 0), InvalidSizeError),
    ]


@pytest.mark.parametrize(("name", "command", "error"), _refusals(), ids=[r[0] for r in _refusals()])
def test_a_refused_command_raises_its_named_error_and_changes_nothing(
    name: str, command: Callable[[CfdVenue], object], error: type[Exception]
) -> None:
    venue = funded()
    venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))
    before = venue.snapshot()

    with pytest.raises(error):
        command(venue)

    assert venue.snapshot() == before


def test_a_closed_market_refuses_open_and_close_and_changes_nothing() -> None:
    venue, clock = venue_at()
    venue.deposit(TRADER, usdc(1_000), "d")
    opened = only(venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1)), Opened)
    clock.set(FRIDAY_AFTER_CLOSE)
    mark(venue, clock, SYMBOL, 200, MarketStatus.CLOSED)
    before = venue.snapshot()

    with pytest.raises(MarketClosedError, match="next regular open 2025-06-09T13:30"):
        venue.open_position(TRADER, SYMBOL, CfdSide.LONG, shares(1))
    with pytest.raises(MarketClosedError):
        venue.close_position(TRADER, opened.position_id)

    assert venue.snapshot() == before


def test_positions_are_copies_that_still_value_themselves() -> None:
    venue = funded()
    venue.open_position(TRADER, OTHER_SYMBOL, CfdSide.SHORT, shares(2))
    [copy] = venue.positions(TRADER)
    quote = venue.quote(OTHER_SYMBOL)
    assert quote is not None

    copy.size = 0

    assert copy.side is CfdSide.SHORT
    assert venue.positions(TRADER)[0].size == shares(2)
    assert venue.positions(TRADER)[0].unrealized(quote) == 0
