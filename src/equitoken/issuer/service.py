"""The issuer as a library: onboard investors, take mint and redeem requests, settle them, reconcile."""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from equitoken.brokers.broker import Broker
from equitoken.chain.evm.deployment import DEFAULT_RESERVE_HEARTBEAT
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.errors import InvalidRequestError, UnknownRequestError
from equitoken.issuer.investors import InvestorBook
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.reconcile import Reconciliation, reconcile
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.issuer.workflow.engine import Workflow
from equitoken.issuer.workflow.intake import Intake
from equitoken.issuer.workflow.states import HeldResolution, RequestKind, RequestState
from equitoken.market.prices import PriceSource
from equitoken.model.ids import InvestorId, RequestId
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import AttestationRow, RequestEventRow, RequestRow

# Re-attest reserves at half the feeds' heartbeat, so a feed never lapses between two attempts.
RESERVE_REFRESH_SECONDS = DEFAULT_RESERVE_HEARTBEAT // 2


@dataclass(frozen=True)
class RequestEvent:
    at: datetime
    from_state: str | None
    to_state: str
    reason: str


@dataclass(frozen=True)
class RequestView:
    """A request as a participant or operator reads it."""

    id: RequestId
    idempotency_key: str
    kind: RequestKind
    investor_id: InvestorId
    wallet: str
    ticker: str
    quantity: Shares
    state: RequestState
    chain_id: int
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
    limit_price: Price | None = None
    payment_wallet: str = ""


@dataclass(frozen=True)
class Attestation:
    """Custody pushed to a chain's reserve feed: the shares, when observed (chain time) and when sent."""

    id: int
    chain_id: int
    custody: Shares
    observed_at: int
    created_at: datetime


_OPEN = frozenset(s for s in RequestState if not s.is_final)
MAX_NOTE_LENGTH = 1_000


def _views(session: Session, rows: Sequence[RequestRow]) -> list[RequestView]:
    events: dict[str, list[RequestEvent]] = {row.id: [] for row in rows}
    if rows:
        for event in session.scalars(
            select(RequestEventRow)
            .where(RequestEventRow.request_id.in_(list(events)))
            .order_by(RequestEventRow.id)
        ):
            events[event.request_id].append(
                RequestEvent(event.at, event.from_state, event.to_state, event.reason)
            )
    return [
        RequestView(
            id=RequestId(row.id),
            idempotency_key=row.idempotency_key,
            kind=RequestKind(row.kind),
            investor_id=InvestorId(row.investor_id),
            wallet=row.wallet,
            ticker=row.ticker,
            quantity=Shares(row.quantity),
            state=RequestState(row.state),
            chain_id=row.chain_id,
            escrow=Usd(row.escrow_usd),
            filled_quantity=Shares(row.filled_quantity),
            filled_notional=Usd(row.filled_usd),
            fee=Usd(row.fee_usd),
            settled=Usd(row.settled_usd),
            tokens_settled=row.tokens_settled,
            reason=row.reason,
            created_at=row.created_at,
            expires_at=row.expires_at,
            events=tuple(events[row.id]),
            limit_price=None if row.limit_price is None else Price(row.limit_price),
            payment_wallet=row.payment_wallet or row.wallet,
        )
        for row in rows
    ]


class Issuer:
    """One issuer (an SPV per instrument) with its broker, prices and database, settling in USDC on
    `onchain` and issuing on `chains` (`onchain` alone if none are given)."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        broker: Broker,
        prices: PriceSource,
        clock: Clock,
        instruments: Sequence[Instrument],
        config: IssuerConfig | None = None,
        chains: Sequence[TokenChain] = (),
    ) -> None:
        self.db = database
        self.onchain = onchain
        self.chains: tuple[TokenChain, ...] = tuple(chains) or (onchain,)
        self.clock = clock
        self.config = config or IssuerConfig()
        self.instruments: Mapping[str, Instrument] = {i.ticker: i for i in instruments}
        self._ledger_balances: Callable[[], Mapping[str, Shares]] | None = None
        solana = next((c for c in self.chains if isinstance(c, SolanaIssuerChain)), None)
        self.investors = InvestorBook(
            database,
            onchain,
            clock,
            self.config.blocked_jurisdictions,
            solana=solana,
            sanctioned=frozenset(self.config.sanctioned_wallets),
        )
        self._intake = Intake(database, onchain, prices, clock, self.config, self.instruments, self.chains)
        self._workflow = Workflow(
            database, onchain, broker, clock, self.config, self.instruments, self.chains
        )

    def request_mint(
        self,
        investor_id: str,
        wallet: str,
        ticker: str,
        quantity: str | Decimal | Shares,
        idempotency_key: str,
        *,
        chain_id: int | None = None,
        payment_wallet: str | None = None,
    ) -> RequestView:
        """Accept a request to create tokens for `quantity` shares in `wallet` on `chain_id` (the
        settlement chain if None), paid in USDC from `wallet` there or from `payment_wallet`."""
        request_id = self._intake.submit(
            RequestKind.MINT,
            investor_id,
            wallet,
            ticker,
            quantity,
            idempotency_key,
            chain_id=chain_id,
            payment_wallet=payment_wallet,
        )
        return self.request(request_id)

    def request_redeem(
        self,
        investor_id: str,
        wallet: str,
        ticker: str,
        quantity: str | Decimal | Shares,
        idempotency_key: str,
        limit_price: str | Decimal | Price | None = None,
        *,
        chain_id: int | None = None,
        payment_wallet: str | None = None,
    ) -> RequestView:
        """Accept a request to return tokens for `quantity` shares from `wallet` on `chain_id`; the
        proceeds are paid in USDC to `wallet` on the settlement chain, or to `payment_wallet`.

        With `limit_price` the shares are sold no lower; what is unsold at expiry comes back as tokens.
        """
        request_id = self._intake.submit(
            RequestKind.REDEEM,
            investor_id,
            wallet,
            ticker,
            quantity,
            idempotency_key,
            limit_price,
            chain_id=chain_id,
            payment_wallet=payment_wallet,
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

    def resolve_held(self, request_id: str, resolution: HeldResolution | str, note: str) -> RequestView:
        """Resolve a held request once: `retry` it once its cause is gone, or `refund` a held mint.

        `note` (who decided and why) goes on the request's history. The workflow takes the request
        on from there as from any other state (see `Workflow.resolve`).
        """
        try:
            action = HeldResolution(resolution)
        except ValueError:
            choices = ", ".join(r.value for r in HeldResolution)
            raise InvalidRequestError(
                f"unknown resolution {resolution!r}; choose one of: {choices}"
            ) from None
        text = note.strip() if isinstance(note, str) else ""
        if not 0 < len(text) <= MAX_NOTE_LENGTH:
            raise InvalidRequestError(f"a resolution needs a note of 1 to {MAX_NOTE_LENGTH} characters")
        self._workflow.resolve(request_id, action, text)
        return self.request(request_id)

    def process(self) -> int:
        """Advance every open request as far as it can go now; return the number of steps taken."""
        return self._workflow.process()

    def refresh_reserves(self, older_than: int = RESERVE_REFRESH_SECONDS) -> list[str]:
        """Attest custody again to every reserve feed not attested for `older_than` seconds (half the
        reserve heartbeat by default), so feeds stay fresh between fills; return what was attested."""
        return self._workflow.refresh_reserves(older_than)

    def bridge_shortfall(self, chain_id: int, ticker: str) -> str | None:
        """Say why the bridge transfers in flight to `chain_id` may not all be minted there now; None
        if custody covers them (the check the bridge runs before it mints where no feed gates it)."""
        return self._workflow.bridge_shortfall(chain_id, ticker)

    def attest_allotment(self, chain_id: int, ticker: str, purpose: str) -> bool:
        """Raise `chain_id`'s reserve feed to its allotment of custody, once for `purpose`, so that a
        bridge transfer burned elsewhere can be minted there; return whether this call sent it."""
        return self._workflow.attest_allotment(chain_id, ticker, purpose)

    def request(self, request_id: str) -> RequestView:
        """Return a request with its history, or raise `UnknownRequestError`."""
        with self.db.transaction() as session:
            row = session.get(RequestRow, request_id)
            if row is None:
                raise UnknownRequestError(f"no request {request_id!r}")
            return _views(session, [row])[0]

    def requests(self, *, open_only: bool = False) -> list[RequestView]:
        """Return every request (or every open one), oldest first."""
        return self.request_page(states=_OPEN if open_only else None)

    def request_page(
        self,
        *,
        investor_id: str | None = None,
        states: Collection[RequestState] | None = None,
        ticker: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[RequestView]:
        """Return requests oldest first (by creation time, then id), with their histories: those of
        `investor_id`, in `states`, of `ticker`, after the (created at, id) position `after`, at most
        `limit`; the rows and their events are read in two queries, whatever the page's size."""
        query = select(RequestRow).order_by(RequestRow.created_at, RequestRow.id)
        if investor_id is not None:
            query = query.where(RequestRow.investor_id == investor_id)
        if states is not None:
            query = query.where(RequestRow.state.in_([s.value for s in states]))
        if ticker is not None:
            query = query.where(RequestRow.ticker == ticker)
        if after is not None:
            at, after_id = after
            query = query.where(
                or_(RequestRow.created_at > at, and_(RequestRow.created_at == at, RequestRow.id > after_id))
            )
        if limit is not None:
            query = query.limit(limit)
        with self.db.transaction() as session:
            return _views(session, list(session.scalars(query)))

    def attestations(self, ticker: str) -> list[Attestation]:
        """Return the custody attested to the reserve feeds for `ticker`, oldest first."""
        with self.db.transaction() as session:
            rows = session.scalars(
                select(AttestationRow).where(AttestationRow.ticker == ticker).order_by(AttestationRow.id)
            )
            return [
                Attestation(row.id, row.chain_id, Shares(row.custody_shares), row.observed_at, row.created_at)
                for row in rows
            ]

    def count_ledger(self, balances: Callable[[], Mapping[str, Shares]] | None) -> None:
        """Count the exchange's ledger stock balances (shares per ticker, read at each reconcile) in
        every reconciliation and reserves report; None stops counting them."""
        self._ledger_balances = balances

    def reconcile(self) -> Reconciliation:
        """Compare custody with tokens outstanding times the multiplier, and with the exchange's
        ledger balances when counted (`count_ledger`), per instrument."""
        ledger = None if self._ledger_balances is None else self._ledger_balances()
        return reconcile(self.db, self.chains, self.instruments, ledger)
