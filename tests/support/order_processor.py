"""An order processor beside a test issuer (`tests.support.platform`), its fee quoter and its operator,
and a requester's side: quote, approve, place, ask to cancel."""

from dataclasses import dataclass
from datetime import timedelta

from tests.support.platform import Platform

from equitoken.chain.evm.contract import Contract
from equitoken.issuer.config import FeeSchedule
from equitoken.issuer.investors import InvestorCategory
from equitoken.issuer.orders.deployment import ProcessorDeployment, deploy_processor, processor_at
from equitoken.issuer.orders.operator import OrderView, ProcessorOperator
from equitoken.issuer.orders.quoter import FeeQuoter, OrderAsk, Side
from equitoken.issuer.orders.terms import ProcessorOrderType, ProcessorTimeInForce
from equitoken.market.prices import PriceSource
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.platform.pool_seed import VENUE_OPERATOR, onboard_by_name

FEES = FeeSchedule(Usd.parse("1"), 10)


@dataclass
class ProcessorWorld:
    """A test issuer with an order processor on its chain."""

    platform: Platform
    deployment: ProcessorDeployment
    processor: Contract
    quoter: FeeQuoter
    operator: ProcessorOperator

    def place(self, ask: OrderAsk, wallet: str | None = None) -> int:
        """Quote `ask` for `wallet` (the participant's), approve what it escrows and create it; return
        the processor's order id."""
        wallet = wallet or self.platform.wallet
        signed = self.quoter.quote(wallet, ask)
        order = signed.order
        if order.sell:
            self.platform.token(ask.ticker).approve.transact(
                self.processor.address, order.asset_quantity, sender=wallet
            )
        self.platform.usdc.approve.transact(self.processor.address, 10**15, sender=wallet)
        order_id = int(self.processor.next_order_id())
        self.processor.create_order.transact(
            order.as_tuple(), signed.quote.as_tuple(), signed.signature, sender=wallet
        )
        return order_id

    def run(self, *, step: timedelta = timedelta(minutes=1), max_rounds: int = 200) -> list[OrderView]:
        """Process and move the clock until no order is open; return the orders."""
        for _ in range(max_rounds):
            self.operator.process()
            if not self.operator.orders(open_only=True):
                return self.operator.orders()
            self.platform.clock.advance(step)
        raise AssertionError(
            f"orders still open after {max_rounds} rounds: {self.operator.orders(open_only=True)}"
        )

    def view(self, order_id: int) -> OrderView:
        return next(o for o in self.operator.orders() if o.order_id == order_id)


def limit_buy(
    ticker: str, shares: str, limit: str, tif: ProcessorTimeInForce = ProcessorTimeInForce.GTC
) -> OrderAsk:
    return OrderAsk(
        ticker,
        Side.BUY,
        ProcessorOrderType.LIMIT,
        tif,
        quantity=Shares.parse(shares),
        limit=Price.parse(limit),
    )


def market_buy(ticker: str, spend: str, tif: ProcessorTimeInForce = ProcessorTimeInForce.DAY) -> OrderAsk:
    return OrderAsk(ticker, Side.BUY, ProcessorOrderType.MARKET, tif, spend=Usd.parse(spend))


def market_sell(ticker: str, shares: str, tif: ProcessorTimeInForce = ProcessorTimeInForce.DAY) -> OrderAsk:
    return OrderAsk(ticker, Side.SELL, ProcessorOrderType.MARKET, tif, quantity=Shares.parse(shares))


def processor_world(
    platform: Platform, prices: PriceSource, deployment: ProcessorDeployment | None = None
) -> ProcessorWorld:
    """Deploy a processor for the platform's tokens (or take `deployment`) and wire its quoter and
    operator to the platform's issuer."""
    issuer, onchain = platform.issuer, platform.onchain
    if deployment is None:
        venue = onboard_by_name(issuer, VENUE_OPERATOR, InvestorCategory.PROFESSIONAL)
        deployment = deploy_processor(onchain, venue_investor_id=venue.onchain_id)
    processor = processor_at(platform.chain, deployment)
    signer = platform.chain.signers.get(onchain.roles.attester)
    quoter = FeeQuoter(onchain, processor, signer, issuer.instruments, prices, platform.clock, FEES)
    operator = ProcessorOperator(
        issuer.db, onchain, processor, platform.broker, platform.clock, issuer.instruments, issuer, prices
    )
    return ProcessorWorld(platform, deployment, processor, quoter, operator)
