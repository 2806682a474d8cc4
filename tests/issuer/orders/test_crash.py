"""Kill the order processor's operator for real at every step, restart it, and check that every order
ended once: one broker order each, each fill minted or burned once, custody equal to the supply, the
requester's USDC moved by exactly the fills and the fee."""

from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.crash import KILLED, run_worker
from tests.support.order_processor import ProcessorWorld, market_buy, market_sell, processor_world
from tests.support.platform import ACCOUNTS, SLIPPAGE_BPS, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.durable.crashpoints import ORDER_PROCESSOR
from equitoken.issuer.orders.operator import OrderState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow, ProcessorEventRow, ProcessorFillRow

pytestmark = [
    pytest.mark.crash,
    pytest.mark.anvil,
    pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]
SELL_POINTS = ("processor_fill_sent", "processor_fill_mined")


@pytest.fixture
def world(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> ProcessorWorld:
    return processor_world(build_platform(evm_chain, database, prices, calendar, tmp_path), prices)


def _worker(world: ProcessorWorld, tmp_path: Path, crash_at: str | None) -> int:
    platform = world.platform
    chain = platform.chain
    assert isinstance(chain, JsonRpcChain)
    config = {
        "rpc_url": chain.url,
        "accounts": ACCOUNTS,
        "deployment": platform.onchain.deployment.to_json(),
        "usdc": platform.usdc.address,
        "database_url": platform.issuer.db.url,
        "broker_url": f"sqlite:///{tmp_path / 'paper-broker.sqlite'}",
        "start": platform.clock.now().isoformat(),
        "slippage_bps": SLIPPAGE_BPS,
        "fill_parts": 2,
        "processor": asdict(world.deployment),
    }
    return run_worker("tests.issuer.orders.crash_worker", config, tmp_path, crash_at)


def _crash_then_recover(world: ProcessorWorld, tmp_path: Path, *points: str) -> None:
    """Kill the worker at each point in turn (each restart goes on from where the last one died),
    then let one run finish."""
    for point in points:
        assert _worker(world, tmp_path, point) == KILLED, f"the worker never reached {point}"
    assert _worker(world, tmp_path, None) == 0


def test_orders_survive_a_kill_at_every_step(world: ProcessorWorld, tmp_path: Path) -> None:
    platform = world.platform
    wallet_usdc = int(platform.usdc.balanceOf(platform.wallet))
    world.place(market_buy("AAPL", "1000"))

    # A market buy passes every point: its broker fills in two parts, each minted, and the USDC it
    # did not spend is returned by a cancel of the remainder.
    _crash_then_recover(world, tmp_path, *ORDER_PROCESSOR)
    [bought] = world.operator.orders()
    assert bought.state is OrderState.FILLED

    world.place(market_sell("AAPL", str(Shares.parse("1"))))
    _crash_then_recover(world, tmp_path, *SELL_POINTS)

    orders = world.operator.orders()
    assert [o.state for o in orders] == [OrderState.FILLED, OrderState.FILLED]
    with platform.issuer.db.transaction() as session:
        endings = session.execute(
            select(ProcessorEventRow.order_id, func.count())
            .where(ProcessorEventRow.to_state == OrderState.FILLED)
            .group_by(ProcessorEventRow.order_id)
        ).all()
        fills = list(session.scalars(select(ProcessorFillRow)))
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
    assert sorted(count for _, count in endings) == [1, 1]
    assert len(fills) == 4
    assert all(f.settled for f in fills)
    assert len(purposes) == len(set(purposes))
    assert sum(1 for p in purposes if p.startswith("processor-fill:")) == 4
    held = int(platform.token("AAPL").balanceOf(platform.wallet))
    assert held == bought.filled_asset - orders[1].filled_asset > 0
    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == "AAPL")
    assert holding.custody == holding.outstanding_total
    fees = sum(int(world.processor.fee_paid(o.order_id)[1]) for o in orders)
    paid = bought.filled_payment - orders[1].filled_payment + fees
    assert wallet_usdc - int(platform.usdc.balanceOf(platform.wallet)) == paid
    assert int(platform.usdc.balanceOf(world.processor.address)) == 0
