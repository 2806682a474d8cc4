"""The AMM arbitrage keeper over a replayed week of AAPL (2025-11-17 to 2025-11-24, a weekend in it).

A real issuance (AAPL, secure-minted), test USDC, the AMM, and AAPL's quorum `PriceFeed` driven by
the oracle's `Transmitter` with four in-process `Reporter`s over the replayed prices (quorum 3, a
20-minute halt on the Tuesday). Every 30 minutes in session (hourly outside it, to keep the test
short): the transmitter ticks, a seeded noise trader makes random swaps so the pool drifts, then the
keeper ticks. While the market is open the keeper must
bring the pool back within `BAND_BPS` of the oracle's answer (one unit of rounding allowed); before
it acts, the pool may be off by the band plus one tick's drift: the noise trades (at most
`NOISE_BPS` of the USDC reserve each, `NOISE_TRADES` of them, each moving the price by at most twice
its share of the reserve) and the oracle's own move since the last tick (at the Monday open, the
gap since Friday's close).
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from eth_account import Account

from equitoken.chain.accounts import SignerRegistry
from equitoken.chain.anvil import AnvilNode
from equitoken.chain.compiler import compile_contract
from equitoken.chain.deployment import IssuanceDeployment, IssuerRoles, OracleMembers, deploy_issuance
from equitoken.chain.evm import Contract, EvmChain, RevertError
from equitoken.chain.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.keepers.arbitrage import (
    AMM_VENUE,
    ArbitrageKeeper,
    ArbitrageTrade,
    KeeperConfigError,
    RefusalReason,
)
from equitoken.keepers.constant_product import BPS
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Usd
from equitoken.oracle.closed_market import ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter import ObservationClient, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTradeBook
from equitoken.oracle.transmitter import Transmitter
from equitoken.store.database import Database, sqlite_url

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2025, 11, 17, 8, 0, tzinfo=NEW_YORK)  # Monday, before the open
END = datetime(2025, 11, 24, 12, 0, tzinfo=NEW_YORK)  # the next Monday, in session
STEP = timedelta(minutes=30)
CLOSED_STEP = timedelta(hours=1)  # within the feed's heartbeat, so no round goes stale
HALT_START = datetime(2025, 11, 18, 11, 0, tzinfo=NEW_YORK)
HALT_END = datetime(2025, 11, 18, 11, 20, tzinfo=NEW_YORK)
ACCOUNTS = 14
USDC = 10**6
POOL_TOKENS = 2_000
BAND_BPS = 50
CLOSED_BAND_BPS = 200
MAX_TRADE = Usd(50_000 * USDC)
NOISE_BPS = 40
NOISE_TRADES = 2
SEED = 20251117


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def _deviation_bps(pool_price: int, oracle: int) -> float:
    return abs(pool_price - oracle) * BPS / oracle


@dataclass
class Market:
    chain: EvmChain
    roles: IssuerRoles
    deployment: IssuanceDeployment
    usdc: Contract
    token: Contract
    pool: Contract
    feed: Contract
    transmitter: Transmitter
    keeper: ArbitrageKeeper
    tape: VenueTradeBook
    keeper_account: str
    noise_trader: str

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
    """Deploy AAPL, USDC, the AMM and a quorum oracle; publish a round at `START`; fund everyone."""
    roles = IssuerRoles.from_accounts(chain.accounts)
    keys = [Account.from_key(bytes([i + 1]) * 32) for i in range(4)]
    catalogue = {i.ticker: i for i in load_catalogue()}
    deployment = deploy_issuance(
        chain, roles, [catalogue["AAPL"]], oracle=OracleMembers(tuple(k.address for k in keys), 3)
    )
    usdc = deploy_test_usdc(chain, roles.admin)
    from equitoken.venues.amm import deploy_amm

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
    )
    feed = chain.at(instrument.price_feed, compile_contract("oracle/PriceFeed.vy"))
    token = chain.at(instrument.token, compile_contract("token/StockToken.vy"))
    keeper_account, noise_trader, provider = chain.accounts[11], chain.accounts[12], chain.accounts[13]
    chain.set_next_block_timestamp(_unix(START))
    transmitter.tick()
    market = Market(
        chain,
        roles,
        deployment,
        usdc,
        token,
        amm.pool(chain, "AAPL"),
        feed,
        transmitter,
        ArbitrageKeeper(
            chain,
            keeper_account,
            amm,
            {"AAPL": instrument.price_feed},
            band_bps=BAND_BPS,
            closed_band_bps=CLOSED_BAND_BPS,
            max_trade_usdc=MAX_TRADE,
            tape=tape,
        ),
        tape,
        keeper_account,
        noise_trader,
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
    return market


def noise(market: Market, rng: random.Random) -> None:
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


@dataclass
class Tick:
    at: datetime
    status: MarketStatus
    oracle: int
    before_bps: float
    after_bps: float
    trades: list[ArbitrageTrade]
    refusals: list[RefusalReason]


@dataclass
class Week:
    market: Market
    calendar: MarketCalendar
    ticks: list[Tick] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        open_ = [t for t in self.ticks if t.status is MarketStatus.OPEN]
        closed = [t for t in self.ticks if t.status is MarketStatus.CLOSED]
        return {
            "ticks": len(self.ticks),
            "trades": sum(len(t.trades) for t in self.ticks),
            "worst_open_before_bps": round(max(t.before_bps for t in open_), 2),
            "worst_open_after_bps": round(max(t.after_bps for t in open_), 2),
            "worst_closed_before_bps": round(max(t.before_bps for t in closed), 2),
            "worst_closed_after_bps": round(max(t.after_bps for t in closed), 2),
        }


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    calendar = MarketCalendar("XNYS")
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=_unix(START) - 600)
    market = build_market(chain, calendar, tmp_path_factory.mktemp("keeper-week"))
    rng = random.Random(SEED)
    replay = Week(market, calendar)
    at = START + STEP
    while at <= END:
        chain.set_next_block_timestamp(_unix(at))
        market.transmitter.tick()
        noise(market, rng)
        oracle, status = market.answer()
        before = _deviation_bps(market.keeper.pool_price("AAPL").units, oracle)
        trades = market.keeper.tick()
        after = _deviation_bps(market.keeper.pool_price("AAPL").units, oracle)
        refusals = [r.reason for r in market.keeper.refusals]
        replay.ticks.append(Tick(at, status, oracle, before, after, trades, refusals))
        at += STEP if calendar.is_open(at) or calendar.is_open(at + STEP) else CLOSED_STEP
    print("arbitrage keeper week:", replay.summary())
    yield replay
    market.transmitter.close()


def test_holds_the_pool_within_the_band_whenever_the_market_is_open(week: Week) -> None:
    open_ticks = [t for t in week.ticks if t.status is MarketStatus.OPEN]
    assert len(open_ticks) >= 5 * 13  # five sessions and the last Monday morning, every 30 minutes
    assert all(week.calendar.is_open(t.at) for t in open_ticks)
    # One unit of rounding in the pool price is at most a hundredth of a basis point here.
    assert all(t.after_bps <= BAND_BPS + 0.01 for t in open_ticks), [
        t for t in open_ticks if t.after_bps > 50.01
    ]
    # Before it acts: the band plus one tick's drift (the noise and, at the open, the overnight gap).
    noise_drift_bps = 2 * NOISE_BPS * NOISE_TRADES
    for previous, t in itertools.pairwise(week.ticks):
        if t.status is MarketStatus.OPEN:
            oracle_move_bps = _deviation_bps(t.oracle, previous.oracle) * (1 + 1 / BPS)
            assert t.before_bps <= previous.after_bps + noise_drift_bps + oracle_move_bps + 1, (previous, t)
    summary = week.summary()
    assert summary["worst_open_after_bps"] <= BAND_BPS + 0.01
    assert summary["worst_open_before_bps"] > BAND_BPS  # the noise did push the pool out
    assert summary["trades"] >= 50


def test_holds_the_closed_band_while_the_market_is_closed(week: Week) -> None:
    closed = [t for t in week.ticks if t.status is MarketStatus.CLOSED]
    assert any(t.at.weekday() == 5 for t in closed)  # the weekend is in
    assert all(t.after_bps <= CLOSED_BAND_BPS + 0.01 for t in closed)
    assert any(t.trades for t in closed)
    assert {trade.status for t in closed for trade in t.trades} == {MarketStatus.CLOSED}


def test_never_acts_on_a_halted_round(week: Week) -> None:
    halted = [t for t in week.ticks if t.status is MarketStatus.HALTED]
    assert [t.at for t in halted] == [HALT_START]  # 11:00; the 11:30 tick is open again
    assert all(t.trades == [] and t.refusals == [RefusalReason.HALTED] for t in halted)
    assert all(trade.status is not MarketStatus.HALTED for t in week.ticks for trade in t.trades)
    assert not any(RefusalReason.STALE in t.refusals for t in week.ticks)  # the oracle kept its heartbeat


def test_never_trades_more_than_its_limit_and_records_every_trade(week: Week) -> None:
    trades = [trade for t in week.ticks for trade in t.trades]
    assert all(0 < trade.usdc_notional.units <= MAX_TRADE.units for trade in trades)
    assert {trade.stock_in for trade in trades} == {True, False}
    taped = week.market.tape.trades("AAPL", START, END + STEP)
    assert sorted(t.trade_id for t in taped) == sorted(trade.tx_hash for trade in trades)
    assert all(t.venue == AMM_VENUE for t in taped)
    for trade in trades:
        # The keeper moved the pool towards the oracle; its fill, fee included, is worse than the start.
        if trade.stock_in:
            assert trade.price.units < trade.pool_price_before.units
        else:
            assert trade.price.units > trade.pool_price_before.units
        assert abs(trade.pool_price_after.units - trade.oracle_price.units) < abs(
            trade.pool_price_before.units - trade.oracle_price.units
        )


@pytest.fixture
def after_week(week: Week) -> Iterator[Market]:
    snapshot = week.market.chain.snapshot()
    yield week.market
    week.market.chain.revert_to(snapshot)


def test_refuses_a_stale_round_and_sends_nothing(after_week: Market) -> None:
    market = after_week
    _, usdc_reserve = (int(v) for v in market.pool.reserves())
    market.pool.swap(usdc_reserve // 50, 0, False, market.noise_trader, 2**40, sender=market.noise_trader)
    latest_update = int(market.feed.latestRoundStatus()[3])
    market.chain.set_next_block_timestamp(latest_update + market.keeper.max_age + 1)
    market.chain.mine()
    nonce = market.chain.nonce(market.keeper_account, "latest")

    assert market.keeper.tick() == []

    assert [r.reason for r in market.keeper.refusals] == [RefusalReason.STALE]
    assert "s old (max 7200)" in market.keeper.refusals[0].detail
    assert market.chain.nonce(market.keeper_account, "latest") == nonce


def test_a_shock_beyond_the_limit_is_closed_over_several_ticks(after_week: Market) -> None:
    market = after_week
    market.chain.set_next_block_timestamp(market.chain.timestamp() + 1)
    market.transmitter.tick()  # a fresh round (heartbeat or not, the last one is recent)
    _, usdc_reserve = (int(v) for v in market.pool.reserves())
    market.pool.swap(usdc_reserve // 10, 0, False, market.noise_trader, 2**40, sender=market.noise_trader)
    oracle, status = market.answer()
    band = BAND_BPS if status is MarketStatus.OPEN else CLOSED_BAND_BPS

    first = market.keeper.tick()

    assert len(first) == 1
    assert first[0].stock_in
    # Selling, the cap is on the pool's price before the swap, so the USDC received stays below it.
    assert MAX_TRADE.units * 9 // 10 <= first[0].usdc_notional.units <= MAX_TRADE.units
    assert _deviation_bps(first[0].pool_price_after.units, oracle) > band  # not there yet
    for _ in range(5):
        market.keeper.tick()
    assert _deviation_bps(market.keeper.pool_price("AAPL").units, oracle) <= band + 0.01


def test_refuses_bad_settings_naming_them(after_week: Market) -> None:
    market = after_week
    amm = market.keeper.amm
    feeds = {"AAPL": market.feed.address}

    with pytest.raises(KeeperConfigError, match="band_bps must be 1 to 9999, not 0"):
        ArbitrageKeeper(market.chain, market.keeper_account, amm, feeds, band_bps=0, max_trade_usdc=MAX_TRADE)
    with pytest.raises(KeeperConfigError, match="max_trade_usdc must be positive"):
        ArbitrageKeeper(market.chain, market.keeper_account, amm, feeds, max_trade_usdc=Usd(0))
    with pytest.raises(KeeperConfigError, match="no AMM pool for MSFT"):
        ArbitrageKeeper(
            market.chain, market.keeper_account, amm, {"MSFT": market.feed.address}, max_trade_usdc=MAX_TRADE
        )


@pytest.mark.anvil
def test_brings_a_pool_back_into_the_band_on_anvil(tmp_path_factory: pytest.TempPathFactory) -> None:
    calendar = MarketCalendar("XNYS")
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with (
        AnvilNode(accounts=ACCOUNTS, timestamp=_unix(START) - 600, log_file=log) as node,
        node.chain() as chain,
    ):
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        market = build_market(chain, calendar, tmp_path_factory.mktemp("keeper-anvil"))
        at = datetime(2025, 11, 17, 10, 0, tzinfo=NEW_YORK)
        chain.set_next_block_timestamp(_unix(at))
        market.transmitter.tick()
        _, usdc_reserve = (int(v) for v in market.pool.reserves())
        market.pool.swap(
            usdc_reserve // 100, 0, False, market.noise_trader, 2**40, sender=market.noise_trader
        )
        oracle, status = market.answer()
        assert status is MarketStatus.OPEN
        assert _deviation_bps(market.keeper.pool_price("AAPL").units, oracle) > BAND_BPS

        trades = market.keeper.tick()

        market.transmitter.close()
        assert len(trades) == 1
        assert trades[0].stock_in
        receipt = chain.receipt(trades[0].tx_hash)
        assert receipt is not None
        assert receipt.succeeded
        assert _deviation_bps(market.keeper.pool_price("AAPL").units, oracle) <= BAND_BPS + 0.01
        assert [t.trade_id for t in market.tape.trades("AAPL", START, at + STEP)] == [trades[0].tx_hash]
