"""The exchange engine and its accounts: locks, settlement, refusals, the tape and replay."""

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from equitoken.market.clock import ManualClock
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.multiplier import MULTIPLIER_ONE, Multiplier
from equitoken.model.quantities import Price
from equitoken.oracle.closed_market import DEFAULT_BAND_BPS, ClosedPolicy, ClosedPricing, ClosedTerms
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.trades import VenueTradeBook
from equitoken.store.database import Database
from equitoken.venues.exchange import engine as engine_module
from equitoken.venues.exchange.accounts import (
    FEES_ACCOUNT,
    USDC,
    Balance,
    ConflictingTransferError,
    InvalidTransferError,
    UnknownAssetError,
)
from equitoken.venues.exchange.engine import DuplicateOrderError, Exchange, ExchangeError, MarketHaltedError
from equitoken.venues.exchange.events import Accepted, Cancelled, Filled, Rejected
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.orders import Amend, Cancel, RejectReason, Side, TimeInForce
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec, SelfTradePrevention

from .builders import CENT, LOT, SHARE, limit, market, rules

TICKER = "AAPL"
MAKER, TAKER = 1, 2
DOLLARS = 1_000_000
PRICE = 10_000  # $100.00 in cents
# One lot (10^-4 share) at $100 is 10,000 USDC units, and its 5 bps fee is 5 more.
PER_LOT = 10_000 + 5


class Status:
    """The oracle's market status per ticker, set by the test."""

    def __init__(self) -> None:
        self.value = MarketStatus.OPEN

    def __call__(self, ticker: str) -> MarketStatus:
        return self.value


def open_exchange(directory: Path, status: Status, **kwargs: object) -> Exchange:
    return Exchange.open(directory, [rules()], status, fsync=FsyncPolicy.PER_BATCH, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def status() -> Status:
    return Status()


@pytest.fixture
def exchange(tmp_path: Path, status: Status) -> Exchange:
    exchange = open_exchange(tmp_path, status)
    exchange.accounts.credit_deposit(MAKER, TICKER, 10 * SHARE, "maker-aapl")
    exchange.accounts.credit_deposit(TAKER, USDC, 10_000 * DOLLARS, "taker-usdc")
    return exchange


def test_a_deposit_is_credited_once_per_id(exchange: Exchange) -> None:
    assert exchange.accounts.credit_deposit(3, USDC, 5 * DOLLARS, "d-1")
    assert not exchange.accounts.credit_deposit(3, USDC, 5 * DOLLARS, "d-1")
    assert exchange.accounts.balance(3, USDC) == Balance(5 * DOLLARS, 0)
    assert exchange.accounts.deposited(USDC) == 10_005 * DOLLARS


@pytest.mark.parametrize(
    ("account", "asset", "amount", "deposit_id", "error"),
    [
        (3, "TSLA", 1, "d", UnknownAssetError),
        (3, USDC, 0, "d", InvalidTransferError),
        (3, USDC, 1.5, "d", InvalidTransferError),
        (-1, USDC, 1, "d", InvalidTransferError),
        (3, USDC, 1, "", InvalidTransferError),
        (3, USDC, 7, "taker-usdc", ConflictingTransferError),
    ],
)
def test_a_bad_deposit_is_refused_and_changes_nothing(
    exchange: Exchange, account: int, asset: str, amount: int, deposit_id: str, error: type[Exception]
) -> None:
    before = exchange.snapshot()
    with pytest.raises(error):
        exchange.accounts.credit_deposit(account, asset, amount, deposit_id)
    assert exchange.snapshot() == before


def test_a_withdrawal_takes_available_funds_once(exchange: Exchange) -> None:
    assert exchange.accounts.request_withdrawal(TAKER, USDC, 100 * DOLLARS, "w-1")
    assert not exchange.accounts.request_withdrawal(TAKER, USDC, 100 * DOLLARS, "w-1")
    assert exchange.accounts.balance(TAKER, USDC) == Balance(9_900 * DOLLARS, 0)
    assert exchange.accounts.withdrawn(USDC) == 100 * DOLLARS


def test_a_withdrawal_cannot_take_locked_funds(exchange: Exchange) -> None:
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, 10 * SHARE))
    before = exchange.snapshot()
    with pytest.raises(InsufficientFundsError, match="available"):
        exchange.accounts.request_withdrawal(MAKER, TICKER, 1, "w-locked")
    with pytest.raises(ConflictingTransferError):
        exchange.accounts.credit_deposit(MAKER, TICKER, 1, "maker-aapl")
    assert exchange.snapshot() == before


def test_a_resting_buy_locks_price_quantity_and_the_highest_fee(exchange: Exchange) -> None:
    outcome = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, 100 * LOT))
    assert isinstance(outcome.events[0], Accepted)
    assert exchange.accounts.balance(TAKER, USDC).locked == 100 * PER_LOT
    assert exchange.held(TAKER, USDC) == 100 * PER_LOT


def test_a_fill_settles_both_sides_and_pays_the_fees_account(exchange: Exchange, status: Status) -> None:
    status.value = MarketStatus.CLOSED
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE))
    outcome = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE + 5, SHARE, TimeInForce.IOC))
    fill = outcome.trades[0].fill
    assert outcome.trades[0].status is MarketStatus.CLOSED
    assert (fill.notional, fill.maker_fee, fill.taker_fee) == (100 * DOLLARS, 20_000, 50_000)
    assert exchange.accounts.balance(TAKER, USDC) == Balance(10_000 * DOLLARS - 100 * DOLLARS - 50_000, 0)
    assert exchange.accounts.balance(TAKER, TICKER) == Balance(SHARE, 0)
    assert exchange.accounts.balance(MAKER, USDC) == Balance(100 * DOLLARS - 20_000, 0)
    assert exchange.accounts.balance(MAKER, TICKER) == Balance(9 * SHARE, 0)
    assert exchange.accounts.balance(FEES_ACCOUNT, USDC) == Balance(70_000, 0)
    assert exchange.status(TICKER) is MarketStatus.CLOSED


def test_a_cancel_releases_the_whole_hold(exchange: Exchange) -> None:
    accepted = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, 100 * LOT)).events[0]
    assert isinstance(accepted, Accepted)
    outcome = exchange.cancel(TICKER, Cancel(TAKER, accepted.order_id))
    assert isinstance(outcome.events[0], Cancelled)
    assert exchange.accounts.balance(TAKER, USDC) == Balance(10_000 * DOLLARS, 0)


def test_an_amendment_moves_the_hold_and_needs_funds_to_grow(exchange: Exchange) -> None:
    accepted = exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE)).events[0]
    assert isinstance(accepted, Accepted)
    exchange.amend(TICKER, Amend(MAKER, accepted.order_id, PRICE + 1, 2 * SHARE))
    assert exchange.accounts.balance(MAKER, TICKER) == Balance(8 * SHARE, 2 * SHARE)
    before = exchange.snapshot()
    with pytest.raises(InsufficientFundsError):
        exchange.amend(TICKER, Amend(MAKER, accepted.order_id, PRICE + 1, 11 * SHARE))
    assert exchange.snapshot() == before


def test_an_order_the_account_cannot_pay_is_refused_and_changes_nothing(exchange: Exchange) -> None:
    before = exchange.snapshot()
    with pytest.raises(InsufficientFundsError, match="needs"):
        exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, 100 * SHARE))
    with pytest.raises(InsufficientFundsError):
        exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, 11 * SHARE))
    assert exchange.snapshot() == before
    assert exchange.book(TICKER).next_order_id == 1


def test_a_market_buy_locks_at_the_deepest_level_it_can_reach(exchange: Exchange) -> None:
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE))
    exchange.submit(TICKER, limit(MAKER, Side.SELL, 2 * PRICE, SHARE))
    # 2 shares reach the $200 level: 2 * 10^4 lots at 20,000 + 10 units each, $400.20, is more than $350.
    exchange.accounts.credit_deposit(3, USDC, 350 * DOLLARS, "d-3")
    before = exchange.snapshot()
    with pytest.raises(InsufficientFundsError):
        exchange.submit(TICKER, market(3, Side.BUY, 2 * SHARE))
    assert exchange.snapshot() == before
    outcome = exchange.submit(TICKER, market(TAKER, Side.BUY, 2 * SHARE))
    assert [type(e) for e in outcome.events] == [Accepted, Filled, Filled]
    assert exchange.accounts.balance(TAKER, USDC).locked == 0
    assert exchange.accounts.balance(TAKER, USDC).available == 10_000 * DOLLARS - 300 * DOLLARS - 150_000


def test_a_halted_market_refuses_orders_and_amendments_but_allows_cancels(
    exchange: Exchange, status: Status
) -> None:
    accepted = exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE)).events[0]
    assert isinstance(accepted, Accepted)
    status.value = MarketStatus.HALTED
    before = exchange.snapshot()
    with pytest.raises(MarketHaltedError, match="halted"):
        exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, SHARE))
    with pytest.raises(MarketHaltedError):
        exchange.amend(TICKER, Amend(MAKER, accepted.order_id, PRICE + 1, SHARE))
    assert exchange.snapshot() == before
    exchange.cancel(TICKER, Cancel(MAKER, accepted.order_id))
    assert exchange.accounts.balance(MAKER, TICKER) == Balance(10 * SHARE, 0)


def test_an_unknown_instrument_is_refused(exchange: Exchange) -> None:
    with pytest.raises(UnknownInstrumentError, match="TSLA"):
        exchange.submit("TSLA", limit(TAKER, Side.BUY, PRICE, SHARE))


def test_a_book_refusal_locks_nothing(exchange: Exchange) -> None:
    before = exchange.snapshot()
    outcome = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, LOT + 1))
    assert outcome.events == [
        Rejected(TAKER, f"{TAKER}-BUY-{PRICE}", 0, RejectReason.QUANTITY_NOT_LOT_MULTIPLE)
    ]
    outcome = exchange.submit(TICKER, limit(TAKER, Side.BUY, 1.5, LOT))  # type: ignore[arg-type]
    assert isinstance(outcome.events[0], Rejected)
    assert exchange.accounts.snapshot() == before[len(b'{"accounts":') :].split(b',"books"')[0]


def test_the_exchange_reopens_to_the_same_balances_and_books(tmp_path: Path, status: Status) -> None:
    exchange = open_exchange(tmp_path, status)
    exchange.accounts.credit_deposit(MAKER, TICKER, 10 * SHARE, "m")
    exchange.accounts.credit_deposit(TAKER, USDC, 10_000 * DOLLARS, "t")
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, 3 * SHARE))
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))
    exchange.accounts.request_withdrawal(MAKER, USDC, 50 * DOLLARS, "w")
    exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE - 1, SHARE))
    live = exchange.snapshot()
    exchange.close()
    reopened = open_exchange(tmp_path, status)
    assert reopened.snapshot() == live
    assert reopened.held(TAKER, USDC) == reopened.accounts.balance(TAKER, USDC).locked


def test_a_unique_order_is_placed_once_even_across_a_reopen(tmp_path: Path, status: Status) -> None:
    exchange = open_exchange(tmp_path, status)
    exchange.accounts.credit_deposit(MAKER, TICKER, 10 * SHARE, "m")
    exchange.accounts.credit_deposit(TAKER, USDC, 10_000 * DOLLARS, "t")
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE, client_order_id="ask"), unique=True)
    # Filled at once, so no longer open: the memory of placed orders still knows it.
    taken = exchange.submit(
        TICKER, market(TAKER, Side.BUY, SHARE)._replace(client_order_id="k-1"), unique=True
    )
    exchange.sync()
    exchange.close()

    reopened = open_exchange(tmp_path, status)
    before = reopened.snapshot()
    with pytest.raises(DuplicateOrderError, match="already placed order 2 on AAPL") as refused:
        reopened.submit(TICKER, market(TAKER, Side.BUY, SHARE)._replace(client_order_id="k-1"), unique=True)
    assert refused.value.order_id == taken.events[0].order_id == 2  # type: ignore[union-attr]
    assert refused.value.code == "duplicate_order"
    assert reopened.snapshot() == before
    # Another account's id, or the same id without `unique`, is a new order.
    assert isinstance(
        reopened.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE, client_order_id="k-1")).events[0],
        Accepted,
    )
    assert isinstance(
        reopened.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE, client_order_id="k-1")).events[0],
        Accepted,
    )


def test_a_refused_order_is_not_remembered_as_placed(exchange: Exchange) -> None:
    refused = exchange.submit(
        TICKER, limit(TAKER, Side.BUY, PRICE, SHARE + 1, client_order_id="r"), unique=True
    )
    assert isinstance(refused.events[0], Rejected)
    placed = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, SHARE, client_order_id="r"), unique=True)
    assert isinstance(placed.events[0], Accepted)


def test_a_unique_order_needs_a_client_order_id(exchange: Exchange) -> None:
    before = exchange.snapshot()
    with pytest.raises(ExchangeError, match="non-empty client order id"):
        exchange.submit(
            TICKER, limit(TAKER, Side.BUY, PRICE, SHARE)._replace(client_order_id=""), unique=True
        )
    assert exchange.snapshot() == before


def test_placed_orders_are_remembered_within_the_window(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CLIENT_ORDER_ID_WINDOW", 2)
    for number in range(3):
        exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE - number, SHARE, client_order_id=f"o-{number}"))
    # o-1 and o-2 are the last two placed; o-0 has left the window.
    with pytest.raises(DuplicateOrderError, match="order 2"):
        exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, SHARE, client_order_id="o-1"), unique=True)
    again = exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE, SHARE, client_order_id="o-0"), unique=True)
    assert isinstance(again.events[0], Accepted)


def test_trades_are_recorded_on_the_venue_tape(tmp_path: Path, status: Status, database: Database) -> None:
    database.migrate()
    tape = VenueTradeBook(database)
    start = datetime(2025, 3, 4, 15, tzinfo=UTC)
    exchange = open_exchange(tmp_path, status, tape=tape, clock=ManualClock(start))
    exchange.accounts.credit_deposit(MAKER, TICKER, SHARE, "m")
    exchange.accounts.credit_deposit(TAKER, USDC, 1_000 * DOLLARS, "t")
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, SHARE))
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))
    [trade] = tape.trades(TICKER, datetime(2025, 3, 4, tzinfo=UTC), start)
    assert (trade.venue, trade.trade_id, trade.price.units, trade.quantity.units) == (
        "exchange",
        "AAPL-1-2",
        100 * 10**8,
        SHARE,
    )


def test_after_a_split_the_tape_holds_share_prices_and_the_internal_policy_follows_the_share(
    tmp_path: Path, status: Status, database: Database
) -> None:
    """A 2:1 split doubles the multiplier and leaves the token's price: the tape halves it, as the
    share's close did, so pricing the closed market from our trades does not read the token as twice
    the share."""
    database.migrate()
    tape = VenueTradeBook(database)
    split_at = datetime(2025, 3, 4, 21, tzinfo=UTC)
    clock = ManualClock(datetime(2025, 3, 4, 15, tzinfo=UTC))

    def multipliers(ticker: str, at: datetime) -> Multiplier:
        return Multiplier(2 * MULTIPLIER_ONE if at >= split_at else MULTIPLIER_ONE)

    exchange = open_exchange(tmp_path, status, tape=tape, clock=clock, multipliers=multipliers)
    exchange.accounts.credit_deposit(MAKER, TICKER, 2 * SHARE, "m")
    exchange.accounts.credit_deposit(TAKER, USDC, 1_000 * DOLLARS, "t")
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, 2 * SHARE))
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))
    clock.set(split_at + timedelta(hours=1))
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))

    before, after = tape.trades(TICKER, datetime(2025, 3, 4, tzinfo=UTC), clock.now())
    assert (before.price.units, before.quantity.units) == (100 * 10**8, SHARE)
    assert (after.price.units, after.quantity.units) == (50 * 10**8, 2 * SHARE)
    # The share closed at $50 after the split; the token traded at $100 on our book since.
    close = Price.parse("50")
    terms = ClosedTerms(ClosedPolicy.INTERNAL, DEFAULT_BAND_BPS)
    assert ClosedPricing(tape).price(TICKER, terms, close, split_at, clock.now()) == close


def test_recent_trades_are_found_again_after_a_reopen(tmp_path: Path, status: Status) -> None:
    clock = ManualClock(datetime(2025, 3, 4, 15, tzinfo=UTC))
    exchange = open_exchange(tmp_path, status, clock=clock)
    exchange.accounts.credit_deposit(MAKER, TICKER, 10 * SHARE, "m")
    exchange.accounts.credit_deposit(TAKER, USDC, 10_000 * DOLLARS, "t")
    exchange.submit(TICKER, limit(MAKER, Side.SELL, PRICE, 3 * SHARE))
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))
    clock.advance(timedelta(minutes=5))
    status.value = MarketStatus.CLOSED
    exchange.submit(TICKER, market(TAKER, Side.BUY, SHARE))
    exchange.submit(TICKER, limit(TAKER, Side.BUY, PRICE - 1, SHARE))  # rests: no trade
    trades = exchange.recent_trades(TICKER)
    exchange.close()

    reopened = open_exchange(tmp_path, status, clock=clock)

    assert [(t.trade_id, t.at, t.status) for t in trades] == [
        ("AAPL-1-2", datetime(2025, 3, 4, 15, tzinfo=UTC), MarketStatus.OPEN),
        ("AAPL-1-3", datetime(2025, 3, 4, 15, 5, tzinfo=UTC), MarketStatus.CLOSED),
    ]
    assert reopened.recent_trades(TICKER) == trades


accounts_ids = st.integers(1, 3)
sides = st.sampled_from(Side)
prices = st.integers(9_990, 10_010)
quantities = st.integers(50, 400).map(lambda lots: lots * LOT)


class ExchangeMachine(RuleBasedStateMachine):
    """Random deposits, withdrawals and orders; the ledger must always balance."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="exchange-machine-"))
        self.status = Status()
        self.deposits = 0
        self.withdrawals = 0

    @initialize(stp=st.sampled_from(SelfTradePrevention), maker_fee_bps=st.integers(-5, 8))
    def open(self, stp: SelfTradePrevention, maker_fee_bps: int) -> None:
        self.book_rules = rules(stp, maker_fee_bps, 5)
        self.exchange = Exchange.open(
            self.directory, [self.book_rules], self.status, fsync=FsyncPolicy.PER_BATCH
        )

    def teardown(self) -> None:
        if hasattr(self, "exchange"):
            self.exchange.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    @rule(account=accounts_ids, usdc=st.booleans(), amount=st.integers(1, 2_000 * DOLLARS))
    def deposit(self, account: int, usdc: bool, amount: int) -> None:
        self.deposits += 1
        self.exchange.accounts.credit_deposit(account, USDC if usdc else TICKER, amount, f"d{self.deposits}")

    @rule(
        account=st.sampled_from([1, 2, 3, FEES_ACCOUNT]), usdc=st.booleans(), amount=st.integers(1, DOLLARS)
    )
    def withdraw(self, account: int, usdc: bool, amount: int) -> None:
        self.withdrawals += 1
        before = self.exchange.snapshot()
        try:
            self.exchange.accounts.request_withdrawal(
                account, USDC if usdc else TICKER, amount, f"w{self.withdrawals}"
            )
        except InsufficientFundsError:
            assert self.exchange.snapshot() == before

    @rule(
        account=accounts_ids, side=sides, price=prices, quantity=quantities, tif=st.sampled_from(TimeInForce)
    )
    def submit_limit(self, account: int, side: Side, price: int, quantity: int, tif: TimeInForce) -> None:
        self.send(lambda: self.exchange.submit(TICKER, limit(account, side, price, quantity, tif)))

    @rule(account=accounts_ids, side=sides, quantity=quantities)
    def submit_market(self, account: int, side: Side, quantity: int) -> None:
        self.send(lambda: self.exchange.submit(TICKER, market(account, side, quantity)))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        orders = self.exchange.book(TICKER).open_orders()
        if orders:
            order = data.draw(st.sampled_from(orders))
            self.send(lambda: self.exchange.cancel(TICKER, Cancel(order.account, order.order_id)))

    @rule(data=st.data(), price=prices, quantity=quantities)
    def amend(self, data: st.DataObject, price: int, quantity: int) -> None:
        orders = self.exchange.book(TICKER).open_orders()
        if orders:
            order = data.draw(st.sampled_from(orders))
            self.send(
                lambda: self.exchange.amend(TICKER, Amend(order.account, order.order_id, price, quantity))
            )

    @rule(halted=st.booleans())
    def set_status(self, halted: bool) -> None:
        self.status.value = MarketStatus.HALTED if halted else MarketStatus.OPEN

    def send(self, command: Callable[[], object]) -> None:
        before = self.exchange.snapshot()
        try:
            command()
        except (InsufficientFundsError, MarketHaltedError):
            assert self.exchange.snapshot() == before

    @invariant()
    def ledger_equals_deposits_minus_withdrawals(self) -> None:
        accounts = self.exchange.accounts
        for asset in (USDC, TICKER):
            assert accounts.total(asset) == accounts.deposited(asset) - accounts.withdrawn(asset)

    @invariant()
    def no_balance_is_negative(self) -> None:
        for balance in self.exchange.accounts.balances().values():
            assert balance.available >= 0
            assert balance.locked >= 0

    @invariant()
    def locked_funds_equal_what_open_orders_hold(self) -> None:
        for (account, asset), balance in self.exchange.accounts.balances().items():
            assert balance.locked == self.exchange.held(account, asset)

    @invariant()
    def replay_equals_live(self) -> None:
        self.exchange.sync()
        copy = Path(tempfile.mkdtemp(prefix="exchange-replay-")) / "copy"
        shutil.copytree(self.directory, copy)
        replayed = Exchange.open(copy, [self.book_rules], self.status, fsync=FsyncPolicy.PER_BATCH)
        try:
            assert replayed.snapshot() == self.exchange.snapshot()
        finally:
            replayed.close()
            shutil.rmtree(copy.parent, ignore_errors=True)


ExchangeMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestExchangeMachine = ExchangeMachine.TestCase


def test_a_share_class_symbol_trades_and_replays(tmp_path: Path, status: Status) -> None:
    brk = BookRules(InstrumentSpec("BRK.B", 9, CENT, LOT), 2, 5)
    exchange = Exchange.open(tmp_path, [brk], status, fsync=FsyncPolicy.PER_BATCH)
    exchange.accounts.credit_deposit(MAKER, "BRK.B", SHARE, "maker-brk")
    exchange.accounts.credit_deposit(TAKER, USDC, 1_000 * DOLLARS, "taker-usdc")
    exchange.submit("BRK.B", limit(MAKER, Side.SELL, 50_000, SHARE))
    assert [type(e) for e in exchange.submit("BRK.B", market(TAKER, Side.BUY, SHARE)).events] == [
        Accepted,
        Filled,
    ]
    live = exchange.snapshot()
    exchange.close()
    assert (tmp_path / "BRK.B.journal").exists()
    assert Exchange.open(tmp_path, [brk], status, fsync=FsyncPolicy.PER_BATCH).snapshot() == live


@pytest.mark.parametrize("symbol", ["../AAPL", "BRK.", ".B", "BRK B", "BRK.B.C", "ÄPL", "AAPL/2"])
def test_a_symbol_that_cannot_name_a_journal_is_refused(tmp_path: Path, symbol: str) -> None:
    bad = BookRules(InstrumentSpec(symbol, 9, CENT, LOT), 2, 5)
    with pytest.raises(ValueError, match="dotted share class"):
        Exchange.open(tmp_path / "exchange", [bad], Status(), fsync=FsyncPolicy.PER_BATCH)
    assert not (tmp_path / "exchange").exists()
