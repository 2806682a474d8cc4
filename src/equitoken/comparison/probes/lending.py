"""Lending against the token: a verified holder keeps backed tokens as collateral in the lending
market (Morpho-style, Kamino's parameters) and borrows USDC against them from a supplier. Its price
is the market oracle's valuation of the collateral; its round trip is a loan taken and repaid at once
(interest for the holding time, gas); while the stock market is closed the borrowing limit is cut."""

from equitoken.comparison.probes.base import REFUSALS, Delivery, Holding, Probe, RoundTrip, per_share, refusal
from equitoken.comparison.world import LENDER, LENDER_ORDERS, World
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.venues.lending.deployment import LendingDeployment, deploy_lending
from equitoken.venues.lending.parameters import MarketParameters

# NFLX and MSFT have no row in Kamino's xStocks table: take its single-stock row (AAPL's, 40 / 50).
PARAMETERS = MarketParameters.percent(40, 50)
COLLATERAL_USD = 300_000
SUPPLY_USD = 5_000_000
LOAN_USD = 10_000  # the holding's loan, kept over the period
ORDER_COLLATERAL_USD = 20_000  # the orders' borrower's collateral
UNLIMITED = 2**256 - 1


class LendingProbe(Probe):
    model = "lending"
    title = "Lending against the token (collateral, USDC loan)"

    def __init__(self) -> None:
        self.lending: LendingDeployment | None = None

    def _market(self, world: World):  # type: ignore[no-untyped-def]
        assert self.lending is not None
        return self.lending.contract(world.chain)

    def _params(self, ticker: str) -> tuple[str, str, str, str, int]:
        assert self.lending is not None
        return self.lending.market(ticker).params

    def setup(self, world: World) -> None:
        self.lending = deploy_lending(
            world.chain,
            world.roles.admin,
            world.usdc.address,
            world.onchain.deployment,
            world.tickers,
            parameters=dict.fromkeys(world.tickers, PARAMETERS),
        )
        market = self._market(world)
        supplier, borrower = world.actor("lending supplier"), world.account(LENDER)
        for who in (supplier, borrower):
            world.usdc.approve(market.address, UNLIMITED, sender=who)
        for ticker in world.tickers:
            params = self._params(ticker)
            market.supply(params, SUPPLY_USD * 10**6, 0, supplier, sender=supplier)
            shares = world.share_price(ticker).shares_for(Usd(COLLATERAL_USD * 10**6))
            world.mint(ticker, Shares(shares.units // 10**9 * 10**9), f"compare-lending-{ticker}", borrower)
            token = world.token(ticker)
            token.approve(market.address, UNLIMITED, sender=borrower)
            market.supply_collateral(params, int(token.balanceOf(borrower)), borrower, sender=borrower)
            market.borrow(params, LOAN_USD * 10**6, 0, borrower, borrower, sender=borrower)
            orders = world.account(LENDER_ORDERS)
            shares = world.share_price(ticker).shares_for(Usd(ORDER_COLLATERAL_USD * 10**6))
            world.mint(
                ticker, Shares(shares.units // 10**9 * 10**9), f"compare-lending-orders-{ticker}", orders
            )
            token.approve(market.address, UNLIMITED, sender=orders)
            market.supply_collateral(params, int(token.balanceOf(orders)), orders, sender=orders)

    def _position(self, world: World, ticker: str) -> tuple[int, int]:
        assert self.lending is not None
        market = self._market(world)
        market_id = self.lending.market(ticker).id_bytes
        _supply, borrow_shares, collateral = (
            int(v) for v in market.position(market_id, world.account(LENDER))
        )
        totals = market.expected_market(market_id)
        borrow_assets, total_borrow_shares = int(totals[2]), int(totals[3])
        debt = -(-borrow_shares * borrow_assets // total_borrow_shares) if total_borrow_shares else 0
        return collateral, debt

    def mark(self, world: World, ticker: str) -> Price | None:
        assert self.lending is not None
        price = int(self.lending.oracle(world.chain, ticker).price())
        # Raw USDC per raw token x 1e36 -> 1e-8 dollars per whole (8-decimal) token.
        return per_share(price // 10**26, world.multiplier(ticker))

    def holding(self, world: World, ticker: str) -> Holding:
        collateral, debt = self._position(world, ticker)
        token_price = world.token_price(ticker).units
        value = collateral * token_price // 10**10 - debt
        market = self._market(world).address
        paid_to_market = sum(
            p.amount.units
            for a in world.actions.actions(ticker)
            for p in world.actions.payments(a.id)
            if p.holder.lower() == market.lower()
        )
        return Holding(
            value,
            0,
            f"{collateral / 10**8:,.4f} tokens of collateral, debt ${debt / 10**6:,.2f}; dividends paid "
            "to the "
            f"market contract (the holder of record): ${paid_to_market / 10**6:,.2f}",
        )

    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        market, borrower, params = self._market(world), world.account(LENDER), self._params(ticker)
        assert self.lending is not None
        market_id = self.lending.market(ticker).id_bytes
        before = int(world.usdc.balanceOf(borrower))
        try:
            _s, shares_before, _c = (int(v) for v in market.position(market_id, borrower))
            borrowed = market.borrow.transact(params, usd * 10**6, 0, borrower, borrower, sender=borrower)
            _s, shares_after, _c = (int(v) for v in market.position(market_id, borrower))
            repaid = market.repay.transact(params, 0, shares_after - shares_before, borrower, sender=borrower)
        except REFUSALS as error:
            return RoundTrip(usd, refused=refusal(error))
        after = int(world.usdc.balanceOf(borrower))
        return RoundTrip(
            usd,
            paid=usd * 10**6,
            received=usd * 10**6 - (before - after),
            gas=borrowed.gas_used + repaid.gas_used,
            exposure=usd * 10**6,
            note="a USDC loan against token collateral, repaid in the next block: interest for the "
            "seconds held",
        )

    def place(self, world: World, ticker: str, usd: int) -> object:
        borrower = world.account(LENDER_ORDERS)
        try:
            self._market(world).borrow.transact(
                self._params(ticker), usd * 10**6, 0, borrower, borrower, sender=borrower
            )
        except REFUSALS as error:
            return Delivery(None, refusal(error))
        return Delivery(world.clock.now(), note="loan paid out in the next block")

    def poll(self, world: World, handle: object) -> Delivery | None:
        assert isinstance(handle, Delivery)
        return handle
