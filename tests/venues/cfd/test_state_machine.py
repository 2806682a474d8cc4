"""Random deposits, trades, price moves, gaps across closes, financing and splits against a journaled venue.

Named invariants: equity is never below zero after a command, every account is at or above the
stop-out level (or flat), each stop-out close and write-off follows its recorded `StopOut`, USDC
is conserved, and the journal replays to the same state.
"""

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.engine import HOUSE_ACCOUNT
from equitoken.venues.cfd.errors import CfdError
from equitoken.venues.cfd.events import BalanceReset, Closed, Event, StopOut
from equitoken.venues.cfd.instruments import SIZE_ONE, CfdInstrument
from equitoken.venues.cfd.positions import CfdSide, CloseReason
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.journal import FsyncPolicy

from .builders import FRIDAY_OPEN, price, usdc

SYMBOLS = ("AAPL", "TSLA")
TERMS = [CfdInstrument("AAPL", max_leverage=5), CfdInstrument("TSLA", max_leverage=20, spread_bps=30)]
STOP_OUT_BPS = 5_000
accounts = st.integers(0, 3)
symbols = st.sampled_from(SYMBOLS)
moves_bps = st.integers(-4_000, 4_000)
gaps_bps = st.one_of(moves_bps, st.integers(-9_000, -5_000), st.integers(5_000, 15_000))


class CfdMachine(RuleBasedStateMachine):
    """Drive a journaled venue; check its invariants after every step and its replay at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="cfd-machine-"))
        self.path = self.directory / "cfd.journal"
        self.clock = ManualClock(FRIDAY_OPEN - timedelta(days=4))  # Monday 2 June 2025, 11:00
        self.venue = CfdVenue.start(self.path, TERMS, self.clock, fsync=FsyncPolicy.PER_BATCH)
        self.calendar = self.venue.engine.calendar
        self.mids = {symbol: price(100) for symbol in SYMBOLS}
        self.deposits = 0

    @initialize()
    def first_prices_and_deposits(self) -> None:
        for symbol in SYMBOLS:
            self._mark(symbol, MarketStatus.OPEN)
        for account in range(3):
            self.venue.deposit(account, usdc(1_000), f"start-{account}")

    # Rules

    @rule(account=accounts, dollars=st.integers(1, 5_000))
    def deposit(self, account: int, dollars: int) -> None:
        self.deposits += 1
        self._run(lambda: self.venue.deposit(account, usdc(dollars), f"d{self.deposits}"))

    @rule(account=accounts, percent=st.integers(1, 120))
    def withdraw(self, account: int, percent: int) -> None:
        self.deposits += 1
        if account in self.venue.engine.accounts_known():
            amount = max(1, self.venue.margin(account).free_margin * percent // 100)
        else:
            amount = 1
        self._run(lambda: self.venue.withdraw(account, amount, f"w{self.deposits}"))

    @rule(
        account=accounts,
        symbol=symbols,
        side=st.sampled_from(CfdSide),
        hundredths=st.integers(1, 5_000),
        leverage=st.one_of(st.none(), st.integers(1, 25)),
    )
    def open(self, account: int, symbol: str, side: CfdSide, hundredths: int, leverage: int | None) -> None:
        self._mark(symbol, MarketStatus.OPEN)
        size = hundredths * SIZE_ONE // 100
        self._run(lambda: self.venue.open_position(account, symbol, side, size, leverage))

    @rule(account=accounts, pick=st.integers(0, 10), percent=st.integers(1, 110))
    def close(self, account: int, pick: int, percent: int) -> None:
        held = self.venue.engine.positions(account) if account in self.venue.engine.accounts_known() else []
        if not held:
            self._run(lambda: self.venue.close_position(account, 10_000))
            return
        position = held[pick % len(held)]
        self._mark(position.symbol, MarketStatus.OPEN)
        size = max(1, position.size * percent // 100)
        self._run(lambda: self.venue.close_position(account, position.position_id, size))

    @rule(symbol=symbols, move=moves_bps, minutes=st.integers(0, 30))
    def move_price(self, symbol: str, move: int, minutes: int) -> None:
        session = self.calendar.next_session(self.clock.now())
        later = self.clock.now() + timedelta(minutes=minutes)
        if later < session.close:
            self.clock.set(later)
        self.mids[symbol] = max(1, self.mids[symbol] * (10_000 + move) // 10_000)
        self._mark(symbol, MarketStatus.OPEN)

    @rule(gaps=st.tuples(gaps_bps, gaps_bps))
    def session_close_and_gap(self, gaps: tuple[int, int]) -> None:
        session = self.calendar.next_session(self.clock.now())
        self.clock.set(session.close + timedelta(minutes=30))
        for symbol in SYMBOLS:
            self._mark(symbol, MarketStatus.CLOSED)
        self._run(self.venue.on_session_close)
        self.clock.set(self.calendar.next_open(self.clock.now()) + timedelta(minutes=1))
        for symbol, gap in zip(SYMBOLS, gaps, strict=True):
            self.mids[symbol] = max(1, self.mids[symbol] * (10_000 + gap) // 10_000)
            self._mark(symbol, MarketStatus.OPEN)

    @rule(symbol=symbols, ratio=st.sampled_from([(2, 1), (3, 1), (1, 2), (3, 2), (1, 10)]))
    def split(self, symbol: str, ratio: tuple[int, int]) -> None:
        numerator, denominator = ratio
        self._run(lambda: self.venue.on_split(symbol, numerator, denominator))
        self.mids[symbol] = max(1, self.mids[symbol] * denominator // numerator)

    @rule(symbol=symbols)
    def halt_and_resume(self, symbol: str) -> None:
        self._mark(symbol, MarketStatus.HALTED)
        self._run(lambda: self.venue.open_position(0, symbol, CfdSide.LONG, SIZE_ONE))
        self._mark(symbol, MarketStatus.OPEN)

    # Invariants

    @invariant()
    def equity_never_below_zero_without_a_recorded_stop_out(self) -> None:
        for account in self.venue.engine.accounts_known():
            assert self.venue.margin(account).equity >= 0, account

    @invariant()
    def every_account_at_or_above_the_stop_out_level(self) -> None:
        for account in self.venue.engine.accounts_known():
            level = self.venue.margin(account).level_bps
            assert level is None or level >= STOP_OUT_BPS, (account, level)

    @invariant()
    def usdc_is_conserved(self) -> None:
        accounts = self.venue.engine.accounts
        assert accounts.total(USDC) == accounts.deposited(USDC) - accounts.withdrawn(USDC)
        house = accounts.balance(HOUSE_ACCOUNT, USDC).available
        assert sum(self.venue.margin(a).balance for a in self.venue.engine.accounts_known()) + house == (
            accounts.deposited(USDC) - accounts.withdrawn(USDC)
        )

    def teardown(self) -> None:
        try:
            state = self.venue.snapshot()
            self.venue.close()
            restarted = CfdVenue.start(self.path, TERMS, self.clock, fsync=FsyncPolicy.PER_BATCH)
            assert restarted.snapshot() == state
            restarted.close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    # Helpers

    def _mark(self, symbol: str, status: MarketStatus) -> None:
        self._check(self.venue.on_price(symbol, self.mids[symbol], status, self.clock.now()))

    def _run(self, command: object) -> None:
        before = self.venue.snapshot()
        try:
            events = command()  # type: ignore[operator]
        except CfdError as error:
            event(f"refused: {type(error).__name__}")
            assert self.venue.snapshot() == before
            return
        self._check(events)

    def _check(self, events: list[Event]) -> None:
        stopped: set[int] = set()
        for e in events:
            if isinstance(e, StopOut):
                event("stop-out" if e.equity >= 0 else "stop-out below zero")
                stopped.add(e.account)
            elif (isinstance(e, Closed) and e.reason == CloseReason.STOP_OUT) or isinstance(e, BalanceReset):
                assert e.account in stopped, f"{e} without a recorded StopOut"


CfdMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCfdMachine = CfdMachine.TestCase
