"""Read the perpetuals venue: each market's mark, state, funding and open interest, the vault's assets,
and each position with its PnL, funding and liquidation price.

``PerpsReader`` turns the contracts' raw words into the model's value types: USDC as ``Usd``, prices as
``Price`` (the feed's token price, 10⁻⁸ dollar per whole token), sizes as integers of 10⁻¹⁸ token
(`TOKEN_UNIT`), leverage and rates as ``Decimal``::

    reader = PerpsReader(chain, perps)
    reader.market("AAPL")               # mark, state, funding rate, open interest, skew
    reader.vault()                      # LP assets, reserved for open positions, free
    reader.positions(wallet)            # entry, mark, size, margin, leverage, PnL, funding, liquidation price
    reader.orders(wallet)               # orders waiting for the reopening

A position's numbers come from `maths` (the contract's arithmetic in Python) at the contract's mark;
`liquidatable` is the contract's own `is_liquidatable`, and `equity` its `equity`, so a view never
disagrees with what a liquidation would find.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import BlockId
from equitoken.model.quantities import Price, Usd
from equitoken.venues.perps import maths
from equitoken.venues.perps.contracts import usdc_artifact
from equitoken.venues.perps.deployment import PerpsDeployment
from equitoken.venues.perps.parameters import WAD, PerpParameters
from equitoken.venues.perps.states import MarketState

__all__ = [
    "MarketView",
    "OrderKind",
    "OrderView",
    "PerpsReader",
    "PositionView",
    "RawOrder",
    "RawPosition",
    "VaultView",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True, slots=True)
class RawPosition:
    """A position as `position(id)` returns it (`struct Position`)."""

    owner: str
    is_long: bool
    size: int
    entry_price: int
    margin: int
    funding_entry: int
    take_profit: int
    stop_loss: int
    opened_at: int

    @classmethod
    def of(cls, values: tuple[Any, ...]) -> "RawPosition":
        """Return the position from the contract's struct."""
        owner, is_long, *rest = values
        return cls(str(owner), bool(is_long), *(int(v) for v in rest))

    @property
    def is_open(self) -> bool:
        """Return whether the position still holds a size."""
        return self.size > 0 and self.owner != ZERO_ADDRESS


class OrderKind:
    """The kinds of a pending order (`struct Order.kind`)."""

    OPEN = 1
    CLOSE = 2


@dataclass(frozen=True, slots=True)
class RawOrder:
    """An order as `order(id)` returns it (`struct Order`)."""

    owner: str
    kind: int
    position_id: int
    is_long: bool
    margin: int
    leverage: int
    size: int
    take_profit: int
    stop_loss: int
    acceptable_price: int
    created_at: int

    @classmethod
    def of(cls, values: tuple[Any, ...]) -> "RawOrder":
        """Return the order from the contract's struct."""
        owner, kind, position_id, is_long, *rest = values
        return cls(str(owner), int(kind), int(position_id), bool(is_long), *(int(v) for v in rest))

    @property
    def is_pending(self) -> bool:
        """Return whether the order still waits (executed and cancelled orders are cleared)."""
        return self.owner != ZERO_ADDRESS and self.kind != 0


@dataclass(frozen=True, slots=True)
class MarketView:
    """One market as traders see it."""

    ticker: str
    address: str
    state: MarketState
    mark: Price | None
    funding_rate: Decimal  # per day, a fraction (positive: longs pay)
    funding_rate_wad: int
    accrued_funding: int
    long_size: int  # token units (18 decimals)
    short_size: int
    long_usd: Usd  # notional at entry
    short_usd: Usd
    skew: int  # long - short, token units
    parameters: PerpParameters

    @property
    def state_label(self) -> str:
        """Return the state as traders read it."""
        return self.state.label


@dataclass(frozen=True, slots=True)
class VaultView:
    """The LP vault: its USDC, what open positions reserve of it, what may leave, its shares."""

    assets: Usd
    reserved: Usd
    free: Usd
    shares: int
    share_price: Decimal  # USDC per share, in whole units

    @property
    def utilisation(self) -> Decimal:
        """Return the reserved share of the assets."""
        return Decimal(self.reserved.units) / Decimal(self.assets.units) if self.assets.units else Decimal(0)


@dataclass(frozen=True, slots=True)
class PositionView:
    """One open position, valued at the market's mark."""

    id: int
    ticker: str
    owner: str
    is_long: bool
    size: int  # token units (18 decimals)
    entry: Price
    mark: Price | None
    margin: Usd
    notional: Usd | None  # at the mark
    leverage: Decimal | None  # notional at the mark over margin
    pnl: Usd | None  # at the mark, before fees and funding
    funding: Usd  # owed so far (negative: received)
    close_fee: Usd | None
    equity: Usd | None  # the contract's: margin + PnL - funding - close fee
    liquidation_price: Price | None  # a long below it, a short above it
    liquidatable: bool  # the contract's `is_liquidatable`
    take_profit: Price | None
    stop_loss: Price | None
    opened_at: int

    @property
    def side(self) -> str:
        """Return "long" or "short"."""
        return "long" if self.is_long else "short"

    @property
    def size_tokens(self) -> Decimal:
        """Return the size in whole tokens."""
        return Decimal(self.size) / Decimal(maths.TOKEN_UNIT)


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order waiting for the market to reopen."""

    id: int
    ticker: str
    owner: str
    kind: str  # "open" or "close"
    position_id: int
    is_long: bool
    margin: Usd
    leverage: Decimal
    size: int
    take_profit: Price | None
    stop_loss: Price | None
    acceptable_price: Price | None
    created_at: int


class PerpsReader:
    """Views of every market and the vault of a `PerpsDeployment`, and of any wallet's positions."""

    def __init__(self, chain: EvmChain, deployment: PerpsDeployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.vault_contract = deployment.vault_contract(chain)
        self._markets = {t: deployment.contract(chain, t) for t in deployment.markets}
        self.usdc = chain.at(deployment.usdc, usdc_artifact(), "USDC")

    # -- the contracts

    def contract(self, ticker: str) -> Contract:
        """Return `ticker`'s market contract."""
        self.deployment.market(ticker)
        return self._markets[ticker]

    # -- raw reads

    def parameters(self, ticker: str, block: BlockId = "latest") -> PerpParameters:
        """Return the market's parameters as the contract holds them now."""
        return PerpParameters.of(tuple(self.contract(ticker).parameters.call(block=block)))

    def mark(self, ticker: str, block: BlockId = "latest") -> tuple[int, MarketState]:
        """Return the market's mark (8 decimals) and its state; the mark is 0 while the market is halted or
        has no usable price."""
        try:
            price, raw_state = self.contract(ticker).mark_price.call(block=block)
        except RevertError:
            return 0, MarketState.NO_PRICE
        state = MarketState(int(raw_state))
        return (0 if state in (MarketState.HALTED, MarketState.NO_PRICE) else int(price)), state

    def raw_position(self, ticker: str, position_id: int, block: BlockId = "latest") -> RawPosition:
        """Return position `position_id` of `ticker`'s market as stored."""
        return RawPosition.of(tuple(self.contract(ticker).position.call(position_id, block=block)))

    def raw_order(self, ticker: str, order_id: int, block: BlockId = "latest") -> RawOrder:
        """Return order `order_id` of `ticker`'s market as stored."""
        return RawOrder.of(tuple(self.contract(ticker).order.call(order_id, block=block)))

    def position_ids(self, ticker: str, block: BlockId = "latest") -> range:
        """Return every position id the market has handed out."""
        return range(1, int(self.contract(ticker).next_position_id.call(block=block)))

    def order_ids(self, ticker: str, block: BlockId = "latest") -> range:
        """Return every order id the market has handed out."""
        return range(1, int(self.contract(ticker).next_order_id.call(block=block)))

    def open_positions(self, ticker: str, block: BlockId = "latest") -> dict[int, RawPosition]:
        """Return the market's open positions by id."""
        found = {i: self.raw_position(ticker, i, block) for i in self.position_ids(ticker, block)}
        return {i: p for i, p in found.items() if p.is_open}

    def pending_orders(self, ticker: str, block: BlockId = "latest") -> dict[int, RawOrder]:
        """Return the market's pending orders by id."""
        found = {i: self.raw_order(ticker, i, block) for i in self.order_ids(ticker, block)}
        return {i: o for i, o in found.items() if o.is_pending}

    def skew(self, ticker: str, block: BlockId = "latest") -> int:
        """Return long size - short size, token units."""
        long_size, short_size = self.contract(ticker).open_interest.call(block=block)
        return int(long_size) - int(short_size)

    def position_funding(self, ticker: str, position_id: int, block: BlockId = "latest") -> int:
        """Return the USDC the position owes in funding so far (the contract's `position_funding`)."""
        return int(self.contract(ticker).position_funding.call(position_id, block=block))

    # -- views

    def market(self, ticker: str, block: BlockId = "latest") -> MarketView:
        """Return `ticker`'s market view."""
        deployed = self.deployment.market(ticker)
        contract = self.contract(ticker)
        price, state = self.mark(ticker, block)
        long_size, short_size = (int(v) for v in contract.open_interest.call(block=block))
        long_usd, short_usd = (int(v) for v in contract.open_interest_usd.call(block=block))
        rate = int(contract.funding_rate.call(block=block))
        return MarketView(
            ticker=ticker,
            address=deployed.address,
            state=state,
            mark=Price(price) if price else None,
            funding_rate=Decimal(rate) / Decimal(WAD),
            funding_rate_wad=rate,
            accrued_funding=int(contract.accrued_funding.call(block=block)),
            long_size=long_size,
            short_size=short_size,
            long_usd=Usd(long_usd),
            short_usd=Usd(short_usd),
            skew=long_size - short_size,
            parameters=self.parameters(ticker, block),
        )

    def markets(self, block: BlockId = "latest") -> list[MarketView]:
        """Return every market's view, in the deployment's order."""
        return [self.market(ticker, block) for ticker in self.deployment.markets]

    def vault(self, block: BlockId = "latest") -> VaultView:
        """Return the vault's view."""
        vault = self.vault_contract
        assets = int(vault.totalAssets.call(block=block))
        shares = int(vault.totalSupply.call(block=block))
        one_share = 10 ** int(vault.decimals.call(block=block))
        worth = int(vault.convertToAssets.call(one_share, block=block))
        return VaultView(
            assets=Usd(assets),
            reserved=Usd(int(vault.reserved.call(block=block))),
            free=Usd(int(vault.free_assets.call(block=block))),
            shares=shares,
            share_price=Decimal(worth) / Decimal(10**6),
        )

    def lp_shares(self, owner: str, block: BlockId = "latest") -> int:
        """Return `owner`'s vault shares."""
        return int(self.vault_contract.balanceOf.call(owner, block=block))

    def lp_assets(self, owner: str, block: BlockId = "latest") -> Usd:
        """Return what `owner`'s vault shares are worth in USDC now."""
        return Usd(int(self.vault_contract.convertToAssets.call(self.lp_shares(owner, block), block=block)))

    def position(self, ticker: str, position_id: int, block: BlockId = "latest") -> PositionView:
        """Return position `position_id` of `ticker`'s market."""
        raw = self.raw_position(ticker, position_id, block)
        price, _ = self.mark(ticker, block)
        return self.value_position(ticker, position_id, raw, price, self.parameters(ticker, block), block)

    def positions(
        self, owner: str, ticker: str | None = None, block: BlockId = "latest"
    ) -> list[PositionView]:
        """Return `owner`'s open positions, in every market or in `ticker`'s, oldest first."""
        tickers = [ticker] if ticker is not None else list(self.deployment.markets)
        views: list[PositionView] = []
        wanted = owner.lower()
        for each in tickers:
            price, _ = self.mark(each, block)
            parameters = self.parameters(each, block)
            for position_id, raw in self.open_positions(each, block).items():
                if raw.owner.lower() == wanted:
                    views.append(self.value_position(each, position_id, raw, price, parameters, block))
        return views

    def orders(
        self, owner: str | None = None, ticker: str | None = None, block: BlockId = "latest"
    ) -> list[OrderView]:
        """Return the pending orders (of `owner`, in `ticker`'s market, or all), oldest first."""
        tickers = [ticker] if ticker is not None else list(self.deployment.markets)
        views: list[OrderView] = []
        for each in tickers:
            for order_id, raw in self.pending_orders(each, block).items():
                if owner is None or raw.owner.lower() == owner.lower():
                    views.append(_order_view(each, order_id, raw))
        return views

    def value_position(
        self,
        ticker: str,
        position_id: int,
        raw: RawPosition,
        price: int,
        parameters: PerpParameters,
        block: BlockId = "latest",
    ) -> PositionView:
        """Return the view of a position from its raw words and a mark (0: none)."""
        contract = self.contract(ticker)
        funding = self.position_funding(ticker, position_id, block) if raw.is_open else 0
        notional = leverage = profit = fee = held = None
        liquidatable = False
        if price and raw.is_open:
            notional = Usd(maths.notional(raw.size, price))
            leverage = maths.leverage_of(raw.size, price, raw.margin)
            profit = Usd(maths.pnl(raw.size, raw.entry_price, price, raw.is_long))
            fee = Usd(maths.close_fee(raw.size, price, parameters.close_fee_bps))
            try:
                held = Usd(int(contract.equity.call(position_id, block=block)))
                liquidatable = bool(contract.is_liquidatable.call(position_id, block=block))
            except RevertError:
                held = Usd(
                    maths.equity(
                        raw.margin, raw.size, raw.entry_price, price, raw.is_long, funding, parameters
                    )
                )
        threshold = maths.liquidation_price(
            raw.margin, raw.size, raw.entry_price, raw.is_long, funding, parameters
        )
        return PositionView(
            id=position_id,
            ticker=ticker,
            owner=raw.owner,
            is_long=raw.is_long,
            size=raw.size,
            entry=Price(raw.entry_price),
            mark=Price(price) if price else None,
            margin=Usd(raw.margin),
            notional=notional,
            leverage=leverage,
            pnl=profit,
            funding=Usd(funding),
            close_fee=fee,
            equity=held,
            liquidation_price=None if threshold is None else Price(threshold),
            liquidatable=liquidatable,
            take_profit=Price(raw.take_profit) if raw.take_profit else None,
            stop_loss=Price(raw.stop_loss) if raw.stop_loss else None,
            opened_at=raw.opened_at,
        )


def _order_view(ticker: str, order_id: int, raw: RawOrder) -> OrderView:
    return OrderView(
        id=order_id,
        ticker=ticker,
        owner=raw.owner,
        kind="open" if raw.kind == OrderKind.OPEN else "close",
        position_id=raw.position_id,
        is_long=raw.is_long,
        margin=Usd(raw.margin),
        leverage=Decimal(raw.leverage) / Decimal(WAD),
        size=raw.size,
        take_profit=Price(raw.take_profit) if raw.take_profit else None,
        stop_loss=Price(raw.stop_loss) if raw.stop_loss else None,
        acceptable_price=Price(raw.acceptable_price) if raw.acceptable_price else None,
        created_at=raw.created_at,
    )
