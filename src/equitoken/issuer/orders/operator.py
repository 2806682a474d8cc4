"""The order processor's operator: fill every order placed on-chain from broker fills, exactly once.

An order is a durable row (`ProcessorOrderRow`) advanced by the step machine:

    open --(broker order placed)--> ordered --(broker order ended, every fill settled)--> closing
    closing --(nothing left open on-chain, or the remainder cancelled and refunded)--> filled | cancelled
    any fill or cancel the chain refuses --> held (an operator looks)

`discover` reads the orders the processor numbered since the last pass and records them with the cursor
in one database transaction. The broker order's client id is the row's id, so placing it again returns
the same order; fills are keyed by the broker's fill id; each on-chain `fill_order` and `cancel_order`
goes through the outbox under a purpose named by the fill or the order. So a process killed at any point
finishes on restart what it started, and nothing is bought, minted, burned or paid twice.

Backing: a buy fill's shares enter custody (and the reserve feed is raised to the chain's allotment)
before `fill_order` mints its tokens, so tokens never stand for shares not held. A sell's tokens sit in
the processor's escrow, out of holders' hands, from the order's creation; the sold shares leave custody
in the database transaction that records the burn, as the broker settles a sale a day later.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.brokers.errors import OrderRejectedError
from equitoken.brokers.orders import BrokerOrder, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from equitoken.chain.evm.contract import Contract
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.steps import Step, StepMachine
from equitoken.issuer.custody import (
    BROKER_CASH,
    TREASURY,
    USD,
    CustodyLedger,
    Line,
    custody_account,
    issued_account,
    surplus_account,
)
from equitoken.issuer.errors import InvalidRequestError, IssuerError
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.orders.quoter import limit_per_share
from equitoken.issuer.orders.terms import (
    ProcessorOrder,
    ProcessorStatus,
    ProcessorTimeInForce,
)
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import ProcessorCursorRow, ProcessorEventRow, ProcessorFillRow, ProcessorOrderRow

ORDER_REVENUE = "revenue:order-processor"
"""What the issuer earns (fees) or gives up (rounding, a market buy's price move) on processor orders."""
DEFAULT_PRICE_BUFFER_BPS = 100
"""How far above the last price a market buy's shares are sized, so its fills stay within its USDC."""


FIRST_ORDER_ID = 1
"""The processor numbers orders from 1."""


def client_order_id(row_id: str) -> str:
    """Return the broker's client order id for the processor order `row_id` (within its 48 characters)."""
    return "op-" + hashlib.sha256(row_id.encode()).hexdigest()[:40]


def receivable_account(order_row_id: str) -> str:
    """The USDC the processor owes the issuer for an order's bought shares, until its fill is mined."""
    return f"processor:{order_row_id}"


class OrderState(StrEnum):
    OPEN = "open"
    ORDERED = "ordered"
    CLOSING = "closing"
    FILLED = "filled"
    CANCELLED = "cancelled"
    HELD = "held"

    @property
    def is_final(self) -> bool:
        return self in (OrderState.FILLED, OrderState.CANCELLED, OrderState.HELD)


class OrderResolution(StrEnum):
    """What an operator does with a held order."""

    RETRY = "retry"
    CANCEL = "cancel"


class UnknownProcessorOrderError(IssuerError, LookupError):
    code = "unknown_processor_order"


class OrderNotHeldError(IssuerError):
    code = "processor_order_not_held"


class ReserveAttester(Protocol):
    """The issuer's part: raise a chain's reserve feed to its allotment (`issuer.service.Issuer`)."""

    def attest_allotment(self, chain_id: int, ticker: str, purpose: str) -> bool: ...


@dataclass(frozen=True)
class OrderView:
    """A processor order as the operator sees it."""

    id: str
    order_id: int
    ticker: str
    requester: str
    sell: bool
    order_type: str
    time_in_force: str
    state: OrderState
    filled_asset: int
    filled_payment: int
    reason: str | None


class ProcessorOperator(StepMachine[ProcessorOrderRow]):
    """Discover the processor's orders and fill or cancel each from the broker, once."""

    row_type = ProcessorOrderRow
    owner_kind = "processor-order"

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        processor: Contract,
        broker: Broker,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        reserves: ReserveAttester,
        prices: PriceSource,
        *,
        price_buffer_bps: int = DEFAULT_PRICE_BUFFER_BPS,
    ) -> None:
        super().__init__(database, onchain.outbox, clock)
        self.onchain = onchain
        self.processor = processor
        self.broker = broker
        self.instruments = instruments
        self.reserves = reserves
        self.prices = prices
        self.price_buffer_bps = price_buffer_bps
        self.ledger = CustodyLedger()
        self._tickers = {
            d.token.lower(): d.ticker for d in onchain.deployment.instruments if d.ticker in instruments
        }
        self._steps: dict[OrderState, Step] = {
            OrderState.OPEN: self._place,
            OrderState.ORDERED: self._follow,
            OrderState.CLOSING: self._close,
        }

    # -- the machine

    def open_ids(self, session: Session) -> list[str]:
        return list(
            session.scalars(
                select(ProcessorOrderRow.id)
                .where(ProcessorOrderRow.state.in_([OrderState.OPEN, OrderState.ORDERED, OrderState.CLOSING]))
                .where(ProcessorOrderRow.processor == self.processor.address)
                .order_by(ProcessorOrderRow.order_id)
            )
        )

    def step_for(self, row: ProcessorOrderRow) -> Step | None:
        return self._steps.get(OrderState(row.state))

    def event(self, row: ProcessorOrderRow, at: datetime, to_state: str, reason: str) -> ProcessorEventRow:
        return ProcessorEventRow(
            order_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    def process(self) -> int:
        """Record the orders placed since the last pass, then advance every open one."""
        return self.discover() + super().process()

    # -- reading

    def orders(self, *, open_only: bool = False) -> list[OrderView]:
        """Return the processor's orders, oldest first."""
        with self.db.transaction() as session:
            query = select(ProcessorOrderRow).where(ProcessorOrderRow.processor == self.processor.address)
            if open_only:
                query = query.where(
                    ProcessorOrderRow.state.in_([OrderState.OPEN, OrderState.ORDERED, OrderState.CLOSING])
                )
            rows = session.scalars(query.order_by(ProcessorOrderRow.order_id))
            return [
                OrderView(
                    r.id,
                    r.order_id,
                    r.ticker,
                    r.requester,
                    r.sell,
                    r.order_type,
                    r.time_in_force,
                    OrderState(r.state),
                    r.filled_asset,
                    r.filled_payment,
                    r.reason,
                )
                for r in rows
            ]

    def resolve(self, order_id: int, resolution: OrderResolution | str, note: str) -> OrderView:
        """Take a held order out of `held` as `resolution` says; `note` goes on its audit trail.

        `retry` frees the purposes of its reverted transactions and returns it to the step it was held
        in, which runs again on the same fills and custody entries. `cancel` (not for a sell with fills,
        whose shares the broker has sold) keeps the shares of the fills not minted as the issuer's
        surplus and closes the order, which refunds the requester what was not delivered. Either is
        recorded once: the row is locked and must still be held.
        """
        resolution = OrderResolution(resolution)
        row_id = self.row_id(order_id)
        with self.db.transaction() as session:
            row = session.get(ProcessorOrderRow, row_id, with_for_update=True)
            if row is None:
                raise UnknownProcessorOrderError(f"no processor order {order_id}")
            if row.state != OrderState.HELD:
                raise OrderNotHeldError(f"processor order {order_id} is {row.state}, not held")
            unsettled = list(
                session.scalars(
                    select(ProcessorFillRow).where(
                        ProcessorFillRow.order_id == row_id, ProcessorFillRow.settled.is_(False)
                    )
                )
            )
            if resolution is OrderResolution.CANCEL:
                if row.sell and unsettled:
                    raise InvalidRequestError(
                        f"processor order {order_id} sold shares at the broker whose tokens are not burned: "
                        "it can only be retried"
                    )
                row.reason = None
                self.move(session, row, OrderState.CLOSING, f"cancel by the operator: {note}")
            else:
                held_in = session.scalars(
                    select(ProcessorEventRow.from_state)
                    .where(
                        ProcessorEventRow.order_id == row_id, ProcessorEventRow.to_state == OrderState.HELD
                    )
                    .order_by(ProcessorEventRow.id.desc())
                    .limit(1)
                ).one()
                assert held_in is not None  # only an order's discovery has no state before
                freed = self.outbox.release_failed(session, self.owner(row_id))
                again = f"; sending {', '.join(freed)} again" if freed else ""
                row.reason = None
                self.move(session, row, OrderState(held_in), f"retry by the operator: {note}{again}")
        return next(v for v in self.orders() if v.id == row_id)

    def _keep_as_surplus(self, session: Session, row: ProcessorOrderRow, fill: ProcessorFillRow) -> None:
        """Make a bought fill that will not be minted the issuer's own: its shares back no token."""
        ticker, shares, notional = row.ticker, fill.shares, fill.notional_usd
        if fill.custody_entry_id is None:  # bought, never booked: into custody as the issuer's
            lines = [
                Line(custody_account(ticker), ticker, shares),
                Line(surplus_account(ticker), ticker, -shares),
                Line(surplus_account(ticker), USD, notional),
                Line(BROKER_CASH, USD, -notional),
            ]
        else:  # booked for the token holders: the claim moves to the issuer
            lines = [
                Line(issued_account(ticker), ticker, shares),
                Line(surplus_account(ticker), ticker, -shares),
                Line(surplus_account(ticker), USD, notional),
                Line(receivable_account(row.id), USD, -notional),
            ]
        memo = f"kept {Shares(shares)} {ticker} bought for processor order {row.order_id}, not minted"
        entry = self.ledger.post(
            session, f"processor-kept:{fill.id}", memo, lines, at=self.now(), fill_id=fill.id
        )
        fill.custody_entry_id = fill.custody_entry_id or entry.id
        fill.settled = True
        self.note(session, row, f"fill {fill.id} kept as the issuer's surplus, not minted")

    def row_id(self, order_id: int) -> str:
        """Return the row id of the processor's order `order_id`."""
        return f"{self.onchain.chain_id}:{self.processor.address}:{order_id}"

    # -- discovering orders

    def discover(self) -> int:
        """Record every order the processor has numbered since the last pass; return how many."""
        key = (self.onchain.chain_id, self.processor.address)
        with self.db.transaction() as session:
            cursor = session.get(ProcessorCursorRow, key)
            start = FIRST_ORDER_ID if cursor is None else cursor.next_order_id
        end = int(self.processor.next_order_id())
        if end <= start:
            return 0
        rows = [self._read(order_id) for order_id in range(start, end)]
        with self.db.transaction() as session:
            cursor = session.get(ProcessorCursorRow, key, with_for_update=True)
            if cursor is None:
                cursor = ProcessorCursorRow(chain_id=key[0], processor=key[1], next_order_id=FIRST_ORDER_ID)
                session.add(cursor)
            if cursor.next_order_id != start:
                return 0  # another pass recorded them meanwhile
            session.add_all(rows)
            session.flush()
            for row in rows:
                session.add(
                    ProcessorEventRow(
                        order_id=row.id,
                        at=row.created_at,
                        from_state=None,
                        to_state=row.state,
                        reason="placed",
                    )
                )
            cursor.next_order_id = end
        checkpoint("processor_discovered")
        return len(rows)

    def _read(self, order_id: int) -> ProcessorOrderRow:
        order = ProcessorOrder.from_tuple(self.processor.order(order_id))
        fee, _ = self.processor.fee_paid(order_id)
        now = self.now()
        return ProcessorOrderRow(
            id=self.row_id(order_id),
            chain_id=self.onchain.chain_id,
            processor=self.processor.address,
            order_id=order_id,
            ticker=self._tickers.get(order.token.lower(), "?"),
            requester=self.processor.order_requester(order_id),
            recipient=order.recipient,
            sell=order.sell,
            order_type=order.order_type.name.lower(),
            time_in_force=order.time_in_force.name.lower(),
            asset_quantity=order.asset_quantity,
            payment_quantity=order.payment_quantity,
            limit_price=order.limit_price,
            fee=int(fee),
            state=OrderState.OPEN,
            filled_asset=0,
            filled_payment=0,
            created_at=now,
            updated_at=now,
        )

    # -- steps

    def _place(self, row_id: str) -> bool:
        """Place the broker order for an open order, or close it at once if it cannot be placed."""
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            why_not = self._why_not_place(row)
            if why_not is not None:
                self.move(session, row, OrderState.CLOSING, why_not)
                return True
            request = self._broker_request(row)
            if request is None:
                self.move(session, row, OrderState.CLOSING, "the USDC to spend buys less than one token unit")
                return True
        try:
            self.broker.submit(request)
        except OrderRejectedError as error:
            with self.db.transaction() as session:
                self.move(session, self.load(session, row_id), OrderState.CLOSING, f"broker refused: {error}")
            return True
        checkpoint("processor_broker_order")
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            self.move(
                session,
                row,
                OrderState.ORDERED,
                f"broker {request.side} order placed for {request.quantity} shares",
            )
        return True

    def _why_not_place(self, row: ProcessorOrderRow) -> str | None:
        if row.ticker not in self.instruments:
            return "the processor's order names a token the operator does not serve"
        if self.processor.cancel_requested(row.order_id):
            return "cancel requested before the order was placed"
        return None

    def _broker_request(self, row: ProcessorOrderRow) -> OrderRequest | None:
        multiplier = self.onchain.multiplier(row.ticker)
        decimals = self.instruments[row.ticker].token_decimals
        side = OrderSide.SELL if row.sell else OrderSide.BUY
        # DAY and IOC orders both live at most to the close; an IOC's remainder is cancelled at once.
        tif = TimeInForce.GTC if row.time_in_force == "gtc" else TimeInForce.DAY
        if row.order_type == "limit":
            quantity = TokenAmount(row.asset_quantity, decimals).shares(multiplier)
            limit = limit_per_share(row.limit_price, multiplier, round_up=row.sell)
            return OrderRequest(
                client_order_id(row.id), row.ticker, side, quantity, OrderType.LIMIT, limit, tif
            )
        if row.sell:
            quantity = TokenAmount(row.asset_quantity, decimals).shares(multiplier)
        else:
            quantity = self._shares_to_buy(row, decimals)
            if not quantity:
                return None
        return OrderRequest(client_order_id(row.id), row.ticker, side, quantity, OrderType.MARKET, None, tif)

    def _shares_to_buy(self, row: ProcessorOrderRow, decimals: int) -> Shares:
        """Size a market buy from the price it was placed at, with a buffer, in whole token steps."""
        try:
            price = self.prices.quote(row.ticker, row.created_at).price
        except NoPriceError:
            return Shares.zero()
        shares = price.scaled_bps(self.price_buffer_bps).shares_for(Usd(row.payment_quantity))
        return Shares(shares.floor_to_token_units(decimals) * Shares.token_step(decimals))

    def _follow(self, row_id: str) -> bool:
        """Record the broker order's new fills, settle each, and close the order once the broker's ended."""
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            request = self._broker_request(row)
            order_id, tif = row.order_id, row.time_in_force
        assert request is not None
        order = self.broker.order(client_order_id(row_id)) or self.broker.submit(request)
        cancel = tif == "ioc" or self.processor.cancel_requested(order_id)
        if cancel and not order.status.is_final:
            order = self.broker.cancel(client_order_id(row_id))
        if self._record_fills(row_id, order):
            checkpoint("processor_fill")
            return True
        for fill_id in self._unsettled_fills(row_id):
            if self._settle_fill(row_id, fill_id):
                return True
        if not order.status.is_final:
            return False
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            self.move(
                session,
                row,
                OrderState.CLOSING,
                f"broker order {order.status}: {order.filled_quantity} of {order.quantity} shares filled",
            )
        return True

    def _record_fills(self, row_id: str, order: BrokerOrder) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            known = list(session.scalars(select(ProcessorFillRow).where(ProcessorFillRow.order_id == row_id)))
            seen = {fill.id for fill in known}
            new = [fill for fill in order.fills if fill.fill_id not in seen]
            if not new:
                return False
            decimals = self.instruments[row.ticker].token_decimals
            multiplier = self.onchain.multiplier(row.ticker)
            before = Shares(sum(fill.shares for fill in known))
            paid = sum(fill.payment for fill in known)
            for fill in new:
                after = before + fill.quantity
                tokens = self._tokens(before, after, decimals, multiplier, sell=row.sell)
                notional = fill.notional(round_up=not row.sell)
                payment = self._payment(row, tokens, notional, paid, decimals) if tokens else 0
                session.add(
                    ProcessorFillRow(
                        id=fill.fill_id,
                        order_id=row_id,
                        shares=fill.quantity.units,
                        price=fill.price.units,
                        notional_usd=notional.units,
                        token_amount=tokens,
                        payment=payment,
                        filled_at=fill.at,
                        recorded_at=self.now(),
                        settled=False,
                    )
                )
                before, paid = after, paid + payment
                self.note(session, row, f"fill {fill.fill_id}: {fill.quantity} shares at {fill.price}")
            return True

    @staticmethod
    def _tokens(before: Shares, after: Shares, decimals: int, multiplier: int, *, sell: bool) -> int:
        """Return the token units a fill moves: from the cumulative fill, so parts that split a token
        unit still add up; a buy mints what its shares back, a sell burns what its shares stood for."""
        if sell:
            step = Shares.token_step(decimals)

            def burned(shares: Shares) -> int:
                whole_steps = Shares(-(-shares.units // step) * step)
                return TokenAmount.for_shares(whole_steps, decimals, multiplier, round_up=True).raw

            return burned(after) - burned(before)
        return (
            TokenAmount.backed_by(after, decimals, multiplier).raw
            - TokenAmount.backed_by(before, decimals, multiplier).raw
        )

    @staticmethod
    def _payment(row: ProcessorOrderRow, tokens: int, notional: Usd, paid: int, decimals: int) -> int:
        """Return what `fill_order` moves in USDC for a fill: its notional, kept within what the processor
        accepts (a buy's limit and escrow; a sell's limit, which the issuer tops up by a rounding unit)."""
        unit = 10**decimals
        if row.sell:
            floor = -(-row.limit_price * tokens // unit) if row.order_type == "limit" else 1
            return int(max(notional.units, floor))
        if row.order_type == "limit":
            return int(min(notional.units, row.limit_price * tokens // unit))
        return int(min(notional.units, row.payment_quantity - paid))

    def _unsettled_fills(self, row_id: str) -> list[str]:
        with self.db.transaction() as session:
            return list(
                session.scalars(
                    select(ProcessorFillRow.id)
                    .where(ProcessorFillRow.order_id == row_id, ProcessorFillRow.settled.is_(False))
                    .order_by(ProcessorFillRow.filled_at, ProcessorFillRow.id)
                )
            )

    def _settle_fill(self, row_id: str, fill_id: str) -> bool:
        """Take one fill one step further: a buy's custody entry, reserve and mint; a sell's burn."""
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            fill = session.get(ProcessorFillRow, fill_id, with_for_update=True)
            assert fill is not None
            if not row.sell and fill.custody_entry_id is None:
                self._post_bought(session, row, fill)
                posted = True
            else:
                posted = False
            if not posted and fill.token_amount == 0:
                fill.settled = True  # a part too small for a token unit: its shares are the issuer's
                return True
            sell, ticker, order_id = row.sell, row.ticker, row.order_id
            tokens, payment = fill.token_amount, fill.payment
        if posted:
            checkpoint("processor_custody")
            return True
        if not sell and self.reserves.attest_allotment(
            self.onchain.chain_id, ticker, f"processor-reserve:{fill_id}"
        ):
            return True

        def confirmed(session: Session, row: ProcessorOrderRow) -> None:
            fill = session.get(ProcessorFillRow, fill_id, with_for_update=True)
            assert fill is not None
            fee = self._fee_of(row, fill)
            if row.sell:
                self._post_sold(session, row, fill, fee)
            else:
                self._post_paid(session, row, fill, fee)
            fill.settled = True
            row.filled_asset += fill.token_amount
            row.filled_payment += fill.payment
            what = "burned" if row.sell else "minted"
            self.note(
                session,
                row,
                f"{what} {fill.token_amount} token units for fill {fill_id}, {Usd(fill.payment)} USDC",
            )

        failed = self.moves_to(OrderState.HELD, "fill refused on-chain")
        return self.transact(
            row_id,
            f"processor-fill:{fill_id}",
            self.processor.fill_order,
            (order_id, tokens, payment),
            self.onchain.roles.operator,
            confirmed,
            failed,
            crash_sent="processor_fill_sent",
            crash_mined="processor_fill_mined",
        )

    def _fee_of(self, row: ProcessorOrderRow, fill: ProcessorFillRow) -> int:
        """Return the part of the quoted fee the processor takes with `fill` (pro rata, as it computes)."""
        if row.sell or row.order_type == "limit":
            total, before, after = row.asset_quantity, row.filled_asset, row.filled_asset + fill.token_amount
        else:
            total, before, after = row.payment_quantity, row.filled_payment, row.filled_payment + fill.payment
        return row.fee * after // total - row.fee * before // total

    def _post_bought(self, session: Session, row: ProcessorOrderRow, fill: ProcessorFillRow) -> None:
        ticker, shares, notional = row.ticker, fill.shares, fill.notional_usd
        lines = [
            Line(custody_account(ticker), ticker, shares),
            Line(issued_account(ticker), ticker, -shares),
            Line(receivable_account(row.id), USD, notional),
            Line(BROKER_CASH, USD, -notional),
        ]
        memo = f"bought {Shares(shares)} {ticker} at {Price(fill.price)} for processor order {row.order_id}"
        entry = self.ledger.post(session, f"custody:{fill.id}", memo, lines, at=self.now(), fill_id=fill.id)
        fill.custody_entry_id = entry.id

    def _post_paid(self, session: Session, row: ProcessorOrderRow, fill: ProcessorFillRow, fee: int) -> None:
        lines = [
            Line(TREASURY, USD, fill.payment + fee),
            Line(receivable_account(row.id), USD, -fill.notional_usd),
            Line(ORDER_REVENUE, USD, fill.notional_usd - fill.payment - fee),
        ]
        memo = f"paid {Usd(fill.payment)} USDC and {Usd(fee)} USDC fee for processor order {row.order_id}"
        self.ledger.post(session, f"processor-paid:{fill.id}", memo, lines, at=self.now(), fill_id=fill.id)

    def _post_sold(self, session: Session, row: ProcessorOrderRow, fill: ProcessorFillRow, fee: int) -> None:
        ticker, shares, notional = row.ticker, fill.shares, fill.notional_usd
        lines = [
            Line(custody_account(ticker), ticker, -shares),
            Line(issued_account(ticker), ticker, shares),
            Line(BROKER_CASH, USD, notional),
            Line(TREASURY, USD, fee - fill.payment),
            Line(ORDER_REVENUE, USD, fill.payment - notional - fee),
        ]
        memo = (
            f"sold {Shares(shares)} {ticker} at {Price(fill.price)} for processor order {row.order_id}; "
            f"paid {Usd(fill.payment)} USDC, {Usd(fee)} USDC fee"
        )
        entry = self.ledger.post(session, f"custody:{fill.id}", memo, lines, at=self.now(), fill_id=fill.id)
        fill.custody_entry_id = entry.id

    def _close(self, row_id: str) -> bool:
        """End the order on-chain: nothing to do once the processor has it filled, else cancel the
        remainder, which refunds the unspent USDC, the unfilled tokens and the unused fee."""
        if self._wind_down(row_id):
            return True
        purpose = f"processor-cancel:{row_id}"
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            order_id = row.order_id
            reason = self._cancel_reason(session, row)
            cancel_sent = self.outbox.find(session, purpose) is not None
        full = self._broker_filled(row_id)
        ending = OrderState.FILLED if full else OrderState.CANCELLED
        status = ProcessorStatus(int(self.processor.order_status(order_id)))
        if status is not ProcessorStatus.ACTIVE and not cancel_sent:
            with self.db.transaction() as session:
                row = self.load(session, row_id)
                if status is ProcessorStatus.FILLED:
                    ending = OrderState.FILLED
                self.move(session, row, ending, f"the processor has the order {status.name.lower()}")
            return True

        def confirmed(session: Session, row: ProcessorOrderRow) -> None:
            self.move(session, row, ending, f"remainder cancelled on-chain ({reason}) and refunded")

        failed = self.moves_to(OrderState.HELD, "cancel refused on-chain")
        return self.transact(
            row_id,
            purpose,
            self.processor.cancel_order,
            (order_id, reason),
            self.onchain.roles.operator,
            confirmed,
            failed,
            crash_sent="processor_cancel_sent",
        )

    def _wind_down(self, row_id: str) -> bool:
        """Before an order closed by the operator is cancelled on-chain: cancel its broker order, record
        the fills that came meanwhile, burn what a sell sold and keep what a buy bought and did not mint as
        the issuer's surplus; return whether a step was taken (none once the broker order has ended and
        every fill is settled, as on the way from `ordered`)."""
        cid = client_order_id(row_id)
        order = self.broker.order(cid)
        if order is not None and not order.status.is_final:
            order = self.broker.cancel(cid)
        if order is not None and self._record_fills(row_id, order):
            return True
        for fill_id in self._unsettled_fills(row_id):
            with self.db.transaction() as session:
                row = self.load(session, row_id)
                if not row.sell:
                    fill = session.get(ProcessorFillRow, fill_id, with_for_update=True)
                    assert fill is not None
                    self._keep_as_surplus(session, row, fill)
                    return True
            return self._settle_fill(row_id, fill_id)
        return False

    def _broker_filled(self, row_id: str) -> bool:
        order = self.broker.order(client_order_id(row_id))
        return order is not None and order.status is OrderStatus.FILLED

    def _cancel_reason(self, session: Session, row: ProcessorOrderRow) -> str:
        """Say in at most 128 characters why the processor's order ends with a remainder."""
        if self.processor.cancel_requested(row.order_id):
            return "cancelled at the requester's request"
        order = self.broker.order(client_order_id(row.id))
        if order is None:
            why = session.scalars(
                select(ProcessorEventRow.reason)
                .where(ProcessorEventRow.order_id == row.id, ProcessorEventRow.to_state == OrderState.CLOSING)
                .order_by(ProcessorEventRow.id.desc())
                .limit(1)
            ).first()
            return (why or "the order could not be placed")[:128]
        if order.status is OrderStatus.FILLED:
            return "market buy filled: unspent USDC returned"
        if row.time_in_force == ProcessorTimeInForce.IOC.name.lower():
            return "immediate-or-cancel remainder"
        if order.status is OrderStatus.EXPIRED:
            return "day order expired at the close"
        return f"broker order {order.status}"[:128]
