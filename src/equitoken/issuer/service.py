"""The issuer as a library: onboard investors, take mint and redeem requests, settle them, reconcile."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from equitoken.brokers.broker import Broker
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.errors import UnknownRequestError
from equitoken.issuer.investors import InvestorBook
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.reconcile import Reconciliation, reconcile
from equitoken.issuer.workflow.engine import Workflow
from equitoken.issuer.workflow.intake import Intake
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.prices import PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Shares, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import RequestEventRow, RequestRow


@dataclass(frozen=True)
class RequestEvent:
    at: datetime
    from_state: str | None
    to_state: str
    reason: str


@dataclass(frozen=True)
class RequestView:
    """A request as a participant or operator reads it."""

    id: str
    idempotency_key: str
    kind: RequestKind
    investor_id: str
    wallet: str
    ticker: str
    quantity: Shares
    state: RequestState
    escrow: Usd
    filled_quantity: Shares
    filled_notional: Usd
    fee: Usd
    settled: Usd
    tokens_settled: int
    reason: str | None
    created_at: datetime
    expires_at: datetime
    events: tuple[RequestEvent, ...]


class Issuer:
    """One issuer (an SPV per instrument) on one EVM chain, with its broker, prices and database."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        broker: Broker,
        prices: PriceSource,
        clock: Clock,
        instruments: Sequence[Instrument],
        config: IssuerConfig | None = None,
    ) -> None:
        self.db = database
        self.onchain = onchain
        self.clock = clock
        self.config = config or IssuerConfig()
        self.instruments: Mapping[str, Instrument] = {i.ticker: i for i in instruments}
        self.investors = InvestorBook(database, onchain, clock, self.config.blocked_jurisdictions)
        self._intake = Intake(database, onchain, prices, clock, self.config, self.instruments)
        self._workflow = Workflow(database, onchain, broker, clock, self.config, self.instruments)

    def request_mint(
        self,
        investor_id: str,
        wallet: str,
        ticker: str,
        quantity: str | Decimal | Shares,
        idempotency_key: str,
    ) -> RequestView:
        """Accept a request to create tokens for `quantity` shares, paid in USDC from `wallet`."""
        request_id = self._intake.submit(
            RequestKind.MINT, investor_id, wallet, ticker, quantity, idempotency_key
        )
        return self.request(request_id)

    def request_redeem(
        self,
        investor_id: str,
        wallet: str,
        ticker: str,
        quantity: str | Decimal | Shares,
        idempotency_key: str,
    ) -> RequestView:
        """Accept a request to return tokens for `quantity` shares; the proceeds are paid in USDC."""
        request_id = self._intake.submit(
            RequestKind.REDEEM, investor_id, wallet, ticker, quantity, idempotency_key
        )
        return self.request(request_id)

    def cancel(self, request_id: str) -> RequestView:
        """Ask for a request to be cancelled; what has filled already stays filled."""
        with self.db.transaction() as session:
            request = session.get(RequestRow, request_id, with_for_update=True)
            if request is None:
                raise UnknownRequestError(f"no request {request_id!r}")
            if not RequestState(request.state).is_final and not request.cancel_requested:
                request.cancel_requested = True
                self._workflow.note(session, request, "cancellation requested")
        return self.request(request_id)

    def process(self) -> int:
        """Advance every open request as far as it can go now; return the number of steps taken."""
        return self._workflow.process()

    def request(self, request_id: str) -> RequestView:
        """Return a request with its history, or raise `UnknownRequestError`."""
        with self.db.transaction() as session:
            row = session.get(RequestRow, request_id)
            if row is None:
                raise UnknownRequestError(f"no request {request_id!r}")
            events = session.scalars(
                select(RequestEventRow)
                .where(RequestEventRow.request_id == request_id)
                .order_by(RequestEventRow.id)
            )
            return RequestView(
                id=row.id,
                idempotency_key=row.idempotency_key,
                kind=RequestKind(row.kind),
                investor_id=row.investor_id,
                wallet=row.wallet,
                ticker=row.ticker,
                quantity=Shares(row.quantity),
                state=RequestState(row.state),
                escrow=Usd(row.escrow_usd),
                filled_quantity=Shares(row.filled_quantity),
                filled_notional=Usd(row.filled_usd),
                fee=Usd(row.fee_usd),
                settled=Usd(row.settled_usd),
                tokens_settled=row.tokens_settled,
                reason=row.reason,
                created_at=row.created_at,
                expires_at=row.expires_at,
                events=tuple(RequestEvent(e.at, e.from_state, e.to_state, e.reason) for e in events),
            )

    def requests(self, *, open_only: bool = False) -> list[RequestView]:
        """Return every request (or every open one), oldest first."""
        with self.db.transaction() as session:
            query = select(RequestRow.id).order_by(RequestRow.created_at, RequestRow.id)
            if open_only:
                query = query.where(RequestRow.state.not_in([s.value for s in RequestState if s.is_final]))
            ids = list(session.scalars(query))
        return [self.request(i) for i in ids]

    def reconcile(self) -> Reconciliation:
        """Compare custody with tokens outstanding times the multiplier, per instrument."""
        return reconcile(self.db, [self.onchain], self.instruments)
