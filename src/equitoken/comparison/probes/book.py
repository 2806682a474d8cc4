"""The backed open token on the order-book exchange: a custodial central limit order book (10 bps
taker fee), quoted around the oracle by the market-making keeper, whose inventory is real tokens
minted at the issuer and sent to the exchange's hot wallet. A holder buys and sells with market
orders; deposits and withdrawals are on-chain transfers, not part of a round trip (no gas counted)."""

from equitoken.comparison.probes.base import REFUSALS, Delivery, Holding, Probe, RoundTrip, per_share, refusal
from equitoken.comparison.world import MAKER, World
from equitoken.keepers.market_maker import MarketMaker
from equitoken.model.quantities import Price, Shares
from equitoken.platform.exchange import TICK, FeedStatuses, TokenMultipliers, exchange_rules
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.orders import OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.venue import ExchangeVenue

MAKER_ACCOUNT, TRADER_ACCOUNT, HOLDER_ACCOUNT, ORDERS_ACCOUNT = 1, 2, 3, 4
# The platform's market maker (`platform/up.py`): 10-share levels, at most 200 shares of inventory.
LEVEL_SIZE = Shares.parse("10")
MAX_INVENTORY = Shares.parse("200")
INVENTORY_SHARES = Shares.parse("100")  # minted for the maker's asks: half its maximum inventory
MAKER_USDC = 2_000_000
TRADER_USDC = 1_000_000
HOLDING_USD = 10_000


class BookProbe(Probe):
    model = "open_token_book"
    title = "Backed open token on the order book"

    def __init__(self) -> None:
        self.venue: ExchangeVenue | None = None
        self.maker: MarketMaker | None = None
        self.statuses: FeedStatuses | None = None
        self._orders = 0

    def _venue(self) -> ExchangeVenue:
        assert self.venue is not None
        return self.venue

    def setup(self, world: World) -> None:
        issuance = world.onchain.deployment
        self.statuses = FeedStatuses(world.chain, issuance, world.tickers)
        self.statuses.refresh()
        rules = [r for r in exchange_rules(issuance) if r.instrument.symbol in world.tickers]
        tokens = {t: issuance.instrument(t).token for t in world.tickers}
        exchange = Exchange.open(
            world.directory / "exchange",
            rules,
            self.statuses,
            clock=world.clock,
            fsync=FsyncPolicy.PER_BATCH,
            multipliers=TokenMultipliers(world.chain, tokens),
        )
        self.venue = ExchangeVenue(exchange, clock=world.clock)
        maker_wallet, hot_wallet = world.account(MAKER), world.actor("exchange hot wallet")
        for ticker in world.tickers:
            world.mint(ticker, INVENTORY_SHARES, f"compare-book-{ticker}", maker_wallet)
            token = world.token(ticker)
            raw = int(token.balanceOf(maker_wallet))
            token.transfer(hot_wallet, raw, sender=maker_wallet)
            self.venue.credit_deposit(MAKER_ACCOUNT, ticker, raw, f"maker-{ticker}")
        world.usdc.transfer(hot_wallet, MAKER_USDC * 10**6, sender=maker_wallet)
        self.venue.credit_deposit(MAKER_ACCOUNT, USDC, MAKER_USDC * 10**6, "maker-usdc")
        for account in (TRADER_ACCOUNT, HOLDER_ACCOUNT, ORDERS_ACCOUNT):
            world.usdc.transfer(hot_wallet, TRADER_USDC * 10**6, sender=maker_wallet)
            self.venue.credit_deposit(account, USDC, TRADER_USDC * 10**6, f"trader-{account}")
        feeds = {t: issuance.instrument(t).price_feed for t in world.tickers}
        self.maker = MarketMaker(
            self.venue, MAKER_ACCOUNT, feeds, world.chain, level_size=LEVEL_SIZE, max_inventory=MAX_INVENTORY
        )
        self.maker.tick()
        for ticker in world.tickers:
            self._buy(world, HOLDER_ACCOUNT, ticker, HOLDING_USD)

    def _buy(self, world: World, account: int, ticker: str, usd: int) -> int:
        venue = self._venue()
        rules = venue.rules(ticker)
        _bid, ask = venue.best(ticker)
        if ask is None:
            raise ValueError(f"no ask in {ticker}'s book")
        lot = rules.instrument.lot
        quantity = usd * 10**6 * 10**8 // (ask * TICK.units // 100) // lot * lot
        before = venue.balance(account, ticker).available
        self._orders += 1
        venue.submit(
            ticker,
            Submit(
                account, f"compare-{self._orders}", Side.BUY, OrderType.MARKET, 0, quantity, TimeInForce.IOC
            ),
        )
        return venue.balance(account, ticker).available - before

    def tick(self, world: World) -> None:
        assert self.statuses is not None
        assert self.maker is not None
        self.statuses.refresh()
        self.maker.tick()

    def mark(self, world: World, ticker: str) -> Price | None:
        bid, ask = self._venue().best(ticker)
        if bid is None or ask is None:
            return None
        return per_share((bid + ask) * TICK.units // 2, world.multiplier(ticker))

    def holding(self, world: World, ticker: str) -> Holding:
        raw = self._venue().balance(HOLDER_ACCOUNT, ticker).available
        ui = raw * world.multiplier(ticker) // 10**18
        hot_wallet = world.actor("exchange hot wallet")
        to_exchange = sum(
            p.amount.units
            for a in world.actions.actions(ticker)
            for p in world.actions.payments(a.id)
            if p.holder.lower() == hot_wallet.lower()
        )
        return Holding(
            ui * world.share_price(ticker).units // 10**10,
            0,
            f"{ui / 10**8:,.4f} shares (UI) on the exchange's books; dividends paid to the exchange's "
            "hot wallet "
            f"(the holder of record): ${to_exchange / 10**6:,.2f}",
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        venue = self._venue()
        before = venue.balance(TRADER_ACCOUNT, USDC).available
        try:
            got = self._buy(world, TRADER_ACCOUNT, ticker, usd)
            bought = venue.balance(TRADER_ACCOUNT, USDC).available
            self._orders += 1
            venue.submit(
                ticker,
                Submit(
                    TRADER_ACCOUNT,
                    f"compare-{self._orders}",
                    Side.SELL,
                    OrderType.MARKET,
                    0,
                    got,
                    TimeInForce.IOC,
                ),
            )
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = venue.balance(TRADER_ACCOUNT, USDC).available
        spent_on_buy = before - bought
        exposure = got * world.token_price(ticker).units // 10**10
        filled = (
            ""
            if exposure * 100 >= usd * 10**6 * 95
            else f"; the book's asks filled only ${exposure / 10**6:,.0f}"
        )
        return RoundTrip(
            usd,
            paid=spent_on_buy,
            received=after - bought,
            exposure=exposure,
            note="market buy then market sell against the keeper's quotes, 10 bps taker fee each way"
            + filled,
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        try:
            got = self._buy(world, ORDERS_ACCOUNT, ticker, usd)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        if got <= 0:
            return Delivery(None, "the market order found no ask to fill against")
        return Delivery(world.clock.now(), note="filled against the book at once (custodial balance)")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle
