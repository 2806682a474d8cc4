"""The liquidation keeper: liquidate the lending venue's unhealthy positions when the adapter allows,
then sell the seized collateral back to USDC through the AMM within a slippage limit.

Each `tick`:
1. finishes what an earlier run left: every transaction stored under this keeper's purposes and not
   known to be mined is broadcast again and its outcome recorded (a crash between signing and
   reading the receipt loses nothing and repeats nothing);
2. reads each market's borrowers from its `Borrow` events (`BorrowerIndex`) and asks the market's
   oracle adapter for a liquidation price with `quote(3)` as an `eth_call` on the next block. When
   it reverts (the stock's market is halted, the price stale, out of band or missing, or the market
   reopened less than the grace period ago) no position of that market is touched, and the refusal
   names the adapter's reason;
3. liquidates each position whose debt exceeds its collateral's value times the LLTV, sized so the
   contract accepts it: when repaying the whole debt would seize more than the collateral
   (LTV x LIF > 1), it seizes all the collateral and the rest of the debt is written off as bad
   debt; otherwise it repays the whole debt, or as much as its USDC allows (a partial liquidation
   with LTV x LIF <= 1 lowers the position's LTV). The seized collateral must be a transfer the
   token allows to the keeper's wallet (a registered wallet for a ``permissioned`` token);
4. sells the collateral of each confirmed liquidation whose sale is not done into the ticker's AMM
   pool, only if the pool pays at least the oracle's value less `slippage_bps` (the swap carries that
   floor as its minimum output); otherwise it keeps the collateral, says why, and tries next tick.

Exactly once: each liquidation is the outbox transaction
``liquidation:<keeper>:<market contract prefix>:<ticker>:<borrower>:<n>:<attempt>``, where `n` counts
the borrower's liquidations on-chain so far plus one, and each sale
``<liquidation purpose>:swap:<attempt>``; an attempt that reverted frees the next. A restarted keeper
reads the same events and the same rows, so it resumes a stored transaction instead of signing a
second one.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import partial

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.durable.outbox import Outbox, TxStatus
from equitoken.keepers.outboxed import OutboxedKeeper, Tick
from equitoken.keepers.rules import (
    DEFAULT_DEADLINE,
    MAX_SECONDS,
    KeeperConfigError,
    Refusal,
    RefusalReason,
    RefusedError,
    check_ranges,
    check_venue,
)
from equitoken.model.bps import BPS
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.venues.amm import AmmDeployment
from equitoken.venues.lending import maths
from equitoken.venues.lending.adapter import OracleAction
from equitoken.venues.lending.borrowers import BorrowerIndex
from equitoken.venues.lending.contracts import usdc_artifact
from equitoken.venues.lending.deployment import DeployedMarket, LendingDeployment
from equitoken.venues.lending.views import LendingReader

__all__ = [
    "DEFAULT_SWAP_SLIPPAGE_BPS",
    "CollateralSale",
    "Liquidation",
    "LiquidationKeeper",
    "LiquidationReport",
    "LiquidationSize",
    "size_liquidation",
]

DEFAULT_SWAP_SLIPPAGE_BPS = 100
"""The most a sale of seized collateral may fall short of the oracle's value: 1%."""
OWNER = "liquidation-keeper"
_UNLIMITED = 2**256 - 1
# Interest accrues between the read and the block: sizes keep a basis point of room.
_ROOM_BPS = 1
_PENDING = "pending"

_log = logging.getLogger(__name__)


class SizeKind(StrEnum):
    """How a liquidation is sized."""

    WHOLE_DEBT = "whole_debt"  # repay every borrow share
    PARTIAL_DEBT = "partial_debt"  # repay what the keeper's USDC allows
    WHOLE_COLLATERAL = "whole_collateral"  # LTV x LIF > 1: seize it all, the rest is bad debt


@dataclass(frozen=True, slots=True)
class LiquidationSize:
    """What to liquidate: `seized_assets` or `repaid_shares` (one of them zero), and the USDC it needs."""

    kind: SizeKind
    seized_assets: int
    repaid_shares: int
    usdc_needed: int


@dataclass(frozen=True, slots=True)
class Liquidation:
    """A liquidation the keeper made, as the market's `Liquidate` event reports it."""

    ticker: str
    borrower: str
    kind: SizeKind
    health_factor: Decimal  # before the liquidation, at the price it acted on
    repaid: Usd
    repaid_shares: int
    seized: TokenAmount
    bad_debt: Usd
    tx_hash: str


@dataclass(frozen=True, slots=True)
class CollateralSale:
    """Seized collateral the keeper sold into the AMM, and the oracle's value of it."""

    ticker: str
    sold: TokenAmount
    received: Usd
    oracle_value: Usd
    tx_hash: str


@dataclass(frozen=True, slots=True)
class LiquidationReport:
    """What one tick did, and what it left alone and why."""

    liquidations: tuple[Liquidation, ...]
    sales: tuple[CollateralSale, ...]
    refusals: tuple[Refusal, ...]


def size_liquidation(
    totals: maths.MarketTotals, borrow_shares: int, collateral: int, price: int, lltv: int, usdc: int
) -> LiquidationSize | None:
    """Return the liquidation of an unhealthy position the contract accepts, given `usdc` to repay with;
    None when the keeper's USDC cannot pay for any (a whole-collateral seizure cannot be partial)."""
    lif = maths.liquidation_incentive_factor(lltv)
    usable = max(0, usdc * (BPS - _ROOM_BPS) // BPS - 1)
    seized_for_debt = maths.seized_for_repaid_shares(borrow_shares, totals, price, lif)
    if seized_for_debt * (BPS + _ROOM_BPS) // BPS < collateral:
        debt = totals.debt(borrow_shares)
        if debt <= usable:
            return LiquidationSize(SizeKind.WHOLE_DEBT, 0, borrow_shares, debt)
        shares = maths.to_shares(usable, totals.borrow_assets, totals.borrow_shares, round_up=False)
        if shares == 0:
            return None
        needed = maths.to_assets(shares, totals.borrow_assets, totals.borrow_shares, round_up=True)
        return LiquidationSize(SizeKind.PARTIAL_DEBT, 0, shares, needed)
    repaid = maths.repaid_shares_for_seized(collateral, totals, price, lif)
    needed = maths.to_assets(repaid, totals.borrow_assets, totals.borrow_shares, round_up=True)
    if needed > usable:
        return None
    return LiquidationSize(SizeKind.WHOLE_COLLATERAL, collateral, 0, needed)


class LiquidationKeeper(OutboxedKeeper):
    """Liquidate unhealthy positions of a lending deployment from `account`, and sell what it seizes."""

    def __init__(
        self,
        chain: EvmChain,
        account: str,
        lending: LendingDeployment,
        database: Database,
        clock: Clock,
        *,
        amm: AmmDeployment | None = None,
        outbox: Outbox | None = None,
        tickers: Sequence[str] | None = None,
        slippage_bps: int = DEFAULT_SWAP_SLIPPAGE_BPS,
        deadline_seconds: int = DEFAULT_DEADLINE,
    ) -> None:
        check_ranges(
            ("slippage_bps", slippage_bps, 0, BPS - 1),
            ("deadline_seconds", deadline_seconds, 1, MAX_SECONDS),
        )
        self.tickers = check_venue(
            chain,
            account,
            tickers,
            venue="the lending venue is",
            chain_id=lending.chain_id,
            available=lending.markets,
            unknown="no lending market",
        )
        if amm is not None and (amm.chain_id != chain.chain_id or amm.usdc.lower() != lending.usdc.lower()):
            raise KeeperConfigError("the AMM must trade the lending venue's USDC on the same chain")
        super().__init__(chain, account, database, clock, outbox, OWNER)
        self.lending = lending
        self.amm = amm
        self.slippage_bps = slippage_bps
        self.deadline_seconds = deadline_seconds
        self.reader = LendingReader(chain, lending)
        self.index = BorrowerIndex(chain, lending)
        self._market = self.reader.contract
        self._usdc = chain.at(lending.usdc, usdc_artifact(), "USDC")
        self._prefix = f"liquidation:{self.account}:{lending.lending_market[:10]}"

    # -- the tick

    def tick(self) -> LiquidationReport:
        """Finish stored work, liquidate every unhealthy position the adapters allow, sell the collateral."""
        liquidations: list[Liquidation] = []
        sales: list[CollateralSale] = []
        tick = Tick("liquidation keeper")
        self._finish_stored(
            tick,
            lambda _ticker: self._market.accrue_interest,
            partial(self._finish, liquidations, sales),
            refused=RefusalReason.IN_FLIGHT,
        )
        self.index.refresh()
        for ticker in self.tickers:
            try:
                liquidations += self._liquidate_market(ticker, tick)
            except RefusedError as refused:
                tick.refuse(ticker, refused)
        for ticker, purpose, tx_hash in self._unsold():
            try:
                sale = self._sell(ticker, purpose, tx_hash)
            except RefusedError as refused:
                tick.refuse(ticker, refused)
                continue
            if sale is not None:
                sales.append(sale)
        return LiquidationReport(tuple(liquidations), tuple(sales), tuple(tick.refusals))

    # -- liquidations

    def _liquidate_market(self, ticker: str, tick: Tick) -> list[Liquidation]:
        market = self.lending.market(ticker)
        borrowers = self.index.borrowers(ticker)
        if not borrowers:
            return []
        totals = self.reader.totals(ticker, _PENDING)
        positions = {b: self.reader.raw_position(ticker, b, _PENDING) for b in borrowers}
        indebted = {b: p for b, p in positions.items() if p[1]}
        if not indebted:
            return []
        try:
            price = self.reader.oracle(ticker).quote.call(int(OracleAction.LIQUIDATE), block=_PENDING)[0]
        except RevertError as exc:
            self._refuse_market(ticker, market, totals, indebted, exc.reason or "the adapter reverted")
            return []
        done: list[Liquidation] = []
        for borrower, (_, borrow_shares, collateral) in indebted.items():
            debt = totals.debt(borrow_shares)
            if maths.is_healthy(debt, collateral, int(price), market.lltv):
                continue
            try:
                liquidation = self._liquidate(market, totals, borrower, borrow_shares, collateral, int(price))
            except RefusedError as refused:
                tick.refuse(ticker, refused)
                continue
            if liquidation is not None:
                done.append(liquidation)
                totals = self.reader.totals(ticker, _PENDING)
        return done

    def _refuse_market(
        self,
        ticker: str,
        market: DeployedMarket,
        totals: maths.MarketTotals,
        indebted: dict[str, tuple[int, int, int]],
        reason: str,
    ) -> None:
        price = self.reader.oracle_price(ticker, _PENDING)
        if price is not None:
            unhealthy = [
                b
                for b, (_, shares, collateral) in indebted.items()
                if not maths.is_healthy(totals.debt(shares), collateral, price, market.lltv)
            ]
            if not unhealthy:
                return
            what = f"{len(unhealthy)} unhealthy position{'s' * (len(unhealthy) != 1)} wait"
        else:
            what = f"cannot price {len(indebted)} position{'s' * (len(indebted) != 1)} with debt"
        raise RefusedError(_reason_of(reason), f"{what}: the oracle adapter says {reason!r}")

    def _liquidate(
        self,
        market: DeployedMarket,
        totals: maths.MarketTotals,
        borrower: str,
        borrow_shares: int,
        collateral: int,
        price: int,
    ) -> Liquidation | None:
        ticker = market.ticker
        debt = totals.debt(borrow_shares)
        health = maths.health_factor(debt, collateral, price, market.lltv) or Decimal(0)
        n = self.index.liquidations(ticker, borrower) + 1
        base = f"{self._prefix}:{ticker}:{borrower}:{n}:"
        attempts = [r for r in self._rows(base) if ":swap:" not in r.purpose]
        if any(r.status != TxStatus.FAILED for r in attempts):
            raise RefusedError(
                RefusalReason.IN_FLIGHT, f"liquidation {n} of {borrower} is stored but not yet on-chain"
            )
        size = size_liquidation(
            totals, borrow_shares, collateral, price, market.lltv, int(self._usdc.balanceOf(self.account))
        )
        if size is None:
            raise RefusedError(
                RefusalReason.NO_INVENTORY,
                f"{borrower} owes {Usd(debt)} USDC (health factor {health:.4f}): the keeper's USDC "
                "cannot pay for a liquidation the market accepts",
            )
        seized_estimate = size.seized_assets or min(
            collateral,
            maths.seized_for_repaid_shares(
                size.repaid_shares, totals, price, maths.liquidation_incentive_factor(market.lltv)
            ),
        )
        token = self.reader.token(ticker)
        code, why = token.can_transfer(self._market.address, self.account, seized_estimate)
        if int(code) != 0:
            raise RefusedError(
                RefusalReason.COMPLIANCE, f"the {ticker} token will not pay the keeper's wallet: {why}"
            )
        self._approve(self._usdc, self._market.address, size.usdc_needed)
        purpose = f"{base}{len(attempts) + 1}"
        args = (market.params, borrower, size.seized_assets, size.repaid_shares)
        outcome = self._send(purpose, self._market.liquidate, args, "liquidation_sent")
        liquidation = self._liquidation(ticker, outcome.tx_hash, size.kind, health)
        _log.info("liquidation keeper: %s", liquidation)
        return liquidation

    def _liquidation(self, ticker: str, tx_hash: str, kind: SizeKind | None, health: Decimal) -> Liquidation:
        event = self._events(tx_hash, self._market)["Liquidate"]
        seized = int(event["seized_assets"])
        bad_debt = int(event["bad_debt_assets"])
        if kind is None:
            kind = (
                SizeKind.WHOLE_COLLATERAL
                if bad_debt or int(event["bad_debt_shares"])
                else SizeKind.WHOLE_DEBT
            )
        return Liquidation(
            ticker,
            str(event["borrower"]),
            kind,
            health,
            Usd(int(event["repaid_assets"])),
            int(event["repaid_shares"]),
            TokenAmount(seized, self.reader.decimals(ticker)),
            Usd(bad_debt),
            tx_hash,
        )

    # -- sales of seized collateral

    def _unsold(self) -> list[tuple[str, str, str]]:
        """Return (ticker, purpose, tx hash) of each confirmed liquidation whose collateral is not sold."""
        if self.amm is None:
            return []
        rows = self._rows()
        sold = {
            r.purpose.rsplit(":swap:", 1)[0]
            for r in rows
            if ":swap:" in r.purpose and r.status == TxStatus.CONFIRMED
        }
        return [
            (row.purpose.split(":")[3], row.purpose, row.tx_hash)
            for row in rows
            if _is_liquidation(row.purpose) and row.status == TxStatus.CONFIRMED and row.purpose not in sold
        ]

    def _sell(self, ticker: str, liquidation_purpose: str, liquidation_tx: str) -> CollateralSale | None:
        assert self.amm is not None
        if ticker not in self.amm.pools:
            raise RefusedError(
                RefusalReason.POOL_REFUSED, f"no AMM pool for {ticker}: keeping the collateral"
            )
        seized = int(self._events(liquidation_tx, self._market)["Liquidate"]["seized_assets"])
        if seized == 0:
            return None
        token = self.reader.token(ticker)
        decimals = self.reader.decimals(ticker)
        amount = min(seized, int(token.balanceOf(self.account)))
        if amount == 0:
            raise RefusedError(
                RefusalReason.NO_INVENTORY, f"none of the {ticker} seized by {liquidation_tx} is left to sell"
            )
        pool = self.amm.pool(self.chain, ticker)
        try:
            price = int(self.reader.oracle(ticker).price.call(block=_PENDING))
        except RevertError as exc:
            reason = exc.reason or "the adapter reverted"
            raise RefusedError(
                _reason_of(reason), f"keeping the collateral: no oracle price ({reason})"
            ) from None
        value = maths.collateral_value(amount, price)
        floor = value * (BPS - self.slippage_bps) // BPS
        try:
            paid = int(pool.get_amount_out.call(amount, True, block=_PENDING))
        except RevertError as exc:
            raise RefusedError(RefusalReason.POOL_REFUSED, f"the pool quotes no swap: {exc.reason}") from None
        sold = TokenAmount(amount, decimals)
        if paid < floor:
            short = (value - paid) * BPS // value if value else BPS
            raise RefusedError(
                RefusalReason.SLIPPAGE,
                f"keeping {sold} {ticker}: the pool pays {Usd(paid)} USDC, {short} bps below the oracle's "
                f"{Usd(value)} (limit {self.slippage_bps} bps)",
            )
        swaps = self._rows(f"{liquidation_purpose}:swap:")
        self._approve(token, pool.address, amount)
        purpose = f"{liquidation_purpose}:swap:{len(swaps) + 1}"
        deadline = self.chain.timestamp(_PENDING) + self.deadline_seconds
        args = (amount, floor, True, self.account, deadline)
        outcome = self._send(purpose, pool.swap, args, "collateral_swap_sent", RefusalReason.POOL_REFUSED)
        return self._sale(ticker, outcome.tx_hash, pool, value)

    def _sale(self, ticker: str, tx_hash: str, pool: Contract, value: int | None) -> CollateralSale:
        event = self._events(tx_hash, pool)["Swap"]
        amount = int(event["amount_in"])
        if value is None:
            price = self.reader.oracle_price(ticker)
            value = 0 if price is None else maths.collateral_value(amount, price)
        sale = CollateralSale(
            ticker,
            TokenAmount(amount, self.reader.decimals(ticker)),
            Usd(int(event["amount_out"])),
            Usd(value),
            tx_hash,
        )
        _log.info("liquidation keeper sold: %s", sale)
        return sale

    # -- the outbox

    def _finish(
        self, liquidations: list[Liquidation], sales: list[CollateralSale], purpose: str, tx_hash: str
    ) -> None:
        ticker = purpose.split(":")[3]
        if ":swap:" in purpose and self.amm is not None:
            sales.append(self._sale(ticker, tx_hash, self.amm.pool(self.chain, ticker), None))
        elif _is_liquidation(purpose):
            liquidations.append(self._liquidation(ticker, tx_hash, None, Decimal(0)))

    def _approve(self, token: Contract, spender: str, amount: int) -> None:
        if int(token.allowance(self.account, spender)) >= amount:
            return
        base = f"{self._prefix}:approve:{token.address[:10]}:{spender[:10]}:"
        attempts = self._rows(base)
        purpose = f"{base}{len(attempts) + 1}"
        self._send(purpose, token.approve, (spender, _UNLIMITED))


def _is_liquidation(purpose: str) -> bool:
    """Return whether `purpose` names a liquidation (not its sale, not an approval)."""
    parts = purpose.split(":")
    return len(parts) == 7 and parts[3] != "approve"


def _reason_of(adapter_reason: str) -> RefusalReason:
    """Return the refusal reason of an adapter's revert reason."""
    for marker, reason in (
        ("halted", RefusalReason.HALTED),
        ("stale", RefusalReason.STALE),
        ("grace", RefusalReason.GRACE),
        ("no price", RefusalReason.NO_ROUND),
    ):
        if marker in adapter_reason:
            return reason
    return RefusalReason.ORACLE_REFUSED
