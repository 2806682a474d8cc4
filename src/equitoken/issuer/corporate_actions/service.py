"""Corporate actions as a library: record them (from the real history or by hand), advance them, read them."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.issuer.corporate_actions.engine import ActionEngine
from equitoken.issuer.corporate_actions.history import SkippedAction, history
from equitoken.issuer.corporate_actions.holders import ChainHolders, HolderSource
from equitoken.issuer.corporate_actions.model import (
    ActionEvent,
    ActionKind,
    ActionState,
    CorporateAction,
    CorporateActionsConfig,
    DividendPayment,
    DividendPolicy,
    PaymentState,
)
from equitoken.issuer.errors import ComplianceError, InvalidRequestError, IssuerError
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import NEW_YORK, MarketCalendar, OutsideCalendarError
from equitoken.market.prices import PriceSource
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.store.schema import (
    CorporateActionEventRow,
    CorporateActionRow,
    DividendPaymentRow,
    InvestorRow,
)


class DuplicateActionError(IssuerError):
    """An action of that kind is already recorded for the instrument on that ex-date."""

    code = "duplicate_action"


class UnknownActionError(IssuerError, LookupError):
    code = "unknown_action"


@dataclass(frozen=True)
class HistoryLoad:
    """What `load_history` did: actions created, ones already recorded, data rows it could not use."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    skipped: tuple[SkippedAction, ...]


@dataclass(frozen=True)
class _NewAction:
    ticker: str
    kind: ActionKind
    ex_date: date
    ratio_new: int
    ratio_old: int
    amount: Price
    source: str


def action_id(ticker: str, kind: ActionKind, ex_date: date) -> str:
    """Return the id of an instrument's action of `kind` on `ex_date` (there is at most one)."""
    return f"{ticker}:{kind}:{ex_date.isoformat()}"


class CorporateActions:
    """Splits, reverse splits, cash dividends and management fees of the issuer's instruments.

    Works beside the issuer on its database, chain, clock and instruments, with the broker that buys
    reinvested dividends and the prices it buys at. Holders of record come from `holders` (the
    indexer), by default from the token's own `Transfer` logs.
    """

    def __init__(
        self,
        issuer: Issuer,
        broker: Broker,
        prices: PriceSource,
        calendar: MarketCalendar,
        config: CorporateActionsConfig | None = None,
        holders: HolderSource | None = None,
    ) -> None:
        self.db = issuer.db
        self.onchain = issuer.onchain
        self.clock = issuer.clock
        self.calendar = calendar
        self.instruments = issuer.instruments
        self.config = config or CorporateActionsConfig()
        self._issuer = issuer
        self._engine = ActionEngine(
            issuer.db,
            issuer.onchain,
            broker,
            prices,
            calendar,
            issuer.clock,
            issuer.instruments,
            issuer.config,
            self.config,
            holders or ChainHolders(issuer.onchain),
            issuer.chains,
        )

    # -- recording

    def load_history(self, ticker: str, since: date, until: date) -> HistoryLoad:
        """Record the splits and dividends of `ticker` with an ex-date in [since, until] from the data.

        Idempotent: an action already recorded (same instrument, kind and ex-date) is left as it is.
        """
        self._check_instrument(ticker)
        if since > until:
            raise InvalidRequestError(f"since {since} is after until {until}")
        found, skipped = history(ticker, since, until)
        new = [
            _NewAction(a.ticker, a.kind, a.ex_date, a.ratio_new, a.ratio_old, a.amount, a.source)
            for a in found
        ]
        for action in new:
            self._check_action(action)
        created, existing = [], []
        with self.db.transaction() as session:
            for action in new:
                key = action_id(action.ticker, action.kind, action.ex_date)
                if session.get(CorporateActionRow, key) is not None:
                    existing.append(key)
                    continue
                self._add(session, action)
                created.append(key)
        return HistoryLoad(tuple(created), tuple(existing), tuple(skipped))

    def announce(
        self,
        ticker: str,
        kind: ActionKind | str,
        ex_date: date,
        *,
        ratio: tuple[int, int] = (1, 1),
        amount: str | Decimal | Price = "0",
        source: str = "manual",
    ) -> CorporateAction:
        """Record one action by hand: a split or reverse split with `ratio` (new, old shares), or a cash
        dividend of `amount` dollars a share as paid. Raises `DuplicateActionError` if it exists."""
        self._check_instrument(ticker)
        try:
            parsed_kind = ActionKind(kind)
        except ValueError:
            known = ", ".join(k.value for k in ActionKind)
            raise InvalidRequestError(f"action kind {kind!r} is not one of: {known}") from None
        if parsed_kind is ActionKind.MANAGEMENT_FEE:
            raise InvalidRequestError(
                "management fees follow the instrument's policy; they are not announced"
            )
        try:
            price = amount if isinstance(amount, Price) else Price.parse(amount)
        except InvalidAmountError as exc:
            raise InvalidRequestError(f"dividend amount: {exc}") from None
        action = _NewAction(ticker, parsed_kind, ex_date, ratio[0], ratio[1], price, source)
        self._check_action(action)
        key = action_id(ticker, parsed_kind, ex_date)
        with self.db.transaction() as session:
            if session.get(CorporateActionRow, key) is not None:
                raise DuplicateActionError(f"{ticker} already has a {parsed_kind} with ex-date {ex_date}")
            self._add(session, action)
        return self.action(key)

    def _check_instrument(self, ticker: str) -> None:
        if ticker not in self.instruments or ticker not in self.onchain.tickers:
            known = ", ".join(sorted(set(self.instruments) & set(self.onchain.tickers)))
            raise UnknownInstrumentError(f"unknown instrument {ticker!r}; this issuer has: {known}")

    def _check_action(self, action: _NewAction) -> None:
        new, old = action.ratio_new, action.ratio_old
        if action.kind in (ActionKind.SPLIT, ActionKind.REVERSE_SPLIT):
            if new <= 0 or old <= 0:
                raise InvalidRequestError(f"split ratio {new}:{old} must have positive share counts")
            if action.kind is ActionKind.SPLIT and new <= old:
                raise InvalidRequestError(f"a split gives more shares than it takes, not {new}:{old}")
            if action.kind is ActionKind.REVERSE_SPLIT and new >= old:
                raise InvalidRequestError(
                    f"a reverse split gives fewer shares than it takes, not {new}:{old}"
                )
        elif (new, old) != (1, 1):
            raise InvalidRequestError(f"a {action.kind} takes no ratio, got {new}:{old}")
        if action.kind is ActionKind.CASH_DIVIDEND and action.amount.units <= 0:
            raise InvalidRequestError(
                f"a cash dividend needs a positive amount per share, not {action.amount}"
            )
        if action.kind is not ActionKind.CASH_DIVIDEND and action.amount.units != 0:
            raise InvalidRequestError(f"a {action.kind} takes no amount per share, got {action.amount}")
        self._session_open(action.ex_date)

    def _session_open(self, day: date) -> datetime:
        try:
            session = self.calendar.session_on(day)
        except OutsideCalendarError as exc:
            raise InvalidRequestError(str(exc)) from None
        if session is None:
            raise InvalidRequestError(f"ex-date {day} is not a {self.calendar.exchange} trading day")
        return session.open

    def _add(self, session: Session, action: _NewAction) -> None:
        policy = self.config.policy(action.ticker)
        now = self.clock.now()
        key = action_id(action.ticker, action.kind, action.ex_date)
        row = CorporateActionRow(
            id=key,
            ticker=action.ticker,
            kind=action.kind,
            ex_date=action.ex_date,
            # US settlement is T+1 since 2024-05-28: the record date is the ex-date.
            record_date=action.ex_date,
            effective_at=self._session_open(action.ex_date),
            ratio_new=action.ratio_new,
            ratio_old=action.ratio_old,
            amount_per_share=action.amount.units,
            policy=policy.dividends if action.kind is ActionKind.CASH_DIVIDEND else None,
            fee_bps_per_year=policy.fee_bps_per_year if action.kind is ActionKind.MANAGEMENT_FEE else 0,
            fee_periods_per_year=policy.fee_periods_per_year,
            source=action.source,
            state=ActionState.ANNOUNCED,
            chain_id=self.onchain.chain_id,
            record_shares=0,
            cash_received_usd=0,
            shares_bought=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()  # the event refers to the action's row
        session.add(
            CorporateActionEventRow(
                action_id=key,
                at=now,
                from_state=None,
                to_state=ActionState.ANNOUNCED,
                reason=f"from {action.source}",
            )
        )
        session.flush()

    def _add_due_fees(self) -> None:
        """Record the management fee of every period that has ended, for instruments that charge one."""
        now = self.clock.now()
        with self.db.transaction() as session:
            for ticker in sorted(set(self.instruments) & set(self.onchain.tickers)):
                policy = self.config.policy(ticker)
                if not policy.fee_bps_per_year or policy.fee_start is None:
                    continue
                for boundary in _period_starts(policy.fee_start, policy.fee_periods_per_year, now.date()):
                    session_open = self.calendar.next_open(
                        datetime(boundary.year, boundary.month, 1, tzinfo=NEW_YORK)
                    )
                    ex_date = session_open.astimezone(NEW_YORK).date()
                    if session_open > now:
                        break
                    key = action_id(ticker, ActionKind.MANAGEMENT_FEE, ex_date)
                    if session.get(CorporateActionRow, key) is None:
                        fee = _NewAction(
                            ticker, ActionKind.MANAGEMENT_FEE, ex_date, 1, 1, Price.zero(), "policy"
                        )
                        self._add(session, fee)

    # -- advancing

    def process(self) -> int:
        """Advance every due action as far as it can go now; return the number of steps taken."""
        self._add_due_fees()
        return self._engine.process()

    def release(self, payment_id: int) -> DividendPayment:
        """Release a held payment once its holder may be paid again; `process()` then pays it."""
        with self.db.transaction() as session:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            if payment is None:
                raise UnknownActionError(f"no dividend payment {payment_id}")
            if PaymentState(payment.state) is not PaymentState.HELD:
                raise InvalidRequestError(f"payment {payment_id} is {payment.state}, not held")
            action = session.get(CorporateActionRow, payment.action_id)
            assert action is not None
            investor = session.get(InvestorRow, payment.investor_id) if payment.investor_id else None
            blocked = self._engine.payment_blocked(
                action.ticker, payment.holder, investor is not None and investor.frozen
            )
            if blocked is not None:
                raise ComplianceError(f"payment {payment_id} to {payment.holder} stays held: {blocked}")
            payment.state = PaymentState.PENDING
            payment.reason = None
            payment.updated_at = self.clock.now()
            session.add(
                CorporateActionEventRow(
                    action_id=action.id,
                    at=self.clock.now(),
                    from_state=action.state,
                    to_state=action.state,
                    reason=f"payment to {payment.holder} released",
                )
            )
        return self.payment(payment_id)

    # -- reading

    def action(self, action_id: str) -> CorporateAction:
        """Return an action with its history, or raise `UnknownActionError`."""
        with self.db.transaction() as session:
            row = session.get(CorporateActionRow, action_id)
            if row is None:
                raise UnknownActionError(f"no corporate action {action_id!r}")
            events = session.scalars(
                select(CorporateActionEventRow)
                .where(CorporateActionEventRow.action_id == action_id)
                .order_by(CorporateActionEventRow.id)
            )
            return CorporateAction(
                id=row.id,
                ticker=row.ticker,
                kind=ActionKind(row.kind),
                ex_date=row.ex_date,
                record_date=row.record_date,
                effective_at=row.effective_at,
                ratio=(row.ratio_new, row.ratio_old),
                amount_per_share=Price(row.amount_per_share),
                policy=DividendPolicy(row.policy) if row.policy else None,
                source=row.source,
                state=ActionState(row.state),
                old_multiplier=int(row.old_multiplier) if row.old_multiplier else None,
                new_multiplier=int(row.new_multiplier) if row.new_multiplier else None,
                record_shares=Shares(row.record_shares),
                cash_received=Usd(row.cash_received_usd),
                shares_bought=Shares(row.shares_bought),
                reason=row.reason,
                events=tuple(ActionEvent(e.at, e.from_state, e.to_state, e.reason) for e in events),
            )

    def actions(self, ticker: str | None = None) -> list[CorporateAction]:
        """Return every action (of `ticker`), in the order they take effect."""
        with self.db.transaction() as session:
            query = select(CorporateActionRow.id).order_by(
                CorporateActionRow.effective_at, CorporateActionRow.kind
            )
            if ticker is not None:
                query = query.where(CorporateActionRow.ticker == ticker)
            ids = list(session.scalars(query))
        return [self.action(i) for i in ids]

    def payments(self, action_id: str) -> list[DividendPayment]:
        """Return what each holder of record is owed for a dividend, and where each payment stands."""
        with self.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(DividendPaymentRow.id)
                    .where(DividendPaymentRow.action_id == action_id)
                    .order_by(DividendPaymentRow.id)
                )
            )
        return [self.payment(i) for i in ids]

    def payment(self, payment_id: int) -> DividendPayment:
        """Return one dividend payment, or raise `UnknownActionError`."""
        with self.db.transaction() as session:
            row = session.get(DividendPaymentRow, payment_id)
            if row is None:
                raise UnknownActionError(f"no dividend payment {payment_id}")
            return DividendPayment(
                id=row.id,
                action_id=row.action_id,
                chain_id=row.chain_id,
                holder=row.holder,
                investor_id=row.investor_id,
                jurisdiction=row.jurisdiction,
                withholding_bps=row.withholding_bps,
                raw_balance=row.raw_balance,
                record_shares=Shares(row.record_shares),
                amount=Usd(row.amount_usd),
                state=PaymentState(row.state),
                reason=row.reason,
            )


def _period_starts(fee_start: date, periods_per_year: int, until: date) -> Iterator[date]:
    """Yield the first day of every fee period that begins after `fee_start`, up to `until`."""
    step = 12 // periods_per_year
    month = fee_start.month + 1
    year = fee_start.year
    while True:
        if month > 12:
            year, month = year + 1, month - 12
        if (month - 1) % step == 0:
            boundary = date(year, month, 1)
            if boundary > until:
                return
            yield boundary
        month += 1
