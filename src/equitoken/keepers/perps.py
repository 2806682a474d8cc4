"""The perpetuals keeper: execute the orders queued while the stock's market was closed once it has
reopened, execute take-profits and stop-losses, and liquidate positions whose equity has fallen below
the maintenance margin, only when the market's state allows.

Each `tick`:
1. finishes what an earlier run left: every transaction stored under this keeper's purposes and not
   known to be mined is broadcast again and its outcome recorded (a crash between signing and reading
   the receipt loses nothing and repeats nothing);
2. reads each market's mark and state (`mark_price()` as an `eth_call` on the next block):
   - OPEN: executes every pending order (`execute_order`: at the reopening price; an order whose
     acceptable price or a cap now fails is cancelled and refunded by the contract, not reverted);
   - OPEN or DISCOVERY (the CLOSED policy's queue never runs in DISCOVERY, where trading goes on at
     the clamped mark): executes each position's trigger the mark has crossed (`execute_trigger`),
     then liquidates each position the contract says is liquidatable (`is_liquidatable`);
   - CLOSED: touches nothing (no trading, no liquidation while the stock's market is closed under the
     CLOSED policy) and reports the liquidatable positions and the orders that wait;
   - HALTED, NO_PRICE: touches nothing, and says why.

Exactly once: each transaction is the outbox purpose
``perps-keeper:<keeper>:<vault prefix>:<ticker>:<order|trigger|liquidate>:<id>:<attempt>``; order and
position ids are never reused and a position closes once, so a purpose names one execution. An attempt
that reverted (the market moved between the read and the block) frees the next. A restarted keeper
reads the same rows, so it resumes a stored transaction instead of signing a second one.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome, TxStatus
from equitoken.keepers.outboxed import OutboxedKeeper, Tick
from equitoken.keepers.rules import Refusal, RefusalReason, RefusedError, check_venue
from equitoken.model.quantities import Price, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.venues.perps import maths
from equitoken.venues.perps.deployment import PerpsDeployment
from equitoken.venues.perps.states import MarketState
from equitoken.venues.perps.views import PerpsReader, RawPosition

__all__ = [
    "OrderExecution",
    "PerpLiquidation",
    "PerpsKeeper",
    "PerpsKeeperReport",
    "TriggerExecution",
    "trigger_hit",
]

OWNER = "perps-keeper"
_PENDING = "pending"
_ORDER, _TRIGGER, _LIQUIDATE = "order", "trigger", "liquidate"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrderExecution:
    """A queued order the keeper executed: filled (`filled`), or cancelled by the contract and refunded."""

    ticker: str
    order_id: int
    position_id: int  # the position opened or closed; 0 when cancelled
    filled: bool
    reason: str  # the cancellation's reason, "" when filled
    tx_hash: str


@dataclass(frozen=True, slots=True)
class TriggerExecution:
    """A take-profit or stop-loss the keeper executed."""

    ticker: str
    position_id: int
    kind: str  # "take_profit" or "stop_loss" ("" when finished after a restart)
    price: Price  # the exit fill
    payout: Usd
    tx_hash: str


@dataclass(frozen=True, slots=True)
class PerpLiquidation:
    """A liquidation the keeper made, and the reward it was paid."""

    ticker: str
    position_id: int
    owner: str
    mark: Price
    reward: Usd
    tx_hash: str


@dataclass(frozen=True, slots=True)
class PerpsKeeperReport:
    """What one tick did, and what it left alone and why."""

    executions: tuple[OrderExecution, ...]
    triggers: tuple[TriggerExecution, ...]
    liquidations: tuple[PerpLiquidation, ...]
    refusals: tuple[Refusal, ...]


def trigger_hit(position: RawPosition, mark: int) -> str | None:
    """Return "take_profit" or "stop_loss" if `mark` has crossed one of the position's triggers (a
    long's take-profit at or above it, its stop-loss at or below it; the mirror for a short)."""
    tp, sl = position.take_profit, position.stop_loss
    if position.is_long:
        if tp and mark >= tp:
            return "take_profit"
        if sl and mark <= sl:
            return "stop_loss"
        return None
    if tp and mark <= tp:
        return "take_profit"
    if sl and mark >= sl:
        return "stop_loss"
    return None


class PerpsKeeper(OutboxedKeeper):
    """Execute queued orders and triggers, and liquidate, in the markets of a `PerpsDeployment` from
    `account`."""

    def __init__(
        self,
        chain: EvmChain,
        account: str,
        perps: PerpsDeployment,
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
            venue="the perpetuals venue is",
            chain_id=perps.chain_id,
            available=perps.markets,
            unknown="no perpetual market",
        )
        super().__init__(chain, account, database, clock, outbox, OWNER)
        self.perps = perps
        self.reader = PerpsReader(chain, perps)
        self._prefix = f"{OWNER}:{self.account}:{perps.vault[:10]}"

    # -- the tick

    def tick(self) -> PerpsKeeperReport:
        """Finish stored work, then execute orders and triggers and liquidate where the markets allow."""
        report = _Report("perps keeper")
        self._finish_stored(
            report, lambda ticker: self.reader.contract(ticker).funding_rate, partial(self._finish, report)
        )
        for ticker in self.tickers:
            try:
                self._tend(ticker, report)
            except RefusedError as refused:
                report.refuse(ticker, refused)
        return report.done()

    def _tend(self, ticker: str, report: "_Report") -> None:
        mark, state = self.reader.mark(ticker, _PENDING)
        orders = self.reader.pending_orders(ticker, _PENDING)
        positions = self.reader.open_positions(ticker, _PENDING)
        if state == MarketState.OPEN:
            for order_id in orders:
                try:
                    report.executions.append(self._execute_order(ticker, order_id))
                except RefusedError as refused:
                    report.refuse(ticker, refused)
            if orders:
                positions = self.reader.open_positions(ticker, _PENDING)
        elif orders and state != MarketState.DISCOVERY:
            report.refuse(ticker, self._waiting(ticker, state, f"{_count(len(orders), 'order')} wait"))
        if not positions:
            return
        if not state.trades:
            self._refuse_positions(ticker, state, mark, positions)
            return
        contract = self.reader.contract(ticker)
        for position_id, position in positions.items():
            try:
                kind = trigger_hit(position, mark)
                if kind is not None:
                    report.triggers.append(self._execute_trigger(ticker, position_id, kind))
                elif bool(contract.is_liquidatable.call(position_id, block=_PENDING)):
                    report.liquidations.append(self._liquidate(ticker, position_id, position, mark))
            except RefusedError as refused:
                report.refuse(ticker, refused)

    def _refuse_positions(
        self, ticker: str, state: MarketState, mark: int, positions: dict[int, RawPosition]
    ) -> None:
        if not mark:
            raise self._waiting(ticker, state, f"cannot price {_count(len(positions), 'open position')}")
        parameters = self.reader.parameters(ticker, _PENDING)
        due = [
            i
            for i, p in positions.items()
            if maths.is_liquidatable(
                p.margin,
                p.size,
                p.entry_price,
                mark,
                p.is_long,
                self.reader.position_funding(ticker, i, _PENDING),
                parameters,
            )
            or trigger_hit(p, mark) is not None
        ]
        if due:
            raise self._waiting(ticker, state, f"{_count(len(due), 'position')} to liquidate or trigger wait")

    @staticmethod
    def _waiting(ticker: str, state: MarketState, what: str) -> RefusedError:
        reason = {
            MarketState.CLOSED: RefusalReason.MARKET_CLOSED,
            MarketState.HALTED: RefusalReason.HALTED,
            MarketState.NO_PRICE: RefusalReason.STALE,
        }.get(state, RefusalReason.VENUE_REFUSED)
        return RefusedError(reason, f"{what}: {ticker}'s market is {state.label}")

    # -- the three actions

    def _execute_order(self, ticker: str, order_id: int) -> OrderExecution:
        contract = self.reader.contract(ticker)
        outcome = self._once(ticker, _ORDER, order_id, contract.execute_order, (order_id,), "perp_order_sent")
        return self._execution(ticker, order_id, outcome.tx_hash)

    def _execute_trigger(self, ticker: str, position_id: int, kind: str) -> TriggerExecution:
        contract = self.reader.contract(ticker)
        outcome = self._once(
            ticker, _TRIGGER, position_id, contract.execute_trigger, (position_id,), "perp_trigger_sent"
        )
        return self._trigger(ticker, position_id, kind, outcome.tx_hash)

    def _liquidate(self, ticker: str, position_id: int, position: RawPosition, mark: int) -> PerpLiquidation:
        contract = self.reader.contract(ticker)
        outcome = self._once(
            ticker, _LIQUIDATE, position_id, contract.liquidate, (position_id,), "perp_liquidation_sent"
        )
        return self._liquidation(ticker, position_id, outcome.tx_hash, position.owner, mark)

    def _once(
        self,
        ticker: str,
        what: str,
        ident: int,
        function: ContractFunction,
        args: tuple[object, ...],
        crash_sent: str,
    ) -> TxOutcome:
        base = f"{self._prefix}:{ticker}:{what}:{ident}:"
        attempts = self._rows(base)
        if any(r.status == TxStatus.CONFIRMED for r in attempts):
            raise RefusedError(
                RefusalReason.IN_FLIGHT, f"{what} {ident} is done; the chain does not show it yet"
            )
        if any(r.status != TxStatus.FAILED for r in attempts):
            raise RefusedError(RefusalReason.IN_FLIGHT, f"{what} {ident} is stored but not yet on-chain")
        return self._send(f"{base}{len(attempts) + 1}", function, args, crash_sent)

    # -- what the events say

    def _execution(self, ticker: str, order_id: int, tx_hash: str) -> OrderExecution:
        events = self._events(tx_hash, self.reader.contract(ticker))
        cancelled = events.get("OrderCancelled")
        if cancelled is not None:
            execution = OrderExecution(ticker, order_id, 0, False, str(cancelled.get("reason", "")), tx_hash)
        else:
            opened = events.get("PositionOpened") or events.get("PositionClosed") or {}
            execution = OrderExecution(ticker, order_id, int(opened.get("id", 0)), True, "", tx_hash)
        _log.info("perps keeper executed an order: %s", execution)
        return execution

    def _trigger(self, ticker: str, position_id: int, kind: str, tx_hash: str) -> TriggerExecution:
        closed = self._events(tx_hash, self.reader.contract(ticker)).get("PositionClosed", {})
        execution = TriggerExecution(
            ticker,
            position_id,
            kind,
            Price(int(closed.get("price", 0))),
            Usd(int(closed.get("payout", 0))),
            tx_hash,
        )
        _log.info("perps keeper executed a trigger: %s", execution)
        return execution

    def _liquidation(
        self, ticker: str, position_id: int, tx_hash: str, owner: str, mark: int
    ) -> PerpLiquidation:
        event = self._events(tx_hash, self.reader.contract(ticker)).get("PositionLiquidated", {})
        liquidation = PerpLiquidation(
            ticker,
            position_id,
            str(event.get("owner", owner)),
            Price(int(event.get("price", mark))),
            Usd(int(event.get("reward", 0))),
            tx_hash,
        )
        _log.info("perps keeper liquidated: %s", liquidation)
        return liquidation

    def _finish(self, report: "_Report", purpose: str, tx_hash: str) -> None:
        _, _, _, ticker, what, ident, _ = purpose.split(":")
        if what == _ORDER:
            report.executions.append(self._execution(ticker, int(ident), tx_hash))
        elif what == _TRIGGER:
            report.triggers.append(self._trigger(ticker, int(ident), "", tx_hash))
        elif what == _LIQUIDATE:
            report.liquidations.append(self._liquidation(ticker, int(ident), tx_hash, "", 0))


@dataclass
class _Report(Tick):
    executions: list[OrderExecution] = field(default_factory=list)
    triggers: list[TriggerExecution] = field(default_factory=list)
    liquidations: list[PerpLiquidation] = field(default_factory=list)

    def done(self) -> PerpsKeeperReport:
        return PerpsKeeperReport(
            tuple(self.executions), tuple(self.triggers), tuple(self.liquidations), tuple(self.refusals)
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
