"""The synthetic-stock liquidation keeper: liquidate positions below their vault's minimum collateral
ratio when the vault allows it, burning synthetics the keeper holds for the collateral and penalty.

Each `tick`:
1. finishes what an earlier run left: every transaction stored under this keeper's purposes and not
   known to be mined is broadcast again and its outcome recorded (a crash between signing and
   reading the receipt loses nothing and repeats nothing);
2. reads each vault's price and state (`price()`, on the next block) and every open position. While
   the vault is not open (the stock's market closed or halted, the price stale, out of band or
   missing) no position is touched, and the refusal names why and how many positions wait;
3. liquidates each position below the minimum ratio, sized by `maths.size_liquidation`: the least
   synthetic that restores the minimum ratio, or the whole debt when the ratio is at or below
   1 + penalty (a partial liquidation would only lower it; the vault then writes off what the
   collateral cannot cover), capped by the synthetic the keeper holds.

Exactly once: each liquidation is the outbox transaction
``synth-liquidation:<keeper>:<vault prefix>:<ticker>:<position>:<attempt>``. Every stored
transaction is finished before a new decision is made, and a position with a transaction in flight
is left alone, so a restarted keeper resumes a stored liquidation instead of signing a second one.
The vault burns from the keeper without an allowance: a liquidation needs no approval.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from equitoken.chain.evm.chain import EvmChain
from equitoken.durable.outbox import Outbox, TxStatus
from equitoken.keepers.outboxed import OutboxedKeeper, Tick
from equitoken.keepers.rules import Refusal, RefusalReason, RefusedError, check_venue
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.venues.synths import maths
from equitoken.venues.synths.deployment import SynthsDeployment
from equitoken.venues.synths.parameters import WAD, SynthAmount
from equitoken.venues.synths.views import ZERO_ADDRESS, SynthsReader, VaultState

__all__ = ["CRASH_SENT", "SynthLiquidation", "SynthLiquidationKeeper", "SynthLiquidationReport"]

OWNER = "synth-liquidation-keeper"
CRASH_SENT = "synth_liquidation_sent"
_PENDING = "pending"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SynthLiquidation:
    """A liquidation the keeper made, as the vault's `Liquidated` event reports it."""

    ticker: str
    position_id: int
    collateral_ratio: Decimal | None  # before, at the price it acted on (None: finished after a restart)
    burned: SynthAmount
    seized: Usd
    written_off: SynthAmount
    tx_hash: str


@dataclass(frozen=True, slots=True)
class SynthLiquidationReport:
    """What one tick did, and what it left alone and why."""

    liquidations: tuple[SynthLiquidation, ...]
    refusals: tuple[Refusal, ...]


class SynthLiquidationKeeper(OutboxedKeeper):
    """Liquidate under-collateralised positions of a synthetics deployment from `account`."""

    def __init__(
        self,
        chain: EvmChain,
        account: str,
        synths: SynthsDeployment,
        database: Database,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
        tickers: Sequence[str] | None = None,
    ) -> None:
        self.tickers = check_venue(
            chain,
            account,
            tickers,
            venue="the synthetic stocks are",
            chain_id=synths.chain_id,
            available=synths.synths,
            unknown="no synthetic",
            noun="synthetic",
        )
        super().__init__(chain, account, database, clock, outbox, OWNER)
        self.synths = synths
        self.reader = SynthsReader(chain, synths)
        self._prefix = f"synth-liquidation:{self.account}"

    # -- the tick

    def tick(self) -> SynthLiquidationReport:
        """Finish stored work, then liquidate every position below its minimum ratio the vaults allow."""
        liquidations: list[SynthLiquidation] = []
        tick = Tick("synth liquidation keeper")
        self._finish_stored(
            tick,
            lambda ticker: self.reader.vault_contract(ticker).liquidate,
            partial(self._finish, liquidations),
            crash_sent=CRASH_SENT,
        )
        for ticker in self.tickers:
            try:
                liquidations += self._liquidate_vault(ticker, tick)
            except RefusedError as refused:
                tick.refuse(ticker, refused)
        return SynthLiquidationReport(tuple(liquidations), tuple(tick.refusals))

    def purpose_prefix(self, ticker: str, position_id: int) -> str:
        """Return the prefix of the outbox purposes of a position's liquidations."""
        return f"{self._prefix}:{self.synths.synth(ticker).vault[:10]}:{ticker}:{position_id}:"

    # -- liquidations

    def _liquidate_vault(self, ticker: str, tick: Tick) -> list[SynthLiquidation]:
        price, state = self.reader.raw_price(ticker, _PENDING)
        min_ratio, penalty = self.reader.risk(ticker, _PENDING)
        indebted = {
            position_id: raw
            for position_id in range(1, self.reader.next_position_id(ticker, _PENDING))
            if (raw := self.reader.raw_position(ticker, position_id, _PENDING))[2] and raw[0] != ZERO_ADDRESS
        }
        if not indebted:
            return []
        if state != VaultState.OPEN:
            self._refuse_vault(ticker, state, price, min_ratio, indebted)
            return []
        done: list[SynthLiquidation] = []
        for position_id, (_, collateral, debt) in indebted.items():
            if maths.is_healthy(collateral, debt, price, min_ratio):
                continue
            try:
                done.append(self._liquidate(ticker, position_id, collateral, debt, price, min_ratio, penalty))
            except RefusedError as refused:
                tick.refuse(ticker, refused)
        return done

    def _refuse_vault(
        self,
        ticker: str,
        state: VaultState,
        price: int,
        min_ratio: int,
        indebted: dict[int, tuple[str, int, int]],
    ) -> None:
        reason = {
            VaultState.CLOSED: RefusalReason.MARKET_CLOSED,
            VaultState.HALTED: RefusalReason.HALTED,
            VaultState.NO_PRICE: RefusalReason.STALE,
        }[state]
        if price:
            unhealthy = [
                i for i, (_, c, d) in indebted.items() if not maths.is_healthy(c, d, price, min_ratio)
            ]
            if not unhealthy:
                return
            what = f"{len(unhealthy)} position{'s' * (len(unhealthy) != 1)} below the minimum ratio wait"
        else:
            what = f"cannot price {len(indebted)} position{'s' * (len(indebted) != 1)} with debt"
        raise RefusedError(reason, f"{what}: the vault is {state.label}")

    def _liquidate(
        self,
        ticker: str,
        position_id: int,
        collateral: int,
        debt: int,
        price: int,
        min_ratio: int,
        penalty: int,
    ) -> SynthLiquidation:
        base = self.purpose_prefix(ticker, position_id)
        attempts = self._rows(base)
        if any(r.status not in (TxStatus.CONFIRMED, TxStatus.FAILED) for r in attempts):
            raise RefusedError(
                RefusalReason.IN_FLIGHT,
                f"a liquidation of position {position_id} is stored but not yet on-chain",
            )
        ratio = maths.collateral_ratio(collateral, debt, price) or 0
        held = int(self.reader.synth_contract(ticker).balanceOf.call(self.account, block=_PENDING))
        size = maths.size_liquidation(collateral, debt, price, min_ratio, penalty, held)
        if size is None:
            raise RefusedError(
                RefusalReason.NO_INVENTORY,
                f"position {position_id} owes {SynthAmount(debt)} s{ticker} at a ratio of "
                f"{Decimal(ratio) / Decimal(WAD):.4f}: the keeper holds no s{ticker} to burn",
            )
        purpose = f"{base}{len(attempts) + 1}"
        vault = self.reader.vault_contract(ticker)
        outcome = self._send(purpose, vault.liquidate, (position_id, size.amount), CRASH_SENT)
        liquidation = self._liquidation(ticker, outcome.tx_hash, Decimal(ratio) / Decimal(WAD))
        _log.info("synth liquidation keeper: %s", liquidation)
        return liquidation

    def _liquidation(self, ticker: str, tx_hash: str, ratio: Decimal | None) -> SynthLiquidation:
        event = self._events(tx_hash, self.reader.vault_contract(ticker))["Liquidated"]
        return SynthLiquidation(
            ticker,
            int(event["id"]),
            ratio,
            SynthAmount(int(event["amount"])),
            Usd(int(event["seized"])),
            SynthAmount(int(event["written_off"])),
            tx_hash,
        )

    def _finish(self, liquidations: list[SynthLiquidation], purpose: str, tx_hash: str) -> None:
        liquidations.append(self._liquidation(purpose.split(":")[3], tx_hash, None))
