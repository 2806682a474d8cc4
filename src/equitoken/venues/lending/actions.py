"""An investor's actions on the lending venue, each checked before it is sent and sent exactly once.

``LendingClient`` supplies and withdraws USDC, deposits and withdraws collateral, borrows and repays
for a wallet the chain can sign for::

    client = LendingClient(chain, lending, database, clock)
    client.supply_collateral(wallet, "AAPL", TokenAmount(10 * 10**8, 8), key="order-17")
    client.borrow(wallet, "AAPL", Usd.parse("500"), key="order-18")
    client.repay(wallet, "AAPL", None, key="order-19")   # None: the whole debt

Each action first checks its input against the chain (the market exists, the amount is positive and
within the wallet's balance or the position, the market has the liquidity, the adapter allows the
action, the position stays within its borrow limit, the token's compliance rules allow the transfer)
and raises a `LendingError` naming the problem before anything is signed. Then its approval (if
the allowance is short) and its call go through the outbox under the purposes
``lending:<wallet>:<ticker>:<action>:<key>[:approve]``: a key names one request, so calling again
with the same key (after a crash, or twice) returns the first call's result and sends nothing new.

The borrow limit is the lower of the market's max LTV (Kamino's "LTV") and its LLTV less the
adapter's cut (the closed-market cut while the stock's market is closed): the contract itself lends
up to the LLTV less the cut, and the client keeps a borrower the max LTV's distance from liquidation.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract, ContractFunction
from equitoken.durable.outbox import Outbox, TxOutcome
from equitoken.durable.outboxed import MAX_KEY_LENGTH, Outboxed
from equitoken.model.bps import BPS
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.venues.lending import maths
from equitoken.venues.lending.adapter import OracleAction
from equitoken.venues.lending.contracts import usdc_artifact
from equitoken.venues.lending.deployment import DeployedMarket, LendingDeployment
from equitoken.venues.lending.errors import (
    CollateralTransferRefusedError,
    InsufficientLiquidityError,
    LendingAmountError,
    LendingError,
    LendingFundsError,
    LendingTransactionError,
    UnhealthyPositionError,
)
from equitoken.venues.lending.views import LendingReader

__all__ = ["MAX_KEY_LENGTH", "LendingAction", "LendingClient", "LendingReceipt"]

# A full repayment is priced a few seconds before it is mined: the approval leaves room for the
# interest of those seconds (a basis point covers minutes even at the rate model's ceiling).
_INTEREST_ROOM_BPS = 1
_PENDING = "pending"


class LendingAction(StrEnum):
    """What an investor does in a market; the value names the outbox purpose's action."""

    SUPPLY = "supply"
    WITHDRAW = "withdraw"
    SUPPLY_COLLATERAL = "supply_collateral"
    WITHDRAW_COLLATERAL = "withdraw_collateral"
    BORROW = "borrow"
    REPAY = "repay"

    @property
    def event(self) -> str:
        """Return the market event the action emits."""
        return _EVENTS[self]


_EVENTS = {
    LendingAction.SUPPLY: "Supply",
    LendingAction.WITHDRAW: "Withdraw",
    LendingAction.SUPPLY_COLLATERAL: "SupplyCollateral",
    LendingAction.WITHDRAW_COLLATERAL: "WithdrawCollateral",
    LendingAction.BORROW: "Borrow",
    LendingAction.REPAY: "Repay",
}


@dataclass(frozen=True, slots=True)
class LendingReceipt:
    """What an action did: the USDC or collateral it moved, the market shares, and its transaction.

    `new` is False when an earlier call with the same key had sent it already.
    """

    action: LendingAction
    ticker: str
    wallet: str
    amount: Usd | TokenAmount
    shares: int
    tx_hash: str
    new: bool


@dataclass(frozen=True, slots=True)
class _Approval:
    token: Contract
    amount: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked action: the call to send and the allowance it needs first."""

    function: ContractFunction
    args: tuple[object, ...]
    approval: _Approval | None = None


class LendingClient:
    """Check and send an investor's lending actions through the outbox, once per key."""

    def __init__(
        self,
        chain: EvmChain,
        deployment: LendingDeployment,
        database: Database,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        if deployment.chain_id != chain.chain_id:
            raise LendingError(
                f"the lending venue is deployed on chain {deployment.chain_id}, not {chain.chain_id}"
            )
        self.chain = chain
        self.deployment = deployment
        self.db = database
        self.clock = clock
        self.outbox = outbox or Outbox(chain)
        self._sent = Outboxed(
            "lending", chain, database, self.outbox, clock, LendingError, LendingTransactionError
        )
        self.reader = LendingReader(chain, deployment)
        self.contract = self.reader.contract
        self._usdc = chain.at(deployment.usdc, usdc_artifact(), "USDC")

    # -- the actions

    def supply(self, wallet: str, ticker: str, amount: Usd, *, key: str) -> LendingReceipt:
        """Lend `amount` of the wallet's USDC to `ticker`'s market for supply shares."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            _positive(amount, "supply")
            self._require_usdc(sender, amount.units, "supply")
            return _Plan(
                self.contract.supply,
                (market.params, amount.units, 0, sender),
                _Approval(self._usdc, amount.units),
            )

        return self._act(LendingAction.SUPPLY, wallet, ticker, key, plan)

    def withdraw(self, wallet: str, ticker: str, amount: Usd | None, *, key: str) -> LendingReceipt:
        """Withdraw `amount` of the wallet's supplied USDC (None: all of it) from `ticker`'s market."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            totals = self.reader.totals(ticker, _PENDING)
            shares, _, _ = self.reader.raw_position(ticker, sender, _PENDING)
            supplied = totals.supplied(shares)
            if amount is None:
                if shares == 0:
                    raise LendingAmountError(f"{sender} has supplied nothing to {ticker}'s market")
                assets, args = supplied, (market.params, 0, shares, sender, sender)
            else:
                _positive(amount, "withdraw")
                if amount.units > supplied:
                    raise LendingAmountError(
                        f"withdrawing {amount} USDC from {ticker}'s market, more than the {Usd(supplied)} "
                        f"{sender} has supplied"
                    )
                assets, args = amount.units, (market.params, amount.units, 0, sender, sender)
            if assets > totals.liquidity:
                raise InsufficientLiquidityError(
                    f"{ticker}'s market has {Usd(totals.liquidity)} USDC free (the rest is lent out), "
                    f"less than the {Usd(assets)} asked"
                )
            return _Plan(self.contract.withdraw, args)

        return self._act(LendingAction.WITHDRAW, wallet, ticker, key, plan)

    def supply_collateral(self, wallet: str, ticker: str, amount: TokenAmount, *, key: str) -> LendingReceipt:
        """Deposit `amount` of the wallet's stock tokens as collateral in `ticker`'s market."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            raw = self._collateral_amount(ticker, amount, "deposit")
            token = self.reader.token(ticker)
            balance = int(token.balanceOf(sender))
            if raw > balance:
                raise LendingFundsError(
                    f"{sender} holds {TokenAmount(balance, amount.decimals)} {ticker} tokens, less than the "
                    f"{amount} to deposit"
                )
            code, reason = token.can_transfer_from(self.contract.address, sender, self.contract.address, raw)
            if int(code) != 0:
                raise CollateralTransferRefusedError(
                    f"the {ticker} token refuses the deposit into the lending market: {reason}"
                )
            return _Plan(self.contract.supply_collateral, (market.params, raw, sender), _Approval(token, raw))

        return self._act(LendingAction.SUPPLY_COLLATERAL, wallet, ticker, key, plan)

    def withdraw_collateral(
        self, wallet: str, ticker: str, amount: TokenAmount | None, *, key: str
    ) -> LendingReceipt:
        """Withdraw `amount` of the wallet's collateral (None: all of it) from `ticker`'s market."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            _, borrow_shares, collateral = self.reader.raw_position(ticker, sender, _PENDING)
            decimals = self.reader.decimals(ticker)
            if amount is None:
                if collateral == 0:
                    raise LendingAmountError(f"{sender} has no collateral in {ticker}'s market")
                raw = collateral
            else:
                raw = self._collateral_amount(ticker, amount, "withdraw")
                if raw > collateral:
                    raise LendingAmountError(
                        f"withdrawing {amount} {ticker} tokens, more than the "
                        f"{TokenAmount(collateral, decimals)} {sender} holds as collateral"
                    )
            if borrow_shares:
                quote = self.reader.quote(ticker, OracleAction.WITHDRAW_COLLATERAL, _PENDING)
                debt = self.reader.totals(ticker, _PENDING).debt(borrow_shares)
                self._require_within_limit(
                    market,
                    debt,
                    collateral - raw,
                    quote.price,
                    quote.ltv_cut,
                    f"withdrawing {amount or 'all'}",
                )
            code, reason = self.reader.token(ticker).can_transfer(self.contract.address, sender, raw)
            if int(code) != 0:
                raise CollateralTransferRefusedError(f"the {ticker} token refuses to pay {sender}: {reason}")
            return _Plan(self.contract.withdraw_collateral, (market.params, raw, sender, sender))

        return self._act(LendingAction.WITHDRAW_COLLATERAL, wallet, ticker, key, plan)

    def borrow(self, wallet: str, ticker: str, amount: Usd, *, key: str) -> LendingReceipt:
        """Borrow `amount` of USDC against the wallet's collateral in `ticker`'s market."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            _positive(amount, "borrow")
            quote = self.reader.quote(ticker, OracleAction.BORROW, _PENDING)
            totals = self.reader.totals(ticker, _PENDING)
            _, borrow_shares, collateral = self.reader.raw_position(ticker, sender, _PENDING)
            if amount.units > totals.liquidity:
                raise InsufficientLiquidityError(
                    f"{ticker}'s market has {Usd(totals.liquidity)} USDC to lend, less than the "
                    f"{amount} asked"
                )
            added = maths.to_shares(amount.units, totals.borrow_assets, totals.borrow_shares, round_up=True)
            debt = maths.to_assets(
                borrow_shares + added,
                totals.borrow_assets + amount.units,
                totals.borrow_shares + added,
                round_up=True,
            )
            self._require_within_limit(
                market, debt, collateral, quote.price, quote.ltv_cut, f"borrowing {amount} USDC"
            )
            return _Plan(self.contract.borrow, (market.params, amount.units, 0, sender, sender))

        return self._act(LendingAction.BORROW, wallet, ticker, key, plan)

    def repay(self, wallet: str, ticker: str, amount: Usd | None, *, key: str) -> LendingReceipt:
        """Repay `amount` of the wallet's debt in `ticker`'s market (None, or the whole debt: all of it,
        by its shares, so no dust is left)."""

        def plan(market: DeployedMarket, sender: str) -> _Plan:
            totals = self.reader.totals(ticker, _PENDING)
            _, borrow_shares, _ = self.reader.raw_position(ticker, sender, _PENDING)
            debt = totals.debt(borrow_shares)
            if borrow_shares == 0:
                raise LendingAmountError(f"{sender} owes nothing in {ticker}'s market")
            if amount is not None:
                _positive(amount, "repay")
                if amount.units > debt:
                    raise LendingAmountError(
                        f"repaying {amount} USDC, more than the {Usd(debt)} {sender} owes in {ticker}'s "
                        "market; repay the whole debt with amount None"
                    )
            whole = (
                amount is None
                or maths.to_shares(amount.units, totals.borrow_assets, totals.borrow_shares, round_up=False)
                >= borrow_shares
            )
            if whole:
                self._require_usdc(sender, debt, "repay")
                balance = int(self._usdc.balanceOf(sender))
                allowance = min(balance, debt + -(-debt * _INTEREST_ROOM_BPS // BPS) + 1)
                args: tuple[object, ...] = (market.params, 0, borrow_shares, sender)
                return _Plan(self.contract.repay, args, _Approval(self._usdc, allowance))
            assert amount is not None
            self._require_usdc(sender, amount.units, "repay")
            args = (market.params, amount.units, 0, sender)
            return _Plan(self.contract.repay, args, _Approval(self._usdc, amount.units))

        return self._act(LendingAction.REPAY, wallet, ticker, key, plan)

    # -- the shared path

    def purpose(self, wallet: str, ticker: str, action: LendingAction, key: str) -> str:
        """Return the outbox purpose of an action."""
        return self._sent.purpose(wallet, ticker, action.value, key)

    def _act(
        self,
        action: LendingAction,
        wallet: str,
        ticker: str,
        key: str,
        plan: Callable[[DeployedMarket, str], _Plan],
    ) -> LendingReceipt:
        market = self.deployment.market(ticker)
        sender = self._sent.sender(wallet, key)
        purpose = self.purpose(sender, ticker, action, key)
        what = action.value.replace("_", " ")
        function: ContractFunction
        args: tuple[object, ...]
        if self._sent.stored(purpose):  # sent before under this key: its stored transaction carries its call
            function, args = self.contract.function(action.value), ()
        else:
            checked = plan(market, sender)
            if (approval := checked.approval) is not None:
                spender = self.contract.address
                self._sent.approve(purpose, approval.token, spender, approval.amount, sender, what)
            function, args = checked.function, checked.args
        return self._receipt(action, ticker, sender, self._sent.run(purpose, function, args, sender, what))

    def _receipt(self, action: LendingAction, ticker: str, sender: str, outcome: TxOutcome) -> LendingReceipt:
        receipt = self._sent.mined(outcome)
        event = next(e for e in self.contract.decode_logs(receipt) if e.name == action.event)
        assets = int(event.args["assets"])
        amount: Usd | TokenAmount
        if action in (LendingAction.SUPPLY_COLLATERAL, LendingAction.WITHDRAW_COLLATERAL):
            amount = TokenAmount(assets, self.reader.decimals(ticker))
        else:
            amount = Usd(assets)
        shares = int(event.args.get("shares", 0))
        return LendingReceipt(action, ticker, sender, amount, shares, outcome.tx_hash, outcome.new)

    # -- checks

    def _require_usdc(self, sender: str, units: int, what: str) -> None:
        balance = int(self._usdc.balanceOf(sender))
        if units > balance:
            raise LendingFundsError(
                f"{sender} holds {Usd(balance)} USDC, less than the {Usd(units)} to {what}"
            )

    def _collateral_amount(self, ticker: str, amount: TokenAmount, what: str) -> int:
        decimals = self.reader.decimals(ticker)
        if amount.decimals != decimals:
            raise LendingAmountError(
                f"{ticker}'s token has {decimals} decimals; the amount to {what} is given with "
                f"{amount.decimals}"
            )
        if amount.raw <= 0:
            raise LendingAmountError(f"the collateral to {what} must be positive, not {amount}")
        return amount.raw

    def _require_within_limit(
        self, market: DeployedMarket, debt: int, collateral: int, price: int, cut: int, what: str
    ) -> None:
        limit = min(market.parameters.max_ltv, max(0, market.lltv - cut))
        if maths.is_healthy(debt, collateral, price, limit):
            return
        value = maths.collateral_value(collateral, price)
        room = max(0, maths.max_borrow(collateral, price, limit))
        ltv = f"{Decimal(debt) / Decimal(value):.2%}" if value else "an unbounded LTV"
        closed = " (the stock's market is closed: the LLTV less the closed-market cut)" if cut else ""
        raise UnhealthyPositionError(
            f"{what} would take the {market.ticker} position to a debt of {Usd(debt)} USDC, {ltv} of its "
            f"collateral's {Usd(value)}, beyond its borrow limit of {Decimal(limit) / Decimal(10**18):.2%}"
            f"{closed}; the collateral carries at most {Usd(room)} USDC of debt"
        )


def _positive(amount: Usd, what: str) -> None:
    if amount.units <= 0:
        raise LendingAmountError(f"the amount to {what} must be positive, not {amount} USDC")
