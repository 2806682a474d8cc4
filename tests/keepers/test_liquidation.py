"""The liquidation keeper on the in-process chain, over a real issuance, AMM pools and lending venue.

A borrower deposits 10 AAPLx ($2,000 at $200) and borrows $750 (AAPL: max LTV 40%, LLTV 50%), so the
position may be liquidated below $150. Every price is a round signed by the issuance's reporter; the
keeper's transactions go through a real outbox on SQLite.
"""

import math
from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.support.lending import TOKEN, LendingWorld, build_world
from tests.support.venue_world import USDC

from equitoken.chain.evm.abi import event_topic, find_event
from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.keepers.liquidation import LiquidationKeeper, SizeKind, size_liquidation
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.model.quantities import Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.lending import maths
from equitoken.venues.lending.parameters import WAD

POOL_DOLLARS = 1_000_000
KEEPER_USDC = 10_000


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    world = build_world(
        tmp_path_factory.mktemp("liquidation"),
        ["AAPL", "MSTR"],
        pools=["AAPL", "MSTR"],
        pool_dollars=POOL_DOLLARS,
    )
    world.fund(world.lender, 100_000 * USDC)
    world.fund(world.liquidator, KEEPER_USDC * USDC)
    world.fund(world.provider, 1_000_000 * USDC)
    client = world.client
    for ticker in ("AAPL", "MSTR"):
        world.mint(ticker, world.provider, 5_000 * TOKEN)
        client.supply(world.lender, ticker, Usd(50_000 * USDC), key=f"lend-{ticker}")
    world.forget_transactions()  # the keeper's tests count the rows they make
    return world


@pytest.fixture
def world(world_once: LendingWorld) -> Iterator[LendingWorld]:
    yield from world_once.rewound()


def borrow(world: LendingWorld, ticker: str = "AAPL", dollars: int = 750, borrower: str | None = None) -> str:
    """Deposit 10 tokens and borrow `dollars` as the borrower; return the borrower."""
    wallet = borrower or world.borrower
    client = world.client
    world.mint(ticker, wallet, 10 * TOKEN)
    client.supply_collateral(wallet, ticker, TokenAmount(10 * TOKEN, 8), key=f"deposit-{ticker}")
    client.borrow(wallet, ticker, Usd(dollars * USDC), key=f"borrow-{ticker}")
    return wallet


def keeper(world: LendingWorld, account: str | None = None, **settings: int) -> LiquidationKeeper:
    return LiquidationKeeper(
        world.chain,
        account or world.liquidator,
        world.lending,
        world.database,
        world.clock,
        amm=world.amm,
        **settings,  # type: ignore[arg-type]
    )


def move_pool(world: LendingWorld, ticker: str, dollars: float) -> None:
    """Trade the pool (as the provider) to about `dollars` a token, its fee aside."""
    assert world.amm is not None
    pool = world.amm.pool(world.chain, ticker)
    stock, usdc = (int(v) for v in pool.reserves())
    # p = y / x in raw units; x' = sqrt(k / p), y' = sqrt(k p).
    wanted_stock = math.isqrt(stock * usdc * TOKEN // round(dollars * USDC))
    if wanted_stock > stock:
        pool.swap(wanted_stock - stock, 0, True, world.provider, 2**40, sender=world.provider)
    else:
        wanted_usdc = math.isqrt(stock * usdc * round(dollars * USDC) // TOKEN)
        pool.swap(wanted_usdc - usdc, 0, False, world.provider, 2**40, sender=world.provider)


def drop(world: LendingWorld, ticker: str, dollars: float, status: MarketStatus = MarketStatus.OPEN) -> None:
    """Publish the new price and let the pool follow it."""
    world.publish(ticker, dollars, status)
    move_pool(world, ticker, dollars)


def liquidate_events(world: LendingWorld) -> int:
    market = world.lending.contract(world.chain)
    topic = event_topic(find_event(market.abi, "Liquidate"))
    return len(world.chain.get_raw_logs(market.address, [topic], world.lending.from_block))


# ---------------------------------------------------------------------------------- liquidation


def test_liquidates_an_unhealthy_position_once_and_sells_the_collateral(world: LendingWorld) -> None:
    borrower = borrow(world)
    drop(world, "AAPL", 140)
    bot = keeper(world)

    report = bot.tick()

    assert [r.reason for r in report.refusals] == []
    [done] = report.liquidations
    assert (done.ticker, done.borrower, done.kind) == ("AAPL", borrower, SizeKind.WHOLE_DEBT)
    # At $140 the collateral is worth $1,400; at the 50% LLTV it carries $700 of the $750 owed.
    assert Decimal("0.9333") < done.health_factor <= Decimal(700) / Decimal(750)
    assert done.bad_debt == Usd(0)
    # Repaid $750 (and a few seconds' interest) for collateral worth it x 1.15 (the LIF) at $140.
    assert 750 * USDC <= done.repaid.units < 750 * USDC + USDC // 100
    expected_seized = done.repaid.units * 115 // 100 * TOKEN // (140 * USDC)
    assert abs(done.seized.raw - expected_seized) <= 1
    position = world.reader.position("AAPL", borrower)
    assert (position.debt, position.collateral.raw) == (Usd(0), 10 * TOKEN - done.seized.raw)
    [sale] = report.sales
    assert sale.sold == done.seized
    assert sale.received.units >= sale.oracle_value.units * 99 // 100
    assert world.token("AAPL").balanceOf(world.liquidator) == 0
    assert (
        world.usdc.balanceOf(world.liquidator) == KEEPER_USDC * USDC - done.repaid.units + sale.received.units
    )

    again = bot.tick()
    restarted = keeper(world).tick()

    assert (again.liquidations, again.sales, restarted.liquidations, restarted.sales) == ((), (), (), ())
    assert liquidate_events(world) == 1


def test_a_crash_after_broadcasting_is_finished_by_the_next_run_not_repeated(world: LendingWorld) -> None:
    borrower = borrow(world)
    drop(world, "AAPL", 140)

    with pytest.raises(SimulatedCrash), simulated_crash("liquidation_sent"):
        keeper(world).tick()
    report = keeper(world).tick()

    [done] = report.liquidations
    assert done.borrower == borrower
    assert len(report.sales) == 1
    assert liquidate_events(world) == 1
    assert world.reader.position("AAPL", borrower).debt == Usd(0)


def test_a_crash_after_the_sale_is_broadcast_sells_once(world: LendingWorld) -> None:
    borrow(world)
    drop(world, "AAPL", 140)

    with pytest.raises(SimulatedCrash), simulated_crash("collateral_swap_sent"):
        keeper(world).tick()
    report = keeper(world).tick()

    assert report.liquidations == ()
    [sale] = report.sales
    assert world.token("AAPL").balanceOf(world.liquidator) == 0
    assert keeper(world).tick().sales == ()
    assert sale.sold.raw > 0


def test_never_liquidates_on_a_halted_price(world: LendingWorld) -> None:
    borrow(world)
    drop(world, "AAPL", 140)
    world.publish("AAPL", 140, MarketStatus.HALTED)
    nonce = world.chain.nonce(world.liquidator, "latest")

    report = keeper(world).tick()

    assert report.liquidations == ()
    [refusal] = report.refusals
    assert (refusal.ticker, refusal.reason) == ("AAPL", RefusalReason.HALTED)
    assert "guard: market halted" in refusal.detail
    assert world.chain.nonce(world.liquidator, "latest") == nonce


def test_never_liquidates_on_a_stale_price(world: LendingWorld) -> None:
    borrow(world)
    drop(world, "AAPL", 140)
    world.wait(7_201)
    nonce = world.chain.nonce(world.liquidator, "latest")

    report = keeper(world).tick()

    assert report.liquidations == ()
    assert [(r.reason, r.detail) for r in report.refusals] == [
        (
            RefusalReason.STALE,
            "cannot price 1 position with debt: the oracle adapter says 'guard: stale price'",
        )
    ]
    assert world.chain.nonce(world.liquidator, "latest") == nonce


def test_waits_out_the_reopening_grace_then_liquidates(world: LendingWorld) -> None:
    borrower = borrow(world)
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    drop(world, "AAPL", 140)  # Monday opens with a gap
    bot = keeper(world)

    during = bot.tick()

    assert during.liquidations == ()
    assert [(r.reason, r.detail) for r in during.refusals] == [
        (RefusalReason.GRACE, "1 unhealthy position wait: the oracle adapter says 'oracle: reopening grace'")
    ]
    world.wait(300)
    world.publish("AAPL", 140)
    after = bot.tick()

    assert [d.borrower for d in after.liquidations] == [borrower]
    assert liquidate_events(world) == 1


def test_liquidates_at_the_frozen_close_but_keeps_the_collateral_while_the_pool_charges_its_closed_fee(
    world: LendingWorld,
) -> None:
    borrow(world)
    move_pool(world, "AAPL", 140)
    world.publish("AAPL", 140, MarketStatus.CLOSED)  # the session closed at $140
    bot = keeper(world)

    closed = bot.tick()

    assert len(closed.liquidations) == 1
    assert closed.sales == ()
    [refusal] = closed.refusals
    assert refusal.reason == RefusalReason.SLIPPAGE
    assert "below the oracle's" in refusal.detail
    assert "(limit 100 bps)" in refusal.detail
    seized = closed.liquidations[0].seized.raw
    assert world.token("AAPL").balanceOf(world.liquidator) == seized
    world.publish("AAPL", 140)  # the market reopens; the pool's open fee is 0.3%

    reopened = bot.tick()

    assert [s.sold.raw for s in reopened.sales] == [seized]
    assert world.token("AAPL").balanceOf(world.liquidator) == 0


def test_a_deep_underwater_position_is_seized_whole_and_its_bad_debt_written_off(world: LendingWorld) -> None:
    borrower = borrow(world)
    drop(world, "AAPL", 80)  # $800 of collateral for $750 of debt: LTV 94% x LIF 1.15 > 1
    before = world.reader.market("AAPL")

    [done] = keeper(world).tick().liquidations

    assert done.kind == SizeKind.WHOLE_COLLATERAL
    assert done.seized == TokenAmount(10 * TOKEN, 8)
    # $800 / 1.15 = $695.65 repaid; the rest of the $750 is bad debt.
    assert abs(done.repaid.units - 800 * USDC * 100 // 115) <= 1
    assert done.bad_debt.units > 54 * USDC
    assert done.repaid.units + done.bad_debt.units >= 750 * USDC
    assert world.reader.raw_position("AAPL", borrower)[1:] == (0, 0)
    after = world.reader.market("AAPL")
    assert after.supplied.units <= before.supplied.units - done.bad_debt.units + USDC // 100
    assert after.borrowed.units < USDC // 100  # only others' debt (none) and rounding remain


def test_a_short_inventory_liquidates_part_without_worsening_the_ltv(world: LendingWorld) -> None:
    borrower = borrow(world)
    drop(world, "AAPL", 140)
    world.usdc.transfer(world.lender, (KEEPER_USDC - 300) * USDC, sender=world.liquidator)
    ltv_before = world.reader.position("AAPL", borrower).ltv

    [done] = keeper(world).tick().liquidations

    assert done.kind == SizeKind.PARTIAL_DEBT
    assert done.repaid.units <= 300 * USDC
    after = world.reader.position("AAPL", borrower)
    assert after.debt.units > 0
    assert after.collateral.raw > 0
    assert after.ltv is not None
    assert ltv_before is not None
    assert after.ltv <= ltv_before


def test_without_usdc_the_keeper_refuses(world: LendingWorld) -> None:
    borrow(world)
    drop(world, "AAPL", 140)
    world.usdc.transfer(world.lender, KEEPER_USDC * USDC, sender=world.liquidator)

    report = keeper(world).tick()

    assert report.liquidations == ()
    assert [r.reason for r in report.refusals] == [RefusalReason.NO_INVENTORY]


def test_a_sale_beyond_the_slippage_limit_waits_for_the_pool(world: LendingWorld) -> None:
    borrow(world)
    world.publish("AAPL", 140)
    move_pool(world, "AAPL", 133)  # 5% under the oracle
    bot = keeper(world)

    first = bot.tick()

    assert len(first.liquidations) == 1
    assert first.sales == ()
    assert [r.reason for r in first.refusals] == [RefusalReason.SLIPPAGE]
    held = world.token("AAPL").balanceOf(world.liquidator)
    assert held == first.liquidations[0].seized.raw
    move_pool(world, "AAPL", 140)

    second = bot.tick()

    [sale] = second.sales
    assert sale.sold.raw == held
    assert sale.received.units >= sale.oracle_value.units * 99 // 100
    assert bot.tick().sales == ()


def test_a_permissioned_token_pays_only_a_registered_keeper(world: LendingWorld) -> None:
    borrower = borrow(world, "MSTR", dollars=550)  # MSTR: max LTV 30%, LLTV 40%
    drop(world, "MSTR", 120)
    world.fund(world.outsider, KEEPER_USDC * USDC)

    unregistered = keeper(world, world.outsider).tick()

    assert unregistered.liquidations == ()
    [refusal] = unregistered.refusals
    assert refusal.reason == RefusalReason.COMPLIANCE
    assert "will not pay the keeper's wallet: receiver" in refusal.detail
    assert world.chain.nonce(world.outsider, "latest") == 0

    registered = keeper(world).tick()

    assert [(d.ticker, d.borrower) for d in registered.liquidations] == [("MSTR", borrower)]
    assert len(registered.sales) == 1


def test_healthy_positions_are_left_alone(world: LendingWorld) -> None:
    borrow(world)
    drop(world, "AAPL", 151)

    report = keeper(world).tick()

    assert (report.liquidations, report.sales, report.refusals) == ((), (), ())


# ---------------------------------------------------------------------------------------- sizing


def test_sizing_follows_ltv_times_lif() -> None:
    totals = maths.MarketTotals(100_000 * USDC, 10**17, 750 * USDC, 750 * USDC * 10**6, 0, 0)
    shares = 750 * USDC * 10**6
    collateral = 10 * TOKEN
    lltv = WAD // 2

    def price(dollars: int) -> int:
        return dollars * 10**26 * 10**8

    whole_debt = size_liquidation(totals, shares, collateral, price(140), lltv, 10**12)
    whole_collateral = size_liquidation(totals, shares, collateral, price(80), lltv, 10**12)
    partial = size_liquidation(totals, shares, collateral, price(140), lltv, 300 * USDC)

    assert whole_debt is not None
    assert (whole_debt.kind, whole_debt.repaid_shares) == (
        SizeKind.WHOLE_DEBT,
        shares,
    )
    assert whole_collateral is not None
    assert (whole_collateral.kind, whole_collateral.seized_assets) == (SizeKind.WHOLE_COLLATERAL, collateral)
    assert partial is not None
    assert partial.kind == SizeKind.PARTIAL_DEBT
    assert partial.usdc_needed <= 300 * USDC
    assert size_liquidation(totals, shares, collateral, price(80), lltv, 600 * USDC) is None


def test_refuses_bad_settings_naming_them(world: LendingWorld) -> None:
    with pytest.raises(KeeperConfigError, match="slippage_bps must be 0 to 9999, not 10000"):
        keeper(world, slippage_bps=10_000)
    with pytest.raises(KeeperConfigError, match="no lending market for TSLA"):
        LiquidationKeeper(
            world.chain, world.liquidator, world.lending, world.database, world.clock, tickers=["TSLA"]
        )
    with pytest.raises(KeeperConfigError, match="cannot sign for wallet"):
        keeper(world, "0x000000000000000000000000000000000000dEaD")
