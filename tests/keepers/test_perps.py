"""The perpetuals keeper on the in-process chain, over a real issuance and the real `PerpVault` and
`PerpMarket`s: AAPL under the CLOSED policy (gTrade), NVDA under DISCOVERY (trade.xyz) with its feed's
INTERNAL closed prices and no funding (so a liquidation price is exact to the unit).

A trader opens $1,000 of margin at 10x at $200: about 49.6 tokens, liquidatable near $190. Every price
is a round signed by the issuance's reporter; the keeper's transactions go through a real outbox on
SQLite.
"""

from collections.abc import Iterator

import pytest
from tests.support.perps import PerpsWorld, build_world
from tests.support.venue_world import PRICE, USDC

from equitoken.chain.evm.abi import event_topic, find_event
from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.keepers.perps import PerpsKeeper, PerpsKeeperReport
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.model.quantities import Price, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.perps import maths
from equitoken.venues.perps.parameters import WAD, ClosedPolicy, PerpParameters
from equitoken.venues.perps.states import MarketState

DISCOVERY = PerpParameters(closed_policy=ClosedPolicy.DISCOVERY, max_funding_velocity=0)


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> PerpsWorld:
    world = build_world(
        tmp_path_factory.mktemp("perps-keeper"), ["AAPL", "NVDA"], parameters={"NVDA": DISCOVERY}
    )
    world.feed("NVDA").set_closed_policy(2, 5_000, sender=world.roles.admin)  # INTERNAL, within 50%
    world.fund(world.trader, 100_000 * USDC)
    world.fund(world.other_trader, 100_000 * USDC)
    return world


@pytest.fixture
def world(world_once: PerpsWorld) -> Iterator[PerpsWorld]:
    yield from world_once.rewound()


def keeper(world: PerpsWorld) -> PerpsKeeper:
    return PerpsKeeper(world.chain, world.keeper, world.perps, world.database, world.clock)


def open_position(
    world: PerpsWorld,
    ticker: str = "AAPL",
    *,
    is_long: bool = True,
    leverage: int = 10,
    wallet: str | None = None,
    take_profit: float | None = None,
    stop_loss: float | None = None,
    key: str = "open",
) -> int:
    receipt = world.client.open_position(
        wallet or world.trader,
        ticker,
        is_long=is_long,
        margin=Usd(1_000 * USDC),
        leverage=leverage,
        take_profit=None if take_profit is None else Price(round(take_profit * PRICE)),
        stop_loss=None if stop_loss is None else Price(round(stop_loss * PRICE)),
        key=key,
    )
    return receipt.id


def events(world: PerpsWorld, ticker: str, name: str) -> int:
    market = world.market(ticker)
    topic = event_topic(find_event(market.abi, name))
    return len(world.chain.get_raw_logs(market.address, [topic], world.perps.from_block))


# ---------------------------------------------------------------------------------- liquidation


def test_liquidates_after_a_price_drop_once_for_the_reward(world: PerpsWorld) -> None:
    position_id = open_position(world)
    raw = world.reader.raw_position("AAPL", position_id)
    world.publish("AAPL", 185)
    market = world.market("AAPL")
    parameters = world.reader.parameters("AAPL")
    bot = keeper(world)

    report = bot.tick()

    assert report.refusals == ()
    [done] = report.liquidations
    assert (done.ticker, done.position_id, done.owner, done.mark) == (
        "AAPL",
        position_id,
        world.trader,
        Price(185 * PRICE),
    )
    # The reward: 0.5% of the notional at $185 (the equity left, about $236, is larger).
    notional = maths.notional(raw.size, 185 * PRICE)
    assert done.reward.units == notional * parameters.liquidation_fee_bps // 10_000
    assert world.usdc.balanceOf(world.keeper) == done.reward.units
    assert world.reader.open_positions("AAPL") == {}
    assert world.reader.vault().reserved == Usd(0)
    assert not market.is_liquidatable(position_id)

    again = bot.tick()
    restarted = keeper(world).tick()

    assert (again.liquidations, restarted.liquidations) == ((), ())
    assert events(world, "AAPL", "PositionLiquidated") == 1


def test_the_views_liquidation_price_is_the_contracts_boundary(world: PerpsWorld) -> None:
    position_id = open_position(world, "NVDA")
    view = world.reader.position("NVDA", position_id)
    assert view.liquidation_price is not None
    boundary = view.liquidation_price.units
    market = world.market("NVDA")
    bot = keeper(world)

    world.publish("NVDA", (boundary + 1) / PRICE)
    assert not market.is_liquidatable(position_id)
    assert bot.tick() == PerpsKeeperReport((), (), (), ())
    world.publish("NVDA", boundary / PRICE)
    assert market.is_liquidatable(position_id)
    assert world.reader.position("NVDA", position_id).liquidatable

    [done] = bot.tick().liquidations

    assert done.mark.units == boundary


def test_no_liquidation_while_the_closed_market_is_closed_then_at_the_reopening(world: PerpsWorld) -> None:
    position_id = open_position(world)
    world.publish("AAPL", 175, MarketStatus.CLOSED)  # the session closes at $175
    assert world.reader.mark("AAPL") == (175 * PRICE, MarketState.CLOSED)
    nonce = world.chain.nonce(world.keeper, "latest")
    bot = keeper(world)

    closed = bot.tick()

    assert closed.liquidations == ()
    assert [(r.ticker, r.reason, r.detail) for r in closed.refusals] == [
        (
            "AAPL",
            RefusalReason.MARKET_CLOSED,
            "1 position to liquidate or trigger wait: AAPL's market is closed (orders queue)",
        )
    ]
    assert world.chain.nonce(world.keeper, "latest") == nonce
    world.publish("AAPL", 175)

    [done] = bot.tick().liquidations

    assert done.position_id == position_id


def test_discovery_liquidates_at_the_clamped_mark(world: PerpsWorld) -> None:
    position_id = open_position(world, "NVDA")
    world.publish("NVDA", 200, MarketStatus.CLOSED)  # the close: $200
    world.publish("NVDA", 150, MarketStatus.CLOSED)  # an internal price 25% down, clamped to $180
    assert world.reader.mark("NVDA") == (180 * PRICE, MarketState.DISCOVERY)

    [done] = keeper(world).tick().liquidations

    assert (done.position_id, done.mark) == (position_id, Price(180 * PRICE))


def test_nothing_is_liquidated_on_a_halted_price(world: PerpsWorld) -> None:
    open_position(world)
    world.publish("AAPL", 150, MarketStatus.HALTED)

    report = keeper(world).tick()

    assert report.liquidations == ()
    assert [(r.reason, r.detail) for r in report.refusals] == [
        (RefusalReason.HALTED, "cannot price 1 open position: AAPL's market is halted")
    ]


def test_nothing_is_liquidated_on_a_stale_price(world: PerpsWorld) -> None:
    open_position(world)
    world.publish("AAPL", 150)
    world.wait(7_201)
    nonce = world.chain.nonce(world.keeper, "latest")

    report = keeper(world).tick()

    assert report.liquidations == ()
    assert [(r.reason, r.detail) for r in report.refusals] == [
        (RefusalReason.STALE, "cannot price 1 open position: AAPL's market is without a usable price")
    ]
    assert world.chain.nonce(world.keeper, "latest") == nonce


def test_healthy_positions_are_left_alone(world: PerpsWorld) -> None:
    open_position(world)
    open_position(world, is_long=False, wallet=world.other_trader, key="short")
    world.publish("AAPL", 190)

    report = keeper(world).tick()

    assert (report.executions, report.triggers, report.liquidations, report.refusals) == ((), (), (), ())


# -------------------------------------------------------------------------------------- orders


def test_orders_queued_while_closed_execute_at_the_reopening(world: PerpsWorld) -> None:
    client = world.client
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    filled = client.request_open(
        world.trader, "AAPL", is_long=True, margin=Usd(1_000 * USDC), leverage=5, key="fill"
    )
    refused = client.request_open(
        world.other_trader,
        "AAPL",
        is_long=True,
        margin=Usd(500 * USDC),
        leverage=2,
        acceptable_price=Price(201 * PRICE),
        key="too-high",
    )
    bot = keeper(world)

    closed = bot.tick()

    assert closed.executions == ()
    assert [(r.reason, r.detail) for r in closed.refusals] == [
        (RefusalReason.MARKET_CLOSED, "2 orders wait: AAPL's market is closed (orders queue)")
    ]
    other_usdc = int(world.usdc.balanceOf(world.other_trader))
    world.publish("AAPL", 204)  # Monday opens 2% up
    quote = maths.quote_open(204 * PRICE, True, 1_000 * USDC, 5 * WAD, 0, world.reader.parameters("AAPL"))

    report = bot.tick()

    assert [(e.order_id, e.filled, e.reason) for e in report.executions] == [
        (filled.id, True, ""),
        (refused.id, False, "perp: price not acceptable"),
    ]
    position = world.reader.raw_position("AAPL", report.executions[0].position_id)
    assert (position.owner, position.size, position.entry_price) == (world.trader, quote.size, quote.fill)
    assert world.usdc.balanceOf(world.other_trader) == other_usdc + 500 * USDC
    assert world.reader.orders() == []
    assert bot.tick().executions == ()


def test_a_queued_close_executes_at_the_reopening(world: PerpsWorld) -> None:
    position_id = open_position(world, leverage=2)
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    world.client.request_close(world.trader, "AAPL", position_id, key="close")
    world.publish("AAPL", 210)

    [execution] = keeper(world).tick().executions

    assert (execution.filled, execution.position_id) == (True, position_id)
    assert world.reader.open_positions("AAPL") == {}


# ------------------------------------------------------------------------------------ triggers


def test_take_profit_and_stop_loss_execute_once_the_mark_crosses_them(world: PerpsWorld) -> None:
    long_id = open_position(world, leverage=2, take_profit=220, stop_loss=180)
    short_id = open_position(
        world, is_long=False, leverage=2, wallet=world.other_trader, stop_loss=215, key="s"
    )
    bot = keeper(world)
    world.publish("AAPL", 214)
    assert bot.tick().triggers == ()
    balance = int(world.usdc.balanceOf(world.trader))

    world.publish("AAPL", 221)
    report = bot.tick()

    assert sorted((t.position_id, t.kind) for t in report.triggers) == [
        (long_id, "take_profit"),
        (short_id, "stop_loss"),
    ]
    long_exit = next(t for t in report.triggers if t.position_id == long_id)
    assert world.usdc.balanceOf(world.trader) == balance + long_exit.payout.units
    assert long_exit.payout.units > 1_000 * USDC
    assert world.reader.open_positions("AAPL") == {}
    assert events(world, "AAPL", "TriggerExecuted") == 2


# ------------------------------------------------------------------------------------- crashes


def _liquidatable(world: PerpsWorld) -> None:
    open_position(world)
    world.publish("AAPL", 175)


def _queued(world: PerpsWorld) -> None:
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    world.client.request_open(world.trader, "AAPL", is_long=True, margin=Usd(100 * USDC), leverage=2, key="q")
    world.publish("AAPL", 201)


def _triggered(world: PerpsWorld) -> None:
    open_position(world, leverage=2, take_profit=205)
    world.publish("AAPL", 206)


@pytest.mark.parametrize(
    ("point", "setup", "event", "field"),
    [
        ("perp_liquidation_sent", _liquidatable, "PositionLiquidated", "liquidations"),
        ("perp_order_sent", _queued, "OrderExecuted", "executions"),
        ("perp_trigger_sent", _triggered, "TriggerExecuted", "triggers"),
    ],
)
def test_a_crash_after_broadcasting_is_finished_by_the_next_run_not_repeated(
    world: PerpsWorld, point: str, setup: object, event: str, field: str
) -> None:
    setup(world)  # type: ignore[operator]

    with pytest.raises(SimulatedCrash), simulated_crash(point):
        keeper(world).tick()
    restarted = keeper(world).tick()
    again = keeper(world).tick()

    assert len(getattr(restarted, field)) == 1
    assert getattr(again, field) == ()
    assert events(world, "AAPL", event) == 1
    assert world.reader.orders() == []


def test_refuses_bad_settings_naming_them(world: PerpsWorld) -> None:
    with pytest.raises(KeeperConfigError, match="no perpetual market for TSLA"):
        PerpsKeeper(world.chain, world.keeper, world.perps, world.database, world.clock, tickers=["TSLA"])
    with pytest.raises(KeeperConfigError, match="cannot sign for wallet"):
        PerpsKeeper(
            world.chain,
            "0x000000000000000000000000000000000000dEaD",
            world.perps,
            world.database,
            world.clock,
        )
