"""The market maker on a real exchange, priced by a real quorum feed: the replayed week, then each rule.

The week (`tests/keepers/week.py`) checks the book against the oracle at every tick. The unit tests
start from the week's last state (Monday 2025-11-24 12:00, in session), open a fresh exchange in a
temporary directory whose status is the feed's, and rewind the chain afterwards.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.keepers.week import (
    BOOK_NOISE_ORDERS,
    HALF_SPREAD_CLOSED_BPS,
    HALF_SPREAD_OPEN_BPS,
    LEVEL_SIZE,
    LEVEL_SPACING_BPS,
    LEVELS,
    SHARE,
    FeedStatus,
    Market,
    Week,
    unix,
)
from tests.venues.exchange.builders import limit, market, rules

from equitoken.keepers.market_maker import MarketMaker, Quote
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.model.bps import BPS
from equitoken.model.quantities import Shares
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.orders import Side, TimeInForce
from equitoken.venues.exchange.venue import ExchangeVenue

TICK = 1_000_000  # $0.01 in 1e-8 dollars
MAKER = 7
TAKER = 8
TIGHT = 10
NEW_YORK = ZoneInfo("America/New_York")


def bid_ticks(answer: int, distance_bps: int) -> int:
    return answer * (BPS - distance_bps) // (BPS * TICK)


def ask_ticks(answer: int, distance_bps: int) -> int:
    return -(-answer * (BPS + distance_bps) // (BPS * TICK))


# The replayed week


def test_the_book_sits_at_the_half_spread_around_the_oracle_whenever_the_market_is_open(week: Week) -> None:
    open_ticks = [t for t in week.ticks if t.status is MarketStatus.OPEN]
    assert len(open_ticks) >= 5 * 13
    for t in open_ticks:
        # Exactly the oracle's answer moved by the half-spread, a bid rounded down and an ask up.
        assert t.book_after == (
            bid_ticks(t.oracle, HALF_SPREAD_OPEN_BPS),
            ask_ticks(t.oracle, HALF_SPREAD_OPEN_BPS),
        ), t
    tick_bps = TICK * BPS / min(t.oracle for t in open_ticks)
    summary = week.summary()
    assert summary["book_worst_open_bid_bps"] <= HALF_SPREAD_OPEN_BPS + tick_bps
    assert summary["book_worst_open_ask_bps"] <= HALF_SPREAD_OPEN_BPS + tick_bps
    assert summary["book_worst_open_mid_bps"] <= tick_bps / 2
    # The taker did eat into the book between the maker's ticks.
    assert summary["book_trades"] >= 100
    assert summary["book_worst_open_mid_before_bps"] > HALF_SPREAD_OPEN_BPS


def test_the_book_widens_to_the_closed_half_spread_outside_the_session(week: Week) -> None:
    closed = [t for t in week.ticks if t.status is MarketStatus.CLOSED]
    assert any(t.at.weekday() == 6 for t in closed)  # Sunday is in
    for t in closed:
        assert t.book_after == (
            bid_ticks(t.oracle, HALF_SPREAD_CLOSED_BPS),
            ask_ticks(t.oracle, HALF_SPREAD_CLOSED_BPS),
        ), t
        assert {q.half_spread_bps for q in t.maker.quoted} == {HALF_SPREAD_CLOSED_BPS}
    assert any(trade.status is MarketStatus.CLOSED for t in closed for trade in t.book_trades)


def test_nothing_rests_or_trades_on_the_book_during_the_halt(week: Week) -> None:
    halted = [t for t in week.ticks if t.status is MarketStatus.HALTED]
    assert len(halted) == 1
    (t,) = halted
    assert t.book_refused == BOOK_NOISE_ORDERS
    assert t.book_trades == []
    assert [r.reason for r in t.maker.refusals] == [RefusalReason.HALTED]
    assert t.maker.withdrawn == 2 * LEVELS
    assert t.book_after == (None, None)
    assert all(trade.status is not MarketStatus.HALTED for tick in week.ticks for trade in tick.book_trades)


def test_the_maker_is_never_refused_and_mostly_amends(week: Week) -> None:
    assert all(t.maker.rejected == () for t in week.ticks)
    quoted = [q for t in week.ticks for q in t.maker.quoted]
    assert max(q.submitted + q.amended + q.cancelled for q in quoted) <= 4 * LEVELS
    assert sum(q.amended for q in quoted) > sum(q.submitted for q in quoted)
    assert not any(RefusalReason.STALE in [r.reason for r in t.maker.refusals] for t in week.ticks)


# Each rule, on a fresh exchange


@dataclass
class Desk:
    market: Market
    exchange: Exchange
    venue: ExchangeVenue
    status: FeedStatus

    def maker(self, account: int = MAKER, **settings: object) -> MarketMaker:
        """Return a market maker for `account` with the week's settings, overridden by `settings`."""
        options: dict[str, object] = {
            "level_size": LEVEL_SIZE,
            "max_inventory": Shares(10_000 * SHARE),
            "levels": LEVELS,
            "half_spread_open_bps": HALF_SPREAD_OPEN_BPS,
            "half_spread_closed_bps": HALF_SPREAD_CLOSED_BPS,
            "level_spacing_bps": LEVEL_SPACING_BPS,
        }
        options.update(settings)
        return MarketMaker(
            self.venue,
            account,
            {"AAPL": self.market.feed.address},
            self.market.chain,
            **options,  # type: ignore[arg-type]
        )

    def fund(self, account: int, shares: int, dollars: int) -> None:
        if shares:
            self.venue.credit_deposit(account, "AAPL", shares * SHARE, f"{account}-AAPL-{shares}")
        if dollars:
            self.venue.credit_deposit(account, USDC, dollars * 10**6, f"{account}-USDC-{dollars}")

    def quotes(self, account: int = MAKER) -> tuple[list[Quote], list[Quote]]:
        orders = self.venue.open_orders(account, "AAPL")["AAPL"]
        bids = [Quote(o.side, o.price, o.quantity) for o in orders if o.side == Side.BUY]
        asks = [Quote(o.side, o.price, o.quantity) for o in orders if o.side == Side.SELL]
        return bids, asks

    def move_to(self, at_unix: int) -> None:
        """Publish the oracle's round for `at_unix` and show its status to the exchange."""
        self.market.chain.set_next_block_timestamp(at_unix)
        self.market.transmitter.tick()
        self.status.refresh()


@pytest.fixture
def desk(after_week: Market, tmp_path: Path) -> Desk:
    status = FeedStatus(after_week.feed)
    status.refresh()
    exchange = Exchange.open(
        tmp_path / "exchange", [rules(maker_fee_bps=0, taker_fee_bps=5)], status, fsync=FsyncPolicy.PER_BATCH
    )
    desk = Desk(after_week, exchange, ExchangeVenue(exchange), status)
    desk.fund(MAKER, 1_000, 300_000)
    desk.fund(TAKER, 1_000, 300_000)
    desk.fund(TIGHT, 1_000, 300_000)
    return desk


def test_quotes_every_level_around_the_oracle_price(desk: Desk) -> None:
    answer, status = desk.market.answer()
    assert status is MarketStatus.OPEN

    report = desk.maker().tick()

    assert report.refusals == ()
    assert report.rejected == ()
    (quoted,) = report.quoted
    assert (quoted.submitted, quoted.amended, quoted.cancelled) == (2 * LEVELS, 0, 0)
    bids, asks = desk.quotes()
    size = LEVEL_SIZE.units  # a 9-decimal token: shares units are token units
    distances = [HALF_SPREAD_OPEN_BPS + i * LEVEL_SPACING_BPS for i in range(LEVELS)]
    assert bids == [Quote(Side.BUY, bid_ticks(answer, d), size) for d in distances]
    assert asks == [Quote(Side.SELL, ask_ticks(answer, d), size) for d in distances]
    assert list(quoted.bids) == bids
    assert list(quoted.asks) == asks


def test_a_restarted_maker_sends_nothing_when_its_quotes_are_right(desk: Desk) -> None:
    desk.maker().tick()

    report = desk.maker().tick()

    assert report.commands == 0


def test_refills_a_taken_level_with_one_command(desk: Desk) -> None:
    maker = desk.maker()
    maker.tick()
    taken = LEVEL_SIZE.units // 2
    outcome = desk.venue.submit("AAPL", market(TAKER, Side.BUY, taken))
    assert sum(t.fill.quantity for t in outcome.trades) == taken

    report = maker.tick()

    (quoted,) = report.quoted
    assert (quoted.submitted, quoted.amended, quoted.cancelled) == (0, 1, 0)  # the best ask grows back
    _, asks = desk.quotes()
    assert {q.quantity for q in asks} == {LEVEL_SIZE.units}


def test_follows_a_small_move_with_amendments_and_a_large_one_by_cancelling(desk: Desk) -> None:
    # The feed publishes a move within the hour only past its deviation (50 bps): quote wider than that.
    wide_bps = 100
    maker = desk.maker(half_spread_open_bps=wide_bps, half_spread_closed_bps=wide_bps)
    tight = desk.maker(TIGHT, half_spread_open_bps=1, levels=1)  # quotes one basis point wide
    maker.tick()
    tight.tick()
    before, _ = desk.market.answer()
    desk.move_to(desk.market.chain.timestamp() + 1_800)
    after, status = desk.market.answer()
    assert status is MarketStatus.OPEN
    moved_bps = abs(after - before) * BPS / before
    # The replay's 30-minute move: inside the wide maker's spread, across the tight one's.
    assert 2 < moved_bps < wide_bps

    wide = maker.tick().quoted[0]
    crossed = tight.tick().quoted[0]

    assert (wide.submitted, wide.cancelled) == (0, 0)
    assert 0 < wide.amended <= 2 * LEVELS
    assert desk.quotes()[0][0].price == bid_ticks(after, wide_bps)
    assert (crossed.submitted, crossed.amended, crossed.cancelled) == (2, 0, 2)
    assert desk.quotes(TIGHT) == (
        [Quote(Side.BUY, bid_ticks(after, 1), LEVEL_SIZE.units)],
        [Quote(Side.SELL, ask_ticks(after, 1), LEVEL_SIZE.units)],
    )


def test_widens_when_the_market_is_closed(desk: Desk) -> None:
    maker = desk.maker()
    maker.tick()
    desk.move_to(unix(datetime(2025, 11, 24, 18, 0, tzinfo=NEW_YORK)))
    answer, status = desk.market.answer()
    assert status is MarketStatus.CLOSED

    report = maker.tick()

    (quoted,) = report.quoted
    assert quoted.half_spread_bps == HALF_SPREAD_CLOSED_BPS
    bids, asks = desk.quotes()
    assert bids[0].price == bid_ticks(answer, HALF_SPREAD_CLOSED_BPS)
    assert asks[0].price == ask_ticks(answer, HALF_SPREAD_CLOSED_BPS)
    assert report.rejected == ()


def test_withdraws_every_quote_on_a_stale_round(desk: Desk) -> None:
    updated_at = int(desk.market.feed.latestRoundStatus()[3])
    max_age = desk.market.chain.timestamp() - updated_at + 60
    maker = desk.maker(max_age=max_age)
    assert maker.tick().quoted != ()
    desk.market.chain.set_next_block_timestamp(updated_at + max_age + 1)
    desk.market.chain.mine()

    report = maker.tick()

    assert report.quoted == ()
    assert [r.reason for r in report.refusals] == [RefusalReason.STALE]
    assert f"s old (max {max_age})" in report.refusals[0].detail
    assert report.withdrawn == 2 * LEVELS
    assert desk.quotes() == ([], [])
    assert desk.exchange.accounts.balance(MAKER, USDC).locked == 0


def test_skews_for_inventory_and_quotes_only_what_it_holds(desk: Desk) -> None:
    desk.fund(MAKER + 10, 30, 0)  # another account, so the maker's balances stay as funded
    # The maker holds 1,000 shares; it may grow to 1,030, and sell at most what it has.
    maker = desk.maker(max_inventory=Shares(1_030 * SHARE))

    maker.tick()

    bids, asks = desk.quotes()
    assert [q.quantity for q in bids] == [20 * SHARE, 10 * SHARE]  # 30 shares of room
    assert [q.quantity for q in asks] == [20 * SHARE] * LEVELS
    # Selling into its bids fills the room: the next tick stops bidding at all.
    desk.venue.submit("AAPL", market(TAKER, Side.SELL, 30 * SHARE))
    maker.tick()
    bids, asks = desk.quotes()
    assert bids == []
    assert len(asks) == LEVELS


def test_never_bids_more_than_its_usdc_can_hold(desk: Desk) -> None:
    answer, _ = desk.market.answer()
    poor = 9
    dollars = 30 * answer // 10**8  # enough for one level and a half
    desk.fund(poor, 0, dollars)
    maker = MarketMaker(
        desk.venue,
        poor,
        {"AAPL": desk.market.feed.address},
        desk.market.chain,
        level_size=LEVEL_SIZE,
        max_inventory=Shares(10_000 * SHARE),
        levels=LEVELS,
    )

    report = maker.tick()

    assert report.rejected == ()
    orders = desk.venue.open_orders(poor, "AAPL")["AAPL"]
    assert [o.side for o in orders] == [Side.BUY, Side.BUY]  # no tokens: no asks
    assert orders[0].quantity == LEVEL_SIZE.units
    assert 0 < orders[1].quantity < LEVEL_SIZE.units
    balance = desk.exchange.accounts.balance(poor, USDC)
    assert balance.available >= 0
    assert balance.locked <= dollars * 10**6


def test_never_crosses_another_accounts_resting_order(desk: Desk) -> None:
    answer, _ = desk.market.answer()
    # The taker bids 12 bps above the oracle, past where the maker's best ask would sit.
    high_bid = ask_ticks(answer, 12)
    desk.venue.submit("AAPL", limit(TAKER, Side.BUY, high_bid, 5 * SHARE, TimeInForce.GTC))

    report = desk.maker().tick()

    assert report.rejected == ()
    _, asks = desk.quotes()
    assert asks[0].price == high_bid + 1
    best_bid, best_ask = desk.venue.best("AAPL")
    assert best_bid is not None
    assert best_ask is not None
    assert best_bid < best_ask


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("levels", 0, "levels must be an integer 1 to 50, not 0"),
        ("half_spread_open_bps", 0, "half_spread_open_bps must be an integer 1 to 9999"),
        ("half_spread_closed_bps", 5, "half_spread_closed_bps must be an integer 10 to 9999, not 5"),
        ("max_age", 0, "max_age must be an integer 1 to"),
        ("level_size", Shares(10), "level_size .* is less than one lot"),
        ("level_size", Shares(0), "level_size must be positive"),
        ("max_inventory", Shares(-1), "max_inventory must not be negative"),
    ],
)
def test_refuses_bad_settings_naming_them(desk: Desk, setting: str, value: object, message: str) -> None:
    with pytest.raises(KeeperConfigError, match=message):
        desk.maker(MAKER, **{setting: value})


def test_refuses_a_ticker_the_exchange_does_not_trade(desk: Desk) -> None:
    with pytest.raises(KeeperConfigError, match="the venue has no book for MSFT"):
        MarketMaker(
            desk.venue,
            MAKER,
            {"MSFT": desk.market.feed.address},
            desk.market.chain,
            level_size=LEVEL_SIZE,
            max_inventory=LEVEL_SIZE,
        )
