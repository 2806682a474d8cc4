"""The order processor (Dinari dShares model): a verified requester takes a fee quote signed by the
issuer, escrows USDC (or tokens) in the processor, and the issuer's operator fills the order from the
broker's fills through custody, only while the stock market trades. Its price is the token's NAV."""

from datetime import timedelta

from equitoken.chain.evm.contract import Contract
from equitoken.comparison.probes.base import (
    REFUSALS,
    Delivery,
    Holding,
    Placed,
    Probe,
    RoundTrip,
    feed_mark,
    refusal,
    wallet_holding,
)
from equitoken.comparison.world import REQUESTER, REQUESTER_ORDERS, ComparisonError, World
from equitoken.issuer.config import FeeSchedule
from equitoken.issuer.investors import InvestorCategory
from equitoken.issuer.orders.deployment import deploy_processor, processor_at
from equitoken.issuer.orders.operator import OrderState, OrderView, ProcessorOperator
from equitoken.issuer.orders.quoter import FeeQuoter, OrderAsk, Side
from equitoken.issuer.orders.terms import ProcessorOrderType, ProcessorTimeInForce
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.platform.pool_seed import VENUE_OPERATOR, onboard_by_name

# The fee schedule the issuer quotes: the platform's default for primary requests ($1 + 10 bps).
FEES = FeeSchedule(Usd.parse("1"), 10)
HOLDING_USD = 10_000
MAX_MINUTES = 3 * 24 * 60  # a DAY order placed on a Friday evening fills on Monday


class OrderProcessorProbe(Probe):
    model = "order_processor"
    title = "Order processor (escrowed orders filled at the broker)"

    def __init__(self) -> None:
        self.operator: ProcessorOperator | None = None
        self.quoter: FeeQuoter | None = None
        self.processor: Contract | None = None
        self._placed: list[Placed[int]] = []

    def setup(self, world: World) -> None:
        venue = onboard_by_name(world.issuer, VENUE_OPERATOR, InvestorCategory.PROFESSIONAL)
        deployment = deploy_processor(world.onchain, venue_investor_id=venue.onchain_id)
        processor = self.processor = processor_at(world.chain, deployment)
        signer = world.chain.signers.get(world.roles.attester)
        instruments = dict(world.issuer.instruments)
        self.quoter = FeeQuoter(
            world.onchain, self.processor, signer, instruments, world.prices, world.clock, FEES
        )
        self.operator = ProcessorOperator(
            world.database,
            world.onchain,
            processor,
            world.broker,
            world.clock,
            world.issuer.instruments,
            world.issuer,
            world.prices,
        )
        for wallet in (world.account(REQUESTER), world.account(REQUESTER_ORDERS)):
            world.usdc.approve.transact(processor.address, 10**15, sender=wallet)
        for ticker in world.tickers:
            order = self._create(world, _buy(ticker, HOLDING_USD))[0]
            self._wait(world, order)

    def _create(self, world: World, ask: OrderAsk, wallet: str | None = None) -> tuple[int, int]:
        assert self.quoter is not None
        assert self.processor is not None
        wallet = wallet or world.account(REQUESTER)
        signed = self.quoter.quote(wallet, ask)
        gas = 0
        if signed.order.sell:
            token = world.token(ask.ticker)
            gas += token.approve.transact(
                self.processor.address, signed.order.asset_quantity, sender=wallet
            ).gas_used
        order_id = int(self.processor.next_order_id())
        receipt = self.processor.create_order.transact(
            signed.order.as_tuple(), signed.quote.as_tuple(), signed.signature, sender=wallet
        )
        return order_id, gas + receipt.gas_used

    def _view(self, order_id: int) -> OrderView | None:
        assert self.operator is not None
        return next((o for o in self.operator.orders() if o.order_id == order_id), None)

    def _wait(self, world: World, order_id: int) -> OrderView:
        assert self.operator is not None
        for _ in range(MAX_MINUTES):
            self.operator.process()
            view = self._view(order_id)
            if view is not None and view.state.is_final:
                if view.state is not OrderState.FILLED:
                    raise ComparisonError(f"processor order {order_id} ended {view.state}: {view.reason}")
                return view
            world.advance(world.clock.now() + timedelta(minutes=1))
        raise ComparisonError(f"processor order {order_id} still open after {MAX_MINUTES} minutes")

    def tick(self, world: World) -> None:
        assert self.operator is not None
        self.operator.process()
        for placed in self._placed:
            if placed.delivered is None:
                view = self._view(placed.order_id)
                if view is not None and view.state.is_final:
                    placed.delivered = world.clock.now()

    def mark(self, world: World, ticker: str) -> Price | None:
        return feed_mark(world, ticker)

    def holding(self, world: World, ticker: str) -> Holding:
        return wallet_holding(world, ticker, world.account(REQUESTER), "shares (UI)")

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        wallet = world.account(REQUESTER)
        token = world.token(ticker)
        before, held = int(world.usdc.balanceOf(wallet)), int(token.balanceOfUI(wallet))
        started = world.clock.now()
        try:
            buy_id, gas = self._create(world, _buy(ticker, usd))
            bought = self._wait(world, buy_id)
            got = int(token.balanceOfUI(wallet)) - held
            sell_id, sell_gas = self._create(world, _sell(ticker, Shares(got * 10)))
            self._wait(world, sell_id)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(wallet))
        minutes = (world.clock.now() - started).total_seconds() / 60
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            gas=gas + sell_gas,
            exposure=bought.filled_payment,
            note=f"market buy of ${usd:,} then market sell of what it delivered; {minutes:.0f} min of market "
            "time for both fills; the operator's fill transactions are the issuer's gas",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        try:
            order_id, _gas = self._create(world, _buy(ticker, usd), world.account(REQUESTER_ORDERS))
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        placed = Placed(order_id)
        self._placed.append(placed)
        return placed

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Placed)
        if handle.delivered is None:
            return None
        view = self._view(handle.order_id)
        if view is None or view.state is not OrderState.FILLED:
            return Delivery(
                None, f"order ended {view.state if view else 'unknown'}: {view.reason if view else ''}"
            )
        return Delivery(handle.delivered, note="tokens delivered by the operator's fill")


def _buy(ticker: str, usd: int) -> OrderAsk:
    return OrderAsk(
        ticker, Side.BUY, ProcessorOrderType.MARKET, ProcessorTimeInForce.DAY, spend=Usd(usd * 10**6)
    )


def _sell(ticker: str, shares: Shares) -> OrderAsk:
    return OrderAsk(ticker, Side.SELL, ProcessorOrderType.MARKET, ProcessorTimeInForce.DAY, quantity=shares)
