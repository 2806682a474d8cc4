"""The order processor's operator on a real chain, SQLite and the paper broker on replayed prices:
every order ends once, custody backs the supply, the requester pays what the fills cost plus the fee."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.order_processor import ProcessorWorld, limit_buy, market_buy, market_sell, processor_world
from tests.support.platform import USDC, Platform, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.orders.operator import (
    OrderNotHeldError,
    OrderState,
    UnknownProcessorOrderError,
    client_order_id,
)
from equitoken.issuer.orders.terms import ProcessorStatus, ProcessorTimeInForce
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database
from equitoken.store.schema import ProcessorFillRow

SHARE = 10**8  # AAPLx has 8 decimals


@pytest.fixture
def world(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> ProcessorWorld:
    return processor_world(build_platform(evm_chain, database, prices, calendar, tmp_path), prices)


# The in-process chain and SQLite: the crash test runs the same operator against anvil.
pytestmark = [
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
    pytest.mark.parametrize("evm_chain", ["inproc"], indirect=True),
]


def _backed(platform: Platform) -> None:
    reconciliation = platform.issuer.reconcile()
    assert reconciliation.ok, reconciliation
    holding = next(h for h in reconciliation.holdings if h.ticker == "AAPL")
    assert holding.outstanding_total <= holding.custody


def _escrow_empty(world: ProcessorWorld) -> None:
    assert int(world.platform.usdc.balanceOf(world.processor.address)) == 0
    assert int(world.platform.token("AAPL").balanceOf(world.processor.address)) == 0


def test_a_limit_buy_fills_in_parts_mints_and_charges_what_the_fills_cost(world: ProcessorWorld) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))
    order_id = world.place(limit_buy("AAPL", "3", "400"))

    [order] = world.run()

    assert order.state is OrderState.FILLED
    assert order.order_id == order_id
    assert int(world.processor.order_status(order_id)) == ProcessorStatus.FILLED
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == 3 * SHARE
    fee, paid_fee = world.processor.fee_paid(order_id)
    assert fee == paid_fee > 0
    spent = usdc_before - int(platform.usdc.balanceOf(platform.wallet))
    assert spent == order.filled_payment + fee
    assert order.filled_payment < 3 * 400 * USDC  # filled at the market, well under the limit
    with platform.issuer.db.transaction() as session:
        fills = list(session.scalars(select(ProcessorFillRow).where(ProcessorFillRow.order_id == order.id)))
    assert len(fills) == 2
    assert all(f.settled and f.custody_entry_id for f in fills)
    assert sum(f.token_amount for f in fills) == 3 * SHARE
    _escrow_empty(world)
    _backed(platform)
    reconciliation = platform.issuer.reconcile()
    assert all(v == 0 for v in reconciliation.trial_balance.values())


def test_a_market_buy_spends_at_most_its_usdc_and_returns_the_rest(world: ProcessorWorld) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))
    order_id = world.place(market_buy("AAPL", "1000"))

    [order] = world.run()

    assert order.state is OrderState.FILLED
    tokens = int(platform.token("AAPL").balanceOf(platform.wallet))
    assert tokens == order.filled_asset > 0
    assert order.filled_payment <= 1000 * USDC
    fee, paid_fee = world.processor.fee_paid(order_id)
    assert usdc_before - int(platform.usdc.balanceOf(platform.wallet)) == order.filled_payment + paid_fee
    assert paid_fee <= fee
    _escrow_empty(world)
    _backed(platform)


def test_a_sell_burns_the_escrowed_tokens_and_pays_the_proceeds(world: ProcessorWorld) -> None:
    platform = world.platform
    world.place(limit_buy("AAPL", "2", "400"))
    world.run()
    custody_before = platform.issuer.reconcile().holdings[0].custody
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))

    order_id = world.place(market_sell("AAPL", "1.5"))
    sold = world.run()[-1]

    assert sold.state is OrderState.FILLED
    assert sold.sell
    assert int(platform.token("AAPL").balanceOf(platform.wallet)) == SHARE // 2
    fee, _ = world.processor.fee_paid(order_id)
    assert int(platform.usdc.balanceOf(platform.wallet)) - usdc_before == sold.filled_payment - fee
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert custody_before - holding.custody == Shares.parse("1.5")
    _escrow_empty(world)
    _backed(platform)


def test_a_cancel_asked_before_the_order_is_placed_refunds_everything(world: ProcessorWorld) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))
    order_id = world.place(limit_buy("AAPL", "1", "400"))
    world.processor.request_cancel.transact(order_id, sender=platform.wallet)

    [order] = world.run()

    assert order.state is OrderState.CANCELLED
    assert "cancel requested" in (order.reason or "") or "requester" in (order.reason or "")
    assert int(platform.usdc.balanceOf(platform.wallet)) == usdc_before
    assert platform.broker.order(client_order_id(order.id)) is None
    _escrow_empty(world)


def test_a_day_limit_below_the_market_expires_at_the_close_and_is_refunded(world: ProcessorWorld) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))
    world.place(limit_buy("AAPL", "1", "1", ProcessorTimeInForce.DAY))

    [order] = world.run(max_rounds=40, step=timedelta(minutes=30))

    assert order.state is OrderState.CANCELLED
    assert order.filled_asset == 0
    assert "expired at the close" in (order.reason or "")
    assert int(platform.usdc.balanceOf(platform.wallet)) == usdc_before
    _escrow_empty(world)


def test_a_fill_the_chain_refuses_holds_the_order_with_its_shares_in_custody(world: ProcessorWorld) -> None:
    platform = world.platform
    world.place(limit_buy("AAPL", "1", "400"))
    token = platform.token("AAPL")
    token.set_address_frozen.transact(platform.wallet, True, sender=platform.onchain.roles.compliance_agent)

    [order] = world.run()

    assert order.state is OrderState.HELD
    assert "fill refused on-chain" in (order.reason or "")
    assert int(token.balanceOf(platform.wallet)) == 0
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert holding.custody > holding.outstanding_total


def test_a_held_buy_retried_after_the_unfreeze_mints_once(world: ProcessorWorld) -> None:
    platform = world.platform
    order_id = world.place(limit_buy("AAPL", "1", "400"))
    token = platform.token("AAPL")
    agent = platform.onchain.roles.compliance_agent
    token.set_address_frozen.transact(platform.wallet, True, sender=agent)
    [held] = world.run()
    assert held.state is OrderState.HELD

    token.set_address_frozen.transact(platform.wallet, False, sender=agent)
    assert world.operator.resolve(order_id, "retry", "investor unfrozen").state is OrderState.ORDERED
    [order] = world.run()

    assert order.state is OrderState.FILLED
    assert int(token.balanceOf(platform.wallet)) == SHARE
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert holding.custody == holding.outstanding_total
    with pytest.raises(OrderNotHeldError):
        world.operator.resolve(order_id, "retry", "twice")


def test_a_held_buy_cancelled_refunds_the_requester_and_keeps_the_shares_as_surplus(
    world: ProcessorWorld,
) -> None:
    platform = world.platform
    usdc_before = int(platform.usdc.balanceOf(platform.wallet))
    order_id = world.place(limit_buy("AAPL", "1", "400"))
    token = platform.token("AAPL")
    token.set_address_frozen.transact(platform.wallet, True, sender=platform.onchain.roles.compliance_agent)
    world.run()

    world.operator.resolve(order_id, "cancel", "investor under review")
    [order] = world.run()

    assert order.state is OrderState.CANCELLED
    assert int(platform.usdc.balanceOf(platform.wallet)) == usdc_before  # nothing was delivered
    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == "AAPL")
    broker_order = platform.broker.order(client_order_id(order.id))
    assert broker_order is not None
    assert broker_order.status.is_final
    assert holding.custody == broker_order.filled_quantity > Shares.zero()  # bought, kept, never minted
    assert holding.outstanding_total == Shares.zero()
    assert all(v == 0 for v in reconciliation.trial_balance.values())
    _escrow_empty(world)


def test_resolving_an_order_that_is_not_held_changes_nothing(world: ProcessorWorld) -> None:
    with pytest.raises(UnknownProcessorOrderError):
        world.operator.resolve(7, "retry", "no such order")
    order_id = world.place(limit_buy("AAPL", "1", "400"))
    [order] = world.run()
    with pytest.raises(OrderNotHeldError, match="is filled, not held"):
        world.operator.resolve(order_id, "cancel", "too late")
    assert world.operator.orders() == [order]
    with pytest.raises(ValueError, match="'refund' is not a valid OrderResolution"):
        world.operator.resolve(order_id, "refund", "unknown")
