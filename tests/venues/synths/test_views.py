"""`SynthsReader`: vault totals, states and prices, and each position's ratio, liquidation price,
room to mint and liquidatability at the feed's latest answer."""

from decimal import Decimal

from tests.support.synths import SynthsWorld, synths
from tests.support.venue_world import USDC

from equitoken.model.quantities import Price, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.synths.views import PriceState, VaultState


def test_vaults_and_positions(world: SynthsWorld) -> None:
    client = world.client
    first = client.open_position(world.writer, "AAPL", Usd(3_000 * USDC), synths(5), key="a").position_id
    second = client.open_position(
        world.other_writer, "AAPL", Usd(1_000 * USDC), synths(3), key="b"
    ).position_id

    vault = world.reader.vault("AAPL")
    assert (vault.state, vault.price, vault.positions) == (VaultState.OPEN, Price(200 * 10**8), 2)
    assert (vault.total_collateral, vault.total_debt, vault.supply, vault.bad_debt) == (
        Usd(4_000 * USDC),
        synths(8),
        synths(8),
        synths(0),
    )
    assert [p.id for p in world.reader.positions("AAPL")] == [first, second]
    [mine] = world.reader.positions("AAPL", world.writer)
    # 5 sAAPL at $200 against 3,000 USDC: 300%; room for 5 more; below minimum above $400.
    assert (mine.collateral_ratio, mine.max_mint, mine.liquidation_price) == (
        Decimal(3),
        synths(5),
        Price(400 * 10**8),
    )
    assert mine.debt_value == Usd(1_000 * USDC)

    world.publish("AAPL", 250)
    theirs = world.reader.position("AAPL", second)
    assert (theirs.collateral_ratio, theirs.liquidatable, theirs.max_mint) == (
        Decimal("1.333333333333333333"),  # the vault's ratio, WAD rounded down
        True,
        synths(0),
    )


def test_a_halted_market_has_no_price(world: SynthsWorld) -> None:
    world.client.open_position(world.writer, "AAPL", Usd(300 * USDC), synths(1), key="a")
    world.publish("AAPL", 150, MarketStatus.HALTED)

    assert world.reader.price_state("AAPL") == PriceState(None, VaultState.HALTED)
    view = world.reader.position("AAPL", 1)
    assert (view.price, view.collateral_ratio, view.liquidatable) == (None, None, False)
    assert view.liquidation_price == Price(200 * 10**8)
    assert [v.state for v in world.reader.vaults()] == [VaultState.HALTED, VaultState.OPEN]
