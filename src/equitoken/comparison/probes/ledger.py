"""The exchange ledger (FTX's and Binance's stock tokens of 2020-21): fractional shares held only as
balances in the exchange's accounts, bought from $1 and sold through the issuer's broker and custody
by the exchange's ledger desk; no token, no gas, no withdrawal. A holder deals at the broker's price
while the market trades; its balance is marked at the underlying's price."""

from datetime import timedelta

from equitoken.comparison.probes.base import REFUSALS, Delivery, Holding, Placed, Probe, RoundTrip, refusal
from equitoken.comparison.world import ComparisonError, World
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.platform.exchange import FeedStatuses, exchange_rules
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.ledger import LedgerDesk, LedgerOrder, LedgerState, ledger_rules
from equitoken.venues.exchange.ledger_assets import ledger_asset
from equitoken.venues.exchange.venue import ExchangeVenue

HOLDER_ACCOUNT, TRADER_ACCOUNT, ORDERS_ACCOUNT = 1, 2, 3
ACCOUNT_USDC = 1_000_000
HOLDING_USD = 10_000
MAX_MINUTES = 3 * 24 * 60  # an order placed on a Friday evening fills on Monday


class ExchangeLedgerProbe(Probe):
    model = "exchange_ledger"
    title = "Exchange ledger (stock balances on the exchange's books)"

    def __init__(self) -> None:
        self.desk: LedgerDesk | None = None
        self.venue: ExchangeVenue | None = None
        self.statuses: FeedStatuses | None = None
        self._orders = 0
        self._placed: list[Placed[str]] = []

    def _desk(self) -> LedgerDesk:
        assert self.desk is not None
        return self.desk

    def setup(self, world: World) -> None:
        issuance = world.onchain.deployment
        self.statuses = FeedStatuses(world.chain, issuance, world.tickers)
        self.statuses.refresh()
        rules = [r for r in exchange_rules(issuance) if r.instrument.symbol in world.tickers]
        rules += [ledger_rules(t) for t in world.tickers]
        exchange = Exchange.open(
            world.directory / "exchange-ledger",
            rules,
            self.statuses,
            clock=world.clock,
            fsync=FsyncPolicy.PER_BATCH,
        )
        self.venue = ExchangeVenue(exchange, clock=world.clock)
        hot_wallet = world.actor("ledger exchange hot wallet")
        for account in (HOLDER_ACCOUNT, TRADER_ACCOUNT, ORDERS_ACCOUNT):
            world.fund(hot_wallet, ACCOUNT_USDC * 10**6)
            self.venue.credit_deposit(account, USDC, ACCOUNT_USDC * 10**6, f"ledger-usdc-{account}")
        self.desk = LedgerDesk(world.database, self.venue, world.broker, world.prices, world.clock)
        world.issuer.count_ledger(self.desk.outstanding)
        for ticker in world.tickers:
            self._wait(world, self._buy(ticker, HOLDER_ACCOUNT, HOLDING_USD))

    def _buy(self, ticker: str, account: int, usd: int) -> str:
        self._orders += 1
        return self._desk().buy(account, ticker, Usd(usd * 10**6), f"compare-ledger-{self._orders}").id

    def _wait(self, world: World, order_id: str) -> LedgerOrder:
        desk = self._desk()
        for _ in range(MAX_MINUTES):
            desk.process()
            order = desk.order(order_id)
            if order.state.is_final:
                if order.state is not LedgerState.DONE:
                    raise ComparisonError(f"ledger order {order_id} ended {order.state}: {order.reason}")
                return order
            world.advance(world.clock.now() + timedelta(minutes=1))
        raise ComparisonError(f"ledger order {order_id} still open after {MAX_MINUTES} minutes")

    def tick(self, world: World) -> None:
        assert self.statuses is not None
        self.statuses.refresh()
        self._desk().process()
        for placed in self._placed:
            if placed.delivered is None and self._desk().order(placed.order_id).state.is_final:
                placed.delivered = world.clock.now()

    def mark(self, world: World, ticker: str) -> Price | None:
        return world.share_price(ticker)

    def holding(self, world: World, ticker: str) -> Holding:
        assert self.venue is not None
        shares = Shares(self.venue.balance(HOLDER_ACCOUNT, ledger_asset(ticker)).available)
        value = world.share_price(ticker).notional(shares, round_up=False)
        return Holding(
            value.units,
            0,
            f"{shares} shares on the exchange's ledger (a split scales the balance; dividends are not "
            "passed to ledger balances)",
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        assert self.venue is not None
        before = self.venue.balance(TRADER_ACCOUNT, USDC).available
        started = world.clock.now()
        try:
            bought = self._wait(world, self._buy(ticker, TRADER_ACCOUNT, usd))
            self._orders += 1
            sale = self._desk().sell(
                TRADER_ACCOUNT, ticker, bought.filled_shares, f"compare-ledger-{self._orders}"
            )
            self._wait(world, sale.id)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = self.venue.balance(TRADER_ACCOUNT, USDC).available
        minutes = (world.clock.now() - started).total_seconds() / 60
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            exposure=bought.filled_usd.units,
            note=f"the desk's market buy of ${usd:,} at the broker, then the sale of the shares it credited; "
            f"{minutes:.0f} min of market time; no gas (an off-chain balance)",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        try:
            order_id = self._buy(ticker, ORDERS_ACCOUNT, usd)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        placed = Placed(order_id)
        self._placed.append(placed)
        return placed

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Placed)
        if handle.delivered is None:
            return None
        order = self._desk().order(handle.order_id)
        if order.state is not LedgerState.DONE:
            return Delivery(None, f"ledger order ended {order.state}: {order.reason}")
        return Delivery(
            handle.delivered, note="shares credited to the exchange account once the broker filled"
        )
