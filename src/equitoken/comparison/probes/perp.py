"""The perpetual future on the token's price: a 1x long against the venue's vault, opened and closed
at the feed's price with the spread and fees, funding between; while the stock market is closed the
market is CLOSED (gTrade's policy): opens queue as orders that anyone executes at the reopening."""

from dataclasses import dataclass
from datetime import datetime

from equitoken.comparison.probes.base import (
    REFUSALS,
    Delivery,
    Holding,
    Probe,
    RoundTrip,
    per_share,
    refusal,
)
from equitoken.comparison.world import World
from equitoken.model.quantities import Price
from equitoken.venues.perps.deployment import PerpsDeployment, deploy_perps

WAD = 10**18
HOLDING_USD = 10_000
VAULT_USD = 5_000_000
UNLIMITED = 2**256 - 1
STATE_OPEN = 1


@dataclass
class _Queued:
    ticker: str
    order_id: int
    placed_at: datetime
    executed_at: datetime | None = None
    refused: str | None = None


class PerpProbe(Probe):
    model = "perp"
    title = "Perpetual future (1x long)"

    def __init__(self) -> None:
        self.perps: PerpsDeployment | None = None
        self._positions: dict[str, int] = {}
        self._queued: list[_Queued] = []

    def _market(self, world: World, ticker: str):  # type: ignore[no-untyped-def]
        assert self.perps is not None
        return self.perps.contract(world.chain, ticker)

    def setup(self, world: World) -> None:
        admin = world.roles.admin
        self.perps = deploy_perps(
            world.chain,
            admin,
            world.usdc.address,
            world.onchain.deployment,
            world.tickers,
            vault_seed=VAULT_USD * 10**6,
        )
        trader = world.actor("perp trader")
        for ticker in world.tickers:
            market = self._market(world, ticker)
            world.usdc.approve(market.address, UNLIMITED, sender=trader)
            self._positions[ticker] = self._open(world, ticker, HOLDING_USD)

    def _open(self, world: World, ticker: str, usd: int) -> int:
        market = self._market(world, ticker)
        market.open_position.transact(True, usd * 10**6, WAD, 0, 0, 0, sender=world.actor("perp trader"))
        return int(market.next_position_id()) - 1

    def tick(self, world: World) -> None:
        for order in self._queued:
            if order.executed_at is not None or order.refused is not None:
                continue
            market = self._market(world, order.ticker)
            if int(market.mark_price()[1]) != STATE_OPEN:
                continue
            receipt = market.execute_order.transact(order.order_id, sender=world.actor("perp keeper"))
            events = [e.name for e in market.decode_logs(receipt)]
            if "OrderExecuted" in events:
                order.executed_at = world.clock.now()
            else:
                order.refused = "the order was cancelled at execution"

    def mark(self, world: World, ticker: str) -> Price | None:
        price, _state = self._market(world, ticker).mark_price()
        return per_share(int(price), world.multiplier(ticker)) if int(price) else None

    def holding(self, world: World, ticker: str) -> Holding:
        market = self._market(world, ticker)
        position = self._positions[ticker]
        equity = int(market.equity(position))
        funding = int(market.position_funding(position))
        return Holding(
            equity, 0, f"position {position}: equity after close fee, funding owed {funding / 1e6:+.2f}"
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        market = self._market(world, ticker)
        trader = world.actor("perp trader")
        before = int(world.usdc.balanceOf(trader))
        try:
            opened = market.open_position.transact(True, usd * 10**6, WAD, 0, 0, 0, sender=trader)
            position = int(market.next_position_id()) - 1
            size = int(market.position(position)[2])
            closed = market.close_position.transact(position, size, 0, sender=trader)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(trader))
        exposure = size * world.token_price(ticker).units // 10**20  # 18-decimal size x 8-decimal price
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            gas=opened.gas_used + closed.gas_used,
            exposure=exposure,
            note="margin = notional (1x); open and close fees, spread and skew premium",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        market = self._market(world, ticker)
        trader = world.actor("perp orders")
        try:
            world.usdc.approve(market.address, UNLIMITED, sender=trader)
            if int(market.mark_price()[1]) == STATE_OPEN:
                market.open_position.transact(True, usd * 10**6, WAD, 0, 0, 0, sender=trader)
                return Delivery(world.clock.now(), note="position opened in the next block")
            market.request_open.transact(True, usd * 10**6, WAD, 0, 0, 0, sender=trader)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        queued = _Queued(ticker, int(market.next_order_id()) - 1, world.clock.now())
        self._queued.append(queued)
        return queued

    def poll(self, world: World, handle: object) -> Delivery | None:
        if isinstance(handle, Delivery):
            return handle
        assert isinstance(handle, _Queued)
        if handle.refused is not None:
            return Delivery(None, handle.refused)
        if handle.executed_at is None:
            return None
        return Delivery(handle.executed_at, note="queued while closed; executed by a keeper at the reopening")
