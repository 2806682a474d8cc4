"""Hedge attestation flows through the broker, one recorded step at a time, so a kill between any two
steps loses nothing and repeats nothing.

Per quote row: quoted -> executed (its attestation id is used on-chain: the flow happened exactly as
signed; the inventory entry is posted) -> hedging (the broker order is placed under a client order id
derived from the attestation id, so resubmitting returns the same order) -> hedged (every fill is
recorded under the broker's fill id and posted to custody once, under "custody:<fill id>", and the
reserve feed attests custody afterwards through the outbox) | expired (the quote's expiry passed
on-chain unused). A restock row starts at executed: a buy for the inventory with no flow before it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import OrderRejectedError
from equitoken.brokers.orders import BrokerOrder, OrderRequest, OrderSide, OrderType, TimeInForce
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.outbox import TxStatus
from equitoken.durable.steps import Step, StepMachine
from equitoken.issuer.attestation.deployment import MinterDeployment, minter_at
from equitoken.issuer.attestation.ledger import execution_lines, fill_lines
from equitoken.issuer.attestation.states import HedgeKind, HedgeState
from equitoken.issuer.chains import TokenChain, allotment
from equitoken.issuer.custody import CustodyLedger
from equitoken.issuer.onchain import IssuerChain
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import (
    AttestationFillRow,
    AttestationQuoteEventRow,
    AttestationQuoteRow,
    AttestationRow,
)

CLIENT_ORDER_PREFIX = "att-"


def client_order_id(quote_id: str) -> str:
    """Return the broker's client order id of a quote's hedge: "att-" and the first 40 hex digits of
    the attestation id (brokers take 48 characters at most; 160 random bits stay unique)."""
    digits = quote_id.removeprefix("0x").removeprefix("restock-")
    return f"{CLIENT_ORDER_PREFIX}{digits[:40]}"


def hedge_side(kind: HedgeKind) -> OrderSide:
    """Return what the hedge of `kind` does at the broker: buy back what a mint drew (or a restock
    adds), sell what a redemption returned."""
    return OrderSide.SELL if kind is HedgeKind.REDEEM else OrderSide.BUY


class Hedger(StepMachine[AttestationQuoteRow]):
    """Advance attestation quotes from signed to hedged."""

    row_type = AttestationQuoteRow
    owner_kind = "attestation"

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        minters: MinterDeployment,
        broker: Broker,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        chains: Sequence[TokenChain] = (),
    ) -> None:
        super().__init__(database, onchain.outbox, clock)
        self.onchain = onchain
        self.minters = minters
        self.broker = broker
        self.instruments = instruments
        # Every chain the tickers live on, for each chain's allotment of custody.
        self.chains: tuple[TokenChain, ...] = tuple(chains) or (onchain,)
        self.ledger = CustodyLedger()
        self._steps: dict[HedgeState, Step] = {
            HedgeState.QUOTED: self._watch,
            HedgeState.EXECUTED: self._place_order,
            HedgeState.HEDGING: self._follow_order,
        }

    def open_ids(self, session: Session) -> list[str]:
        """Return the quotes not ended, oldest first."""
        return list(
            session.scalars(
                select(AttestationQuoteRow.id)
                .where(AttestationQuoteRow.state.not_in([s.value for s in HedgeState if s.is_final]))
                .order_by(AttestationQuoteRow.created_at, AttestationQuoteRow.id)
            )
        )

    def step_for(self, row: AttestationQuoteRow) -> Step | None:
        """Return the step of the quote's state; None once it has ended."""
        state = HedgeState(row.state)
        return None if state.is_final else self._steps[state]

    def event(
        self, row: AttestationQuoteRow, at: datetime, to_state: str, reason: str
    ) -> AttestationQuoteEventRow:
        """Return the quote's event of moving to `to_state`."""
        return AttestationQuoteEventRow(
            quote_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    # -- quoted: watch the chain

    def _watch(self, quote_id: str) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, quote_id, lock=False)
            ticker, minter_address, expiry = row.ticker, row.minter, row.expiry
        minter = minter_at(self.onchain.chain, minter_address, ticker)
        # The time first, then the id: a quote unused in a block later than its expiry can never be
        # used, whereas reading the id first could miss a use mined in between.
        chain_time = self.onchain.chain.timestamp()
        used = bool(minter.attestation_used(bytes.fromhex(quote_id.removeprefix("0x"))))
        if not used and chain_time <= expiry:
            return False
        with self.db.transaction() as session:
            row = self.load(session, quote_id)
            if row.state != HedgeState.QUOTED:
                return False
            if not used:
                self.move(session, row, HedgeState.EXPIRED, f"expired unused at chain time {chain_time}")
                return True
            kind = HedgeKind(row.kind)
            self.ledger.post(
                session,
                f"attestation:{row.id}",
                f"attestation {kind} of {Shares(row.shares)} {ticker} for {Usd(row.notional_usd)} USDC",
                execution_lines(kind, ticker, row.shares, row.notional_usd),
                at=self.now(),
            )
            what = "minted to" if kind is HedgeKind.MINT else "redeemed by"
            self.move(
                session,
                row,
                HedgeState.EXECUTED,
                f"{row.quantity} token units {what} {row.wallet} on-chain for {Usd(row.notional_usd)} USDC",
            )
        checkpoint("attestation_executed")
        return True

    # -- executed: place the hedge

    def _order(self, row: AttestationQuoteRow) -> OrderRequest:
        side = hedge_side(HedgeKind(row.kind))
        return OrderRequest(
            client_order_id(row.id),
            row.ticker,
            side,
            Shares(row.shares),
            OrderType.MARKET,
            None,
            TimeInForce.GTC,
        )

    def _place_order(self, quote_id: str) -> bool:
        with self.db.transaction() as session:
            order = self._order(self.load(session, quote_id, lock=False))
        try:
            self.broker.submit(order)
        except OrderRejectedError as error:
            # Nothing was placed (e.g. a sale of shares the account does not hold yet): the row stays
            # executed, saying why, and the order is asked for again on the next pass.
            with self.db.transaction() as session:
                self.load(session, quote_id).reason = f"broker refused the hedge order: {error}"
            return False
        checkpoint("attestation_hedge_order")
        with self.db.transaction() as session:
            row = self.load(session, quote_id)
            if row.state != HedgeState.EXECUTED:
                return False
            row.reason = None
            self.move(
                session,
                row,
                HedgeState.HEDGING,
                f"broker {order.side} order {order.client_order_id} placed for {order.quantity} shares",
            )
        return True

    # -- hedging: fills, custody, reserve

    def _follow_order(self, quote_id: str) -> bool:
        with self.db.transaction() as session:
            request = self._order(self.load(session, quote_id, lock=False))
        order = self.broker.order(request.client_order_id) or self.broker.submit(request)
        if self._record_fills(quote_id, order):
            checkpoint("attestation_fill")
            return True
        if self._post_one_fill(quote_id, request.side is OrderSide.BUY):
            checkpoint("attestation_custody_entry")
            return True
        if not order.status.is_final:
            return False
        pushed = self._push_reserve(quote_id, request.ticker)
        if pushed is not None:
            return pushed
        with self.db.transaction() as session:
            row = self.load(session, quote_id)
            if row.state != HedgeState.HEDGING:
                return False
            self.move(
                session,
                row,
                HedgeState.HEDGED,
                f"broker order {order.status}: {Shares(row.filled_shares)} of {Shares(row.shares)} shares "
                f"{request.side} for {Usd(row.filled_usd)} USDC; reserve attested",
            )
        return True

    def _record_fills(self, quote_id: str, order: BrokerOrder) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, quote_id)
            known = set(
                session.scalars(select(AttestationFillRow.id).where(AttestationFillRow.quote_id == quote_id))
            )
            new = [fill for fill in order.fills if fill.fill_id not in known]
            if not new:
                return False
            for fill in new:
                notional = fill.notional(round_up=order.side is OrderSide.BUY)
                session.add(
                    AttestationFillRow(
                        id=fill.fill_id,
                        quote_id=quote_id,
                        quantity=fill.quantity.units,
                        price=fill.price.units,
                        notional_usd=notional.units,
                        filled_at=fill.at,
                        recorded_at=self.now(),
                    )
                )
                row.filled_shares += fill.quantity.units
                row.filled_usd += notional.units
                self.note(session, row, f"fill {fill.fill_id}: {fill.quantity} shares at {fill.price}")
            return True

    def _post_one_fill(self, quote_id: str, buy: bool) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, quote_id)
            fill = session.scalars(
                select(AttestationFillRow)
                .where(AttestationFillRow.quote_id == quote_id, AttestationFillRow.custody_entry_id.is_(None))
                .order_by(AttestationFillRow.filled_at, AttestationFillRow.id)
                .limit(1)
            ).one_or_none()
            if fill is None:
                return False
            what = "bought" if buy else "sold"
            entry = self.ledger.post(
                session,
                f"custody:{fill.id}",
                f"{what} {Shares(fill.quantity)} {row.ticker} at {Price(fill.price)} "
                f"to hedge attestation {row.id}",
                fill_lines(buy, row.ticker, fill.quantity, fill.notional_usd),
                at=self.now(),
                fill_id=fill.id,
            )
            fill.custody_entry_id = entry.id
            return True

    def _push_reserve(self, quote_id: str, ticker: str) -> bool | None:
        """Attest this chain's allotment of custody to the reserve feed once for the hedge; None once it
        is attested. A refusal ends the hedge (its shares are in custody; the next hedge or the
        workflow's refresh attests again), saying why."""
        purpose = f"reserve:attestation:{quote_id}"
        chain = self.onchain
        with self.db.transaction() as session:
            existing = chain.outbox.find(session, purpose)
            if existing is not None and existing.status == TxStatus.CONFIRMED:
                return None
            decimals = self.instruments[ticker].token_decimals
            backing = Shares(self.ledger.backing(session, ticker))
            custody = allotment(session, backing, list(self.chains), chain.chain_id, ticker, decimals)
        reserve = TokenAmount.backed_by(custody, decimals, chain.multiplier(ticker)).raw
        observed_at = chain.observation_time(self.now())

        def confirmed(session: Session, row: AttestationQuoteRow) -> None:
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
            self.note(session, row, f"reserve feed attests {custody} shares of custody")

        def failed(session: Session, row: AttestationQuoteRow, reason: str) -> None:
            self.move(
                session,
                row,
                HedgeState.HEDGED,
                f"hedged: {Shares(row.filled_shares)} of {Shares(row.shares)} shares in custody; "
                f"reserve attestation refused: {reason}",
            )

        return self.transact_call(
            chain.outbox,
            quote_id,
            purpose,
            chain.attestation_call(ticker, reserve, observed_at),
            confirmed,
            failed,
            crash_sent="attestation_reserve_sent",
        )
