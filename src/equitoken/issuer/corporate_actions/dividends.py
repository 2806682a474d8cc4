"""The steps of a cash dividend: the holders of record fixed and the cash received net of withholding,
then either reinvested (shares bought, the multiplier raised by what was bought, treaty refunds paid)
or paid out to each holder in USDC, a sanctioned or frozen holder's payment held for an operator."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.brokers.errors import OrderRejectedError
from equitoken.brokers.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from equitoken.durable.crashpoints import checkpoint
from equitoken.issuer.corporate_actions.machine import ActionMachine
from equitoken.issuer.corporate_actions.model import ActionState, DividendPolicy, PaymentState
from equitoken.issuer.corporate_actions.withholding import DEFAULT_WITHHOLDING_BPS, withholding_bps
from equitoken.issuer.custody import (
    BROKER_CASH,
    TREASURY,
    USD,
    Line,
    custody_account,
    issued_account,
)
from equitoken.market.prices import NoPriceError
from equitoken.model.bps import BPS
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.store.schema import (
    CorporateActionRow,
    DividendPaymentRow,
    InvestorRow,
    LedgerEntryRow,
    WalletRow,
)


def dividend_account(action_id: str) -> str:
    """Return the account of a dividend's cash, from receipt to reinvestment or payout."""
    return f"dividend:{action_id}"


class DividendSteps(ActionMachine):
    """Record, reinvest or pay a cash dividend."""

    def _record_holders(self, action_id: str) -> bool:
        """Fix the holders of record and what each is owed; book the cash received net of 30%."""
        with self.db.transaction() as session:
            action = self.load(session, action_id, lock=False)
            if self.now() < action.effective_at:
                return False
            ticker, policy = action.ticker, DividendPolicy(action.policy or DividendPolicy.REINVEST)
            amount = Price(action.amount_per_share)
        record_time = self._chain_time(action.effective_at)
        block = self._block_before(record_time)
        token = self.onchain.token(ticker)
        multiplier = int(token.uiMultiplierAt(max(record_time - 1, 0)))
        holdings = self.holders(ticker, self.onchain.chain_id, block)
        decimals = self._token_decimals(ticker)
        # The shares the other chains' tokens stand for (read now, at or after the ex-date): their
        # dividend is reinvested with the rest; a payout cannot reach those holders yet.
        elsewhere = sum(
            (
                TokenAmount(chain.supply(ticker), decimals).shares(chain.multiplier(ticker))
                for chain in self.mirrors
                if ticker in chain.tickers
            ),
            Shares.zero(),
        )
        now = self.now()
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            if ActionState(action.state) is not ActionState.ANNOUNCED:
                return False
            if policy is DividendPolicy.PAYOUT and elsewhere.units:
                self._fail(
                    session,
                    action,
                    f"a payout reaches holders on chain {self.onchain.chain_id} only, and {elsewhere} "
                    f"{ticker} shares are held on other chains: reinvest this dividend instead",
                )
                return True
            investors = self._investors_by_wallet(session, [h.holder for h in holdings])
            total = elsewhere
            for holding in holdings:
                shares = TokenAmount(holding.raw, decimals).shares(multiplier)
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
            self.move(
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
            action = self.load(session, action_id, lock=False)
            ticker, received = action.ticker, Usd(action.cash_received_usd)
        # After a crash the order may be placed already: the broker's record is the truth.
        placed = self.broker.order(client_order_id)
        if placed is None:
            try:
                quote = self.prices.quote(ticker, self.now()).price
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
                        self._fail(session, self.load(session, action_id), f"reinvestment buy refused: {exc}")
                    return True
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            if placed is not None:
                reason = f"buy {placed.quantity} {ticker} at most {placed.limit_price} placed"
                self.move(session, action, ActionState.ORDERED, reason)
            else:
                self.move(session, action, ActionState.BOUGHT, f"{received} USD buys no share; kept as cash")
        return True

    def _follow_buy(self, action_id: str) -> bool:
        """Put the next new fill in custody; once the order is final, move on with what was bought."""
        client_order_id = self._client_order_id(action_id)
        order = self.broker.order(client_order_id)
        if order is None:
            raise RuntimeError(f"the broker has no order {client_order_id}, which it accepted")
        with self.db.transaction() as session:
            action = self.load(session, action_id)
            ticker = action.ticker
            new = [f for f in order.fills if not _posted(session, f"ca:{action.id}:fill:{f.fill_id}")]
            if not new:
                if not order.status.is_final:
                    return False
                bought = Shares(action.shares_bought)
                reason = f"broker order {order.status}: {bought} {ticker} shares bought"
                self.move(session, action, ActionState.BOUGHT, reason)
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
                at=self.now(),
            )
            action.shares_bought += fill.quantity.units
            self.note(session, action, f"fill {fill.fill_id}: {fill.quantity} shares at {fill.price}")
        checkpoint("ca_fill")
        return True

    def _pay_next(self, action_id: str) -> bool:
        """Pay (or hold) the next pending payment of the action; complete it when none is left."""
        with self.db.transaction() as session:
            action = self.load(session, action_id, lock=False)
            payment_id = session.scalar(
                select(DividendPaymentRow.id)
                .where(DividendPaymentRow.action_id == action_id)
                .where(DividendPaymentRow.state == PaymentState.PENDING)
                .order_by(DividendPaymentRow.id)
                .limit(1)
            )
            if payment_id is None:
                action = self.load(session, action_id)
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
                self.move(session, action, ActionState.COMPLETED, f"payments done: {summary}")
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
            ticker = self.load(session, action_id, lock=False).ticker
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
                    payment.updated_at = self.now()
                    action = self.load(session, action_id)
                    self.note(session, action, f"payment to {holder} held: {blocked}")
                return True

        def confirmed(session: Session, action: CorporateActionRow) -> None:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            assert payment is not None
            self.ledger.post(
                session,
                f"ca:{action.id}:pay:{payment.chain_id}:{holder}",
                f"{action.ticker} dividend paid to {holder}",
                [Line(dividend_account(action.id), USD, amount), Line(TREASURY, USD, -amount)],
                at=self.now(),
            )
            payment.state = PaymentState.PAID
            payment.updated_at = self.now()
            self.note(session, action, f"paid {Usd(amount)} USDC to {holder}")

        def failed(session: Session, action: CorporateActionRow, reason: str) -> None:
            payment = session.get(DividendPaymentRow, payment_id, with_for_update=True)
            assert payment is not None
            payment.state = PaymentState.FAILED
            payment.reason = reason
            payment.updated_at = self.now()
            self.note(session, action, f"payment to {holder} failed: {reason}")

        return self.transact(
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
