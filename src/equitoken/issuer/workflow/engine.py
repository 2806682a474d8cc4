"""Advance mint and redeem requests step by step, so that a crash between any two steps loses nothing.

Every step reads the request's state from the database and does one thing whose effect is recorded in
the same database transaction as the new state. Effects outside the database are made idempotent:
- broker orders carry the request id as client order id (resubmitting returns the same order);
- fills are keyed by the broker's fill id;
- custody entries, by their cause ("custody:<fill id>");
- on-chain transactions go through the outbox (signed and stored before broadcast, keyed by purpose),
  and their effect is recorded in the transaction that records their receipt.
So after a restart, `process()` re-runs the step a request was in and finds the work already done.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.brokers.orders import BrokerOrder, OrderRequest, OrderSide, OrderType, TimeInForce
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.outbox import TxStatus
from equitoken.durable.steps import CallOutbox, Step, StepMachine
from equitoken.issuer.chains import TokenChain, allotment, bridging, by_id, in_flight, outstanding
from equitoken.issuer.config import FeeSchedule, IssuerConfig
from equitoken.issuer.custody import (
    BROKER_CASH,
    FEES,
    TREASURY,
    USD,
    CustodyLedger,
    Line,
    custody_account,
    escrow_account,
    issued_account,
    payable_account,
    surplus_account,
)
from equitoken.issuer.errors import InvalidRequestError, RequestNotHeldError, UnknownRequestError
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.workflow.states import HeldResolution, RequestKind, RequestState
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import AttestationRow, FillRow, RequestEventRow, RequestRow


def redemption_account(request_id: str) -> str:
    return f"redemption:{request_id}"


_log = logging.getLogger(__name__)


class Workflow(StepMachine[RequestRow]):
    """The step engine behind `Issuer.process`."""

    row_type = RequestRow
    owner_kind = "request"

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        broker: Broker,
        clock: Clock,
        config: IssuerConfig,
        instruments: Mapping[str, Instrument],
        chains: Sequence[TokenChain] = (),
    ) -> None:
        super().__init__(database, onchain.outbox, clock)
        self.onchain = onchain
        # The chains tokens live on; payments and payouts are on `onchain`, the settlement chain.
        self.chains = by_id(chains or [onchain])
        self.broker = broker
        self.config = config
        self.instruments = instruments
        self.ledger = CustodyLedger()
        self._handlers: dict[tuple[RequestKind, RequestState], Step] = {
            (RequestKind.MINT, RequestState.ACCEPTED): self._collect_payment,
            (RequestKind.MINT, RequestState.PAID): self._place_order,
            (RequestKind.MINT, RequestState.ORDERED): self._follow_order,
            (RequestKind.MINT, RequestState.SETTLING): self._refund,
            (RequestKind.MINT, RequestState.REFUNDING): self._refund_held,
            (RequestKind.REDEEM, RequestState.ACCEPTED): self._burn,
            (RequestKind.REDEEM, RequestState.BURNED): self._place_order,
            (RequestKind.REDEEM, RequestState.ORDERED): self._follow_order,
            (RequestKind.REDEEM, RequestState.SETTLING): self._pay_out,
        }

    # -- the machine

    def outboxes(self) -> Sequence[CallOutbox]:
        return [self.outbox, *(c.outbox for c in self.chains.values() if c.outbox is not self.outbox)]

    def chain_of(self, request: RequestRow) -> TokenChain:
        return self.chains[request.chain_id]

    def open_ids(self, session: Session) -> list[str]:
        """Return the open requests on the chains this workflow serves, oldest first (a process that
        does not reach a chain, e.g. the CLI without Solana, leaves its requests to one that does)."""
        return list(
            session.scalars(
                select(RequestRow.id)
                .where(RequestRow.state.not_in([s.value for s in RequestState if s.is_final]))
                .where(RequestRow.chain_id.in_(list(self.chains)))
                .order_by(RequestRow.created_at, RequestRow.id)
            )
        )

    def step_for(self, row: RequestRow) -> Step | None:
        """Return the step of the request's kind and state; None once it has ended."""
        state = RequestState(row.state)
        return None if state.is_final else self._handlers[(RequestKind(row.kind), state)]

    def event(self, row: RequestRow, at: datetime, to_state: str, reason: str) -> RequestEventRow:
        """Return the request's event of moving to `to_state`."""
        return RequestEventRow(
            request_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    def _ending(self, request: RequestRow) -> RequestState | None:
        """Return how the request must end early (cancelled or expired), if it must."""
        if request.cancel_requested:
            return RequestState.CANCELLED
        if self.now() >= request.expires_at:
            return RequestState.EXPIRED
        return None

    # -- an operator's resolution of a held request

    def resolve(self, request_id: str, resolution: HeldResolution, note: str) -> None:
        """Take a held request out of `held` as `resolution` says; `note` goes on its audit trail.

        `retry` frees the purposes of its reverted transactions and returns it to the state it was
        held in, whose step runs again (on the same fills, custody entries and outbox as before);
        `refund` (a mint only) moves it to `refunding`. Either is recorded once: the row is locked and
        must still be held, so a second resolution is refused.
        """
        resolution = HeldResolution(resolution)
        with self.db.transaction() as session:
            request = session.get(RequestRow, request_id, with_for_update=True)
            if request is None:
                raise UnknownRequestError(f"no request {request_id!r}")
            if request.state != RequestState.HELD:
                raise RequestNotHeldError(f"request {request_id} is {request.state}, not held")
            if resolution is HeldResolution.REFUND:
                if request.kind != RequestKind.MINT:
                    raise InvalidRequestError(
                        f"request {request_id} is a redemption: its tokens are burned and its shares "
                        "sold, so it can only be retried"
                    )
                request.outcome = RequestState.CANCELLED
                self.move(session, request, RequestState.REFUNDING, f"refund by the operator: {note}")
                return
            held_in = session.scalars(
                select(RequestEventRow.from_state)
                .where(RequestEventRow.request_id == request_id)
                .where(RequestEventRow.to_state == RequestState.HELD)
                .order_by(RequestEventRow.id.desc())
                .limit(1)
            ).one()
            assert held_in is not None  # only accepting a request has no state before
            freed = self.outbox.release_failed(session, self.owner(request_id))
            again = f"; sending {', '.join(freed)} again" if freed else ""
            request.reason = None
            self.move(session, request, RequestState(held_in), f"retry by the operator: {note}{again}")

    def _refund_held(self, request_id: str) -> bool:
        """Cancel the broker order, settle custody for every fill, then refund what was not delivered."""
        order = self.broker.order(request_id)
        if order is not None and not order.status.is_final:
            order = self.broker.cancel(request_id)
        if order is not None and self._record_fills(request_id, order):
            return True
        if order is not None and not order.status.is_final:
            return False  # the broker has not confirmed the cancel yet
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            undelivered = list(
                session.scalars(
                    select(FillRow)
                    .where(FillRow.request_id == request_id, FillRow.settled.is_(False))
                    .order_by(FillRow.filled_at, FillRow.id)
                )
            )
            for fill in undelivered:
                if fill.custody_entry_id is None:
                    self._post_custody(session, request, fill)
            kept = Shares(sum(fill.quantity for fill in undelivered))
            kept_cost = Usd(sum(fill.notional_usd for fill in undelivered))
            escrow, filled = Usd(request.escrow_usd), Usd(request.filled_usd)
            delivered = filled - kept_cost
            # Only what was delivered pays a fee; a mint that delivered nothing costs nothing.
            fee = _schedule(request).fee(delivered) if delivered.units else Usd.zero()
            fee = Usd(min(fee.units, (escrow - filled).units))
            refund = escrow - delivered - fee
            wallet, ticker = _payment_wallet(request), request.ticker

        lines = [
            Line(escrow_account(request_id), USD, (escrow - filled).units),
            Line(FEES, USD, -fee.units),
            Line(TREASURY, USD, -refund.units),
        ]
        if kept:
            # The issuer pays for the shares it keeps: their claim moves from the token holders'
            # side to its own surplus, and custody, which holds them, only grows against supply.
            lines += [
                Line(surplus_account(ticker), USD, kept_cost.units),
                Line(issued_account(ticker), ticker, kept.units),
                Line(surplus_account(ticker), ticker, -kept.units),
            ]
        return self._close(
            request_id,
            f"refund for held mint request {request_id}",
            lines,
            fee,
            (wallet, refund),
            RequestState.CANCELLED,
            f"refunded {refund} USDC (fee {fee} USDC on {delivered} USDC delivered); "
            f"{kept} shares bought for undelivered tokens kept in custody as the issuer's surplus",
            purpose=f"refund-held:{request_id}",
        )

    def _close(
        self,
        request_id: str,
        memo: str,
        lines: list[Line],
        fee: Usd,
        payment: tuple[str, Usd],
        outcome: RequestState,
        reason: str,
        *,
        purpose: str,
        crash_sent: str | None = None,
    ) -> bool:
        """End the request once: pay `payment` (wallet, USDC) from the treasury through the outbox under
        `purpose`, post the closing entry and move to `outcome`; hold it if the chain refuses the payment.
        """
        wallet, paid = payment

        def confirmed(session: Session, request: RequestRow) -> None:
            self.ledger.post(
                session, f"close:{request.id}", memo, lines, at=self.now(), request_id=request.id
            )
            request.fee_usd = fee.units
            request.settled_usd = paid.units
            self.move(session, request, outcome, reason)

        if paid.units == 0:
            with self.db.transaction() as session:
                confirmed(session, self.load(session, request_id))
            return True

        failed = self.moves_to(RequestState.HELD, f"{purpose.split(':')[0]} failed")

        return self.transact(
            request_id,
            purpose,
            self.onchain.usdc.transfer,
            (wallet, paid.units),
            self.onchain.roles.operator,
            confirmed,
            failed,
            crash_sent=crash_sent,
        )

    # -- mint steps

    def _collect_payment(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            if self.onchain.outbox.find(session, f"collect:{request_id}") is None:
                ending = self._ending(request)
                if ending is not None:
                    self.move(session, request, ending, f"{ending} before the payment was collected")
                    return True
            wallet, escrow = _payment_wallet(request), request.escrow_usd
        operator = self.onchain.roles.operator

        def confirmed(session: Session, request: RequestRow) -> None:
            self.ledger.post(
                session,
                f"payment:{request.id}",
                f"payment for mint request {request.id}",
                [Line(TREASURY, USD, escrow), Line(escrow_account(request.id), USD, -escrow)],
                at=self.now(),
                request_id=request.id,
            )
            self.move(session, request, RequestState.PAID, f"payment of {Usd(escrow)} USDC collected")

        failed = self.moves_to(RequestState.FAILED, "payment could not be collected")

        progressed = self.transact(
            request_id,
            f"collect:{request_id}",
            self.onchain.usdc.transferFrom,
            (wallet, operator, escrow),
            operator,
            confirmed,
            failed,
        )
        checkpoint("payment_seen")
        return progressed

    def _place_order(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            ending = self._ending(request)
            if ending is not None:
                request.outcome = ending
                what = "payment refunded" if request.kind == RequestKind.MINT else "tokens returned"
                self.move(session, request, RequestState.SETTLING, f"{ending} before the order; {what}")
                return True
            order = self._order_request(request)
        self.broker.submit(order)
        checkpoint("broker_order")
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            side = "buy" if order.side is OrderSide.BUY else "sell"
            self.move(
                session,
                request,
                RequestState.ORDERED,
                f"broker {side} order placed for {order.quantity} shares",
            )
        return True

    def _order_request(self, request: RequestRow) -> OrderRequest:
        quantity = Shares(request.quantity)
        if request.kind == RequestKind.MINT:
            limit = Price(request.quote_price).scaled_bps(self.config.price_buffer_bps)
            return OrderRequest(
                request.id, request.ticker, OrderSide.BUY, quantity, OrderType.LIMIT, limit, TimeInForce.GTC
            )
        if request.limit_price is not None:
            return OrderRequest(
                request.id,
                request.ticker,
                OrderSide.SELL,
                quantity,
                OrderType.LIMIT,
                Price(request.limit_price),
                TimeInForce.GTC,
            )
        return OrderRequest(
            request.id, request.ticker, OrderSide.SELL, quantity, OrderType.MARKET, None, TimeInForce.GTC
        )

    def _follow_order(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            ending = self._ending(request)
            order_request = self._order_request(request)
        order = self.broker.order(request_id) or self.broker.submit(order_request)
        if ending is not None and not order.status.is_final:
            order = self.broker.cancel(request_id)
        if self._record_fills(request_id, order):
            checkpoint("fill")
            return True
        for fill_id in self._unsettled_fills(request_id):
            if self._settle_fill(request_id, fill_id):
                return True
        if not order.status.is_final:
            return False
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            if request.filled_quantity == request.quantity:
                request.outcome = RequestState.COMPLETED
            else:
                request.outcome = ending or RequestState.EXPIRED
            self.move(
                session,
                request,
                RequestState.SETTLING,
                f"broker order {order.status}: "
                f"{Shares(request.filled_quantity)} of {Shares(request.quantity)} shares filled",
            )
        return True

    def _record_fills(self, request_id: str, order: BrokerOrder) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            known = set(session.scalars(select(FillRow.id).where(FillRow.request_id == request_id)))
            new = [fill for fill in order.fills if fill.fill_id not in known]
            if not new:
                return False
            decimals = self.instruments[request.ticker].token_decimals
            # Raw units for the shares under the multiplier in force: a split later scales custody
            # and the multiplier together, so the units recorded here stay backed.
            multiplier = self.chain_of(request).multiplier(request.ticker)
            for fill in new:
                before = Shares(request.filled_quantity)
                after = before + fill.quantity
                # Tokens follow the cumulative fill, so parts that split a token unit still add up.
                tokens = (
                    TokenAmount.backed_by(after, decimals, multiplier).raw
                    - TokenAmount.backed_by(before, decimals, multiplier).raw
                )
                notional = fill.notional(round_up=request.kind == RequestKind.MINT)
                session.add(
                    FillRow(
                        id=fill.fill_id,
                        request_id=request_id,
                        quantity=fill.quantity.units,
                        price=fill.price.units,
                        notional_usd=notional.units,
                        token_amount=tokens,
                        filled_at=fill.at,
                        recorded_at=self.now(),
                    )
                )
                request.filled_quantity = after.units
                request.filled_usd += notional.units
                self.note(session, request, f"fill {fill.fill_id}: {fill.quantity} shares at {fill.price}")
            return True

    def _unsettled_fills(self, request_id: str) -> list[str]:
        with self.db.transaction() as session:
            return list(
                session.scalars(
                    select(FillRow.id)
                    .where(FillRow.request_id == request_id, FillRow.settled.is_(False))
                    .order_by(FillRow.filled_at, FillRow.id)
                )
            )

    def _settle_fill(self, request_id: str, fill_id: str) -> bool:
        """Take one fill one step further: custody entry, then reserve push, then mint (for a mint)."""
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            fill = session.get(FillRow, fill_id, with_for_update=True)
            assert fill is not None
            if fill.custody_entry_id is None:
                self._post_custody(session, request, fill)
                custody_posted = True
            else:
                custody_posted = False
            ticker, wallet, tokens, kind = request.ticker, request.wallet, fill.token_amount, request.kind
            chain = self.chain_of(request)
        if custody_posted:
            checkpoint("custody_entry")
            return True
        pushed = self._push_reserve(request_id, chain, ticker, f"reserve:{fill_id}")
        if pushed is not None:
            return pushed
        if kind == RequestKind.REDEEM or tokens == 0:
            with self.db.transaction() as session:
                fill = session.get(FillRow, fill_id, with_for_update=True)
                assert fill is not None
                fill.settled = True
            return True
        purpose = f"mint:{fill_id}"
        with self.db.transaction() as session:
            if chain.outbox.find(session, purpose) is None:
                beyond = self._beyond_allotment(session, chain, ticker, fill_id)
                if beyond is not None:
                    self.move(session, self.load(session, request_id), RequestState.HELD, beyond)
                    return True

        def confirmed(session: Session, request: RequestRow) -> None:
            fill = session.get(FillRow, fill_id, with_for_update=True)
            assert fill is not None
            fill.settled = True
            request.tokens_settled += tokens
            self.note(session, request, f"minted {tokens} token units for fill {fill_id}")
            if not chain.has_reserve_feed:
                # No feed to push to: the attestation is the record the proofs publish, of the
                # allotment this mint was checked against, with the mint that it covers.
                transaction = chain.outbox.find(session, purpose)
                assert transaction is not None
                custody = self._allotment(session, chain, ticker)
                session.add(
                    AttestationRow(
                        ticker=ticker,
                        chain_id=chain.chain_id,
                        custody_shares=custody.units,
                        reserve_amount=self._reserve_amount(chain, ticker, custody),
                        observed_at=chain.observation_time(self.now()),
                        transaction_id=transaction.id,
                        created_at=self.now(),
                    )
                )

        # The shares are in custody and the tokens could not be delivered (e.g. the wallet was
        # frozen meanwhile): backing is intact, an operator decides what happens next.
        failed = self.moves_to(RequestState.HELD, "mint refused, shares kept in custody")

        return self.transact_call(
            chain.outbox,
            request_id,
            purpose,
            chain.mint_call(ticker, wallet, tokens),
            confirmed,
            failed,
            crash_sent="mint_sent",
            crash_mined="before_confirmation",
        )

    def _beyond_allotment(self, session: Session, chain: TokenChain, ticker: str, fill_id: str) -> str | None:
        """Say why minting fill `fill_id` would take `chain` beyond its allotment of custody; None if
        it would not. Every chain is checked before a mint is signed: where a reserve feed gates mints
        on-chain this is a second guard, on Solana it is the only one."""
        decimals = self.instruments[ticker].token_decimals
        allotted = self._allotment(session, chain, ticker)
        fill = session.get(FillRow, fill_id)
        assert fill is not None
        needed = (
            outstanding(chain, ticker, decimals)
            + in_flight(session, ticker, chain.chain_id, excluding=fill_id)
            + bridging(session, chain, ticker, decimals)
            + Shares(fill.quantity)
        )
        if needed <= allotted:
            return None
        return (
            f"mint held: {ticker} on chain {chain.chain_id} would stand for {needed} shares, "
            f"beyond its allotment of {allotted} shares of custody"
        )

    def _post_custody(self, session: Session, request: RequestRow, fill: FillRow) -> None:
        ticker, q, n = request.ticker, fill.quantity, fill.notional_usd
        if request.kind == RequestKind.MINT:
            lines = [
                Line(custody_account(ticker), ticker, q),
                Line(issued_account(ticker), ticker, -q),
                Line(escrow_account(request.id), USD, n),
                Line(BROKER_CASH, USD, -n),
            ]
            memo = f"bought {Shares(q)} {ticker} at {Price(fill.price)} for mint request {request.id}"
        else:
            lines = [
                Line(redemption_account(request.id), ticker, q),
                Line(custody_account(ticker), ticker, -q),
                Line(BROKER_CASH, USD, n),
                Line(payable_account(request.id), USD, -n),
            ]
            memo = f"sold {Shares(q)} {ticker} at {Price(fill.price)} for redeem request {request.id}"
        entry = self.ledger.post(
            session, f"custody:{fill.id}", memo, lines, at=self.now(), request_id=request.id, fill_id=fill.id
        )
        fill.custody_entry_id = entry.id

    def _push_reserve(self, request_id: str, chain: TokenChain, ticker: str, purpose: str) -> bool | None:
        """Attest the chain's allotment of custody to its reserve feed unless it already says so; None
        once it does, or on a chain without a feed (its mint records the attestation instead)."""
        if not chain.has_reserve_feed:
            return None
        with self.db.transaction() as session:
            existing = chain.outbox.find(session, purpose)
            if existing is not None and existing.status == TxStatus.CONFIRMED:
                return None
            custody = self._allotment(session, chain, ticker)
        reserve = self._reserve_amount(chain, ticker, custody)
        observed_at = chain.observation_time(self.now())
        call = chain.attestation_call(ticker, reserve, observed_at)

        def confirmed(session: Session, request: RequestRow) -> None:
            self._record_attestation(session, chain, ticker, purpose, custody, reserve, observed_at)

        failed = self.moves_to(RequestState.HELD, "reserve attestation refused")

        return self.transact_call(
            chain.outbox, request_id, purpose, call, confirmed, failed, crash_sent="reserve_push"
        )

    def bridge_shortfall(self, chain_id: int, ticker: str) -> str | None:
        """Say why the bridge transfers in flight to `chain_id` may not all land there now (the chain
        would stand for more than its allotment of custody); None if they may."""
        chain = self.chains[chain_id]
        decimals = self.instruments[ticker].token_decimals
        with self.db.transaction() as session:
            allotted = self._allotment(session, chain, ticker)
            needed = (
                outstanding(chain, ticker, decimals)
                + in_flight(session, ticker, chain_id)
                + bridging(session, chain, ticker, decimals)
            )
        if needed <= allotted:
            return None
        return (
            f"{ticker} on chain {chain_id} would stand for {needed} shares, "
            f"beyond its allotment of {allotted}"
        )

    def attest_allotment(self, chain_id: int, ticker: str, purpose: str) -> bool:
        """Attest `chain_id`'s allotment of `ticker`'s custody to its reserve feed, once for `purpose`;
        return whether this call sent it (False if an earlier one did, or the chain has no feed)."""
        chain = self.chains[chain_id]
        if not chain.has_reserve_feed:
            return False
        with self.db.transaction() as session:
            custody = self._allotment(session, chain, ticker)
        reserve = self._reserve_amount(chain, ticker, custody)
        observed_at = chain.observation_time(self.now())
        return self._refresh_reserve(
            chain, ticker, purpose, custody, reserve, observed_at, crash_sent="bridge_reserve_sent"
        )

    def refresh_reserves(self, older_than: int) -> list[str]:
        """Attest custody again to each reserve feed whose latest observation is `older_than` seconds old
        or more; return what was attested, as "<ticker> on chain <id>".

        Fills attest custody as they settle; this keeps a feed within its heartbeat when none has, so
        mints stay possible and venues that read reserve health (lending) do not pause borrows. Each
        refresh is one outbox purpose per chain, ticker and `older_than` window of chain time: a crash
        between signing and the receipt finishes the same transaction on the next run.
        """
        if older_than <= 0:
            raise ValueError(f"older_than must be a positive number of seconds, not {older_than}")
        attested: list[str] = []
        for chain in self.chains.values():
            if not chain.has_reserve_feed:
                continue
            observed_at = chain.observation_time(self.now())
            for ticker in (t for t in chain.tickers if t in self.instruments):
                latest = chain.reserve_observed_at(ticker)
                if latest is not None and observed_at - latest < older_than:
                    continue
                purpose = f"reserve-refresh:{chain.chain_id}:{ticker}:{observed_at // older_than}"
                with self.db.transaction() as session:
                    custody = self._allotment(session, chain, ticker)
                reserve = self._reserve_amount(chain, ticker, custody)
                if self._refresh_reserve(chain, ticker, purpose, custody, reserve, observed_at):
                    attested.append(f"{ticker} on chain {chain.chain_id}")
        return attested

    def _refresh_reserve(
        self,
        chain: TokenChain,
        ticker: str,
        purpose: str,
        custody: Shares,
        reserve: int,
        observed_at: int,
        crash_sent: str | None = None,
    ) -> bool:
        def confirmed(session: Session, _: None) -> None:
            self._record_attestation(session, chain, ticker, purpose, custody, reserve, observed_at)

        def failed(session: Session, _: None, reason: str) -> None:
            _log.warning("the reserve refresh of %s on chain %s failed: %s", ticker, chain.chain_id, reason)

        return chain.outbox.run_call(
            self.db,
            purpose,
            chain.attestation_call(ticker, reserve, observed_at),
            owner=None,
            now=self.now,
            load=lambda session: None,
            on_confirmed=confirmed,
            on_failed=failed,
            crash_sent=crash_sent,
        )

    def _record_attestation(
        self,
        session: Session,
        chain: TokenChain,
        ticker: str,
        purpose: str,
        custody: Shares,
        reserve: int,
        observed_at: int,
    ) -> None:
        transaction = chain.outbox.find(session, purpose)
        assert transaction is not None
        session.add(
            AttestationRow(
                ticker=ticker,
                chain_id=chain.chain_id,
                custody_shares=custody.units,
                reserve_amount=reserve,
                observed_at=observed_at,
                transaction_id=transaction.id,
                created_at=self.now(),
            )
        )

    def _allotment(self, session: Session, chain: TokenChain, ticker: str) -> Shares:
        decimals = self.instruments[ticker].token_decimals
        backing = Shares(self.ledger.backing(session, ticker))
        return allotment(session, backing, list(self.chains.values()), chain.chain_id, ticker, decimals)

    def _reserve_amount(self, chain: TokenChain, ticker: str, custody: Shares) -> int:
        # The feed reports custody in raw token units divided by the UI multiplier, so that
        # supply * multiplier <= custody is what the token's secure-mint gate enforces.
        decimals = self.instruments[ticker].token_decimals
        return TokenAmount.backed_by(custody, decimals, chain.multiplier(ticker)).raw

    def _refund(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            escrow, filled = Usd(request.escrow_usd), Usd(request.filled_usd)
            fee = _schedule(request).fee(filled)
            fee = Usd(min(fee.units, (escrow - filled).units))
            refund = escrow - filled - fee
            wallet, outcome = (
                _payment_wallet(request),
                RequestState(request.outcome or RequestState.COMPLETED),
            )

        return self._close(
            request_id,
            f"fee and refund for mint request {request_id}",
            [
                Line(escrow_account(request_id), USD, fee.units + refund.units),
                Line(FEES, USD, -fee.units),
                Line(TREASURY, USD, -refund.units),
            ],
            fee,
            (wallet, refund),
            outcome,
            f"{outcome}: fee {fee} USDC, refunded {refund} USDC",
            purpose=f"refund:{request_id}",
            crash_sent="refund_sent",
        )

    # -- redeem steps

    def _burn(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            if self.onchain.outbox.find(session, f"burn:{request_id}") is None:
                ending = self._ending(request)
                if ending is not None:
                    self.move(session, request, ending, f"{ending} before the tokens were burned")
                    return True
            wallet, tokens, ticker, quantity = (
                request.wallet,
                request.token_amount,
                request.ticker,
                request.quantity,
            )
            chain = self.chain_of(request)

        def confirmed(session: Session, request: RequestRow) -> None:
            self.ledger.post(
                session,
                f"burn:{request.id}",
                f"burned {tokens} {ticker} token units for redeem request {request.id}",
                [
                    Line(issued_account(ticker), ticker, quantity),
                    Line(redemption_account(request.id), ticker, -quantity),
                ],
                at=self.now(),
                request_id=request.id,
            )
            self.move(session, request, RequestState.BURNED, f"{tokens} token units burned")

        failed = self.moves_to(RequestState.FAILED, "tokens could not be burned")

        progressed = self.transact_call(
            chain.outbox,
            request_id,
            f"burn:{request_id}",
            chain.burn_call(ticker, wallet, tokens),
            confirmed,
            failed,
        )
        checkpoint("tokens_burned")
        return progressed

    def _pay_out(self, request_id: str) -> bool:
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            decimals = self.instruments[request.ticker].token_decimals
            unsold = Shares(request.quantity - request.filled_quantity)
            ticker, wallet, payee = request.ticker, request.wallet, _payment_wallet(request)
            chain = self.chain_of(request)
            # A redemption returns its unsold part once: tokens_settled counts only that return.
            returned = request.tokens_settled > 0
        if not returned:
            multiplier = chain.multiplier(ticker)
            return_tokens = TokenAmount.backed_by(unsold, decimals, multiplier).raw
            if return_tokens:
                # A fresh attestation first: the last one may be older than the token's heartbeat.
                pushed = self._push_reserve(request_id, chain, ticker, f"reserve:return:{request_id}")
                if pushed is not None:
                    return pushed
                shares = TokenAmount(return_tokens, decimals).shares(multiplier)
                return self._return_tokens(request_id, chain, ticker, wallet, return_tokens, shares)
        with self.db.transaction() as session:
            request = self.load(session, request_id)
            proceeds = Usd(-self.ledger.balance(session, payable_account(request_id), USD))
            fee = _schedule(request).fee(proceeds)
            fee = Usd(min(fee.units, proceeds.units))
            payout = proceeds - fee
            outcome = RequestState(request.outcome or RequestState.COMPLETED)
            dust = Shares(-self.ledger.balance(session, redemption_account(request_id), ticker))

        lines = [
            Line(payable_account(request_id), USD, proceeds.units),
            Line(FEES, USD, -fee.units),
            Line(TREASURY, USD, -payout.units),
        ]
        if dust:
            # Unsold shares finer than one token unit stay in custody as the issuer's surplus.
            lines += [
                Line(redemption_account(request_id), ticker, dust.units),
                Line(surplus_account(ticker), ticker, -dust.units),
            ]
        return self._close(
            request_id,
            f"fee and payout for redeem request {request_id}",
            lines,
            fee,
            (payee, payout),
            outcome,
            f"{outcome}: fee {fee} USDC, paid out {payout} USDC",
            purpose=f"payout:{request_id}",
            crash_sent="payout_sent",
        )

    def _return_tokens(
        self, request_id: str, chain: TokenChain, ticker: str, wallet: str, tokens: int, shares: Shares
    ) -> bool:
        def confirmed(session: Session, request: RequestRow) -> None:
            self.ledger.post(
                session,
                f"return:{request.id}",
                f"minted back {tokens} unsold {ticker} token units for redeem request {request.id}",
                [
                    Line(redemption_account(request.id), ticker, shares.units),
                    Line(issued_account(ticker), ticker, -shares.units),
                ],
                at=self.now(),
                request_id=request.id,
            )
            request.tokens_settled += tokens
            self.note(session, request, f"returned {tokens} unsold token units")

        failed = self.moves_to(RequestState.HELD, "unsold tokens could not be returned")

        return self.transact_call(
            chain.outbox,
            request_id,
            f"return:{request_id}",
            chain.mint_call(ticker, wallet, tokens),
            confirmed,
            failed,
        )


def _payment_wallet(request: RequestRow) -> str:
    """Return the wallet on the settlement chain that pays for the request and is paid."""
    return request.payment_wallet or request.wallet


def _schedule(request: RequestRow) -> FeeSchedule:
    # The schedule quoted when the request was accepted, whatever the configuration says today.
    return FeeSchedule(Usd(request.fee_flat_usd), request.fee_bps)
