"""A trader's and a liquidity provider's actions on the perpetuals venue, each checked before it is sent
and sent exactly once.

``PerpsClient`` opens, closes (whole or part), adds margin to and sets the triggers of positions,
queues orders while the stock's market is closed, and deposits into and withdraws from the LP vault,
for a wallet the chain can sign for::

    client = PerpsClient(chain, perps, database, clock)
    opened = client.open_position(wallet, "AAPL", is_long=True, margin=Usd.parse("100"),
                                  leverage=5, key="order-17")
    client.close_position(wallet, "AAPL", opened.position_id, size=None, key="order-18")  # all of it
    client.deposit(lp_wallet, Usd.parse("10000"), key="lp-1")

Each action first checks its input against the chain (the market exists and trades now, the amounts
are positive, within the wallet's USDC and the market's limits: leverage, minimum margin, open
interest, the vault's free liquidity, the acceptable price, the triggers' sides; the position or
order is the wallet's) and raises a `PerpError` naming the problem before anything is signed. Then
its approval (if the allowance is short) and its call go through the outbox under the purposes
``perps:<wallet>:<ticker or "vault">:<action>:<key>[:approve]``: a key names one request, so calling
again with the same key (after a crash, or twice) returns the first call's result and sends nothing new.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract, ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome
from equitoken.durable.outboxed import MAX_KEY_LENGTH, Outboxed
from equitoken.model.quantities import Price, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.venues.perps import maths
from equitoken.venues.perps.deployment import PerpsDeployment
from equitoken.venues.perps.errors import (
    InvalidTriggerError,
    MarketClosedError,
    PerpAmountError,
    PerpError,
    PerpFundsError,
    PerpLimitError,
    PerpTransactionError,
    UnknownPositionError,
)
from equitoken.venues.perps.parameters import WAD, PerpParameters
from equitoken.venues.perps.states import MarketState
from equitoken.venues.perps.views import PerpsReader, RawOrder, RawPosition

__all__ = ["MAX_KEY_LENGTH", "VAULT", "PerpAction", "PerpReceipt", "PerpsClient"]

VAULT = "vault"
"""The purpose's market part for the vault's actions."""
_PENDING = "pending"


class PerpAction(StrEnum):
    """What a trader or an LP does; the value names the outbox purpose's action and the function."""

    OPEN = "open_position"
    CLOSE = "close_position"
    ADD_MARGIN = "add_margin"
    SET_TRIGGERS = "set_triggers"
    REQUEST_OPEN = "request_open"
    REQUEST_CLOSE = "request_close"
    CANCEL_ORDER = "cancel_order"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"

    @property
    def event(self) -> str:
        """Return the event the action emits."""
        return _EVENTS[self]


_EVENTS = {
    PerpAction.OPEN: "PositionOpened",
    PerpAction.CLOSE: "PositionClosed",
    PerpAction.ADD_MARGIN: "MarginAdded",
    PerpAction.SET_TRIGGERS: "TriggersSet",
    PerpAction.REQUEST_OPEN: "OrderRequested",
    PerpAction.REQUEST_CLOSE: "OrderRequested",
    PerpAction.CANCEL_ORDER: "OrderCancelled",
    PerpAction.DEPOSIT: "Deposit",
    PerpAction.WITHDRAW: "Withdraw",
}


@dataclass(frozen=True, slots=True)
class PerpReceipt:
    """What an action did: its event's fields and its transaction.

    `id` is the position's id (opens, closes, margin, triggers), the order's (requests,
    cancellations), or the vault shares moved (deposits, withdrawals). `new` is False when an earlier
    call with the same key had sent it already.
    """

    action: PerpAction
    ticker: str  # VAULT for the vault's actions
    wallet: str
    id: int
    event: Mapping[str, Any]
    tx_hash: str
    new: bool

    @property
    def position_id(self) -> int:
        """Return the position the action concerns (0 for the vault's actions and cancellations)."""
        return self.id if self.action not in _ORDER_ACTIONS | _VAULT_ACTIONS else 0


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked action: the call to send and the USDC allowance it needs first."""

    function: ContractFunction
    args: tuple[object, ...]
    approval: int = 0


_ORDER_ACTIONS = frozenset({PerpAction.REQUEST_OPEN, PerpAction.REQUEST_CLOSE, PerpAction.CANCEL_ORDER})
_VAULT_ACTIONS = frozenset({PerpAction.DEPOSIT, PerpAction.WITHDRAW})


def to_leverage(leverage: Decimal | int) -> int:
    """Return a leverage in whole multiples (5, Decimal("2.5")) as the contract's WAD."""
    value = Decimal(leverage) * WAD
    if value != value.to_integral_value():
        raise PerpAmountError(f"leverage {leverage} has more than 18 decimals")
    return int(value)


class PerpsClient:
    """Check and send a wallet's perpetual and vault actions through the outbox, once per key."""

    def __init__(
        self,
        chain: EvmChain,
        deployment: PerpsDeployment,
        database: Database,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        if deployment.chain_id != chain.chain_id:
            raise PerpError(
                f"the perpetuals venue is deployed on chain {deployment.chain_id}, not {chain.chain_id}"
            )
        self.chain = chain
        self.deployment = deployment
        self.db = database
        self.clock = clock
        self.outbox = outbox or Outbox(chain)
        self._sent = Outboxed("perps", chain, database, self.outbox, clock, PerpError, PerpTransactionError)
        self.reader = PerpsReader(chain, deployment)
        self.vault = self.reader.vault_contract
        self._usdc = self.reader.usdc

    # -- positions

    def open_position(
        self,
        wallet: str,
        ticker: str,
        *,
        is_long: bool,
        margin: Usd,
        leverage: Decimal | int,
        take_profit: Price | None = None,
        stop_loss: Price | None = None,
        acceptable_price: Price | None = None,
        key: str,
    ) -> PerpReceipt:
        """Open a long or short of `margin` USDC (the open fee comes out of it) at `leverage`, with
        optional take-profit and stop-loss prices and a worst fill (`acceptable_price`)."""

        def plan(contract: Contract, sender: str) -> _Plan:
            state, mark, parameters = self._trading(ticker, "open a position")
            args = self._open_args(
                ticker, sender, is_long, margin, leverage, take_profit, stop_loss, acceptable_price,
                state, mark, parameters,
            )  # fmt: skip
            return _Plan(contract.open_position, args, margin.units)

        return self._act(PerpAction.OPEN, wallet, ticker, key, plan)

    def close_position(
        self,
        wallet: str,
        ticker: str,
        position_id: int,
        *,
        size: int | None = None,
        acceptable_price: Price | None = None,
        key: str,
    ) -> PerpReceipt:
        """Close `size` token units (18 decimals; None: all) of the wallet's position at no worse than
        `acceptable_price` (all of it when the rest would hold less than the market's minimum margin)."""

        def plan(contract: Contract, sender: str) -> _Plan:
            raw = self._own_position(ticker, position_id, sender)
            amount = self._close_size(raw, size)
            _, _, parameters = self._trading(ticker, "close a position")
            closing = maths.closed_size(amount, raw.size, raw.margin, parameters.min_margin)
            fill = int(contract.fill_price.call(raw.is_long, closing, False, block=_PENDING))
            _acceptable(not raw.is_long, fill, acceptable_price, "closing")
            return _Plan(contract.close_position, (position_id, amount, _units(acceptable_price)))

        return self._act(PerpAction.CLOSE, wallet, ticker, key, plan)

    def add_margin(self, wallet: str, ticker: str, position_id: int, amount: Usd, *, key: str) -> PerpReceipt:
        """Add `amount` USDC of margin to the wallet's position."""

        def plan(contract: Contract, sender: str) -> _Plan:
            raw = self._own_position(ticker, position_id, sender)
            _positive(amount, "add as margin")
            _, state = self.reader.mark(ticker, _PENDING)
            if state == MarketState.HALTED:
                raise MarketClosedError(f"{ticker} is halted: margin cannot be added until it resumes")
            self._require_usdc(sender, amount.units, "add as margin")
            if raw.margin + amount.units >= 2**64:
                raise PerpAmountError(
                    f"a margin of {Usd(raw.margin + amount.units)} USDC is beyond the market's limit"
                )
            return _Plan(contract.add_margin, (position_id, amount.units), amount.units)

        return self._act(PerpAction.ADD_MARGIN, wallet, ticker, key, plan)

    def set_triggers(
        self,
        wallet: str,
        ticker: str,
        position_id: int,
        *,
        take_profit: Price | None,
        stop_loss: Price | None,
        key: str,
    ) -> PerpReceipt:
        """Set (or clear, with None) the take-profit and stop-loss prices of the wallet's position."""

        def plan(contract: Contract, sender: str) -> _Plan:
            raw = self._own_position(ticker, position_id, sender)
            _triggers(raw.is_long, raw.entry_price, take_profit, stop_loss)
            return _Plan(contract.set_triggers, (position_id, _units(take_profit), _units(stop_loss)))

        return self._act(PerpAction.SET_TRIGGERS, wallet, ticker, key, plan)

    # -- orders for the reopening

    def request_open(
        self,
        wallet: str,
        ticker: str,
        *,
        is_long: bool,
        margin: Usd,
        leverage: Decimal | int,
        take_profit: Price | None = None,
        stop_loss: Price | None = None,
        acceptable_price: Price | None = None,
        key: str,
    ) -> PerpReceipt:
        """Queue an open for the reopening while the stock's market is closed (CLOSED policy); the
        margin is escrowed in the market until the order executes or is cancelled."""

        def plan(contract: Contract, sender: str) -> _Plan:
            mark, parameters = self._queueing(ticker)
            args = self._open_args(
                ticker, sender, is_long, margin, leverage, take_profit, stop_loss, acceptable_price,
                MarketState.CLOSED, mark, parameters,
            )  # fmt: skip
            return _Plan(contract.request_open, args, margin.units)

        return self._act(PerpAction.REQUEST_OPEN, wallet, ticker, key, plan)

    def request_close(
        self,
        wallet: str,
        ticker: str,
        position_id: int,
        *,
        size: int | None = None,
        acceptable_price: Price | None = None,
        key: str,
    ) -> PerpReceipt:
        """Queue the close of `size` (None: all) of the wallet's position for the reopening."""

        def plan(contract: Contract, sender: str) -> _Plan:
            raw = self._own_position(ticker, position_id, sender)
            amount = self._close_size(raw, size)
            self._queueing(ticker)
            return _Plan(contract.request_close, (position_id, amount, _units(acceptable_price)))

        return self._act(PerpAction.REQUEST_CLOSE, wallet, ticker, key, plan)

    def cancel_order(self, wallet: str, ticker: str, order_id: int, *, key: str) -> PerpReceipt:
        """Cancel the wallet's pending order (an open's escrowed margin comes back)."""

        def plan(contract: Contract, sender: str) -> _Plan:
            order = self._own_order(ticker, order_id, sender)
            del order
            return _Plan(contract.cancel_order, (order_id,))

        return self._act(PerpAction.CANCEL_ORDER, wallet, ticker, key, plan)

    # -- the vault

    def deposit(self, wallet: str, amount: Usd, *, key: str) -> PerpReceipt:
        """Deposit `amount` USDC into the LP vault for shares."""

        def plan(_contract: Contract, sender: str) -> _Plan:
            _positive(amount, "deposit")
            self._require_usdc(sender, amount.units, "deposit")
            if int(self.vault.previewDeposit.call(amount.units, block=_PENDING)) == 0:
                raise PerpAmountError(f"depositing {amount} USDC buys no vault share; deposit more")
            return _Plan(self.vault.deposit, (amount.units, sender), amount.units)

        return self._act(PerpAction.DEPOSIT, wallet, VAULT, key, plan)

    def withdraw(self, wallet: str, amount: Usd, *, key: str) -> PerpReceipt:
        """Withdraw `amount` USDC of the wallet's vault assets (at most what open positions leave free)."""

        def plan(_contract: Contract, sender: str) -> _Plan:
            _positive(amount, "withdraw")
            owned = int(
                self.vault.convertToAssets.call(self.reader.lp_shares(sender, _PENDING), block=_PENDING)
            )
            if amount.units > owned:
                raise PerpFundsError(
                    f"{sender}'s vault shares are worth {Usd(owned)} USDC, less than the {amount} to withdraw"
                )
            allowed = int(self.vault.maxWithdraw.call(sender, block=_PENDING))
            if amount.units > allowed:
                free = Usd(int(self.vault.free_assets.call(block=_PENDING)))
                raise PerpLimitError(
                    f"the vault can pay out {Usd(allowed)} USDC to {sender} now ({free} USDC is free; the "
                    f"rest backs open positions), less than the {amount} asked"
                )
            return _Plan(self.vault.withdraw, (amount.units, sender, sender))

        return self._act(PerpAction.WITHDRAW, wallet, VAULT, key, plan)

    # -- the shared path

    def purpose(self, wallet: str, market: str, action: PerpAction, key: str) -> str:
        """Return the outbox purpose of an action (`market` is a ticker or VAULT)."""
        return self._sent.purpose(wallet, market, action.value, key)

    def _act(
        self,
        action: PerpAction,
        wallet: str,
        ticker: str,
        key: str,
        plan: Callable[[Contract, str], _Plan],
    ) -> PerpReceipt:
        contract = self.vault if ticker == VAULT else self.reader.contract(ticker)
        sender = self._sent.sender(wallet, key)
        purpose = self.purpose(sender, ticker, action, key)
        what = action.value.replace("_", " ")
        function: ContractFunction
        args: tuple[object, ...]
        if self._sent.stored(purpose):  # sent before under this key: its stored transaction carries its call
            function, args = contract.function(action.value), ()
        else:
            checked = plan(contract, sender)
            if checked.approval:
                self._sent.approve(purpose, self._usdc, contract.address, checked.approval, sender, what)
            function, args = checked.function, checked.args
        outcome = self._sent.run(purpose, function, args, sender, what)
        return self._receipt(action, ticker, contract, sender, outcome)

    def _receipt(
        self, action: PerpAction, ticker: str, contract: Contract, sender: str, outcome: TxOutcome
    ) -> PerpReceipt:
        event = next(e for e in contract.decode_logs(self._sent.mined(outcome)) if e.name == action.event)
        args = dict(event.args)
        if action in _VAULT_ACTIONS:
            ident = int(args.get("shares", 0))
        elif action in _ORDER_ACTIONS:
            ident = int(args.get("order_id", args.get("id", 0)))
        else:
            ident = int(args.get("id", args.get("position_id", 0)))
        return PerpReceipt(action, ticker, sender, ident, args, outcome.tx_hash, outcome.new)

    # -- checks

    def _trading(self, ticker: str, what: str) -> tuple[MarketState, int, PerpParameters]:
        """Return the state, mark and parameters of a market that trades now; else raise naming why."""
        mark, state = self.reader.mark(ticker, _PENDING)
        if not state.trades:
            hint = (
                " (it queues orders for the reopening: request one instead)"
                if state == MarketState.CLOSED
                else ""
            )
            raise MarketClosedError(f"cannot {what} in {ticker}'s market now: it is {state.label}{hint}")
        return state, mark, self.reader.parameters(ticker, _PENDING)

    def _queueing(self, ticker: str) -> tuple[int, PerpParameters]:
        mark, state = self.reader.mark(ticker, _PENDING)
        if state != MarketState.CLOSED:
            hint = "; trade it directly" if state.trades else ""
            raise MarketClosedError(
                f"{ticker}'s market queues orders only while the stock's market is closed under the CLOSED "
                f"policy; it is {state.label}{hint}"
            )
        return mark, self.reader.parameters(ticker, _PENDING)

    def _open_args(
        self,
        ticker: str,
        sender: str,
        is_long: bool,
        margin: Usd,
        leverage: Decimal | int,
        take_profit: Price | None,
        stop_loss: Price | None,
        acceptable_price: Price | None,
        state: MarketState,
        mark: int,
        parameters: PerpParameters,
    ) -> tuple[object, ...]:
        lev = to_leverage(leverage)
        if not WAD <= lev <= parameters.max_leverage:
            raise PerpAmountError(
                f"leverage {leverage}x is outside {ticker}'s 1x to "
                f"{Decimal(parameters.max_leverage) / WAD:f}x"
            )
        _positive(margin, "put up as margin")
        if margin.units < parameters.min_margin:
            raise PerpAmountError(
                f"a margin of {margin} USDC is below {ticker}'s minimum of {Usd(parameters.min_margin)} USDC"
            )
        self._require_usdc(sender, margin.units, "put up as margin")
        if not state.trades:  # an order: the contract checks the rest at the reopening
            _triggers(is_long, 0, take_profit, stop_loss)
        else:
            skew = self.reader.skew(ticker, _PENDING)
            quote = maths.quote_open(mark, is_long, margin.units, lev, skew, parameters)
            if quote.size == 0:
                raise PerpAmountError(f"a margin of {margin} USDC at {leverage}x buys no size in {ticker}")
            _acceptable(is_long, quote.fill, acceptable_price, "opening")
            _triggers(is_long, quote.fill, take_profit, stop_loss)
            self._require_open_interest(ticker, is_long, quote.notional, parameters)
            free = int(self.vault.free_assets.call(block=_PENDING)) + quote.fee
            if quote.reservation > free:
                raise PerpLimitError(
                    f"the vault has {Usd(free)} USDC free, not enough to back this position's profit cap of "
                    f"{Usd(quote.reservation)} USDC; open less, or wait for LPs"
                )
        return (is_long, margin.units, lev, _units(take_profit), _units(stop_loss), _units(acceptable_price))

    def _require_open_interest(self, ticker: str, is_long: bool, added: int, p: PerpParameters) -> None:
        contract = self.reader.contract(ticker)
        long_usd, short_usd = (int(v) for v in contract.open_interest_usd.call(block=_PENDING))
        current, cap = (long_usd, p.max_oi_long) if is_long else (short_usd, p.max_oi_short)
        if current + added > cap:
            side = "long" if is_long else "short"
            raise PerpLimitError(
                f"{ticker}'s {side} open interest would reach {Usd(current + added)} USDC, beyond its cap of "
                f"{Usd(cap)} USDC; {Usd(max(0, cap - current))} USDC of notional is left"
            )

    def _require_usdc(self, sender: str, units: int, what: str) -> None:
        balance = int(self._usdc.balanceOf(sender))
        if units > balance:
            raise PerpFundsError(f"{sender} holds {Usd(balance)} USDC, less than the {Usd(units)} to {what}")

    def _own_position(self, ticker: str, position_id: int, sender: str) -> RawPosition:
        raw = self.reader.raw_position(ticker, position_id, _PENDING)
        if not raw.is_open:
            raise UnknownPositionError(f"{ticker}'s market has no open position {position_id}")
        if raw.owner.lower() != sender.lower():
            raise UnknownPositionError(f"position {position_id} of {ticker}'s market is not {sender}'s")
        return raw

    def _own_order(self, ticker: str, order_id: int, sender: str) -> RawOrder:
        order = self.reader.raw_order(ticker, order_id, _PENDING)
        if not order.is_pending:
            raise UnknownPositionError(f"{ticker}'s market has no pending order {order_id}")
        if order.owner.lower() != sender.lower():
            raise UnknownPositionError(f"order {order_id} of {ticker}'s market is not {sender}'s")
        return order

    @staticmethod
    def _close_size(raw: RawPosition, size: int | None) -> int:
        if size is None:
            return raw.size
        if type(size) is not int or size <= 0:
            raise PerpAmountError(f"the size to close must be a positive number of token units, not {size!r}")
        if size > raw.size:
            raise PerpAmountError(
                f"closing {Decimal(size) / maths.TOKEN_UNIT:f} tokens, more than the position's "
                f"{Decimal(raw.size) / maths.TOKEN_UNIT:f}"
            )
        return size


def _units(price: Price | None) -> int:
    return 0 if price is None else price.units


def _positive(amount: Usd, what: str) -> None:
    if amount.units <= 0:
        raise PerpAmountError(f"the amount to {what} must be positive, not {amount} USDC")


def _acceptable(buys: bool, fill: int, acceptable: Price | None, what: str) -> None:
    """Refuse a fill worse than `acceptable` (a buy above it, a sell below it)."""
    if acceptable is None:
        return
    if acceptable.units <= 0:
        raise PerpAmountError(f"the acceptable price must be positive, not {acceptable}")
    if (buys and fill > acceptable.units) or (not buys and fill < acceptable.units):
        side = "above" if buys else "below"
        raise PerpLimitError(
            f"{what} would fill at {Price(fill)}, {side} the acceptable price of {acceptable}"
        )


def _triggers(is_long: bool, reference: int, take_profit: Price | None, stop_loss: Price | None) -> None:
    """Refuse a take-profit or stop-loss on the wrong side of `reference` (the entry)."""
    side = "long" if is_long else "short"
    for name, price, above in (("take-profit", take_profit, is_long), ("stop-loss", stop_loss, not is_long)):
        if price is None:
            continue
        if price.units <= 0:
            raise InvalidTriggerError(f"a {name} must be a positive price, not {price}")
        if reference and ((above and price.units <= reference) or (not above and price.units >= reference)):
            where = "above" if above else "below"
            raise InvalidTriggerError(
                f"a {side}'s {name} must be {where} its entry of {Price(reference)}, not {price}"
            )
