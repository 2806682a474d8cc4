"""Read the lending venue: each market's totals, rates and adapter state, and each position's health.

``LendingReader`` turns the contracts' raw words into the model's value types: USDC amounts as
``Usd``, collateral as ``TokenAmount``, prices as ``Price`` (the feed's token price, 10⁻⁸ dollar per
whole token), LTVs in basis points, rates and ratios as ``Decimal`` fractions::

    reader = LendingReader(chain, lending)
    view = reader.market("AAPL")      # supplied, borrowed, utilisation, borrow APR, supply APY, state
    mine = reader.position("AAPL", wallet)
    mine.health_factor                # collateral value x LLTV / debt; liquidatable below 1

Totals are `expected_market`'s: interest accrued up to the block read. The borrow rate is the rate
model's `borrow_rate_view` for the interval since the market last accrued, the rate it accrues at
now; the borrow APY compounds it continuously, and lenders earn it on the utilised share less the fee.
A price is the adapter's (`StockOracle.price()`); while the adapter has none it can use (halted,
stale, out of band) the views that need one are None.
"""

from dataclasses import dataclass
from decimal import Decimal

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import BlockId
from equitoken.model.quantities import Price, Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.venues.lending import maths
from equitoken.venues.lending.adapter import AdapterState, OracleAction
from equitoken.venues.lending.contracts import stock_artifact
from equitoken.venues.lending.deployment import DeployedMarket, LendingDeployment
from equitoken.venues.lending.errors import MarketUnavailableError
from equitoken.venues.lending.parameters import WAD, MarketParameters

__all__ = ["LendingReader", "MarketView", "OracleQuote", "PositionView"]


@dataclass(frozen=True, slots=True)
class OracleQuote:
    """What the adapter answers for an action: the price (1e36 scale) and the LTV cut (WAD)."""

    price: int
    ltv_cut: int


@dataclass(frozen=True, slots=True)
class MarketView:
    """One market as lenders and borrowers see it."""

    ticker: str
    id: str
    state: AdapterState
    price: Price | None
    supplied: Usd
    borrowed: Usd
    liquidity: Usd
    utilisation: Decimal
    borrow_rate: int  # per second, WAD
    borrow_apr: Decimal
    borrow_apy: Decimal
    supply_apy: Decimal
    fee: int  # share of interest to the fee recipient, WAD
    parameters: MarketParameters
    closed_ltv_cut: int  # WAD
    grace_period: int  # seconds

    @property
    def state_label(self) -> str:
        """Return the adapter's state as users read it."""
        return self.state.label


@dataclass(frozen=True, slots=True)
class PositionView:
    """One wallet's position in one market, valued at the adapter's price."""

    ticker: str
    owner: str
    supply_shares: int
    supplied: Usd
    borrow_shares: int
    debt: Usd
    collateral: TokenAmount
    price: Price | None
    collateral_value: Usd | None
    ltv: Decimal | None  # debt / collateral value
    health_factor: Decimal | None  # collateral value x LLTV / debt; None without debt or price
    liquidation_price: Price | None  # below it the position may be liquidated
    borrow_limit: Usd | None  # the most debt a borrow may reach now: max LTV, or LLTV less the closed cut

    @property
    def is_empty(self) -> bool:
        """Return whether the wallet has nothing in this market."""
        return not (self.supply_shares or self.borrow_shares or self.collateral.raw)

    @property
    def liquidatable(self) -> bool:
        """Return whether the position is unhealthy at the LLTV (at the price read)."""
        return self.health_factor is not None and self.health_factor < 1


class LendingReader:
    """Views of every market of a `LendingDeployment` and of any wallet's positions."""

    def __init__(self, chain: EvmChain, deployment: LendingDeployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.contract = deployment.contract(chain)
        self._irm = deployment.irm_contract(chain)
        self._oracles = {t: deployment.oracle(chain, t) for t in deployment.markets}
        self._tokens = {
            t: chain.at(m.collateral_token, stock_artifact(), t) for t, m in deployment.markets.items()
        }
        self._scales: dict[str, int] = {}
        self._decimals: dict[str, int] = {}

    # -- the contracts behind a market

    def oracle(self, ticker: str) -> Contract:
        """Return `ticker`'s oracle adapter."""
        self.deployment.market(ticker)
        return self._oracles[ticker]

    def token(self, ticker: str) -> Contract:
        """Return `ticker`'s stock token, the market's collateral."""
        self.deployment.market(ticker)
        return self._tokens[ticker]

    def decimals(self, ticker: str) -> int:
        """Return the collateral token's decimals."""
        if ticker not in self._decimals:
            self._decimals[ticker] = int(self.token(ticker).decimals())
        return self._decimals[ticker]

    def price_scale(self, ticker: str) -> int:
        """Return the factor from the feed's answer to the adapter's 1e36-scaled price."""
        if ticker not in self._scales:
            self._scales[ticker] = int(self.oracle(ticker).price_scale())
        return self._scales[ticker]

    # -- raw reads

    def totals(self, ticker: str, block: BlockId = "latest") -> maths.MarketTotals:
        """Return the market's totals with interest accrued up to `block`."""
        market = self.deployment.market(ticker)
        return maths.MarketTotals.of(self.contract.expected_market.call(market.id_bytes, block=block))

    def raw_position(self, ticker: str, owner: str, block: BlockId = "latest") -> tuple[int, int, int]:
        """Return `owner`'s supply shares, borrow shares and collateral (raw units) in `ticker`'s market."""
        market = self.deployment.market(ticker)
        supply, borrow, collateral = self.contract.position.call(market.id_bytes, owner, block=block)
        return int(supply), int(borrow), int(collateral)

    def state(self, ticker: str, block: BlockId = "latest") -> AdapterState:
        """Return the adapter's state."""
        return AdapterState(int(self.oracle(ticker).state.call(block=block)))

    def quote(self, ticker: str, action: OracleAction, block: BlockId = "latest") -> OracleQuote:
        """Return the adapter's price and LTV cut for `action`; raise MarketUnavailableError with the
        adapter's reason when the action must wait."""
        try:
            price, cut = self.oracle(ticker).quote.call(int(action), block=block)
        except RevertError as exc:
            raise MarketUnavailableError(
                f"{ticker}'s lending market refuses to {action.name.lower().replace('_', ' ')} now: "
                f"{exc.reason or 'the oracle adapter reverted'}"
            ) from None
        return OracleQuote(int(price), int(cut))

    def oracle_price(self, ticker: str, block: BlockId = "latest") -> int | None:
        """Return the adapter's price for valuing positions (1e36 scale), or None when it has none."""
        try:
            return int(self.oracle(ticker).price.call(block=block))
        except RevertError:
            return None

    def borrow_rate(self, ticker: str, block: BlockId = "latest") -> int:
        """Return the rate the market accrues at now, per second in WAD (0 without a rate model)."""
        market = self.deployment.market(ticker)
        if self._irm is None:
            return 0
        stored = maths.MarketTotals.of(self.contract.market.call(market.id_bytes, block=block))
        rate = self._irm.borrow_rate_view.call(
            self.contract.address,
            market.id_bytes,
            stored.supply_assets,
            stored.borrow_assets,
            stored.last_update,
            block=block,
        )
        return int(rate)

    def feed_price(self, ticker: str, price: int | None) -> Price | None:
        """Return an adapter price (1e36 scale) as the feed's answer (10⁻⁸ dollar per whole token)."""
        return None if price is None else Price(price // self.price_scale(ticker))

    # -- views

    def market(self, ticker: str, block: BlockId = "latest") -> MarketView:
        """Return `ticker`'s market view."""
        deployed = self.deployment.market(ticker)
        totals = self.totals(ticker, block)
        rate = self.borrow_rate(ticker, block)
        utilisation = (
            Decimal(totals.borrow_assets) / Decimal(totals.supply_assets)
            if totals.supply_assets
            else Decimal(0)
        )
        apr = maths.annual_rate(rate)
        apy = maths.compounded(apr)
        supply_apy = apy * utilisation * (Decimal(WAD - totals.fee) / Decimal(WAD))
        oracle = self.oracle(ticker)
        return MarketView(
            ticker=ticker,
            id=deployed.id,
            state=self.state(ticker, block),
            price=self.feed_price(ticker, self.oracle_price(ticker, block)),
            supplied=Usd(totals.supply_assets),
            borrowed=Usd(totals.borrow_assets),
            liquidity=Usd(totals.liquidity),
            utilisation=utilisation,
            borrow_rate=rate,
            borrow_apr=apr,
            borrow_apy=apy,
            supply_apy=supply_apy,
            fee=totals.fee,
            parameters=deployed.parameters,
            closed_ltv_cut=int(oracle.closed_ltv_cut.call(block=block)),
            grace_period=int(oracle.grace_period.call(block=block)),
        )

    def markets(self, block: BlockId = "latest") -> list[MarketView]:
        """Return every market's view, in the deployment's order."""
        return [self.market(ticker, block) for ticker in self.deployment.markets]

    def position(self, ticker: str, owner: str, block: BlockId = "latest") -> PositionView:
        """Return `owner`'s position in `ticker`'s market."""
        deployed = self.deployment.market(ticker)
        totals = self.totals(ticker, block)
        supply_shares, borrow_shares, collateral = self.raw_position(ticker, owner, block)
        price = self.oracle_price(ticker, block)
        try:  # a withdrawal's quote carries the closed-market cut and needs no reserve check
            cut = self.quote(ticker, OracleAction.WITHDRAW_COLLATERAL, block).ltv_cut
        except MarketUnavailableError:
            cut = 0
        raw = (supply_shares, borrow_shares, collateral)
        return self.value_position(deployed, owner, totals, raw, price, cut)

    def positions(self, owner: str, block: BlockId = "latest") -> list[PositionView]:
        """Return `owner`'s positions in every market where it has something."""
        found = (self.position(ticker, owner, block) for ticker in self.deployment.markets)
        return [p for p in found if not p.is_empty]

    def value_position(
        self,
        market: DeployedMarket,
        owner: str,
        totals: maths.MarketTotals,
        raw: tuple[int, int, int],
        price: int | None,
        ltv_cut: int = 0,
    ) -> PositionView:
        """Return the view of a position from its raw words, the market's totals and a price (or None)."""
        supply_shares, borrow_shares, collateral = raw
        debt = totals.debt(borrow_shares)
        value = limit = ltv = health = liquidation = None
        if price is not None:
            value = Usd(maths.collateral_value(collateral, price))
            cap = min(market.parameters.max_ltv, max(0, market.lltv - ltv_cut))
            limit = Usd(maths.max_borrow(collateral, price, cap))
            ltv = maths.loan_to_value(debt, collateral, price)
            health = maths.health_factor(debt, collateral, price, market.lltv)
        threshold = maths.liquidation_price(debt, collateral, market.lltv)
        if threshold is not None:
            liquidation = Price(threshold // self.price_scale(market.ticker))
        return PositionView(
            ticker=market.ticker,
            owner=owner,
            supply_shares=supply_shares,
            supplied=Usd(totals.supplied(supply_shares)),
            borrow_shares=borrow_shares,
            debt=Usd(debt),
            collateral=TokenAmount(collateral, self.decimals(market.ticker)),
            price=self.feed_price(market.ticker, price),
            collateral_value=value,
            ltv=ltv,
            health_factor=health,
            liquidation_price=liquidation,
            borrow_limit=limit,
        )
