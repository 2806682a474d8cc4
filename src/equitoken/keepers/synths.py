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

from sqlalchemy import select

from equitoken.chain.errors import RevertError, TransactionTimeoutError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome, TxStatus
from equitoken.keepers.rules import KeeperConfigError, Refusal, RefusalReason, RefusedError
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow
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


class SynthLiquidationKeeper:
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
        if synths.chain_id != chain.chain_id:
            raise KeeperConfigError(
                f"the synthetic stocks are deployed on chain {synths.chain_id}, not {chain.chain_id}"
            )
        watched = list(synths.synths) if tickers is None else list(tickers)
        unknown = sorted(set(watched) - set(synths.synths))
        if unknown:
            raise KeeperConfigError(f"no synthetic for {', '.join(unknown)}")
        if not watched:
            raise KeeperConfigError("the keeper needs at least one synthetic to watch")
        if account not in chain.signers:
            raise KeeperConfigError(f"the keeper cannot sign for wallet {account}")
        self.chain = chain
        self.account = chain.signers.get(account).address
        self.synths = synths
        self.db = database
        self.clock = clock
        self.outbox = outbox or Outbox(chain)
        self.tickers = tuple(watched)
        self.reader = SynthsReader(chain, synths)
        self._prefix = f"synth-liquidation:{self.account}"

    # -- the tick

    def tick(self) -> SynthLiquidationReport:
        """Finish stored work, then liquidate every position below its minimum ratio the vaults allow."""
        liquidations: list[SynthLiquidation] = []
        refusals: list[Refusal] = []
        self.outbox.rebroadcast(self.db)
        for row in self._rows():
            if row.status == TxStatus.SIGNED:
                try:
                    finished = self._finish(row)
                except RefusedError as refused:
                    refusals.append(self._refusal(row.purpose.split(":")[3], refused))
                    continue
                if finished is not None:
                    liquidations.append(finished)
        for ticker in self.tickers:
            try:
                liquidations += self._liquidate_vault(ticker, refusals)
            except RefusedError as refused:
                refusals.append(self._refusal(ticker, refused))
        return SynthLiquidationReport(tuple(liquidations), tuple(refusals))

    def purpose_prefix(self, ticker: str, position_id: int) -> str:
        """Return the prefix of the outbox purposes of a position's liquidations."""
        return f"{self._prefix}:{self.synths.synth(ticker).vault[:10]}:{ticker}:{position_id}:"

    # -- liquidations

    def _liquidate_vault(self, ticker: str, refusals: list[Refusal]) -> list[SynthLiquidation]:
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
                refusals.append(self._refusal(ticker, refused))
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
        outcome = self._run(purpose, vault.liquidate, (position_id, size.amount))
        if not outcome.confirmed:
            raise RefusedError(RefusalReason.VENUE_REFUSED, f"{purpose} reverted: {outcome.error}")
        liquidation = self._liquidation(ticker, outcome.tx_hash, Decimal(ratio) / Decimal(WAD))
        _log.info("synth liquidation keeper: %s", liquidation)
        return liquidation

    def _liquidation(self, ticker: str, tx_hash: str, ratio: Decimal | None) -> SynthLiquidation:
        receipt = self.chain.receipt(tx_hash)
        if receipt is None:
            raise RefusedError(RefusalReason.IN_FLIGHT, f"transaction {tx_hash} is not mined yet")
        vault = self.reader.vault_contract(ticker)
        event = next(e for e in vault.decode_logs(receipt) if e.name == "Liquidated").args
        return SynthLiquidation(
            ticker,
            int(event["id"]),
            ratio,
            SynthAmount(int(event["amount"])),
            Usd(int(event["seized"])),
            SynthAmount(int(event["written_off"])),
            tx_hash,
        )

    # -- the outbox

    def _rows(self, prefix: str | None = None) -> list[ChainTransactionRow]:
        """Return this keeper's stored transactions whose purpose starts with `prefix`, oldest first."""
        with self.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(ChainTransactionRow)
                    .where(
                        ChainTransactionRow.purpose.startswith(prefix or self._prefix + ":", autoescape=True)
                    )
                    .order_by(ChainTransactionRow.id)
                )
            )
            for row in rows:
                session.expunge(row)
        return rows

    def _finish(self, row: ChainTransactionRow) -> SynthLiquidation | None:
        """Broadcast a liquidation stored by an earlier run and record its outcome."""
        ticker = row.purpose.split(":")[3]
        # The stored row carries its own call: the function given here only signs new rows.
        outcome = self._run(row.purpose, self.reader.vault_contract(ticker).liquidate, ())
        if not (outcome.new and outcome.confirmed):
            return None
        return self._liquidation(ticker, outcome.tx_hash, None)

    def _run(self, purpose: str, function: ContractFunction, args: tuple[object, ...]) -> TxOutcome:
        try:
            return self.outbox.run(
                self.db,
                purpose,
                function,
                args,
                sender=self.account,
                owner=OWNER,
                now=self.clock.now,
                record=lambda _session, _outcome: None,
                crash_sent=CRASH_SENT,
            )
        except RevertError as exc:  # the node says it would revert: nothing was stored or sent
            raise RefusedError(
                RefusalReason.VENUE_REFUSED, f"{purpose} would revert: {exc.reason or exc}"
            ) from None
        except TransactionTimeoutError:  # stored and sent: the next tick finishes it
            raise RefusedError(RefusalReason.IN_FLIGHT, f"{purpose} is sent but not mined yet") from None

    @staticmethod
    def _refusal(ticker: str, refused: RefusedError) -> Refusal:
        _log.info("synth liquidation keeper leaves %s alone: %s (%s)", ticker, refused.detail, refused.reason)
        return Refusal(ticker, refused.reason, refused.detail)
