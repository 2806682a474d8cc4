"""The contract for difference: a 1x long on the CFD venue's account, priced off the underlying's
replayed price with the venue's spread, charged overnight financing at each session's close; splits
adjust positions, dividends are recorded and pay nothing (a CFD carries no shareholder rights)."""

from datetime import datetime

from equitoken.comparison.probes.base import REFUSALS, Delivery, Holding, Probe, RoundTrip, refusal
from equitoken.comparison.world import World
from equitoken.model.quantities import Price
from equitoken.venues.cfd import events as ev
from equitoken.venues.cfd.instruments import NOTIONAL_DIVISOR, CfdInstrument
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.cfd.venue import CfdVenue

HOLDING_USD = 10_000
DEPOSIT_USD = 10_000_000
TRADER = 1_000  # the account of round trips and orders; holdings use one account per instrument


class CfdProbe(Probe):
    model = "cfd"
    title = "CFD (1x long, broker-style venue)"

    def __init__(self) -> None:
        self.venue: CfdVenue | None = None
        self._accounts: dict[str, int] = {}
        self._charged: datetime | None = None
        self._splits_done: set[str] = set()
        self._dividends_done: set[str] = set()
        self.split_events: list[ev.Event] = []
        self.dividend_events: list[ev.Event] = []
        self.financing: dict[str, int] = {}
        self._orders = 0

    def _venue(self) -> CfdVenue:
        assert self.venue is not None
        return self.venue

    def setup(self, world: World) -> None:
        self.venue = CfdVenue.in_memory(
            [CfdInstrument(t, max_leverage=1) for t in world.tickers], world.clock, calendar=world.calendar
        )
        self._price(world)
        venue = self._venue()
        venue.deposit(TRADER, DEPOSIT_USD * 10**6, "compare-trader")
        for index, ticker in enumerate(world.tickers, start=1):
            self._accounts[ticker] = index
            venue.deposit(index, HOLDING_USD * 10**6, f"compare-{ticker}")
            venue.open_position(
                index, ticker, CfdSide.LONG, self._size(world, ticker, HOLDING_USD * 99 // 100), 1
            )
        self._charged = world.calendar.previous_session(world.clock.now()).close  # type: ignore[union-attr]

    def _size(self, world: World, ticker: str, usd: int) -> int:
        quote = self._venue().quote(ticker)
        assert quote is not None
        return usd * 10**6 * NOTIONAL_DIVISOR // quote.ask

    def _price(self, world: World) -> None:
        now = world.clock.now()
        for ticker in world.tickers:
            self._venue().on_price(ticker, world.share_price(ticker).units, world.status(), now)

    def tick(self, world: World) -> None:
        venue, now = self._venue(), world.clock.now()
        for split in world.period.splits:
            opens = world.calendar.session_on(split.first_day)
            due = split.ticker in world.tickers and opens is not None and now >= opens.open
            if due and split.ticker not in self._splits_done:
                self._splits_done.add(split.ticker)
                self.split_events += venue.on_split(split.ticker, split.new, split.old)
        for dividend in world.period.dividends:
            opens = world.calendar.session_on(dividend.ex_date)
            due = dividend.ticker in world.tickers and opens is not None and now >= opens.open
            if due and dividend.ticker not in self._dividends_done:
                self._dividends_done.add(dividend.ticker)
                self.dividend_events += venue.on_dividend(dividend.ticker, dividend.amount.units)
        self._price(world)
        last = world.calendar.previous_session(now)
        if last is not None and self._charged is not None and last.close > self._charged:
            self._charged = last.close
            for event in venue.on_session_close(now):
                if isinstance(event, ev.FinancingCharged):
                    self.financing[event.symbol] = self.financing.get(event.symbol, 0) + event.amount

    def mark(self, world: World, ticker: str) -> Price | None:
        quote = self._venue().quote(ticker)
        return Price(quote.mid) if quote is not None else None

    def holding(self, world: World, ticker: str) -> Holding:
        margin = self._venue().margin(self._accounts[ticker])
        positions = self._venue().positions(self._accounts[ticker])
        detail = ", ".join(
            f"{p.size / 10**18:,.4f} shares at {p.entry_price / 10**8:,.2f}" for p in positions
        )
        return Holding(margin.equity, 0, detail or "no position")

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        venue = self._venue()
        self._price(world)  # the venue takes a price at most 60 s old: feed it the current one
        before = venue.margin(TRADER).balance
        try:
            size = self._size(world, ticker, usd)
            opened = venue.open_position(TRADER, ticker, CfdSide.LONG, size, 1)
            position = next(e for e in opened if isinstance(e, ev.Opened))
            venue.close_position(TRADER, position.position_id)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = venue.margin(TRADER).balance
        exposure = size * world.share_price(ticker).units // NOTIONAL_DIVISOR
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            exposure=exposure,
            note="bought at the ask, sold at the bid; off-chain, no gas",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        self._price(world)
        try:
            self._venue().open_position(TRADER, ticker, CfdSide.LONG, self._size(world, ticker, usd), 1)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return Delivery(world.clock.now(), note="filled by the venue at once")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle
