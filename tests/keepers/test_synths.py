"""The synthetic-stock liquidation keeper on the in-process chain, over a real issuance and the vaults
`deploy_synths` deploys.

A writer locks 3,000 USDC and mints 10 sAAPL at $200 (exactly the 150% minimum), so any rise of AAPL
puts it below the minimum. The keeper holds sAAPL from a deeply collateralised position of its own.
Every price is a round signed by the issuance's reporter; the keeper's transactions go through a
real outbox on SQLite.
"""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.support.synths import SYNTH, SynthsWorld, build_world, synths
from tests.support.venue_world import USDC

from equitoken.chain.evm.abi import event_topic, find_event
from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.keepers.synths import CRASH_SENT, SynthLiquidationKeeper
from equitoken.model.quantities import Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.synths import maths
from equitoken.venues.synths.parameters import WAD, SynthAmount

KEEPER_SYNTHS = 100


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> SynthsWorld:
    world = build_world(tmp_path_factory.mktemp("synth-keeper"), ["AAPL"])
    world.fund(world.writer, 10_000 * USDC)
    world.fund(world.liquidator, 200_000 * USDC)
    client = world.client
    client.open_position(world.writer, "AAPL", Usd(3_000 * USDC), synths(10), key="writer")
    client.open_position(
        world.liquidator, "AAPL", Usd(200_000 * USDC), synths(KEEPER_SYNTHS), key="inventory"
    )
    world.forget_transactions()  # the keeper's tests count the rows they make
    return world


@pytest.fixture
def world(world_once: SynthsWorld) -> Iterator[SynthsWorld]:
    yield from world_once.rewound()


def keeper(world: SynthsWorld) -> SynthLiquidationKeeper:
    return SynthLiquidationKeeper(world.chain, world.liquidator, world.synths, world.database, world.clock)


def liquidated_events(world: SynthsWorld) -> int:
    vault = world.vault("AAPL")
    topic = event_topic(find_event(vault.abi, "Liquidated"))
    return len(world.chain.get_raw_logs(vault.address, [topic], world.synths.from_block))


def test_liquidates_the_least_that_restores_the_minimum_once(world: SynthsWorld) -> None:
    world.publish("AAPL", 250)  # 10 sAAPL worth 2,500 USDC against 3,000: 120%
    bot = keeper(world)

    report = bot.tick()

    assert report.refusals == ()
    [done] = report.liquidations
    assert (done.ticker, done.position_id, done.collateral_ratio) == ("AAPL", 1, Decimal("1.2"))
    # x = (1.5 x 2,500 - 3,000) / (250 x (1.5 - 1.1)) = 7.5 sAAPL, rounded up a unit.
    assert done.burned == SynthAmount(75 * SYNTH // 10 + 1)
    assert done.seized == Usd(maths.seized_for(done.burned.units, 250 * 10**8, WAD // 10, 3_000 * USDC))
    assert done.written_off == SynthAmount(0)
    view = world.reader.position("AAPL", 1)
    assert view.collateral_ratio is not None
    assert Decimal("1.5") <= view.collateral_ratio < Decimal("1.5000001")
    assert not view.liquidatable
    assert int(world.usdc.balanceOf(world.liquidator)) == done.seized.units

    again, restarted = bot.tick(), keeper(world).tick()

    assert (again.liquidations, restarted.liquidations) == ((), ())
    assert liquidated_events(world) == 1


def test_at_or_below_one_plus_penalty_the_whole_debt_goes(world: SynthsWorld) -> None:
    world.publish("AAPL", 400)  # 4,000 USDC of debt against 3,000: 75%

    [done] = keeper(world).tick().liquidations

    # 10 sAAPL at $400 plus 10% would be 4,400 USDC: all 3,000 of the collateral.
    assert (done.burned, done.seized, done.written_off) == (synths(10), Usd(3_000 * USDC), synths(0))
    vault = world.reader.vault("AAPL")
    assert (vault.total_debt, vault.bad_debt) == (synths(KEEPER_SYNTHS), synths(0))


def test_a_short_inventory_leaves_bad_debt_written_off(world: SynthsWorld) -> None:
    world.synth("AAPL").transfer(world.outsider, (KEEPER_SYNTHS - 7) * SYNTH, sender=world.liquidator)
    world.publish("AAPL", 400)

    [done] = keeper(world).tick().liquidations

    assert (done.burned, done.seized, done.written_off) == (synths(7), Usd(3_000 * USDC), synths(3))
    assert world.reader.vault("AAPL").bad_debt == synths(3)


def test_without_inventory_the_keeper_refuses(world: SynthsWorld) -> None:
    world.synth("AAPL").transfer(world.outsider, KEEPER_SYNTHS * SYNTH, sender=world.liquidator)
    world.publish("AAPL", 250)

    report = keeper(world).tick()

    assert report.liquidations == ()
    assert [(r.ticker, r.reason) for r in report.refusals] == [("AAPL", RefusalReason.NO_INVENTORY)]
    assert liquidated_events(world) == 0


@pytest.mark.parametrize(
    ("status", "stale", "reason"),
    [
        (MarketStatus.CLOSED, False, RefusalReason.MARKET_CLOSED),
        (MarketStatus.HALTED, False, RefusalReason.HALTED),
        (MarketStatus.OPEN, True, RefusalReason.STALE),
    ],
    ids=["closed", "halted", "stale"],
)
def test_waits_while_the_vault_is_suspended_then_liquidates(
    world: SynthsWorld, status: MarketStatus, stale: bool, reason: RefusalReason
) -> None:
    world.publish("AAPL", 250, status)
    if stale:
        world.wait(61)
    bot = keeper(world)

    report = bot.tick()

    assert report.liquidations == ()
    assert [(r.ticker, r.reason) for r in report.refusals] == [("AAPL", reason)]
    assert liquidated_events(world) == 0
    world.publish("AAPL", 250)
    assert len(bot.tick().liquidations) == 1


def test_healthy_positions_are_left_alone(world: SynthsWorld) -> None:
    world.publish("AAPL", 150)

    report = keeper(world).tick()

    assert (report.liquidations, report.refusals) == ((), ())


def test_a_crash_after_broadcasting_is_finished_by_the_next_run_not_repeated(world: SynthsWorld) -> None:
    world.publish("AAPL", 250)

    with pytest.raises(SimulatedCrash), simulated_crash(CRASH_SENT):
        keeper(world).tick()
    report = keeper(world).tick()

    [done] = report.liquidations
    assert (done.position_id, done.collateral_ratio) == (1, None)
    assert liquidated_events(world) == 1
    assert not world.reader.position("AAPL", 1).liquidatable
    assert keeper(world).tick().liquidations == ()
    assert liquidated_events(world) == 1


def test_refuses_bad_settings_naming_them(world: SynthsWorld) -> None:
    with pytest.raises(KeeperConfigError, match="no synthetic for TSLA"):
        SynthLiquidationKeeper(
            world.chain, world.liquidator, world.synths, world.database, world.clock, tickers=["TSLA"]
        )
    with pytest.raises(KeeperConfigError, match="at least one"):
        SynthLiquidationKeeper(
            world.chain, world.liquidator, world.synths, world.database, world.clock, tickers=[]
        )
    with pytest.raises(KeeperConfigError, match="cannot sign"):
        SynthLiquidationKeeper(world.chain, "0x" + "12" * 20, world.synths, world.database, world.clock)


def test_sizing_restores_the_minimum_or_takes_the_whole_debt() -> None:
    price, ratio, penalty = 250 * 10**8, 15 * WAD // 10, WAD // 10
    size = maths.size_liquidation(3_000 * USDC, 10 * SYNTH, price, ratio, penalty, 100 * SYNTH)
    assert size is not None
    assert size.restores
    assert size.amount == 75 * SYNTH // 10 + 1
    assert maths.size_liquidation(3_000 * USDC, 10 * SYNTH, 200 * 10**8, ratio, penalty, SYNTH) is None
    whole = maths.size_liquidation(1_000 * USDC, 10 * SYNTH, 100 * 10**8, ratio, penalty, 100 * SYNTH)
    assert whole is not None
    assert (whole.amount, whole.seized, whole.restores) == (10 * SYNTH, 1_000 * USDC, True)
