"""The backed open token on the AMM: a pool per instrument over the token's price feed, seeded by a
liquidity provider with tokens minted at the issuer, held to its oracle by the arbitrage keeper. A
holder buys and sells by swapping; the pool trades around the clock (a wider fee while closed)."""

from equitoken.comparison.probes.base import (
    REFUSALS,
    Delivery,
    Holding,
    Probe,
    RoundTrip,
    dividends_paid,
    per_share,
    refusal,
)
from equitoken.comparison.world import KEEPER, LIQUIDITY, TRADER, World
from equitoken.keepers.arbitrage import ArbitrageKeeper
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.venues.amm import AmmDeployment, deploy_amm

POOL_USD = 1_000_000  # each pool's USDC side at seeding; the token side worth the same
HOLDING_USD = 10_000
DEADLINE = 2**40
UNLIMITED = 2**256 - 1


class AmmProbe(Probe):
    model = "open_token_amm"
    title = "Backed open token on the AMM"

    def __init__(self) -> None:
        self.amm: AmmDeployment | None = None
        self.keeper: ArbitrageKeeper | None = None
        self._held: dict[str, int] = {}

    def setup(self, world: World) -> None:
        roles = world.roles
        self.amm = deploy_amm(
            world.chain, roles.admin, world.usdc.address, world.onchain.deployment, world.tickers
        )
        provider, keeper, trader = world.account(LIQUIDITY), world.account(KEEPER), world.account(TRADER)
        for ticker in world.tickers:
            price = world.share_price(ticker)
            shares = price.shares_for(Usd(2 * POOL_USD * 10**6))
            world.mint(
                ticker, Shares(shares.units // 10**9 * 10**9 + 10**9), f"compare-amm-{ticker}", provider
            )
            pool = self.amm.pool(world.chain, ticker)
            token = world.token(ticker)
            raw = int(token.balanceOf(provider)) // 2
            usdc = raw * price.units // 10**10
            for holder in (provider, keeper, trader):
                token.approve(pool.address, UNLIMITED, sender=holder)
                world.usdc.approve(pool.address, UNLIMITED, sender=holder)
            pool.add_liquidity(raw, usdc, 0, 0, provider, DEADLINE, sender=provider)
            token.transfer(keeper, int(token.balanceOf(provider)), sender=provider)
        feeds = {t: world.onchain.deployment.instrument(t).price_feed for t in world.tickers}
        self.keeper = ArbitrageKeeper(
            world.chain, keeper, self.amm, feeds, max_trade_usdc=Usd(POOL_USD * 10**6)
        )
        for ticker in world.tickers:
            before = int(world.token(ticker).balanceOf(trader))
            self._pool(world, ticker).swap.transact(
                HOLDING_USD * 10**6, 1, False, trader, DEADLINE, sender=trader
            )
            self._held[ticker] = int(world.token(ticker).balanceOf(trader)) - before

    def _pool(self, world: World, ticker: str):  # type: ignore[no-untyped-def]
        assert self.amm is not None
        return self.amm.pool(world.chain, ticker)

    def tick(self, world: World) -> None:
        assert self.keeper is not None
        self.keeper.tick()

    def mark(self, world: World, ticker: str) -> Price | None:
        assert self.keeper is not None
        return per_share(self.keeper.pool_price(ticker).units, world.multiplier(ticker))

    def holding(self, world: World, ticker: str) -> Holding:
        trader = world.account(TRADER)
        ui = int(world.token(ticker).balanceOfUI(trader))
        value = ui * world.share_price(ticker).units // 10**10
        paid = dividends_paid(world, ticker, trader)
        to_pool = dividends_paid(world, ticker, self._pool(world, ticker).address)
        return Holding(
            value,
            paid,
            f"{ui / 10**8:,.4f} shares (UI) bought from the pool; dividends paid to the pool contract (the "
            f"holder of record of its reserve): ${to_pool / 10**6:,.2f}",
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        trader = world.account(TRADER)
        pool, token = self._pool(world, ticker), world.token(ticker)
        before = int(world.usdc.balanceOf(trader))
        held = int(token.balanceOf(trader))
        try:
            buy = pool.swap.transact(usd * 10**6, 1, False, trader, DEADLINE, sender=trader)
            got = int(token.balanceOf(trader)) - held
            sell = pool.swap.transact(got, 1, True, trader, DEADLINE, sender=trader)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(trader))
        exposure = got * world.token_price(ticker).units // 10**10
        _stock, cash = (int(v) for v in pool.reserves())
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            gas=buy.gas_used + sell.gas_used,
            exposure=exposure,
            note=f"pool depth ${2 * cash / 10**6:,.0f}; the buy delivered ${exposure / 10**6:,.2f} at the "
            f"underlying's price (fee {int(pool.fee_bps())} bps now)",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        trader = world.actor("amm orders")
        try:
            world.usdc.approve(self._pool(world, ticker).address, UNLIMITED, sender=trader)
            self._pool(world, ticker).swap.transact(usd * 10**6, 1, False, trader, DEADLINE, sender=trader)
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return Delivery(world.clock.now(), note="swap mined in the next block")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle
