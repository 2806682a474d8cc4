"""The order book's rules, one behaviour per test: priority, order types, STP, fees, limits and refusals."""

import pytest

from equitoken.venues.exchange.book import Book, DepthLevel, OpenOrder
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
from equitoken.venues.exchange.orders import (
    Amend,
    Cancel,
    CancelReason,
    Command,
    OrderType,
    RejectReason,
    Side,
    Submit,
    TimeInForce,
)
from equitoken.venues.exchange.rules import MAX_PRICE_TICKS, SelfTradePrevention

from .builders import LOT, SHARE, limit, market, rules

BUY, SELL = Side.BUY, Side.SELL
MAKER, OTHER_MAKER, TAKER = 1, 2, 3


def fills(events: list[Event]) -> list[tuple[int, int, int]]:
    """Return (maker order id, price, quantity) of each fill."""
    return [(e.maker_order_id, e.price, e.quantity) for e in events if isinstance(e, Filled)]


@pytest.fixture
def book() -> Book:
    return Book(rules())


def test_a_limit_order_that_does_not_cross_rests_and_sets_the_best_price(book: Book) -> None:
    events = book.submit(limit(MAKER, BUY, 10_000, SHARE, client_order_id="first"))

    assert events == [
        Accepted(1, MAKER, "first", BUY, OrderType.LIMIT, 10_000, SHARE, TimeInForce.GTC, False)
    ]
    assert book.best_bid() == 10_000
    assert book.best_ask() is None
    assert book.order(1) == OpenOrder(1, MAKER, "first", BUY, 10_000, SHARE)


def test_depth_sums_each_level_best_first(book: Book) -> None:
    for price, quantity in ((10_001, SHARE), (10_003, 2 * SHARE), (10_001, 3 * SHARE)):
        book.submit(limit(MAKER, SELL, price, quantity))
    book.submit(limit(MAKER, BUY, 9_990, SHARE))

    bids, asks = book.depth(5)

    assert asks == [DepthLevel(10_001, 4 * SHARE, 2), DepthLevel(10_003, 2 * SHARE, 1)]
    assert bids == [DepthLevel(9_990, SHARE, 1)]
    assert book.depth(1)[1] == [DepthLevel(10_001, 4 * SHARE, 2)]


def test_a_better_price_fills_first_then_earlier_orders_at_the_same_price(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_002, SHARE))  # 1: worse price, earliest
    book.submit(limit(MAKER, SELL, 10_001, SHARE))  # 2
    book.submit(limit(OTHER_MAKER, SELL, 10_001, SHARE))  # 3: same price as 2, later

    events = book.submit(limit(TAKER, BUY, 10_002, 3 * SHARE))

    assert fills(events) == [(2, 10_001, SHARE), (3, 10_001, SHARE), (1, 10_002, SHARE)]
    assert book.best_ask() is None


def test_trades_happen_at_the_resting_price_and_a_gtc_remainder_rests(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))

    events = book.submit(limit(TAKER, BUY, 10_050, 3 * SHARE))

    assert fills(events) == [(1, 10_000, SHARE)]
    assert book.order(2) == OpenOrder(2, TAKER, f"{TAKER}-BUY-10050", BUY, 10_050, 2 * SHARE)
    assert (book.best_bid(), book.best_ask()) == (10_050, None)


def test_a_partly_filled_maker_keeps_its_place_with_the_rest(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, 2 * SHARE))
    book.submit(limit(OTHER_MAKER, SELL, 10_000, SHARE))
    book.submit(limit(TAKER, BUY, 10_000, SHARE // 2))

    events = book.submit(limit(TAKER, BUY, 10_000, 2 * SHARE))

    assert fills(events) == [(1, 10_000, 3 * SHARE // 2), (2, 10_000, SHARE // 2)]


def test_ioc_fills_what_it_can_and_cancels_the_rest(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))

    events = book.submit(limit(TAKER, BUY, 10_000, 3 * SHARE, TimeInForce.IOC))

    assert fills(events) == [(1, 10_000, SHARE)]
    assert events[-1] == Cancelled(2, TAKER, 2 * SHARE, CancelReason.UNFILLED)
    assert book.best_bid() is None


def test_an_ioc_that_does_not_cross_is_accepted_then_cancelled_whole(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_001, SHARE))

    events = book.submit(limit(TAKER, BUY, 10_000, SHARE, TimeInForce.IOC))

    assert [type(e) for e in events] == [Accepted, Cancelled]
    assert events[1] == Cancelled(2, TAKER, SHARE, CancelReason.UNFILLED)


def test_a_market_order_sweeps_levels_and_never_rests(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))
    book.submit(limit(MAKER, SELL, 10_010, SHARE))

    events = book.submit(market(TAKER, BUY, 5 * SHARE))

    assert fills(events) == [(1, 10_000, SHARE), (2, 10_010, SHARE)]
    assert events[-1] == Cancelled(3, TAKER, 3 * SHARE, CancelReason.UNFILLED)
    assert (book.best_bid(), book.best_ask()) == (None, None)


def test_a_fok_fills_completely_or_is_refused_without_trading(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))
    book.submit(limit(OTHER_MAKER, SELL, 10_001, SHARE))
    before = book.snapshot()

    refused = book.submit(limit(TAKER, BUY, 10_001, 3 * SHARE, TimeInForce.FOK))
    filled = book.submit(limit(TAKER, BUY, 10_001, 2 * SHARE, TimeInForce.FOK))

    assert refused == [Rejected(TAKER, f"{TAKER}-BUY-10001", 0, RejectReason.FOK_CANNOT_FILL)]
    assert before != book.snapshot()
    assert fills(filled) == [(1, 10_000, SHARE), (2, 10_001, SHARE)]
    assert filled[0] == Accepted(3, TAKER, f"{TAKER}-BUY-10001", BUY, OrderType.LIMIT, 10_001, 2 * SHARE,
                                 TimeInForce.FOK, False)  # fmt: skip


def test_a_fok_does_not_count_the_takers_own_resting_orders(book: Book) -> None:
    book.submit(limit(TAKER, SELL, 10_000, SHARE))
    book.submit(limit(MAKER, SELL, 10_000, SHARE))

    events = book.submit(limit(TAKER, BUY, 10_000, 2 * SHARE, TimeInForce.FOK))

    assert events == [Rejected(TAKER, f"{TAKER}-BUY-10000", 0, RejectReason.FOK_CANNOT_FILL)]
    assert book.depth()[1] == [DepthLevel(10_000, 2 * SHARE, 2)]


def test_a_post_only_order_rests_and_is_refused_when_it_would_trade(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))
    before = book.snapshot()

    crossing = book.submit(limit(TAKER, BUY, 10_000, SHARE, post_only=True))
    after_crossing = book.snapshot()
    resting = book.submit(limit(TAKER, BUY, 9_999, SHARE, post_only=True))

    assert crossing == [Rejected(TAKER, f"{TAKER}-BUY-10000", 0, RejectReason.POST_ONLY_WOULD_CROSS)]
    assert after_crossing == before
    assert isinstance(resting[0], Accepted)
    assert book.best_bid() == 9_999


def test_self_trade_cancel_resting_removes_own_orders_and_trades_on(book: Book) -> None:
    book.submit(limit(TAKER, SELL, 10_000, SHARE))  # 1: own, first in line
    book.submit(limit(MAKER, SELL, 10_000, SHARE))  # 2

    events = book.submit(limit(TAKER, BUY, 10_000, SHARE))

    assert events[1] == Cancelled(1, TAKER, SHARE, CancelReason.SELF_TRADE)
    assert fills(events) == [(2, 10_000, SHARE)]
    assert book.open_orders() == []


def test_self_trade_cancel_incoming_keeps_the_resting_order_and_earlier_fills() -> None:
    book = Book(rules(SelfTradePrevention.CANCEL_INCOMING))
    book.submit(limit(MAKER, SELL, 10_000, SHARE))  # 1
    book.submit(limit(TAKER, SELL, 10_001, SHARE))  # 2: own

    events = book.submit(limit(TAKER, BUY, 10_002, 3 * SHARE))

    assert fills(events) == [(1, 10_000, SHARE)]
    assert events[-1] == Cancelled(3, TAKER, 2 * SHARE, CancelReason.SELF_TRADE)
    assert [o.order_id for o in book.open_orders()] == [2]


def test_self_trade_cancel_both_removes_the_resting_and_the_incoming_order() -> None:
    book = Book(rules(SelfTradePrevention.CANCEL_BOTH))
    book.submit(limit(TAKER, SELL, 10_000, SHARE))  # 1: own
    book.submit(limit(MAKER, SELL, 10_000, SHARE))  # 2

    events = book.submit(limit(TAKER, BUY, 10_000, SHARE))

    assert events[1:] == [
        Cancelled(1, TAKER, SHARE, CancelReason.SELF_TRADE),
        Cancelled(3, TAKER, SHARE, CancelReason.SELF_TRADE),
    ]
    assert [o.order_id for o in book.open_orders()] == [2]


def test_fees_are_basis_points_of_the_exact_notional_rounded_for_the_venue() -> None:
    # 123 lots (0.0123 share) at $100.01: 10,001 x 123 = 1,230,123 USDC units ($1.230123).
    charged, rebated = (
        Book(rules(maker_fee_bps=2, taker_fee_bps=5)),
        Book(rules(maker_fee_bps=-2, taker_fee_bps=5)),
    )
    for book in (charged, rebated):
        book.submit(limit(MAKER, SELL, 10_001, 123 * LOT))
    charge = charged.submit(limit(TAKER, BUY, 10_001, 123 * LOT))[1]
    rebate = rebated.submit(limit(TAKER, BUY, 10_001, 123 * LOT))[1]

    assert isinstance(charge, Filled)
    assert isinstance(rebate, Filled)
    assert charge.notional == rebate.notional == 1_230_123
    assert (charge.maker_fee, charge.taker_fee) == (247, 616)  # 246.0246 and 615.0615 round up
    assert rebate.maker_fee == -246  # a rebate of 246.0246 rounds down


def test_the_minimum_notional_is_one_dollar_at_the_limit_price(book: Book) -> None:
    # 100 lots (0.01 share) at $100.00 are worth exactly $1.
    exactly = book.submit(limit(MAKER, BUY, 10_000, 100 * LOT))
    short = book.submit(limit(MAKER, BUY, 9_999, 100 * LOT))

    assert isinstance(exactly[0], Accepted)
    assert short == [Rejected(MAKER, f"{MAKER}-BUY-9999", 0, RejectReason.BELOW_MIN_NOTIONAL)]


def test_a_market_orders_notional_is_taken_at_the_best_opposite_price(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 5_000, SHARE))

    assert book.submit(market(TAKER, BUY, 100 * LOT))[0] == Rejected(
        TAKER, f"{TAKER}-BUY-market", 0, RejectReason.BELOW_MIN_NOTIONAL
    )
    assert isinstance(book.submit(market(TAKER, BUY, 200 * LOT))[0], Accepted)


def test_cancel_removes_an_open_order_of_its_account(book: Book) -> None:
    book.submit(limit(MAKER, BUY, 10_000, SHARE))
    book.submit(limit(MAKER, BUY, 10_000, 2 * SHARE))

    events = book.cancel(Cancel(MAKER, 1))

    assert events == [Cancelled(1, MAKER, SHARE, CancelReason.REQUESTED)]
    assert book.depth()[0] == [DepthLevel(10_000, 2 * SHARE, 1)]
    assert book.cancel(Cancel(MAKER, 1)) == [Rejected(MAKER, "", 1, RejectReason.UNKNOWN_ORDER)]


def test_cancelling_the_last_order_of_a_level_removes_the_level(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))
    book.submit(limit(MAKER, SELL, 10_005, SHARE))

    book.cancel(Cancel(MAKER, 1))

    assert book.best_ask() == 10_005
    assert book.depth()[1] == [DepthLevel(10_005, SHARE, 1)]


def test_many_cancels_behind_a_resting_order_keep_the_queue_in_order(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))  # 1 stays at the front
    for order_id in range(2, 102):
        book.submit(limit(OTHER_MAKER, SELL, 10_000, SHARE))
        if order_id % 10:
            book.cancel(Cancel(OTHER_MAKER, order_id))

    events = book.submit(limit(TAKER, BUY, 10_000, 11 * SHARE))

    assert [f[0] for f in fills(events)] == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_lowering_the_quantity_keeps_priority(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, 2 * SHARE))  # 1
    book.submit(limit(OTHER_MAKER, SELL, 10_000, SHARE))  # 2

    amended = book.amend(Amend(MAKER, 1, 10_000, SHARE))
    events = book.submit(limit(TAKER, BUY, 10_000, SHARE))

    assert amended == [Amended(1, MAKER, 10_000, SHARE, True)]
    assert fills(events) == [(1, 10_000, SHARE)]


@pytest.mark.parametrize(("price", "quantity"), [(10_000, 3 * SHARE), (10_001, SHARE)])
def test_raising_the_quantity_or_changing_the_price_loses_priority(
    book: Book, price: int, quantity: int
) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))  # 1
    book.submit(limit(OTHER_MAKER, SELL, 10_000, SHARE))  # 2
    book.submit(limit(OTHER_MAKER, SELL, 10_001, SHARE))  # 3

    amended = book.amend(Amend(MAKER, 1, price, quantity))
    events = book.submit(limit(TAKER, BUY, 10_001, 2 * SHARE))

    assert amended == [Amended(1, MAKER, price, quantity, False)]
    assert fills(events)[:2] == ([(2, 10_000, SHARE), (1, 10_000, SHARE)] if price == 10_000 else [
        (2, 10_000, SHARE), (3, 10_001, SHARE)])  # fmt: skip


def test_an_amendment_that_would_trade_is_refused(book: Book) -> None:
    book.submit(limit(MAKER, SELL, 10_000, SHARE))
    book.submit(limit(TAKER, BUY, 9_990, SHARE))
    before = book.snapshot()

    events = book.amend(Amend(TAKER, 2, 10_000, SHARE))

    assert events == [Rejected(TAKER, "", 2, RejectReason.AMEND_WOULD_CROSS)]
    assert book.snapshot() == before


BAD_COMMANDS: list[tuple[Command, RejectReason]] = [
    (limit(TAKER, BUY, 10_000, 0), RejectReason.QUANTITY_NOT_POSITIVE),
    (limit(TAKER, BUY, 10_000, SHARE + 1), RejectReason.QUANTITY_NOT_LOT_MULTIPLE),
    (limit(TAKER, BUY, 0, SHARE), RejectReason.PRICE_NOT_POSITIVE),
    (limit(TAKER, BUY, MAX_PRICE_TICKS + 1, SHARE), RejectReason.PRICE_TOO_HIGH),
    (
        Submit(TAKER, "m", BUY, OrderType.MARKET, 10_000, SHARE, TimeInForce.IOC),
        RejectReason.MARKET_ORDER_HAS_PRICE,
    ),
    (market(TAKER, BUY, SHARE, TimeInForce.GTC), RejectReason.MARKET_ORDER_NEEDS_IOC_OR_FOK),
    (
        limit(TAKER, BUY, 9_000, SHARE, TimeInForce.IOC, post_only=True),
        RejectReason.POST_ONLY_NEEDS_GTC_LIMIT,
    ),
    (market(TAKER, SELL, SHARE), RejectReason.NO_LIQUIDITY),
    (limit(TAKER, BUY, 10_000.5, SHARE), RejectReason.NOT_AN_INTEGER),  # type: ignore[arg-type]
    (limit(-1, BUY, 10_000, SHARE), RejectReason.BAD_ACCOUNT),
    (Submit(TAKER, "x", 7, OrderType.LIMIT, 9_000, SHARE), RejectReason.BAD_ORDER_FIELD),  # type: ignore[arg-type]
    (Cancel(TAKER, 99), RejectReason.UNKNOWN_ORDER),
    (Cancel(TAKER, 1), RejectReason.NOT_ORDER_OWNER),
    (Amend(TAKER, 1, 10_001, SHARE), RejectReason.NOT_ORDER_OWNER),
    (Amend(MAKER, 99, 10_001, SHARE), RejectReason.UNKNOWN_ORDER),
    (Amend(MAKER, 1, 10_001, 0), RejectReason.QUANTITY_NOT_POSITIVE),
    (Amend(MAKER, 1, 10_001, LOT + 1), RejectReason.QUANTITY_NOT_LOT_MULTIPLE),
    (Amend(MAKER, 1, -5, SHARE), RejectReason.PRICE_NOT_POSITIVE),
    (Amend(MAKER, 1, 10_001, LOT), RejectReason.BELOW_MIN_NOTIONAL),
    (Amend(MAKER, 1, 10_001, SHARE), RejectReason.AMEND_CHANGES_NOTHING),
    (Amend(MAKER, 1, 10_001, 1.5), RejectReason.NOT_AN_INTEGER),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("command", "reason"), BAD_COMMANDS, ids=[r.name for _, r in BAD_COMMANDS])
def test_a_refused_command_names_its_reason_and_changes_nothing(
    book: Book, command: Command, reason: RejectReason
) -> None:
    book.submit(limit(MAKER, SELL, 10_001, SHARE))  # order 1
    book.submit(limit(OTHER_MAKER, SELL, 10_002, SHARE))  # no bids: a market sell finds no liquidity
    before = book.snapshot()

    events = book.apply(command)

    assert len(events) == 1
    assert isinstance(events[0], Rejected)
    assert events[0].reason is reason
    assert reason.message
    assert book.snapshot() == before


def test_every_reject_reason_has_a_message() -> None:
    assert all(reason.message.strip() for reason in RejectReason)
