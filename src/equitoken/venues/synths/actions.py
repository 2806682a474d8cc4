"""A writer's actions on the synthetic stocks, each checked before it is sent and sent exactly once.

``SynthsClient`` opens positions, deposits and withdraws USDC, mints and burns the synthetic, and
closes positions, for a wallet the chain can sign for::

    client = SynthsClient(chain, synths, database, clock)
    opened = client.open_position(wallet, "AAPL", Usd.parse("3000"), SynthAmount.parse("10"), key="o-1")
    client.mint(wallet, "AAPL", opened.position_id, SynthAmount.parse("1"), key="o-2")
    client.close(wallet, "AAPL", opened.position_id, key="o-3")

Each action first checks its input against the chain (the synthetic exists, the position is open and
the wallet's, the amount is positive and within the wallet's balance or the position, the vault is
open with a fresh price, the position stays at or above the minimum collateral ratio) and raises a
`SynthsError` naming the problem before anything is signed. Then its USDC approval (if the allowance
is short) and its call go through the outbox under the purposes
``synths:<wallet>:<ticker>:<action>:<key>[:approve]``: a key names one request, so calling again with
the same key (after a crash, or twice) returns the first call's result and sends nothing new. The
vault burns the synthetic it is repaid without an allowance: burns and closes need no approval.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome
from equitoken.durable.outboxed import MAX_KEY_LENGTH, Outboxed
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.venues.synths import maths
from equitoken.venues.synths.deployment import SynthsDeployment
from equitoken.venues.synths.errors import (
    NotPositionOwnerError,
    PositionClosedError,
    SynthAmountError,
    SynthFundsError,
    SynthsError,
    SynthSuspendedError,
    SynthTransactionError,
    UndercollateralisedError,
)
from equitoken.venues.synths.parameters import WAD, SynthAmount
from equitoken.venues.synths.views import ZERO_ADDRESS, SynthsReader, VaultState

__all__ = ["MAX_KEY_LENGTH", "SynthAction", "SynthReceipt", "SynthsClient"]

_PENDING = "pending"


class SynthAction(StrEnum):
    """What a writer does in a vault; the value is the vault's function."""

    OPEN = "open_position"
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    MINT = "mint"
    BURN = "burn"
    CLOSE = "close_position"

    @property
    def event(self) -> str:
        """Return the vault event the action emits."""
        return _EVENTS[self]


_EVENTS = {
    SynthAction.OPEN: "PositionOpened",
    SynthAction.DEPOSIT: "Deposited",
    SynthAction.WITHDRAW: "Withdrawn",
    SynthAction.MINT: "Minted",
    SynthAction.BURN: "Burned",
    SynthAction.CLOSE: "PositionClosed",
}


@dataclass(frozen=True, slots=True)
class SynthReceipt:
    """What an action did: the USDC and synthetic it moved, the position, and its transaction.

    `new` is False when an earlier call with the same key had sent it already.
    """

    action: SynthAction
    ticker: str
    wallet: str
    position_id: int
    collateral: Usd
    synth: SynthAmount
    tx_hash: str
    new: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked action: the call to send and the USDC allowance it needs first."""

    args: tuple[object, ...]
    approval: int = 0


class SynthsClient:
    """Check and send a writer's synthetic-stock actions through the outbox, once per key."""

    def __init__(
        self,
        chain: EvmChain,
        deployment: SynthsDeployment,
        database: Database,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        if deployment.chain_id != chain.chain_id:
            raise SynthsError(
                f"the synthetic stocks are deployed on chain {deployment.chain_id}, not {chain.chain_id}"
            )
        self.chain = chain
        self.deployment = deployment
        self.db = database
        self.clock = clock
        self.outbox = outbox or Outbox(chain)
        self._sent = Outboxed(
            "synths", chain, database, self.outbox, clock, SynthsError, SynthTransactionError
        )
        self.reader = SynthsReader(chain, deployment)

    # -- the actions

    def open_position(
        self, wallet: str, ticker: str, collateral: Usd, amount: SynthAmount, *, key: str
    ) -> SynthReceipt:
        """Lock `collateral` USDC of the wallet in a new position and mint `amount` of the synthetic."""

        def plan(sender: str) -> _Plan:
            _positive_usd(collateral, "lock")
            raw = _synth_amount(amount, "mint", allow_zero=True)
            self._require_usdc(sender, collateral.units, "lock")
            price = self._open_price(ticker, "open a position")
            self._require_healthy(ticker, collateral.units, raw, price, f"minting {amount} s{ticker}")
            return _Plan((collateral.units, raw), collateral.units)

        return self._act(SynthAction.OPEN, wallet, ticker, 0, key, plan)

    def deposit(self, wallet: str, ticker: str, position_id: int, amount: Usd, *, key: str) -> SynthReceipt:
        """Add `amount` of the wallet's USDC to a position (anyone's; in every market state)."""

        def plan(sender: str) -> _Plan:
            _positive_usd(amount, "deposit")
            self._live(ticker, position_id)
            self._require_usdc(sender, amount.units, "deposit")
            return _Plan((position_id, amount.units), amount.units)

        return self._act(SynthAction.DEPOSIT, wallet, ticker, position_id, key, plan)

    def withdraw(
        self, wallet: str, ticker: str, position_id: int, amount: Usd | None, *, key: str
    ) -> SynthReceipt:
        """Withdraw `amount` of the wallet's position's collateral (None: as much as it may)."""

        def plan(sender: str) -> _Plan:
            _, collateral, debt = self._owned(ticker, position_id, sender)
            price = self._open_price(ticker, "withdraw with debt") if debt else 0
            if amount is None:
                min_ratio, _ = self.reader.risk(ticker, _PENDING)
                locked = 0 if debt == 0 else -(-min_ratio * debt * price // (10**20 * WAD))
                raw = collateral - locked
                if raw <= 0:
                    raise UndercollateralisedError(
                        f"position {position_id} of s{ticker} has no collateral above what its debt needs"
                    )
            else:
                _positive_usd(amount, "withdraw")
                raw = amount.units
                if raw > collateral:
                    raise SynthAmountError(
                        f"withdrawing {amount} USDC, more than the {Usd(collateral)} USDC position "
                        f"{position_id} holds"
                    )
            if debt:
                self._require_healthy(ticker, collateral - raw, debt, price, f"withdrawing {Usd(raw)} USDC")
            return _Plan((position_id, raw))

        return self._act(SynthAction.WITHDRAW, wallet, ticker, position_id, key, plan)

    def mint(
        self, wallet: str, ticker: str, position_id: int, amount: SynthAmount, *, key: str
    ) -> SynthReceipt:
        """Mint `amount` of the synthetic to the wallet against its position."""

        def plan(sender: str) -> _Plan:
            raw = _synth_amount(amount, "mint")
            _, collateral, debt = self._owned(ticker, position_id, sender)
            price = self._open_price(ticker, "mint")
            self._require_healthy(ticker, collateral, debt + raw, price, f"minting {amount} s{ticker}")
            return _Plan((position_id, raw))

        return self._act(SynthAction.MINT, wallet, ticker, position_id, key, plan)

    def burn(
        self, wallet: str, ticker: str, position_id: int, amount: SynthAmount | None, *, key: str
    ) -> SynthReceipt:
        """Burn `amount` of the wallet's synthetic against a position's debt (None: the whole debt)."""

        def plan(sender: str) -> _Plan:
            _, _, debt = self._live(ticker, position_id)
            if debt == 0:
                raise SynthAmountError(f"position {position_id} of s{ticker} owes nothing")
            raw = debt if amount is None else _synth_amount(amount, "burn")
            if raw > debt:
                raise SynthAmountError(
                    f"burning {amount} s{ticker}, more than the {_synth(debt)} s{ticker} position "
                    f"{position_id} owes"
                )
            self._require_synth(ticker, sender, raw, "burn")
            self._open_price(ticker, "burn")
            return _Plan((position_id, raw))

        return self._act(SynthAction.BURN, wallet, ticker, position_id, key, plan)

    def close(self, wallet: str, ticker: str, position_id: int, *, key: str) -> SynthReceipt:
        """Burn the position's whole debt from the wallet and return all its collateral."""

        def plan(sender: str) -> _Plan:
            _, _, debt = self._owned(ticker, position_id, sender)
            if debt:
                self._require_synth(ticker, sender, debt, "repay before closing")
                self._open_price(ticker, "close a position with debt")
            return _Plan((position_id,))

        return self._act(SynthAction.CLOSE, wallet, ticker, position_id, key, plan)

    # -- the shared path

    def purpose(self, wallet: str, ticker: str, action: SynthAction, key: str) -> str:
        """Return the outbox purpose of an action."""
        return self._sent.purpose(wallet, ticker, action.value, key)

    def _act(
        self,
        action: SynthAction,
        wallet: str,
        ticker: str,
        position_id: int,
        key: str,
        plan: Callable[[str], _Plan],
    ) -> SynthReceipt:
        self.deployment.synth(ticker)
        sender = self._sent.sender(wallet, key)
        purpose = self.purpose(sender, ticker, action, key)
        what = action.name.lower()
        vault = self.reader.vault_contract(ticker)
        function: ContractFunction = vault.function(action.value)
        args: tuple[object, ...] = ()
        if not self._sent.stored(purpose):  # else its stored transaction carries its own call
            checked = plan(sender)
            if checked.approval:
                spender = self.deployment.synth(ticker).vault
                self._sent.approve(purpose, self.reader.usdc, spender, checked.approval, sender, what)
            args = checked.args
        return self._receipt(action, ticker, sender, self._sent.run(purpose, function, args, sender, what))

    def _receipt(self, action: SynthAction, ticker: str, sender: str, outcome: TxOutcome) -> SynthReceipt:
        receipt = self._sent.mined(outcome)
        vault = self.reader.vault_contract(ticker)
        args = next(e for e in vault.decode_logs(receipt) if e.name == action.event).args
        collateral = {
            SynthAction.OPEN: "collateral",
            SynthAction.DEPOSIT: "amount",
            SynthAction.WITHDRAW: "amount",
            SynthAction.CLOSE: "collateral",
        }.get(action)
        synth = {
            SynthAction.OPEN: "debt",
            SynthAction.MINT: "amount",
            SynthAction.BURN: "amount",
            SynthAction.CLOSE: "debt",
        }.get(action)
        return SynthReceipt(
            action,
            ticker,
            sender,
            int(args["id"]),
            Usd(int(args[collateral]) if collateral else 0),
            _synth(int(args[synth]) if synth else 0),
            outcome.tx_hash,
            outcome.new,
        )

    # -- checks

    def _live(self, ticker: str, position_id: int) -> tuple[str, int, int]:
        if not 0 < position_id < self.reader.next_position_id(ticker, _PENDING):
            raise PositionClosedError(f"s{ticker} has no position {position_id}")
        raw = self.reader.raw_position(ticker, position_id, _PENDING)
        if raw[0] == ZERO_ADDRESS:
            raise PositionClosedError(f"position {position_id} of s{ticker} is closed")
        return raw

    def _owned(self, ticker: str, position_id: int, sender: str) -> tuple[str, int, int]:
        raw = self._live(ticker, position_id)
        if raw[0].lower() != sender.lower():
            raise NotPositionOwnerError(
                f"position {position_id} of s{ticker} belongs to {raw[0]}, not {sender}"
            )
        return raw

    def _open_price(self, ticker: str, what: str) -> int:
        price, state = self.reader.raw_price(ticker, _PENDING)
        if state != VaultState.OPEN:
            why = {
                VaultState.CLOSED: "the stock's market is closed",
                VaultState.HALTED: "trading in the stock is halted",
                VaultState.NO_PRICE: "its price is stale, out of band or missing",
            }[state]
            raise SynthSuspendedError(
                f"s{ticker}'s vault cannot {what} now: {why}; deposits are always accepted, other actions "
                "resume when the market is open with a fresh price"
            )
        return price

    def _require_healthy(self, ticker: str, collateral: int, debt: int, price: int, what: str) -> None:
        min_ratio, _ = self.reader.risk(ticker, _PENDING)
        if maths.is_healthy(collateral, debt, price, min_ratio):
            return
        ratio = maths.collateral_ratio(collateral, debt, price) or 0
        room = maths.max_debt(collateral, price, min_ratio)
        raise UndercollateralisedError(
            f"{what} would leave {Usd(collateral)} USDC against {_synth(debt)} s{ticker} worth "
            f"{Usd(maths.debt_value(debt, price))} USDC, a ratio of {Decimal(ratio) / Decimal(WAD):.2%}, "
            f"below the vault's minimum of {Decimal(min_ratio) / Decimal(WAD):.0%}; that collateral "
            f"carries at most {_synth(room)} s{ticker}"
        )

    def _require_usdc(self, sender: str, units: int, what: str) -> None:
        balance = int(self.reader.usdc.balanceOf(sender))
        if units > balance:
            raise SynthFundsError(
                f"{sender} holds {Usd(balance)} USDC, less than the {Usd(units)} USDC to {what}"
            )

    def _require_synth(self, ticker: str, sender: str, raw: int, what: str) -> None:
        balance = int(self.reader.synth_contract(ticker).balanceOf(sender))
        if raw > balance:
            raise SynthFundsError(
                f"{sender} holds {_synth(balance)} s{ticker}, less than the {_synth(raw)} s{ticker} to {what}"
            )


def _positive_usd(amount: Usd, what: str) -> None:
    if amount.units <= 0:
        raise SynthAmountError(f"the USDC to {what} must be positive, not {amount}")


def _synth_amount(amount: SynthAmount, what: str, *, allow_zero: bool = False) -> int:
    if not isinstance(amount, SynthAmount):
        raise SynthAmountError(f"the synthetic to {what} is a SynthAmount (18 decimals), not {amount!r}")
    if amount.units == 0 and not allow_zero:
        raise SynthAmountError(f"the synthetic to {what} must be positive, not {amount}")
    return amount.units


def _synth(raw: int) -> SynthAmount:
    return SynthAmount(raw)
