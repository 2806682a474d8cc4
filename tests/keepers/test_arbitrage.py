"""The AMM arbitrage keeper over the replayed week (`tests/keepers/week.py`).

While the market is open the keeper must bring the pool back within `BAND_BPS` of the oracle's
answer (one unit of rounding allowed); before it acts, the pool may be off by the band plus one
tick's drift: the noise trades (at most `NOISE_BPS` of the USDC reserve each, `NOISE_TRADES` of
them, each moving the price by at most twice its share of the reserve) and the oracle's own move
since the last tick (at the Monday open, the gap since Friday's close).
"""

import itertools
from datetime import datetime

import pytest
from tests.keepers.week import (
    ACCOUNTS,
    BAND_BPS,
    CLOSED_BAND_BPS,
    END,
    HALT_START,
    MAX_TRADE,
    NEW_YORK,
    NOISE_BPS,
    NOISE_TRADES,
    START,
    STEP,
    Market,
    Week,
    build_market,
    close,
    unix,
)
from tests.keepers.week import deviation_bps as _deviation_bps

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.keepers.arbitrage import AMM_VENUE, ArbitrageKeeper
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.market.calendar import MarketCalendar
from equitoken.model.bps import BPS
from equitoken.model.quantities import Usd
from equitoken.oracle.observation import MarketStatus


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
        AnvilNode(accounts=ACCOUNTS, timestamp=unix(START) - 600, log_file=log) as node,
        node.chain() as chain,
    ):
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        market = build_market(chain, calendar, tmp_path_factory.mktemp("keeper-anvil"))
        at = datetime(2025, 11, 17, 10, 0, tzinfo=NEW_YORK)
        chain.set_next_block_timestamp(unix(at))
        market.transmitter.tick()
        _, usdc_reserve = (int(v) for v in market.pool.reserves())
        market.pool.swap(
            usdc_reserve // 100, 0, False, market.noise_trader, 2**40, sender=market.noise_trader
        )
        oracle, status = market.answer()
        assert status is MarketStatus.OPEN
        assert _deviation_bps(market.keeper.pool_price("AAPL").units, oracle) > BAND_BPS

        trades = market.keeper.tick()

        close(market)
        assert len(trades) == 1
        assert trades[0].stock_in
        receipt = chain.receipt(trades[0].tx_hash)
        assert receipt is not None
        assert receipt.succeeded
        assert _deviation_bps(market.keeper.pool_price("AAPL").units, oracle) <= BAND_BPS + 0.01
        assert [t.trade_id for t in market.tape.trades("AAPL", START, at + STEP)] == [trades[0].tx_hash]
