"""The lending venue on a real anvil node, every step a signed JSON-RPC transaction: `deploy_lending`
with the default markets, an investor's actions through the outbox, a price drop, and the liquidation
keeper liquidating and selling the collateral into the AMM."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.lending import TOKEN, LendingWorld, build_world
from tests.support.venue_world import ACCOUNTS, START, USDC

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.keepers.liquidation import LiquidationKeeper, SizeKind
from equitoken.model.quantities import Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.venues.lending.errors import UnhealthyPositionError

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonRpcChain]:
    log = Path(tmp_path_factory.mktemp("anvil")) / "anvil.log"
    with AnvilNode(accounts=ACCOUNTS, log_file=log, timestamp=START) as node, node.chain() as chain:
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        yield chain


@pytest.fixture(scope="module")
def world(chain: JsonRpcChain, tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    world = build_world(
        tmp_path_factory.mktemp("lending-anvil"),
        ["SPY", "QQQ", "GOOGL", "TSLA", "NVDA", "AAPL", "MSTR"],
        pools=["AAPL"],
        pool_dollars=1_000_000,
        chain=chain,
    )
    world.fund(world.lender, 100_000 * USDC)
    world.fund(world.liquidator, 10_000 * USDC)
    return world


def test_deploys_the_default_markets(world: LendingWorld) -> None:
    market = world.lending.contract(world.chain)

    assert len(world.lending.markets) == 7
    for ticker, deployed in world.lending.markets.items():
        assert market.id_to_market_params(deployed.id_bytes)[4] == deployed.lltv, ticker
    assert market.is_irm_enabled(world.lending.irm)


def test_borrows_then_is_liquidated_and_sold_through_signed_transactions(world: LendingWorld) -> None:
    client = world.client
    world.mint("AAPL", world.borrower, 10 * TOKEN)
    client.supply(world.lender, "AAPL", Usd(50_000 * USDC), key="lend")
    client.supply_collateral(world.borrower, "AAPL", TokenAmount(10 * TOKEN, 8), key="deposit")
    with pytest.raises(UnhealthyPositionError):
        client.borrow(world.borrower, "AAPL", Usd(801 * USDC), key="too-much")
    client.borrow(world.borrower, "AAPL", Usd(750 * USDC), key="borrow")
    assert world.reader.position("AAPL", world.borrower).debt.units >= 750 * USDC
    world.publish("AAPL", 140)
    keeper = LiquidationKeeper(
        world.chain, world.liquidator, world.lending, world.database, world.clock, amm=world.amm
    )

    report = keeper.tick()

    [done] = report.liquidations
    assert (done.borrower, done.kind) == (world.borrower, SizeKind.WHOLE_DEBT)
    [sale] = report.sales
    assert sale.sold == done.seized
    # The pool still prices AAPLx at $200 while the oracle says $140: the keeper sells above the oracle.
    assert sale.received.units > sale.oracle_value.units
    assert world.reader.position("AAPL", world.borrower).debt == Usd(0)
    assert keeper.tick().liquidations == ()
