"""Advance corporate actions step by step, so that a crash between any two steps loses nothing.

Each step reads the action from the database, does one thing, and records its effect in the same
database transaction as the new state, as the mint and redeem workflow does:
- custody entries are keyed by cause (`ca:<action>:custody`, `ca:<action>:fill:<fill id>`...);
- the broker buy of a reinvestment carries `ca-<action>` as client order id;
- every transaction (multiplier, reserve attestation, each payment) goes through the outbox under a
  unique purpose (`ca:<action>:multiplier`, `ca:<action>:pay:<chain>:<holder>`...). The multiplier
  transaction is signed in the transaction that stores the multipliers it sets, so a rerun after a
  crash sends those same bytes and never recomputes them.

Order of the steps, chosen so that tokens x multiplier never exceed custody at any instant:
- split: custody x r -> multiplier x r scheduled for the ex-date open -> (in force) reserve attested;
- reverse split: multiplier x r scheduled -> (in force) custody x r -> reserve attested;
- management fee: multiplier x (1 - f) scheduled -> (in force) the fee's shares move from the
  holders' backing (`issued:<ticker>`) to `fees:<ticker>` -> reserve attested;
- dividend: holders of record fixed and cash received -> reinvest: buy, then multiplier x (1 + bought
  / outstanding) effective at once -> reserve attested -> treaty refunds paid; payout: each holder paid.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker, OrderRejectedError
from equitoken.brokers.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import ContractFunction
from equitoken.durable.crashpoints import checkpoint
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.corporate_actions.holders import HolderSource, last_block_before
from equitoken.issuer.corporate_actions.model import (
    BPS,
    MULTIPLIER_ONE,
    ActionKind,
    ActionState,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
    PaymentState,
)
from equitoken.issuer.corporate_actions.withholding import DEFAULT_WITHHOLDING_BPS, withholding_bps
from equitoken.issuer.custody import (
    BROKER_CASH,
    TREASURY,
    USD,
    CustodyLedger,
    Line,
    custody_account,
    fees_account,
    issued_account,
)
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.workflow.engine import surplus_account
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import (
    AttestationRow,
    CorporateActionEventRow,
    CorporateActionRow,
    DividendPaymentRow,
    InvestorRow,
    LedgerEntryRow,
    WalletRow,
)

# The token's upper bound on the multiplier (`ui_multiplier.vy`).
MAX_MULTIPLIER = 10**24


def dividend_account(action_id: str) -> str:
    """Return the account of a dividend's cash, from receipt to reinvestment or payout."""
    return f"dividend:{action_id}"


def note(session: Session, action: CorporateActionRow, reason: str, at: datetime) -> None:
    """Record an event that keeps the action's state."""
    session.add(
        CorporateActionEventRow(
            action_id=action.id, at=at, from_state=action.state, to_state=action.state, reason=reason
        )
    )


Step = Callable[[str], bool]


class ActionEngine:
    """The step engine behind `CorporateActions.process`."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        broker: Broker,
        prices: PriceSource,
        calendar: MarketCalendar,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        issuer_config: IssuerConfig,
        config: CorporateActionsConfig,
        holders: HolderSource,
    ) -> None:
        self.db = database
        self.onchain = onchain
        self.broker = broker
        self.prices = prices
        self.calendar = calendar
        self.clock = clock
        self.instruments = instruments
        self.issuer_config = issuer_config
        self.config = config
        self.holders = holders
        self.ledger = CustodyLedger()
        self._steps: dict[tuple[ActionKind, ActionState], Step] = {
            (ActionKind.SPLIT, ActionState.ANNOUNCED): self._adjust_custody,
            (ActionKind.SPLIT, ActionState.CUSTODY_ADJUSTED): self._schedule_multiplier,
            (ActionKind.SPLIT, ActionState.SCHEDULED): self._attest,
            (ActionKind.REVERSE_SPLIT, ActionState.ANNOUNCED): self._schedule_multiplier,
            (ActionKind.REVERSE_SPLIT, ActionState.SCHEDULED): self._adjust_custody,
            (ActionKind.REVERSE_SPLIT, ActionState.CUSTODY_ADJUSTED): self._attest,
            (ActionKind.MANAGEMENT_FEE, ActionState.ANNOUNCED): self._schedule_multiplier,
            (ActionKind.MANAGEMENT_FEE, ActionState.SCHEDULED): self._take_fee,
            (ActionKind.MANAGEMENT_FEE, ActionState.CUSTODY_ADJUSTED): self._attest,
            (ActionKind.CASH_DIVIDEND, ActionState.ANNOUNCED): self._record_holders,
            (ActionKind.CASH_DIVIDEND, ActionState.RECORDED): self._place_buy,
            (ActionKind.CASH_DIVIDEND, ActionState.ORDERED): self._follow_buy,
            (ActionKind.CASH_DIVIDEND, ActionState.BOUGHT): self._schedule_multiplier,
            (ActionKind.CASH_DIVIDEND, ActionState.SCHEDULED): self._attest,
            (ActionKind.CASH_DIVIDEND, ActionState.PAYING): self._pay_next,
        }

    # -- the loop

    def process(self) -> int:
        """Advance every open action as far as it can go now; return how many steps were taken."""
        self.onchain.outbox.rebroadcast(self.db)
        with self.db.transaction() as session:
            open_actions = list(
                session.execute(
                    select(CorporateActionRow.id, CorporateActionRow.ticker)
                    .where(CorporateActionRow.state.not_in([s.value for s in ActionState if s.is_final]))
                    .where(CorporateActionRow.chain_id == self.onchain.chain_id)
                    .order_by(CorporateActionRow.effective_at, CorporateActionRow.kind)
                )
            )
        steps = 0
        blocked: set[str] = set()
        for action_id, ticker in open_actions:
            # One instrument's actions apply in order: a later one waits for an earlier one to end.
            if ticker in blocked:
                continue
            while self._step(action_id):
                steps += 1
            if not self._state(action_id).is_final:
                blocked.add(ticker)
        return steps + self._pay_released()

    def _step(self, action_id: str) -> bool:
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            kind, state = ActionKind(action.kind), ActionState(action.state)
        if state.is_final:
            return False
        return self._steps[(kind, state)](action_id)

    def _state(self, action_id: str) -> ActionState:
        with self.db.transaction() as session:
            return ActionState(self._load(session, action_id, lock=False).state)

    # -- helpers

    def _now(self) -> datetime:
        return self.clock.now()

    def _load(self, session: Session, action_id: str, *, lock: bool = True) -> CorporateActionRow:
        action = session.get(CorporateActionRow, action_id, with_for_update=lock)
        assert action is not None
        return action

    def _move(self, session: Session, action: CorporateActionRow, to: ActionState, reason: str) -> None:
        now = self._now()
        session.add(
            CorporateActionEventRow(
                action_id=action.id, at=now, from_state=action.state, to_state=to, reason=reason
            )
        )
        action.state = to
        action.updated_at = now
        if to.is_final:
            action.reason = reason

    def _due_at(self, action: CorporateActionRow) -> datetime:
        """Return when the action's first step may run (market time)."""
        if ActionKind(action.kind) in (ActionKind.SPLIT, ActionKind.REVERSE_SPLIT):
            # Scheduled ahead, once the last session on the old basis has closed (no fills until
            # the ex-date's open, so nothing reads custody on the old basis meanwhile).
            previous = self.calendar.previous_session(action.effective_at - timedelta(seconds=1))
            return previous.close if previous is not None else action.effective_at
        return action.effective_at

    def _chain_time(self, at: datetime) -> int:
        """Return the chain timestamp of market instant `at`, keeping the clocks' offset as it is now.

        The market clock may be simulated (replayed history) while the chain runs on its own time;
        both move at the same pace, so an instant maps to chain time through their current offset.
        """
        pending = self.onchain.chain.timestamp("pending")
        offset = at - self._now()
        return pending + int(offset.total_seconds())

    def _token_decimals(self, ticker: str) -> int:
        return self.instruments[ticker].token_decimals

    def _transact(
        self,
        action_id: str,
        purpose: str,
        function: ContractFunction,
        args: tuple[object, ...],
        sender: str,
        on_confirmed: Callable[[Session, CorporateActionRow], None],
        on_failed: Callable[[Session, CorporateActionRow, str], None],
        crash_sent: str | None = None,
        crash_mined: str | None = None,
    ) -> bool:
        """Run one transaction through the outbox and record its effect on the action once."""

        return self.onchain.outbox.run_step(
            self.db,
            purpose,
            function,
            args,
            sender=sender,
            owner=f"corporate-action:{action_id}",
            now=self._now,
            load=lambda session: self._load(session, action_id),
            on_confirmed=on_confirmed,
            on_failed=on_failed,
            crash_sent=crash_sent,
            crash_mined=crash_mined,
        )

    def _fail(self, session: Session, action: CorporateActionRow, reason: str) -> None:
        self._move(session, action, ActionState.FAILED, reason)

    # -- custody

    def _adjust_custody(self, action_id: str) -> bool:
        """Scale every share account of the instrument by the split ratio, in one entry."""
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            kind = ActionKind(action.kind)
            if kind is ActionKind.SPLIT and self._now() < self._due_at(action):
                return False
            if kind is ActionKind.REVERSE_SPLIT and not self._in_force(action):
                return False
            ticker, new, old = action.ticker, action.ratio_new, action.ratio_old
            if kind is ActionKind.SPLIT:
                # Custody moves first: make sure the token will take the multiplier it is moving for.
                multiplier = int(self.onchain.token(ticker).uiMultiplier()) * new // old
                if multiplier > MAX_MULTIPLIER:
                    reason = f"multiplier {multiplier} would be above the token's bound {MAX_MULTIPLIER}"
                    self._fail(session, action, reason)
                    return True
            balances = self.ledger.balances(session, "", ticker)
            custody = custody_account(ticker)
            lines = []
            for (account, _), balance in sorted(balances.items()):
                # Floor division rounds custody down and every obligation (a credit) up, so the
                # rounding can only leave the issuer short of nothing; the difference is surplus.
                lines.append(Line(account, ticker, balance * new // old - balance))
            residual = -sum(line.amount for line in lines)
            lines.append(Line(surplus_account(ticker), ticker, residual))
            self.ledger.post(
                session,
                f"ca:{action.id}:custody",
                f"{new}-for-{old} split of {ticker}: every share account x {new}/{old}",
                lines,
                at=self._now(),
            )
            before = Shares(balances.get((custody, ticker), 0))
            after = Shares(self.ledger.balance(session, custody, ticker))
            self._move(
                session, action, ActionState.CUSTODY_ADJUSTED, f"custody {before} -> {after} {ticker} shares"
            )
        checkpoint("ca_custody_adjusted")
        return True

    def _take_fee(self, action_id: str) -> bool:
        """Move the fee's shares from the holders' backing to the issuer's fee account."""
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            if not self._in_force(action):
                return False
            ticker, effective = action.ticker, action.chain_effective_at
            old, new = int(action.old_multiplier or 0), int(action.new_multiplier or 0)
        assert effective is not None
        # The supply when the lower multiplier took effect: tokens minted later were bought at it.
        block = self._block_before(effective)
        raw = sum(h.raw for h in self.holders(ticker, self.onchain.chain_id, block))
        decimals = self._token_decimals(ticker)
        fee = Shares.from_token_units(raw * old // MULTIPLIER_ONE - raw * new // MULTIPLIER_ONE, decimals)
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            self.ledger.post(
                session,
                f"ca:{action.id}:fee",
                f"management fee on {ticker}: {fee} shares from the holders' backing to the issuer",
                [
                    Line(issued_account(ticker), ticker, fee.units),
                    Line(fees_account(ticker), ticker, -fee.units),
                ],
                at=self._now(),
            )
            action.record_block = block
            action.record_shares = Shares.from_token_units(raw * old // MULTIPLIER_ONE, decimals).units
            self._move(session, action, ActionState.CUSTODY_ADJUSTED, f"fee of {fee} {ticker} shares taken")
        checkpoint("ca_custody_adjusted")
        return True

    # -- the multiplier

    def _schedule_multiplier(self, action_id: str) -> bool:
        """Sign (once, with the multipliers it sets stored beside it) and send `setUIMultiplier`."""
        purpose = f"ca:{action_id}:multiplier"
        updater = self.onchain.roles.multiplier_updater
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            token = self.onchain.token(action.ticker)
            if self.onchain.outbox.find(session, purpose) is None:
                if self._now() < self._due_at(action):
                    return False
                try:
                    needed = self._prepare_multiplier(session, action, token.setUIMultiplier, purpose)
                except RevertError as exc:  # e.g. a multiplier out of the token's bounds
                    self._fail(session, action, f"{purpose}: {exc}")
                    return True
                if not needed:  # nothing to change (e.g. nothing bought): the step is done
                    return True
            new, at = int(action.new_multiplier or 0), action.chain_effective_at

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            self._move(
                session,
                action,
                ActionState.SCHEDULED,
                f"multiplier {action.old_multiplier} -> {new} scheduled for chain time {at}",
            )

        return self._transact(
            action_id,
            purpose,
            token.setUIMultiplier,
            (new, at),
            updater,
            confirmed,
            self._fail,
            crash_sent="ca_multiplier_sent",
        )

    def _prepare_multiplier(
        self, session: Session, action: CorporateActionRow, function: ContractFunction, purpose: str
    ) -> bool:
        """Store the multipliers and effective time and sign the transaction; False if none is needed."""
        token = self.onchain.token(action.ticker)
        old = int(token.uiMultiplier())
        kind = ActionKind(action.kind)
        # The earliest effective time the transaction can still meet once it is mined.
        earliest = self.onchain.chain.timestamp("pending") + self.config.multiplier_lead_seconds
        if kind is ActionKind.CASH_DIVIDEND:
            supply = int(token.totalSupply())
            outstanding = supply * old // MULTIPLIER_ONE
            bought = Shares(action.shares_bought).floor_to_token_units(self._token_decimals(action.ticker))
            if outstanding == 0 or bought == 0:
                self._move(session, action, ActionState.SCHEDULED, "no multiplier change: nothing to spread")
                action.old_multiplier = action.new_multiplier = str(old)
                action.chain_effective_at = earliest
                return False
            # Holders' UI shares grow by what was bought, never more (rounded down).
            new = old * (outstanding + bought) // outstanding
            effective = earliest
        elif kind is ActionKind.MANAGEMENT_FEE:
            # The fee recorded with the action, whatever the configuration says today.
            fee = InstrumentPolicy(
                fee_bps_per_year=action.fee_bps_per_year,
                fee_periods_per_year=action.fee_periods_per_year,
                fee_start=action.ex_date,
            ).fee_per_period()
            new = old * (MULTIPLIER_ONE - fee) // MULTIPLIER_ONE
            effective = max(earliest, self._chain_time(action.effective_at))
        else:
            # A split scales the multiplier pending for the ex-date, if one is pending already.
            new = old * action.ratio_new // action.ratio_old
            effective = max(earliest, self._chain_time(action.effective_at))
        action.old_multiplier = str(old)
        action.new_multiplier = str(new)
        action.chain_effective_at = effective
        self.onchain.outbox.sign(
            session,
            purpose,
            function,
            new,
            effective,
            sender=self.onchain.roles.multiplier_updater,
            owner=f"corporate-action:{action.id}",
            now=self._now(),
        )
        return True

    def _in_force(self, action: CorporateActionRow) -> bool:
        # The next block's timestamp: a transaction sent now already sees the new multiplier.
        at = action.chain_effective_at
        return at is not None and self.onchain.chain.timestamp("pending") >= at

    def _block_before(self, chain_time: int) -> int:
        chain = self.onchain.chain
        if chain.timestamp(0) >= chain_time:
            return 0
        return last_block_before(chain, chain_time)

    # -- reserves

    def _attest(self, action_id: str) -> bool:
        """Push custody (less the issuer's fee shares) in token units over the new multiplier."""
        purpose = f"ca:{action_id}:reserve"
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            if not self._in_force(action):
                return False
            ticker = action.ticker
            kind, policy = ActionKind(action.kind), action.policy
            multiplier = int(action.new_multiplier or MULTIPLIER_ONE)
            custody = self.ledger.balance(session, custody_account(ticker), ticker)
            backing = Shares(self.ledger.backing(session, ticker))
            changed = action.old_multiplier != action.new_multiplier
        if kind is ActionKind.CASH_DIVIDEND:
            after = ActionState.PAYING if policy == DividendPolicy.REINVEST else ActionState.COMPLETED
        else:
            after = ActionState.COMPLETED
        if not changed:
            with self.db.transaction() as session:
                action = self._load(session, action_id)
                self._move(session, action, after, "multiplier unchanged; reserves stand")
            return True
        reserve = backing.floor_to_token_units(self._token_decimals(ticker)) * MULTIPLIER_ONE // multiplier
        observed_at = self.onchain.observation_time(self._now())

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            transaction = self.onchain.outbox.find(session, purpose)
            assert transaction is not None
            session.add(
                AttestationRow(
                    ticker=ticker,
                    chain_id=self.onchain.chain_id,
                    custody_shares=custody,
                    reserve_amount=reserve,
                    observed_at=observed_at,
                    transaction_id=transaction.id,
                    created_at=self._now(),
                )
            )
            self._move(
                session, action, after, f"multiplier {multiplier} in force; reserve {reserve} attested"
            )

        return self._transact(
            action_id,
            purpose,
            self.onchain.reserve_feed(ticker).update,
            (reserve, observed_at),
            self.onchain.roles.attester,
            confirmed,
            self._fail,
        )

    # -- dividends

    def _record_holders(self, action_id: str) -> bool:
        """Fix the holders of record and what each is owed; book the cash received net of 30%."""
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            if self._now() < action.effective_at:
                return False
            ticker, policy = action.ticker, DividendPolicy(action.policy or DividendPolicy.REINVEST)
            amount = Price(action.amount_per_share)
        record_time = self._chain_time(action.effective_at)
        block = self._block_before(record_time)
        token = self.onchain.token(ticker)
        multiplier = int(token.uiMultiplierAt(max(record_time - 1, 0)))
        holdings = self.holders(ticker, self.onchain.chain_id, block)
        decimals = self._token_decimals(ticker)
        now = self._now()
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            if ActionState(action.state) is not ActionState.ANNOUNCED:
                return False
            investors = self._investors_by_wallet(session, [h.holder for h in holdings])
            total = Shares.zero()
            for holding in holdings:
                shares = Shares.from_token_units(holding.raw * multiplier // MULTIPLIER_ONE, decimals)
                total += shares
                investor = investors.get(holding.holder)
                jurisdiction = investor.jurisdiction if investor is not None else None
                rate = withholding_bps(jurisdiction)
                gross = amount.notional(shares, round_up=False)
                # Payout: the dividend net of the holder's rate. Reinvest: the multiplier carries the
                # dividend net of the default rate; a treaty holder gets the difference in cash.
                kept = BPS - rate if policy is DividendPolicy.PAYOUT else DEFAULT_WITHHOLDING_BPS - rate
                owed = Usd(gross.units * kept // BPS)
                if not owed:
                    continue
                session.add(
                    DividendPaymentRow(
                        action_id=action.id,
                        chain_id=holding.chain_id,
                        holder=holding.holder,
                        investor_id=investor.id if investor is not None else None,
                        jurisdiction=jurisdiction,
                        withholding_bps=rate,
                        raw_balance=holding.raw,
                        record_shares=shares.units,
                        amount_usd=owed.units,
                        state=PaymentState.PENDING,
                        created_at=now,
                        updated_at=now,
                    )
                )
            gross_total = amount.notional(total, round_up=False)
            received = Usd(gross_total.units * (BPS - DEFAULT_WITHHOLDING_BPS) // BPS)
            self.ledger.post(
                session,
                f"ca:{action.id}:received",
                f"{ticker} dividend of {amount} a share on {total} shares of record, net of 30% withheld",
                [
                    Line(BROKER_CASH, USD, received.units),
                    Line(dividend_account(action.id), USD, -received.units),
                ],
                at=now,
            )
            action.record_block = block
            action.record_shares = total.units
            action.cash_received_usd = received.units
            action.chain_effective_at = record_time
            after = ActionState.RECORDED if policy is DividendPolicy.REINVEST else ActionState.PAYING
            self._move(
                session,
                action,
                after,
                f"{len(holdings)} holders of record at block {block} with {total} shares; "
                f"{received} USD received net of withholding",
            )
        checkpoint("ca_recorded")
        return True

    def _investors_by_wallet(self, session: Session, wallets: Sequence[str]) -> dict[str, InvestorRow]:
        if not wallets:
            return {}
        rows = session.execute(
            select(WalletRow.address, InvestorRow)
            .join(InvestorRow, InvestorRow.id == WalletRow.investor_id)
            .where(func.lower(WalletRow.address).in_([w.lower() for w in wallets]))
        )
        by_lower = {address.lower(): investor for address, investor in rows}
        return {w: by_lower[w.lower()] for w in wallets if w.lower() in by_lower}

    def _client_order_id(self, action_id: str) -> str:
        return f"ca-{action_id}"

    def _place_buy(self, action_id: str) -> bool:
        """Buy shares with the dividend received: a limit order sized so that it can never cost more."""
        client_order_id = self._client_order_id(action_id)
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            ticker, received = action.ticker, Usd(action.cash_received_usd)
        # After a crash the order may be placed already: the broker's record is the truth.
        placed = self.broker.order(client_order_id)
        if placed is None:
            try:
                quote = self.prices.quote(ticker, self._now()).price
            except NoPriceError:
                return False
            limit = quote.scaled_bps(self.config.reinvest_buffer_bps)
            quantity = limit.shares_for(received)
            if quantity.units > 0:
                order = OrderRequest(
                    client_order_id, ticker, OrderSide.BUY, quantity, OrderType.LIMIT, limit, TimeInForce.GTC
                )
                try:
                    placed = self.broker.submit(order)
                except OrderRejectedError as exc:
                    with self.db.transaction() as session:
                        self._fail(
                            session, self._load(session, action_id), f"reinvestment buy refused: {exc}"
                        )
                    return True
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            if placed is not None:
                reason = f"buy {placed.quantity} {ticker} at most {placed.limit_price} placed"
                self._move(session, action, ActionState.ORDERED, reason)
            else:
                self._move(session, action, ActionState.BOUGHT, f"{received} USD buys no share; kept as cash")
        return True

    def _follow_buy(self, action_id: str) -> bool:
        """Put the next new fill in custody; once the order is final, move on with what was bought."""
        client_order_id = self._client_order_id(action_id)
        order = self.broker.order(client_order_id)
        if order is None:
            raise RuntimeError(f"the broker has no order {client_order_id}, which it accepted")
        with self.db.transaction() as session:
            action = self._load(session, action_id)
            ticker = action.ticker
            new = [f for f in order.fills if not _posted(session, f"ca:{action.id}:fill:{f.fill_id}")]
            if not new:
                if not order.status.is_final:
                    return False
                bought = Shares(action.shares_bought)
                reason = f"broker order {order.status}: {bought} {ticker} shares bought"
                self._move(session, action, ActionState.BOUGHT, reason)
                return True
            fill = new[0]
            cost = fill.notional(round_up=True)
            self.ledger.post(
                session,
                f"ca:{action.id}:fill:{fill.fill_id}",
                f"reinvested {ticker} dividend: bought {fill.quantity} at {fill.price}",
                [
                    Line(custody_account(ticker), ticker, fill.quantity.units),
                    Line(issued_account(ticker), ticker, -fill.quantity.units),
                    Line(dividend_account(action.id), USD, cost.units),
                    Line(BROKER_CASH, USD, -cost.units),
                ],
                at=self._now(),
            )
            action.shares_bought += fill.quantity.units
            note(session, action, f"fill {fill.fill_id}: {fill.quantity} shares at {fill.price}", self._now())
        checkpoint("ca_fill")
        return True

    # -- payments

    def _pay_next(self, action_id: str) -> bool:
        """Pay (or hold) the next pending payment of the action; complete it when none is left."""
        with self.db.transaction() as session:
            action = self._load(session, action_id, lock=False)
            payment_id = session.scalar(
                select(DividendPaymentRow.id)
                .where(DividendPaymentRow.action_id == action_id)
                .where(DividendPaymentRow.state == PaymentState.PENDING)
                .order_by(DividendPaymentRow.id)
                .limit(1)
            )
            if payment_id is None:
                action = self._load(session, action_id)
                counts = dict(
                    session.execute(
                        select(DividendPaymentRow.state, func.count())
                        .where(DividendPaymentRow.action_id == action_id)
                        .group_by(DividendPaymentRow.state)
                    ).all()
                )
                summary = ", ".join(
                    f"{counts.get(s, 0)} {s}" for s in PaymentState if s != PaymentState.PENDING
                )
                self._move(session, action, ActionState.COMPLETED, f"payments done: {summary}")
                return True
        return self.pay(payment_id)

    def pay(self, payment_id: int) -> bool:
        """Pay one pending payment in USDC from the treasury, or hold it if the holder may not be paid."""
        with self.db.transaction() as session:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            assert payment is not None
            if PaymentState(payment.state) is not PaymentState.PENDING:
                return False
            purpose = f"ca:{payment.action_id}:pay:{payment.chain_id}:{payment.holder}"
            sent = self.onchain.outbox.find(session, purpose) is not None
            holder, amount, action_id = payment.holder, payment.amount_usd, payment.action_id
            ticker = self._load(session, action_id, lock=False).ticker
            investor = session.get(InvestorRow, payment.investor_id) if payment.investor_id else None
            frozen_investor = investor is not None and investor.frozen
        if not sent:
            # Checked before anything is signed; once signed, the same bytes are sent after a crash.
            blocked = self.payment_blocked(ticker, holder, frozen_investor)
            if blocked is not None:
                with self.db.transaction() as session:
                    payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
                    assert payment is not None
                    payment.state = PaymentState.HELD
                    payment.reason = blocked
                    payment.updated_at = self._now()
                    action = self._load(session, action_id)
                    note(session, action, f"payment to {holder} held: {blocked}", self._now())
                return True

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            assert payment is not None
            self.ledger.post(
                session,
                f"ca:{action.id}:pay:{payment.chain_id}:{holder}",
                f"{action.ticker} dividend paid to {holder}",
                [Line(dividend_account(action.id), USD, amount), Line(TREASURY, USD, -amount)],
                at=self._now(),
            )
            payment.state = PaymentState.PAID
            payment.updated_at = self._now()
            note(session, action, f"paid {Usd(amount)} USDC to {holder}", self._now())

        def failed(session: Session, action: CorporateActionRow, reason: str) -> None:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            assert payment is not None
            payment.state = PaymentState.FAILED
            payment.reason = reason
            payment.updated_at = self._now()
            note(session, action, f"payment to {holder} failed: {reason}", self._now())

        return self._transact(
            action_id,
            purpose,
            self.onchain.usdc.transfer,
            (holder, amount),
            self.onchain.roles.operator,
            confirmed,
            failed,
            crash_sent="ca_payment_sent",
            crash_mined="ca_payment_mined",
        )

    def payment_blocked(self, ticker: str, holder: str, frozen_investor: bool) -> str | None:
        """Return why `holder` may not be paid now (sanctioned or frozen), or None."""
        if holder.lower() in {w.lower() for w in self.issuer_config.sanctioned_wallets}:
            return "wallet on the issuer's sanctions list"
        if self.onchain.sanctions.isSanctioned(holder):
            return "wallet on the on-chain sanctions list"
        if frozen_investor:
            return "investor frozen"
        if self.onchain.token(ticker).is_frozen(holder):
            return f"wallet frozen on the {ticker} token"
        return None

    def _pay_released(self) -> int:
        """Pay the payments an operator released after their action completed."""
        with self.db.transaction() as session:
            released = list(
                session.scalars(
                    select(DividendPaymentRow.id)
                    .join(CorporateActionRow, CorporateActionRow.id == DividendPaymentRow.action_id)
                    .where(DividendPaymentRow.state == PaymentState.PENDING)
                    .where(CorporateActionRow.state == ActionState.COMPLETED)
                    .where(DividendPaymentRow.chain_id == self.onchain.chain_id)
                    .order_by(DividendPaymentRow.id)
                )
            )
        return sum(1 for payment_id in released if self.pay(payment_id))


def _posted(session: Session, cause: str) -> bool:
    return session.scalar(select(LedgerEntryRow.id).where(LedgerEntryRow.cause == cause)) is not None
