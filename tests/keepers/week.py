"""One replayed week of AAPL (2025-11-17 to 2025-11-24, a weekend in it) with both venues and their keepers.

A real issuance (AAPL, secure-minted), test USDC, the AMM, and AAPL's quorum `PriceFeed` driven by
the oracle's `Transmitter` with four in-process `Reporter`s over the replayed prices (quorum 3, a
20-minute halt on the Tuesday). Beside the AMM runs the order-book `Exchange` (its market status is
the feed's), where the market maker quotes from account `MAKER` and a taker sends random orders.

Every 30 minutes in session (every `CLOSED_STEP` outside it, to keep the week short): the
transmitter ticks; seeded noise traders make random swaps on the pool and random market / IOC
orders on the book; then the arbitrage keeper and the market maker tick. Each tick records how far
each venue is from the oracle before and after its keeper acted.

The pool drifts per tick by at most the noise (`NOISE_TRADES` swaps of at most `NOISE_BPS` of the
USDC reserve, each moving the price by at most twice its share) plus the oracle's own move.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from eth_account import Account
from tests.support.reporters import IN_PROCESS_TIMEOUT
from tests.venues.exchange.builders import rules

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, OracleMembers, deploy_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.keepers.arbitrage import ArbitrageKeeper, ArbitrageTrade
from equitoken.keepers.market_maker import MakerReport, MarketMaker
from equitoken.keepers.rules import RefusalReason
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.bps import BPS
from equitoken.model.quantities import Shares, Usd
from equitoken.oracle.closed_market import ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter import ObservationClient, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTradeBook
from equitoken.oracle.transmitter import Transmitter
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.amm import AmmDeployment, deploy_amm
from equitoken.venues.exchange.accounts import USDC as USDC_ASSET
from equitoken.venues.exchange.engine import Exchange, MarketHaltedError, Trade
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.orders import OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.venue import ExchangeVenue

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2025, 11, 17, 8, 0, tzinfo=NEW_YORK)  # Monday, before the open
END = datetime(2025, 11, 24, 12, 0, tzinfo=NEW_YORK)  # the next Monday, in session
STEP = timedelta(minutes=30)
CLOSED_STEP = timedelta(hours=2)  # the feed's heartbeat (1 h) has passed, so each tick brings a round
HALT_START = datetime(2025, 11, 18, 11, 0, tzinfo=NEW_YORK)
HALT_END = datetime(2025, 11, 18, 11, 20, tzinfo=NEW_YORK)
ACCOUNTS = 14
USDC = 10**6
SHARE = 10**9
POOL_TOKENS = 2_000
BAND_BPS = 50
CLOSED_BAND_BPS = 200
MAX_TRADE = Usd(50_000 * USDC)
NOISE_BPS = 40
NOISE_TRADES = 2
SEED = 20251117

# The book: the market maker's account and settings, and the taker's random orders.
MAKER = 1
TAKER = 2
HALF_SPREAD_OPEN_BPS = 10
HALF_SPREAD_CLOSED_BPS = 50
LEVELS = 3
LEVEL_SPACING_BPS = 5
LEVEL_SIZE = Shares(20 * SHARE)
MAX_INVENTORY = Shares(4_000 * SHARE)
MAKER_SHARES = 2_000
BOOK_NOISE_ORDERS = 2
BOOK_NOISE_MAX_SHARES = 30


def unix(at: datetime) -> int:
    """Return `at` as a Unix timestamp."""
    return int(at.timestamp())


def deviation_bps(price: float, oracle: int) -> float:
    """Return how far `price` is from `oracle`, in basis points of the oracle."""
    return abs(price - oracle) * BPS / oracle


class FeedStatus:
    """The exchange's market status: the feed's, read once per tick (the exchange asks per command)."""

    def __init__(self, feed: Contract) -> None:
        self.feed = feed
        self.status = MarketStatus.CLOSED

    def refresh(self) -> None:
        """Read the feed's latest status."""
        self.status = MarketStatus(int(self.feed.latestRoundStatus()[5]))

    def __call__(self, ticker: str) -> MarketStatus:
        return self.status


@dataclass
class Market:
    chain: EvmChain
    roles: IssuerRoles
    deployment: IssuanceDeployment
    amm: AmmDeployment
    usdc: Contract
    token: Contract
    pool: Contract
    feed: Contract
    transmitter: Transmitter
    keeper: ArbitrageKeeper
    tape: VenueTradeBook
    keeper_account: str
    noise_trader: str
    exchange: Exchange
    venue: ExchangeVenue
    feed_status: FeedStatus
    maker: MarketMaker

    def answer(self) -> tuple[int, MarketStatus]:
        latest = self.feed.latestRoundStatus()
        return int(latest[1]), MarketStatus(int(latest[5]))

    def mint_stock(self, to: str, amount: int) -> None:
        """Mint through the secure-mint path: the reserve attested first, then the mint."""
        deployed = self.deployment.instrument("AAPL")
        reserve = self.chain.at(deployed.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))
        supply = int(self.token.totalSupply())
        reserve.update(supply + amount, self.chain.timestamp(), sender=self.roles.attester)
        self.token.mint(to, amount, sender=self.roles.minter)


def build_market(chain: EvmChain, calendar: MarketCalendar, data_dir: Path) -> Market:
    """Deploy AAPL, USDC, the AMM and a quorum oracle; publish a round at `START`; fund both venues."""
    roles = IssuerRoles.from_accounts(chain.accounts)
    keys = [Account.from_key(bytes([i + 1]) * 32) for i in range(4)]
    catalogue = {i.ticker: i for i in load_catalogue()}
    deployment = deploy_issuance(
        chain, roles, [catalogue["AAPL"]], oracle=OracleMembers(tuple(k.address for k in keys), 3)
    )
    usdc = deploy_test_usdc(chain, roles.admin)
    amm = deploy_amm(chain, roles.admin, usdc.address, deployment, ["AAPL"])
    database = Database(sqlite_url(data_dir / "keeper.sqlite"))
    database.migrate()
    halts = HaltBook(database, ["AAPL"])
    halts.declare("AAPL", HALT_START, HALT_END, "news pending")
    tape = VenueTradeBook(database)
    reporters: list[ObservationClient] = [
        Reporter(
            key, MarketObservationSource(ReplayPriceSource(calendar), calendar, halts, ClosedPricing(tape))
        )
        for key in keys
    ]
    instrument = deployment.instrument("AAPL")
    transmitter = Transmitter(
        chain,
        roles.price_updater,
        {"AAPL": FeedId(chain.chain_id, instrument.price_feed)},
        reporters,
        PushPolicy(),
        timeout=IN_PROCESS_TIMEOUT,
    )
    feed = chain.at(instrument.price_feed, compile_contract("oracle/PriceFeed.vy"))
    token = chain.at(instrument.token, compile_contract("token/StockToken.vy"))
    keeper_account, noise_trader, provider = chain.accounts[11], chain.accounts[12], chain.accounts[13]
    chain.set_next_block_timestamp(unix(START))
    transmitter.tick()
    feed_status = FeedStatus(feed)
    feed_status.refresh()
    exchange = Exchange.open(
        data_dir / "exchange",
        [rules(maker_fee_bps=0, taker_fee_bps=5)],
        feed_status,
        fsync=FsyncPolicy.PER_BATCH,
    )
    venue = ExchangeVenue(exchange)
    feeds = {"AAPL": instrument.price_feed}
    market = Market(
        chain,
        roles,
        deployment,
        amm,
        usdc,
        token,
        amm.pool(chain, "AAPL"),
        feed,
        transmitter,
        ArbitrageKeeper(
            chain,
            keeper_account,
            amm,
            feeds,
            band_bps=BAND_BPS,
            closed_band_bps=CLOSED_BAND_BPS,
            max_trade_usdc=MAX_TRADE,
            tape=tape,
        ),
        tape,
        keeper_account,
        noise_trader,
        exchange,
        venue,
        feed_status,
        MarketMaker(
            venue,
            MAKER,
            feeds,
            chain,
            level_size=LEVEL_SIZE,
            max_inventory=MAX_INVENTORY,
            levels=LEVELS,
            half_spread_open_bps=HALF_SPREAD_OPEN_BPS,
            half_spread_closed_bps=HALF_SPREAD_CLOSED_BPS,
            level_spacing_bps=LEVEL_SPACING_BPS,
        ),
    )
    answer, _ = market.answer()
    pool_stock = POOL_TOKENS * 10 ** int(token.decimals())
    pool_usdc = POOL_TOKENS * answer // 100  # 1e-8 dollars per token -> 1e-6 dollars
    for holder, stock, dollars in (
        (provider, pool_stock, pool_usdc),
        (keeper_account, pool_stock // 4, pool_usdc // 4),
        (noise_trader, pool_stock // 2, pool_usdc // 2),
    ):
        market.mint_stock(holder, stock)
        usdc.mint(holder, dollars, sender=roles.admin)
    for holder in (provider, noise_trader):
        token.approve(market.pool.address, 2**256 - 1, sender=holder)
        usdc.approve(market.pool.address, 2**256 - 1, sender=holder)
    deadline = chain.timestamp() + 600
    market.pool.add_liquidity(pool_stock, pool_usdc, 0, 0, provider, deadline, sender=provider)
    maker_usdc = MAKER_SHARES * answer // 100
    for account, shares, dollars in (
        (MAKER, MAKER_SHARES, maker_usdc),
        (TAKER, 10 * MAKER_SHARES, 10 * maker_usdc),
    ):
        exchange.accounts.credit_deposit(account, "AAPL", shares * SHARE, f"week-{account}-AAPL")
        exchange.accounts.credit_deposit(account, USDC_ASSET, dollars, f"week-{account}-USDC")
    return market


def noise_pool(market: Market, rng: random.Random) -> None:
    """Make `NOISE_TRADES` random swaps, each at most `NOISE_BPS` of the pool's USDC reserve."""
    for _ in range(NOISE_TRADES):
        stock_reserve, usdc_reserve = (int(v) for v in market.pool.reserves())
        dollars = usdc_reserve * rng.randint(1, NOISE_BPS) // BPS
        stock_in = rng.random() < 0.5
        amount = dollars * stock_reserve // usdc_reserve if stock_in else dollars
        deadline = market.chain.timestamp("pending") + 600
        try:
            market.pool.swap(amount, 0, stock_in, market.noise_trader, deadline, sender=market.noise_trader)
        except RevertError as exc:
            if "guard: market halted" not in str(exc):
                raise


def noise_book(market: Market, rng: random.Random, oracle: int) -> tuple[list[Trade], int]:
    """Send `BOOK_NOISE_ORDERS` random market or IOC orders from the taker; return the trades and refusals."""
    trades: list[Trade] = []
    refused = 0
    tick = market.venue.rules("AAPL").instrument.tick.units
    for number in range(BOOK_NOISE_ORDERS):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(1, BOOK_NOISE_MAX_SHARES) * SHARE
        if rng.random() < 0.5:
            command = Submit(TAKER, f"noise-{number}", side, OrderType.MARKET, 0, quantity, TimeInForce.IOC)
        else:
            # An IOC limit up to 30 bps through the oracle: it takes the maker's nearer levels only.
            reach = rng.randint(0, 30)
            signed = reach if side == Side.BUY else -reach
            price = oracle * (BPS + signed) // (BPS * tick)
            command = Submit(
                TAKER, f"noise-{number}", side, OrderType.LIMIT, price, quantity, TimeInForce.IOC
            )
        try:
            outcome = market.venue.submit("AAPL", command)
        except MarketHaltedError:
            refused += 1
            continue
        trades.extend(outcome.trades)
    return trades, refused


@dataclass
class Tick:
    at: datetime
    status: MarketStatus
    oracle: int
    before_bps: float
    after_bps: float
    trades: list[ArbitrageTrade]
    refusals: list[RefusalReason]
    book_trades: list[Trade]
    book_refused: int
    book_before: tuple[int | None, int | None]
    book_after: tuple[int | None, int | None]
    maker: MakerReport

    def book_deviations(self, tick_units: int) -> dict[str, float]:
        """Return the book's mid, best bid and ask after the maker, in bps from the oracle (when present)."""
        bid, ask = self.book_after
        figures: dict[str, float] = {}
        if bid is not None:
            figures["bid"] = deviation_bps(bid * tick_units, self.oracle)
        if ask is not None:
            figures["ask"] = deviation_bps(ask * tick_units, self.oracle)
        if bid is not None and ask is not None:
            figures["mid"] = deviation_bps((bid + ask) * tick_units / 2, self.oracle)
        return figures


@dataclass
class Week:
    market: Market
    calendar: MarketCalendar
    ticks: list[Tick] = field(default_factory=list)

    @property
    def tick_units(self) -> int:
        """Return the book's tick in 1e-8 dollars."""
        return self.market.exchange.book("AAPL").rules.instrument.tick.units

    def summary(self) -> dict[str, float | int]:
        open_ = [t for t in self.ticks if t.status is MarketStatus.OPEN]
        closed = [t for t in self.ticks if t.status is MarketStatus.CLOSED]

        def worst(ticks: list[Tick], figure: str) -> float:
            return round(max(t.book_deviations(self.tick_units).get(figure, 0.0) for t in ticks), 2)

        def worst_mid_before(ticks: list[Tick]) -> float:
            values = [
                deviation_bps((t.book_before[0] + t.book_before[1]) * self.tick_units / 2, t.oracle)
                for t in ticks
                if t.book_before[0] is not None and t.book_before[1] is not None
            ]
            return round(max(values, default=0.0), 2)

        return {
            "ticks": len(self.ticks),
            "trades": sum(len(t.trades) for t in self.ticks),
            "worst_open_before_bps": round(max(t.before_bps for t in open_), 2),
            "worst_open_after_bps": round(max(t.after_bps for t in open_), 2),
            "worst_closed_before_bps": round(max(t.before_bps for t in closed), 2),
            "worst_closed_after_bps": round(max(t.after_bps for t in closed), 2),
            "book_trades": sum(len(t.book_trades) for t in self.ticks),
            "book_worst_open_mid_before_bps": worst_mid_before(open_),
            "book_worst_open_mid_bps": worst(open_, "mid"),
            "book_worst_open_bid_bps": worst(open_, "bid"),
            "book_worst_open_ask_bps": worst(open_, "ask"),
            "book_worst_closed_mid_bps": worst(closed, "mid"),
            "book_worst_closed_bid_bps": worst(closed, "bid"),
            "book_worst_closed_ask_bps": worst(closed, "ask"),
            "maker_commands": sum(t.maker.commands for t in self.ticks),
        }


def run_week(data_dir: Path) -> Week:
    """Replay the week; return every tick's figures (the caller closes `week.market`)."""
    calendar = MarketCalendar("XNYS")
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=unix(START) - 600)
    market = build_market(chain, calendar, data_dir)
    rng = random.Random(SEED)
    week = Week(market, calendar)
    market.maker.tick()
    at = START + STEP
    while at <= END:
        chain.set_next_block_timestamp(unix(at))
        market.transmitter.tick()
        market.feed_status.refresh()
        noise_pool(market, rng)
        oracle, status = market.answer()
        book_trades, book_refused = noise_book(market, rng, oracle)
        book_before = market.venue.best("AAPL")
        before = deviation_bps(market.keeper.pool_price("AAPL").units, oracle)
        trades = market.keeper.tick()
        after = deviation_bps(market.keeper.pool_price("AAPL").units, oracle)
        refusals = [r.reason for r in market.keeper.refusals]
        report = market.maker.tick()
        market.exchange.sync()
        week.ticks.append(
            Tick(
                at,
                status,
                oracle,
                before,
                after,
                trades,
                refusals,
                book_trades,
                book_refused,
                book_before,
                market.venue.best("AAPL"),
                report,
            )
        )
        near_session = any(calendar.is_open(at + k * STEP) for k in range(CLOSED_STEP // STEP + 1))
        at += STEP if near_session else CLOSED_STEP
    print("replayed week:", week.summary())
    return week


def close(market: Market) -> None:
    """Stop the transmitter's threads and close the exchange's journals."""
    market.transmitter.close()
    market.exchange.close()
