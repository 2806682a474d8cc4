"""Ledger stock: fractional shares held only in the exchange's accounts, backed by the issuer's custody
(the FTX and Binance stock tokens of 2020-21, without their gaps).

Design, for a user who trusts neither the exchange nor the issuer further than they can check:
- asset: `AAPL.L` (see `ledger_assets`) is AAPL held as a balance on the exchange, in 10^-9 share,
  the unit custody and the broker keep, so a balance is exactly the shares custody holds for it. It
  has no token: a deposit or a withdrawal of it is refused (`NoTokenError`) and nothing changes.
- buy from $1: `buy(account, ticker, usdc, order_id)` checks everything first (the id, the ticker,
  the amount of at least `MIN_NOTIONAL`, the account's eligibility as for a buy of the instrument,
  the instrument not halted, a price to size the order, the USDC available), then records the
  order and debits the USDC. The
  desk, as the exchange's participant, buys the shares through the issuer's broker (market order,
  sized from the price when asked with `price_buffer_bps` to spare); once the broker order ends, its
  fills enter custody in one entry (`custody:<T>` +q, `ledger:<T>` -q: shares allocated to ledger
  balances), then the account is credited exactly q of `<T>.L` and refunded the USDC not spent. A
  fill that costs more than the USDC paid (the price moved past the buffer) is the issuer's loss
  (`revenue:exchange-ledger`), never the account's.
- sell: `sell(account, ticker, shares, order_id)` debits the ledger balance, the broker sells the
  shares, custody releases them (`custody:<T>` -q, `ledger:<T>` +q) and the account is credited the
  proceeds (rounded down) and any shares not sold. A sale is at least `MIN_NOTIONAL` at the last
  price unless it sells the account's whole available balance, so no dust is stranded.
- on the book: a `<T>.L` book (`ledger_rules`) lets accounts trade ledger balances with each other,
  under the instrument's market status and eligibility; trades only move balances between accounts,
  so they create no ledger units. Only this desk credits ledger units, and only after their shares'
  custody entry is posted: custody's `ledger:<T>` allocation is always at least the sum of every
  account's ledger balance.
- exactly once: each order is a row advanced one durable step at a time (requested -> ordered ->
  settling -> done, or failed when never debited). The broker order's client id is derived from the
  row id (placing it again returns the same order); the custody entry is keyed by the order
  (`exchange-ledger:<id>`); every debit and credit of the account is a journaled transfer with its
  own id (`ledger-pay:`, `ledger-shares:`, `ledger-refund:`, `ledger-proceeds:`, `ledger-return:`),
  which the accounts apply once. The desk is a `durable.steps.StepMachine` with no outbox (it sends
  no chain transaction). A process killed at any crash point of `EXCHANGE_LEDGER` finishes
  on restart what it started, and nothing is bought, posted or credited twice. Every move between
  states leaves an event row in the same transaction (`events(order_id)`): the audit trail.
- backing: custody's `backing` (what the token chains' reserve feeds are told) leaves out the
  ledger allocation, so on-chain tokens can never be minted against shares that back ledger
  balances; `Issuer.count_ledger(desk.outstanding)` makes every reconciliation count ledger balances
  next to the tokens (custody >= tokens outstanding x multiplier + ledger balances).
- splits: custody's split step scales the ledger allocation with every share account; the desk then
  scales every account's balance by the same ratio (`ledger_splits`), its open orders in the ledger
  book cancelled first.
- proofs: `balances(ticker)` gives each account's ledger balance for `proofs.ledger`'s tree (one
  leaf per account) and `Liabilities(..., ledger=desk.balances)`.

Not built: fees on ledger orders, and the on-chain settlement of `exchange:usdc` (the USDC the
exchange owes the issuer for ledger purchases, net of sales) between the hot wallet and the treasury.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import OrderRejectedError
from equitoken.brokers.orders import BrokerOrder, OrderRequest, OrderSide, OrderType, TimeInForce
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.steps import Step, StepMachine
from equitoken.issuer.custody import (
    BROKER_CASH,
    EXCHANGE_USDC,
    USD,
    CustodyLedger,
    Line,
    custody_account,
    ledger_account,
)
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.errors import EquitokenError, InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database
from equitoken.store.schema import ExchangeLedgerEventRow, ExchangeLedgerOrderRow
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Eligibility
from equitoken.venues.exchange.ledger_assets import LEDGER_DECIMALS, is_ledger_asset, ledger_asset, underlying
from equitoken.venues.exchange.ledger_splits import follow_splits
from equitoken.venues.exchange.orders import Side
from equitoken.venues.exchange.rules import ONE_DOLLAR, BookRules, InstrumentSpec
from equitoken.venues.exchange.venue import ExchangeVenue

_OPEN = ("requested", "ordered", "settling")
MIN_NOTIONAL = ONE_DOLLAR
"""The smallest purchase, and the smallest sale but of a whole balance."""
DEFAULT_PRICE_BUFFER_BPS = 100
"""How far above the last price a buy's shares are sized, so its fills stay within the USDC paid."""
LEDGER_REVENUE = "revenue:exchange-ledger"
"""What the issuer gives up when a buy's fills cost more than the USDC the account paid."""
MAX_ORDER_ID_LENGTH = 64
"""Room for the longest transfer prefix (`ledger-proceeds:`) inside the accounts' 80-character ids."""
LEDGER_TICK = Price(1_000_000)
"""A ledger book's tick: $0.01 a share."""
LEDGER_LOT = 10**5
"""A ledger book's lot: 10^-4 share (10^5 ledger units), the smallest whose tick x lot is a USDC unit."""


def ledger_rules(ticker: str, *, maker_fee_bps: int = 0, taker_fee_bps: int = 10) -> BookRules:
    """Return the rules of `ticker`'s ledger book: $0.01 ticks, 10^-4 share lots, $1 minimum notional."""
    spec = InstrumentSpec(ledger_asset(ticker), LEDGER_DECIMALS, LEDGER_TICK, LEDGER_LOT)
    return BookRules(spec, maker_fee_bps, taker_fee_bps)


def client_order_id(order_id: str) -> str:
    """Return the broker's client order id for ledger order `order_id` (within its 48 characters)."""
    return "xl-" + hashlib.sha256(order_id.encode()).hexdigest()[:40]


class LedgerError(EquitokenError, ValueError):
    """A refused ledger order; nothing changed."""

    code = "ledger_error"


class InvalidLedgerOrderError(LedgerError):
    """A ledger order with a bad id, account or amount; the message names the field."""

    code = "invalid_ledger_order"


class ConflictingLedgerOrderError(LedgerError):
    """A ledger order id already used for another order."""

    code = "conflicting_ledger_order"


class LedgerNotAllowedError(LedgerError):
    """Compliance refuses the account this order (not a member, frozen, KYC not valid)."""

    code = "ledger_not_allowed"


class LedgerHaltedError(LedgerError):
    """The instrument's market is halted: no ledger orders until it reopens."""

    code = "market_halted"


class LedgerEvent(NamedTuple):
    """One step of a ledger order: when, from and to which state (None: created), and why."""

    at: datetime
    from_state: str | None
    to_state: str
    reason: str


class LedgerState(StrEnum):
    REQUESTED = "requested"
    ORDERED = "ordered"
    SETTLING = "settling"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (LedgerState.DONE, LedgerState.FAILED)


@dataclass(frozen=True)
class LedgerOrder:
    """A ledger order as the account sees it: `amount` is USDC units for a buy, ledger units for a sell;
    `filled_usd` is what a buy cost the account, or what a sale paid it."""

    id: str
    account: int
    ticker: str
    side: str
    amount: int
    state: LedgerState
    filled_shares: Shares
    filled_usd: Usd
    reason: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: ExchangeLedgerOrderRow) -> "LedgerOrder":
        return cls(
            row.id,
            row.account,
            row.ticker,
            row.side,
            row.amount,
            LedgerState(row.state),
            Shares(row.filled_shares),
            Usd(row.filled_usd),
            row.reason,
            row.created_at,
        )


class LedgerDesk(StepMachine[ExchangeLedgerOrderRow]):
    """Buy and sell ledger stock for exchange accounts through the issuer's broker and custody, once."""

    row_type = ExchangeLedgerOrderRow
    owner_kind = "exchange-ledger"

    def __init__(
        self,
        database: Database,
        venue: ExchangeVenue,
        broker: Broker,
        prices: PriceSource,
        clock: Clock,
        *,
        eligibility: Eligibility | None = None,
        price_buffer_bps: int = DEFAULT_PRICE_BUFFER_BPS,
    ) -> None:
        if not 0 <= price_buffer_bps < 10_000:
            raise ValueError(f"price buffer {price_buffer_bps} bps must be 0 to 9,999")
        super().__init__(database, None, clock)  # no chain transaction: no outbox
        self.venue = venue
        self.broker = broker
        self.prices = prices
        self.eligibility = eligibility
        self.price_buffer_bps = price_buffer_bps
        self.ledger = CustodyLedger()
        self.tickers = tuple(underlying(a) for a in venue.assets() if is_ledger_asset(a))
        self._steps: dict[LedgerState, Step] = {
            LedgerState.REQUESTED: self._place,
            LedgerState.ORDERED: self._follow,
            LedgerState.SETTLING: self._settle,
        }

    def process(self) -> int:
        """Scale the ledger balances of every split custody has followed, then advance every open order."""
        return len(follow_splits(self.db, self.venue, self.tickers, self.clock)) + super().process()

    # -- orders

    def buy(self, account: int, ticker: str, usdc: Usd, order_id: str) -> LedgerOrder:
        """Check a purchase of `usdc` worth of `ticker` in full, then record it and debit the USDC; the
        same id returns the order again."""
        existing = self._existing(order_id, account, ticker, "buy", usdc)
        if existing is not None:
            return existing
        self._check(account, ticker, Side.BUY)
        if not isinstance(usdc, Usd):
            raise InvalidLedgerOrderError(f"amount {usdc!r} must be a Usd amount")
        if usdc.units <= 0:
            raise InvalidLedgerOrderError(f"amount {usdc} USD must be positive")
        if usdc < MIN_NOTIONAL:
            raise InvalidLedgerOrderError(f"amount {usdc} USD is below the {MIN_NOTIONAL} USD minimum")
        now = self.clock.now()
        if not self._shares_to_buy(ticker, usdc.units, now).units:
            raise InvalidLedgerOrderError(f"{usdc} USD buys no share unit of {ticker}")
        return self._open_order(account, ticker, "buy", usdc.units, USDC, order_id, now)

    def sell(self, account: int, ticker: str, shares: Shares, order_id: str) -> LedgerOrder:
        """Check a sale of `shares` of `account`'s ledger balance of `ticker` in full, then record it and
        debit the balance; the same id returns the order again."""
        existing = self._existing(order_id, account, ticker, "sell", shares)
        if existing is not None:
            return existing
        self._check(account, ticker, Side.SELL)
        if not isinstance(shares, Shares):
            raise InvalidLedgerOrderError(f"quantity {shares!r} must be a Shares amount")
        if shares.units <= 0:
            raise InvalidLedgerOrderError(f"quantity {shares} shares must be positive")
        now = self.clock.now()
        available = self.venue.balance(account, ledger_asset(ticker)).available
        if shares.units < available:
            value = self._price(ticker, now).notional(shares, round_up=False)
            if value < MIN_NOTIONAL:
                raise InvalidLedgerOrderError(
                    f"{shares} {ticker} is worth {value} USD, below the {MIN_NOTIONAL} USD minimum "
                    "(sell the whole balance to sell less)"
                )
        return self._open_order(account, ticker, "sell", shares.units, ledger_asset(ticker), order_id, now)

    # -- the machine

    def open_ids(self, session: Session) -> list[str]:
        """Return the orders not ended, oldest first."""
        return list(
            session.scalars(
                select(ExchangeLedgerOrderRow.id)
                .where(ExchangeLedgerOrderRow.state.in_(_OPEN))
                .order_by(ExchangeLedgerOrderRow.created_at, ExchangeLedgerOrderRow.id)
            )
        )

    def step_for(self, row: ExchangeLedgerOrderRow) -> Step | None:
        """Return the step that takes the order further; None once it has ended."""
        return self._steps.get(LedgerState(row.state))

    def event(
        self, row: ExchangeLedgerOrderRow, at: datetime, to_state: str, reason: str
    ) -> ExchangeLedgerEventRow:
        """Return the audit row of the order's move to `to_state`."""
        return ExchangeLedgerEventRow(
            order_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    # -- reading

    def order(self, order_id: str) -> LedgerOrder:
        """Return one order, or raise `InvalidLedgerOrderError` if there is none with this id."""
        with self.db.transaction() as session:
            row = session.get(ExchangeLedgerOrderRow, order_id)
            if row is None:
                raise InvalidLedgerOrderError(f"no ledger order {order_id!r}")
            return LedgerOrder.from_row(row)

    def orders(self, account: int | None = None, *, open_only: bool = False) -> list[LedgerOrder]:
        """Return the orders (of `account`, or every account), oldest first."""
        query = select(ExchangeLedgerOrderRow).order_by(
            ExchangeLedgerOrderRow.created_at, ExchangeLedgerOrderRow.id
        )
        if account is not None:
            query = query.where(ExchangeLedgerOrderRow.account == account)
        if open_only:
            query = query.where(ExchangeLedgerOrderRow.state.in_(_OPEN))
        with self.db.transaction() as session:
            return [LedgerOrder.from_row(row) for row in session.scalars(query)]

    def events(self, order_id: str) -> list[LedgerEvent]:
        """Return the order's audit trail, oldest first."""
        self.order(order_id)
        with self.db.transaction() as session:
            rows = session.scalars(
                select(ExchangeLedgerEventRow)
                .where(ExchangeLedgerEventRow.order_id == order_id)
                .order_by(ExchangeLedgerEventRow.id)
            )
            return [LedgerEvent(r.at, r.from_state, r.to_state, r.reason) for r in rows]

    def balances(self, ticker: str) -> dict[int, int]:
        """Return each account's ledger balance of `ticker` (available + locked, fees account included),
        in ledger units: the leaves of its liabilities tree."""
        self._ticker(ticker)
        return {account: b.total for account, b in self.venue.holdings(ledger_asset(ticker)).items()}

    def outstanding(self) -> dict[str, Shares]:
        """Return the sum of every account's ledger balance per ticker: what reconcile counts."""
        return {ticker: Shares(sum(self.balances(ticker).values())) for ticker in self.tickers}

    # -- request checks

    def _existing(
        self, order_id: str, account: int, ticker: str, side: str, amount: object
    ) -> LedgerOrder | None:
        if not (
            isinstance(order_id, str) and 0 < len(order_id) <= MAX_ORDER_ID_LENGTH and order_id.isprintable()
        ):
            raise InvalidLedgerOrderError(
                f"order id {order_id!r} must be 1 to {MAX_ORDER_ID_LENGTH} printable characters"
            )
        with self.db.transaction() as session:
            row = session.get(ExchangeLedgerOrderRow, order_id)
            if row is None:
                return None
            order = LedgerOrder.from_row(row)
        units = getattr(amount, "units", None)
        if (order.account, order.ticker, order.side, order.amount) != (account, ticker, side, units):
            raise ConflictingLedgerOrderError(
                f"ledger order {order_id!r} was already placed as a {order.side} of {order.ticker} "
                f"({order.amount} units) for account {order.account}"
            )
        return order

    def _check(self, account: int, ticker: str, side: Side) -> None:
        self._ticker(ticker)
        if type(account) is not int or account <= 0:
            raise InvalidLedgerOrderError(f"account {account!r} must be a positive exchange account number")
        if self.venue.status(ledger_asset(ticker)) == MarketStatus.HALTED:
            raise LedgerHaltedError(f"{ticker} is halted: ledger orders wait until it reopens")
        if self.eligibility is not None:
            reason = self.eligibility(account, ticker, side)
            if reason is not None:
                raise LedgerNotAllowedError(
                    f"account {account} may not {side.name.lower()} {ledger_asset(ticker)}: {reason}"
                )

    def _ticker(self, ticker: str) -> None:
        if ticker not in self.tickers:
            held = ", ".join(self.tickers) or "nothing"
            raise UnknownInstrumentError(f"the exchange holds ledger balances of {held}, not {ticker!r}")

    def _price(self, ticker: str, at: datetime) -> Price:
        try:
            return self.prices.quote(ticker, at).price
        except NoPriceError as error:
            raise InvalidLedgerOrderError(f"no price for {ticker} to size the order: {error}") from None

    def _shares_to_buy(self, ticker: str, usdc: int, at: datetime) -> Shares:
        """Size a buy from the price when it was asked, with the buffer: the same every time it is asked."""
        return self._price(ticker, at).scaled_bps(self.price_buffer_bps).shares_for(Usd(usdc))

    def _open_order(
        self, account: int, ticker: str, side: str, amount: int, asset: str, order_id: str, now: datetime
    ) -> LedgerOrder:
        available = self.venue.balance(account, asset).available
        if amount > available:
            raise InsufficientFundsError(
                f"account {account} has {available} {asset} available; the {side} needs {amount}"
            )
        row = ExchangeLedgerOrderRow(
            id=order_id,
            account=account,
            ticker=ticker,
            side=side,
            amount=amount,
            state=LedgerState.REQUESTED,
            filled_shares=0,
            filled_usd=0,
            created_at=now,
            updated_at=now,
        )
        what = f"{side} of {Usd(amount)} USD" if side == "buy" else f"{side} of {Shares(amount)} shares"
        try:
            with self.db.transaction() as session:
                session.add(row)
                session.flush()
                session.add(
                    ExchangeLedgerEventRow(
                        order_id=order_id,
                        at=now,
                        from_state=None,
                        to_state=row.state,
                        reason=f"asked: {what}",
                    )
                )
        except IntegrityError:
            # The same id committed by a concurrent call: answer as a repeat would.
            units = Usd(amount) if side == "buy" else Shares(amount)
            existing = self._existing(order_id, account, ticker, side, units)
            assert existing is not None
            return existing
        checkpoint("ledger_recorded")
        try:
            self.venue.debit(account, asset, amount, f"ledger-pay:{order_id}")
        except InsufficientFundsError:
            # An order on the book locked the balance since the check: take the request back, unless
            # a concurrent `process` has already failed it as never debited.
            with self.db.transaction() as session:
                stored = session.get(ExchangeLedgerOrderRow, order_id)
                if stored is not None and stored.state == LedgerState.REQUESTED:
                    session.execute(
                        delete(ExchangeLedgerEventRow).where(ExchangeLedgerEventRow.order_id == order_id)
                    )
                    session.delete(stored)
            raise
        return self.order(order_id)

    # -- steps

    def _place(self, order_id: str) -> bool:
        """Debit the account (a no-op once done), then place the broker order."""
        with self.db.transaction() as session:
            order = LedgerOrder.from_row(self.load(session, order_id, lock=False))
        asset = USDC if order.side == "buy" else ledger_asset(order.ticker)
        try:
            self.venue.debit(order.account, asset, order.amount, f"ledger-pay:{order_id}")
        except InsufficientFundsError as error:
            self._move(order_id, LedgerState.FAILED, f"never debited: {error}")
            return True
        checkpoint("ledger_debited")
        try:
            self.broker.submit(self._request(order))
        except OrderRejectedError as error:
            # Nothing filled: settling returns what was paid.
            self._move(order_id, LedgerState.SETTLING, f"broker refused: {error}")
            return True
        checkpoint("ledger_broker_order")
        self._move(order_id, LedgerState.ORDERED, "broker order placed")
        return True

    def _request(self, order: LedgerOrder) -> OrderRequest:
        if order.side == "buy":
            side, quantity = OrderSide.BUY, self._shares_to_buy(order.ticker, order.amount, order.created_at)
        else:
            side, quantity = OrderSide.SELL, Shares(order.amount)
        return OrderRequest(
            client_order_id(order.id), order.ticker, side, quantity, OrderType.MARKET, None, TimeInForce.DAY
        )

    def _follow(self, order_id: str) -> bool:
        """Once the broker order has ended, post its fills' custody entry and record what they cost."""
        with self.db.transaction() as session:
            order = LedgerOrder.from_row(self.load(session, order_id, lock=False))
        broker_order = self.broker.order(client_order_id(order_id)) or self.broker.submit(
            self._request(order)
        )
        if not broker_order.status.is_final:
            return False
        with self.db.transaction() as session:
            row = self.load(session, order_id)
            if row.state != LedgerState.ORDERED:
                return False
            self._post(session, row, broker_order)
            self.move(session, row, LedgerState.SETTLING, f"broker order {broker_order.status}")
        checkpoint("ledger_custody")
        return True

    def _post(self, session: Session, row: ExchangeLedgerOrderRow, broker_order: BrokerOrder) -> None:
        ticker, shares = row.ticker, broker_order.filled_quantity.units
        if row.side == "buy":
            cost = broker_order.filled_notional(round_up=True).units
            paid = min(cost, row.amount)
            usd = [
                Line(BROKER_CASH, USD, -cost),
                Line(EXCHANGE_USDC, USD, paid),
                Line(LEDGER_REVENUE, USD, cost - paid),
            ]
            moved, what = shares, "bought"
        else:
            paid = broker_order.filled_notional(round_up=False).units
            usd = [Line(BROKER_CASH, USD, paid), Line(EXCHANGE_USDC, USD, -paid)]
            moved, what = -shares, "sold"
        row.filled_shares, row.filled_usd = shares, paid
        if not shares:
            return
        lines = [
            Line(custody_account(ticker), ticker, moved),
            Line(ledger_account(ticker), ticker, -moved),
            *usd,
        ]
        memo = f"{what} {Shares(shares)} {ticker} for exchange account {row.account}'s ledger order {row.id}"
        self.ledger.post(session, f"exchange-ledger:{row.id}", memo, lines, at=self.clock.now())

    def _settle(self, order_id: str) -> bool:
        """Credit the account what its order came to (each credit once), then end the order."""
        with self.db.transaction() as session:
            order = LedgerOrder.from_row(self.load(session, order_id, lock=False))
        shares, usd, asset = order.filled_shares.units, order.filled_usd.units, ledger_asset(order.ticker)
        if order.side == "buy":
            credits = [
                (asset, shares, f"ledger-shares:{order_id}"),
                (USDC, order.amount - usd, f"ledger-refund:{order_id}"),
            ]
        else:
            credits = [
                (USDC, usd, f"ledger-proceeds:{order_id}"),
                (asset, order.amount - shares, f"ledger-return:{order_id}"),
            ]
        for credited, amount, transfer_id in credits:
            if amount:
                self.venue.credit(order.account, credited, amount, transfer_id)
        checkpoint("ledger_credited")
        self._move(order_id, LedgerState.DONE, f"{order.filled_shares} shares for {order.filled_usd} USD")
        return True

    def _move(self, order_id: str, to: LedgerState, reason: str) -> None:
        with self.db.transaction() as session:
            self.move(session, self.load(session, order_id), to, reason)
