"""The market-maker keeper: rest post-only quotes on the order book around the oracle's price.

Each `tick` reads, per ticker, the feed's latest round (`latestRoundStatus`). The oracle-safety rule
comes first: on a round older than `max_age`, a HALTED round or a non-positive answer the keeper
quotes nothing and cancels every quote it has resting, and the refusal names why.

Otherwise it wants `levels` bids and `levels` asks. Level `i` (0 for the best) sits
`half_spread + i·level_spacing` basis points from the oracle's answer, with the open half-spread
while the market is open and the wider closed one otherwise. The feed's answer (10^-8 dollar per
whole token) becomes book ticks exactly: a bid is rounded down to a tick, an ask up, so a quote is
never inside its stated spread. Each level is `level_size`, cut down by:
- inventory: the bids together never buy more than would take the keeper's token position past
  `max_inventory`, and the asks never sell more tokens than it has;
- funds: the bids together never hold more USDC than the keeper has (available plus what its
  resting bids already hold, at the engine's own per-lot hold with fees), so the exchange never
  refuses a quote for funds;
- the book: a level under the minimum notional is dropped, and no quote reaches the other
  accounts' best price on the opposite side, so a post-only quote never crosses.

The keeper moves what it has resting towards what it wants with `Amend` (same side and rank),
sending nothing for a level already right and cancelling or submitting only the difference. Holds
that shrink go first, so every hold that grows is covered. When the new quotes would cross one of
its own resting orders (the price moved across the spread), it cancels everything and submits anew.
The keeper keeps no state between ticks: its quotes are read back from the venue, so a restarted
keeper carries on from what rests. It trades through `ExchangeVenue` (typed here as `TradingVenue`),
the same locked front the API uses, so it can run beside other traders.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.keepers.oracle_round import UnsafeRoundError, read_safe_round
from equitoken.keepers.rules import KeeperConfigError, Refusal, RefusalReason
from equitoken.model.bps import BPS, fee_on
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Price, Shares
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import USDC, Balance
from equitoken.venues.exchange.book import DepthLevel, OpenOrder
from equitoken.venues.exchange.engine import MarketHaltedError, Outcome
from equitoken.venues.exchange.events import Rejected
from equitoken.venues.exchange.orders import Amend, Cancel, OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.rules import MAX_PRICE_TICKS, BookRules

__all__ = ["MakerReport", "MarketMaker", "Quote", "QuoteSet", "TradingVenue"]

DEFAULT_HALF_SPREAD_OPEN_BPS = 10
DEFAULT_HALF_SPREAD_CLOSED_BPS = 50
DEFAULT_LEVEL_SPACING_BPS = 5
DEFAULT_MAX_AGE = 7_200

_log = logging.getLogger(__name__)


class TradingVenue(Protocol):
    """What the keeper trades through: `ExchangeVenue` (or anything with the same methods)."""

    def submit(self, ticker: str, command: Submit) -> Outcome:
        """Send a new order."""
        ...

    def cancel(self, ticker: str, command: Cancel) -> Outcome:
        """Cancel an open order."""
        ...

    def amend(self, ticker: str, command: Amend) -> Outcome:
        """Change an open order's price or quantity."""
        ...

    def rules(self, ticker: str) -> BookRules:
        """Return `ticker`'s book rules."""
        ...

    def levels(self, ticker: str, depth: int = ...) -> tuple[list[DepthLevel], list[DepthLevel]]:
        """Return up to `depth` aggregated bid and ask levels, best first."""
        ...

    def open_orders(self, account: int, ticker: str | None = None) -> dict[str, list[OpenOrder]]:
        """Return `account`'s open orders per ticker."""
        ...

    def balances(self, account: int) -> dict[str, Balance]:
        """Return `account`'s balance of every asset."""
        ...


class Quote(NamedTuple):
    """One order the keeper wants resting: price in ticks, quantity in token units."""

    side: Side
    price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class QuoteSet:
    """What the keeper quoted for one ticker this tick, the round it priced from, and what it sent."""

    ticker: str
    round_id: int
    oracle_price: Price
    status: MarketStatus
    half_spread_bps: int
    bids: tuple[Quote, ...]
    asks: tuple[Quote, ...]
    submitted: int
    amended: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class MakerReport:
    """One tick: the tickers quoted, those withdrawn from (and why), and any command the venue refused.

    `withdrawn` counts the quotes cancelled because a ticker was refused.
    """

    quoted: tuple[QuoteSet, ...]
    refusals: tuple[Refusal, ...]
    rejected: tuple[Rejected, ...]
    withdrawn: int

    @property
    def commands(self) -> int:
        """Return how many commands the tick sent for the quoted tickers."""
        return sum(q.submitted + q.amended + q.cancelled for q in self.quoted)


class _Counts:
    __slots__ = ("amended", "cancelled", "rejected", "submitted")

    def __init__(self) -> None:
        self.submitted = 0
        self.amended = 0
        self.cancelled = 0
        self.rejected: list[Rejected] = []


class MarketMaker:
    """Quote each ticker's book from `account` around its oracle price, wider when the market is closed."""

    def __init__(
        self,
        venue: TradingVenue,
        account: int,
        feeds: Mapping[str, str],
        chain: EvmChain,
        *,
        level_size: Shares,
        max_inventory: Shares,
        levels: int = 3,
        half_spread_open_bps: int = DEFAULT_HALF_SPREAD_OPEN_BPS,
        half_spread_closed_bps: int = DEFAULT_HALF_SPREAD_CLOSED_BPS,
        level_spacing_bps: int = DEFAULT_LEVEL_SPACING_BPS,
        max_age: int = DEFAULT_MAX_AGE,
    ) -> None:
        for name, value, low, high in (
            ("account", account, 0, 2**63 - 1),
            ("levels", levels, 1, 50),
            ("half_spread_open_bps", half_spread_open_bps, 1, BPS - 1),
            ("half_spread_closed_bps", half_spread_closed_bps, half_spread_open_bps, BPS - 1),
            ("level_spacing_bps", level_spacing_bps, 0, BPS - 1),
            ("max_age", max_age, 1, 2**40),
        ):
            if type(value) is not int or not low <= value <= high:
                raise KeeperConfigError(f"{name} must be an integer {low} to {high}, not {value!r}")
        widest = half_spread_closed_bps + (levels - 1) * level_spacing_bps
        if widest >= BPS:
            raise KeeperConfigError(f"the widest level is {widest} bps from the price; keep it below {BPS}")
        if level_size.units <= 0:
            raise KeeperConfigError(f"level_size must be positive, not {level_size}")
        if max_inventory.units < 0:
            raise KeeperConfigError(f"max_inventory must not be negative, not {max_inventory}")
        if not feeds:
            raise KeeperConfigError("the market maker needs at least one ticker's feed")
        self.venue = venue
        self.account = account
        self.chain = chain
        self.levels = levels
        self.half_spread_open_bps = half_spread_open_bps
        self.half_spread_closed_bps = half_spread_closed_bps
        self.level_spacing_bps = level_spacing_bps
        self.max_age = max_age
        self.level_size = level_size
        self.max_inventory = max_inventory
        feed_artifact = compile_contract("oracle/PriceFeed.vy")
        self._feeds: dict[str, Contract] = {}
        self._rules: dict[str, BookRules] = {}
        self._level_units: dict[str, int] = {}
        self._max_inventory_units: dict[str, int] = {}
        for ticker, address in feeds.items():
            try:
                rules = venue.rules(ticker)
            except UnknownInstrumentError as error:
                raise KeeperConfigError(f"the venue has no book for {ticker}: {error}") from None
            instrument = rules.instrument
            decimals = instrument.token_decimals
            size = level_size.floor_to_token_units(decimals) // instrument.lot * instrument.lot
            if size <= 0:
                raise KeeperConfigError(
                    f"level_size {level_size} is less than one lot ({instrument.lot} units) of {ticker}"
                )
            self._rules[ticker] = rules
            self._level_units[ticker] = size
            self._max_inventory_units[ticker] = max_inventory.floor_to_token_units(decimals)
            self._feeds[ticker] = chain.at(address, feed_artifact, f"{ticker} feed")

    def tick(self) -> MakerReport:
        """Bring every ticker's resting quotes to the oracle price now, or withdraw them when unsafe."""
        quoted: list[QuoteSet] = []
        refusals: list[Refusal] = []
        rejected: list[Rejected] = []
        withdrawn = 0
        for ticker in self._feeds:
            counts = _Counts()
            refusal, quote_set = self._tick_ticker(ticker, counts)
            rejected.extend(counts.rejected)
            if refusal is not None:
                withdrawn += counts.cancelled
                _log.info("market maker withdraws from %s: %s (%s)", ticker, refusal.detail, refusal.reason)
                refusals.append(refusal)
            if quote_set is not None:
                quoted.append(quote_set)
        return MakerReport(tuple(quoted), tuple(refusals), tuple(rejected), withdrawn)

    def quotes(self, ticker: str) -> list[OpenOrder]:
        """Return the keeper's orders resting in `ticker`'s book."""
        return self.venue.open_orders(self.account, ticker).get(ticker, [])

    def _tick_ticker(self, ticker: str, counts: _Counts) -> tuple[Refusal | None, QuoteSet | None]:
        try:
            latest = read_safe_round(self._feeds[ticker], self.chain.timestamp("pending"), self.max_age)
        except UnsafeRoundError as unsafe:
            self._withdraw(ticker, counts)
            return Refusal(ticker, RefusalReason(unsafe.reason), unsafe.detail), None
        status = latest.status
        half_spread = (
            self.half_spread_open_bps if status == MarketStatus.OPEN else self.half_spread_closed_bps
        )
        resting = self.quotes(ticker)
        bids, asks = self._wanted(ticker, latest.answer, half_spread, resting)
        try:
            self._move(ticker, resting, bids, asks, counts)
        except MarketHaltedError as error:
            # The venue itself refused (e.g. it sees the market halted before the feed does): step back.
            self._withdraw(ticker, counts)
            return Refusal(
                ticker, RefusalReason.VENUE_REFUSED, f"the exchange refused a quote: {error}"
            ), None
        quote_set = QuoteSet(
            ticker,
            latest.round_id,
            Price(latest.answer),
            status,
            half_spread,
            tuple(bids),
            tuple(asks),
            counts.submitted,
            counts.amended,
            counts.cancelled,
        )
        return None, quote_set

    def _wanted(
        self, ticker: str, answer: int, half_spread: int, resting: Sequence[OpenOrder]
    ) -> tuple[list[Quote], list[Quote]]:
        rules = self._rules[ticker]
        instrument = rules.instrument
        tick = instrument.tick.units
        lot = instrument.lot
        size = self._level_units[ticker]
        others_bid, others_ask = self._others_best(ticker, resting)
        balances = self.venue.balances(self.account)
        tokens = balances.get(ticker, Balance(0, 0))
        cash = balances.get(USDC, Balance(0, 0))
        held_by_bids = sum(
            o.quantity // lot * self._bid_hold_per_lot(rules, o.price) for o in resting if o.side == Side.BUY
        )
        # Locked USDC beyond our own bids' holds belongs to nothing we can move; count only ours.
        usdc_budget = cash.available + held_by_bids
        token_budget = tokens.available + sum(o.quantity for o in resting if o.side == Side.SELL)
        buy_room = max(0, self._max_inventory_units[ticker] - tokens.total)
        bids: list[Quote] = []
        asks: list[Quote] = []
        for level in range(self.levels):
            distance = half_spread + level * self.level_spacing_bps
            bid_price = min(answer * (BPS - distance) // (BPS * tick), others_ask - 1)
            quantity = min(size, buy_room) // lot * lot
            per_lot = self._bid_hold_per_lot(rules, bid_price)
            quantity = min(quantity, usdc_budget // per_lot * lot if per_lot else 0)
            if (
                bid_price > 0
                and quantity > 0
                and instrument.notional(bid_price, quantity) >= rules.min_notional
            ):
                bids.append(Quote(Side.BUY, bid_price, quantity))
                buy_room -= quantity
                usdc_budget -= quantity // lot * per_lot
            ask_price = max(-(-answer * (BPS + distance) // (BPS * tick)), others_bid + 1)
            quantity = min(size, token_budget) // lot * lot
            if (
                ask_price <= MAX_PRICE_TICKS
                and quantity > 0
                and instrument.notional(ask_price, quantity) >= rules.min_notional
            ):
                asks.append(Quote(Side.SELL, ask_price, quantity))
                token_budget -= quantity
        return bids, asks

    def _others_best(self, ticker: str, resting: Sequence[OpenOrder]) -> tuple[int, int]:
        # Our quotes fill at most `levels` price levels a side, so one more level shows the others' best.
        own: dict[tuple[Side, int], int] = {}
        for order in resting:
            own[order.side, order.price] = own.get((order.side, order.price), 0) + order.quantity
        bid_levels, ask_levels = self.venue.levels(ticker, len(resting) + 1)
        others_bid = next(
            (level.price for level in bid_levels if level.quantity > own.get((Side.BUY, level.price), 0)), 0
        )
        others_ask = next(
            (level.price for level in ask_levels if level.quantity > own.get((Side.SELL, level.price), 0)),
            MAX_PRICE_TICKS + 1,
        )
        return others_bid, others_ask

    @staticmethod
    def _bid_hold_per_lot(rules: BookRules, price: int) -> int:
        # The engine's hold for one lot of a bid: its value plus the highest fee it may pay, rounded up.
        lot_value = price * rules.instrument.usdc_per_tick_lot
        fee_bps = max(rules.maker_fee_bps, rules.taker_fee_bps, 0)
        return lot_value + fee_on(lot_value, fee_bps)

    def _move(
        self,
        ticker: str,
        resting: Sequence[OpenOrder],
        bids: Sequence[Quote],
        asks: Sequence[Quote],
        counts: _Counts,
    ) -> None:
        own_bids = sorted((o for o in resting if o.side == Side.BUY), key=lambda o: -o.price)
        own_asks = sorted((o for o in resting if o.side == Side.SELL), key=lambda o: o.price)
        lowest_own_ask = min((o.price for o in own_asks), default=MAX_PRICE_TICKS + 1)
        highest_own_bid = max((o.price for o in own_bids), default=0)
        crosses = any(q.price >= lowest_own_ask for q in bids) or any(
            q.price <= highest_own_bid for q in asks
        )
        if crosses:
            self._withdraw(ticker, counts)
            own_bids, own_asks = [], []
        rules = self._rules[ticker]
        # (hold change, order) per step: holds that shrink go first so every growing one is covered.
        steps: list[tuple[int, OpenOrder | None, Quote | None]] = []
        for own, wanted in ((own_bids, bids), (own_asks, asks)):
            for index in range(max(len(own), len(wanted))):
                order = own[index] if index < len(own) else None
                quote = wanted[index] if index < len(wanted) else None
                if order is not None and quote is not None and (order.price, order.quantity) == quote[1:]:
                    continue
                before = 0 if order is None else self._hold(rules, order.side, order.price, order.quantity)
                after = 0 if quote is None else self._hold(rules, quote.side, quote.price, quote.quantity)
                steps.append((after - before, order, quote))
        steps.sort(key=lambda step: step[0])
        for _, order, quote in steps:
            if quote is None:
                assert order is not None
                self._send(counts, "cancel", self.venue.cancel(ticker, Cancel(self.account, order.order_id)))
            elif order is None:
                command = Submit(
                    self.account,
                    f"mm-{quote.side.name.lower()}-{quote.price}",
                    quote.side,
                    OrderType.LIMIT,
                    quote.price,
                    quote.quantity,
                    TimeInForce.GTC,
                    True,
                )
                self._send(counts, "submit", self.venue.submit(ticker, command))
            else:
                amend = Amend(self.account, order.order_id, quote.price, quote.quantity)
                self._send(counts, "amend", self.venue.amend(ticker, amend))

    @staticmethod
    def _hold(rules: BookRules, side: Side, price: int, quantity: int) -> int:
        if side == Side.SELL:
            return quantity
        return quantity // rules.instrument.lot * MarketMaker._bid_hold_per_lot(rules, price)

    def _withdraw(self, ticker: str, counts: _Counts) -> None:
        for order in self.quotes(ticker):
            self._send(counts, "cancel", self.venue.cancel(ticker, Cancel(self.account, order.order_id)))

    @staticmethod
    def _send(counts: _Counts, kind: str, outcome: Outcome) -> None:
        refused = [e for e in outcome.events if isinstance(e, Rejected)]
        if refused:
            counts.rejected.extend(refused)
            return
        if kind == "cancel":
            counts.cancelled += 1
        elif kind == "amend":
            counts.amended += 1
        else:
            counts.submitted += 1
