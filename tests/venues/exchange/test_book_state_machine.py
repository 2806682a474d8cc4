"""Random command sequences against the book, the reference baseline book and the book's own journal."""

import shutil
import tempfile
from pathlib import Path

from bench.book_baseline import BaselineBook
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Event, Filled, Rejected
from equitoken.venues.exchange.journal import FsyncPolicy, JournaledBook, replay
from equitoken.venues.exchange.orders import Amend, Cancel, Command, OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.rules import SelfTradePrevention

from .builders import LOT, rules

accounts = st.integers(1, 4)
sides = st.sampled_from(Side)
prices = st.integers(9_990, 10_010)
# 50 to 400 lots: 0.005 to 0.04 share, around $0.50 to $4, so some orders fall under the $1 minimum.
quantities = st.integers(50, 400).map(lambda lots: lots * LOT)


class BookMachine(RuleBasedStateMachine):
    """Every command goes to the journaled book and to the baseline; both must answer alike."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="book-machine-"))
        self.submitted = self.filled = self.cancelled = self.amended_by = 0
        self.open: dict[int, int] = {}

    @initialize(stp=st.sampled_from(SelfTradePrevention), maker_fee_bps=st.integers(-5, 5))
    def open_books(self, stp: SelfTradePrevention, maker_fee_bps: int) -> None:
        self.book_rules = rules(stp, maker_fee_bps, 5)
        self.live = JournaledBook.open(
            self.directory / "book.journal", self.book_rules, FsyncPolicy.PER_BATCH
        )
        self.reference = BaselineBook(self.book_rules)

    def teardown(self) -> None:
        if hasattr(self, "live"):
            self.live.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def send(self, command: Command) -> list[Event]:
        events = self.live.apply(command)
        assert events == self.reference.apply(command), "the book and the reference book disagree"
        for event in events:
            self.account_for(event)
        return events

    def account_for(self, event: Event) -> None:
        if isinstance(event, Accepted):
            self.submitted += event.quantity
            self.open[event.order_id] = event.quantity
        elif isinstance(event, Filled):
            # A trade fills both its orders by its quantity.
            self.filled += 2 * event.quantity
            self.open[event.maker_order_id] -= event.quantity
            self.open[event.taker_order_id] -= event.quantity
        elif isinstance(event, Cancelled):
            self.cancelled += event.quantity
            self.open[event.order_id] -= event.quantity
        elif isinstance(event, Amended):
            self.amended_by += event.quantity - self.open[event.order_id]
            self.open[event.order_id] = event.quantity
        else:
            assert isinstance(event, Rejected)

    @rule(account=accounts, side=sides, price=prices, quantity=quantities, post_only=st.booleans())
    def limit_gtc(self, account: int, side: Side, price: int, quantity: int, post_only: bool) -> None:
        self.send(Submit(account, "gtc", side, OrderType.LIMIT, price, quantity, TimeInForce.GTC, post_only))

    @rule(
        account=accounts,
        side=sides,
        price=prices,
        quantity=quantities,
        time_in_force=st.sampled_from([TimeInForce.IOC, TimeInForce.FOK]),
    )
    def limit_immediate(
        self, account: int, side: Side, price: int, quantity: int, time_in_force: TimeInForce
    ) -> None:
        self.send(Submit(account, "now", side, OrderType.LIMIT, price, quantity, time_in_force))

    @rule(
        account=accounts,
        side=sides,
        quantity=quantities,
        time_in_force=st.sampled_from([TimeInForce.IOC, TimeInForce.FOK]),
    )
    def market(self, account: int, side: Side, quantity: int, time_in_force: TimeInForce) -> None:
        self.send(Submit(account, "market", side, OrderType.MARKET, 0, quantity, time_in_force))

    @precondition(lambda self: self.live.book.next_order_id > 1)
    @rule(data=st.data(), owner=st.booleans())
    def cancel(self, data: st.DataObject, owner: bool) -> None:
        order_id = data.draw(st.integers(1, self.live.book.next_order_id))
        order = self.live.book.order(order_id)
        account = order.account if order and owner else data.draw(accounts)
        self.send(Cancel(account, order_id))

    @precondition(lambda self: self.live.book.next_order_id > 1)
    @rule(data=st.data(), price=prices, quantity=quantities)
    def amend(self, data: st.DataObject, price: int, quantity: int) -> None:
        order_id = data.draw(st.integers(1, self.live.book.next_order_id))
        order = self.live.book.order(order_id)
        if order is not None and data.draw(st.booleans()):
            price = order.price  # a quantity change at the same price: up or down
        self.send(Amend(order.account if order else 1, order_id, price, quantity))

    @invariant()
    def book_never_crosses(self) -> None:
        if not hasattr(self, "live"):
            return
        bid, ask = self.live.book.best_bid(), self.live.book.best_ask()
        assert bid is None or ask is None or bid < ask
        assert (bid, ask) == (self.reference.best_bid(), self.reference.best_ask())

    @invariant()
    def resting_orders_match_the_reference_in_priority_order(self) -> None:
        if not hasattr(self, "live"):
            return
        expected = [(o.order_id, o.price, o.quantity) for o in self.reference.bids + self.reference.asks]
        assert [(o.order_id, o.price, o.quantity) for o in self.live.book.open_orders()] == expected

    @invariant()
    def quantities_are_conserved(self) -> None:
        if not hasattr(self, "live"):
            return
        resting = sum(o.quantity for o in self.live.book.open_orders())
        assert self.submitted + self.amended_by == self.filled + self.cancelled + resting
        assert {i: q for i, q in self.open.items() if q} == {
            o.order_id: o.quantity for o in self.live.book.open_orders()
        }

    @invariant()
    def the_journal_replays_to_the_live_book(self) -> None:
        if not hasattr(self, "live"):
            return
        self.live.sync()
        assert replay(self.live.journal.path).snapshot() == self.live.book.snapshot()


TestBookMachine = BookMachine.TestCase
