"""The issuer's desk for one private company: valuations, issuance rounds, buybacks, and the transfer
agent's queue of transfer requests (list, approve, reject with a reason).

Every action that changes the chain is a row of `private_actions` whose id is the purpose of its one
outbox transaction: the same action asked twice, or resumed after a crash, sends nothing new
(`resume` finishes what a crash interrupted). Each action is checked before anything is stored: the
arguments here, then the chain's own rules by simulating the call, so a refused action raises an error
naming the problem and leaves no row and no transaction.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.private_deployment import (
    DeployedPrivateCompany,
    PrivateRoles,
    private_token,
    valuation_feed,
)
from equitoken.durable.outbox import EvmCall, Outbox
from equitoken.durable.outboxed import Outboxed
from equitoken.issuer.errors import (
    ComplianceError,
    IdempotencyConflictError,
    InvalidRequestError,
    IssuerError,
    UnknownRequestError,
)
from equitoken.issuer.private.valuation import Valuation, ValuationMethod
from equitoken.model.address import checksum
from equitoken.model.instrument import Instrument, InvalidInstrumentError
from equitoken.model.quantities import Price, Shares
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import PrivateActionRow

MAX_REASON_LENGTH = 96  # PrivateShareToken's `reason: String[96]`
MAX_ROUND_ID = 2**64 - 1
_KEY = re.compile(r"^[A-Za-z0-9._-]{1,48}$")


class NoValuationError(IssuerError, LookupError):
    """The private company has no valuation recorded yet."""

    code = "no_valuation"


class ActionRefusedError(IssuerError, ValueError):
    """The chain's rules refuse the action now (the reason is the contract's); nothing was stored or sent."""

    code = "refused"


class RequestStatus(IntEnum):
    """A transfer request's status; the values are the token's."""

    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    CANCELLED = 4


@dataclass(frozen=True)
class TransferRequest:
    """A holder's request to move shares, as the token records it, with the agent's pre-check if pending."""

    id: int
    sender: str
    receiver: str
    amount: TokenAmount
    status: RequestStatus
    requested_at: datetime
    decided_at: datetime | None
    # (code, reason) `approve` would meet now; only for a pending request.
    check: tuple[int, str] | None

    @property
    def approvable(self) -> bool:
        return self.check is not None and self.check[0] == 0


@dataclass(frozen=True)
class Allocation:
    """Shares of an issuance round for one holder, locked up until `unlock_at` (None: not locked)."""

    holder: str
    shares: Shares
    unlock_at: datetime | None = None


@dataclass(frozen=True)
class PrivateAction:
    """An action of the desk and how far it got: pending (sent, not known mined), done or failed."""

    id: str
    kind: str
    state: str
    request_id: int | None
    holder: str | None
    amount: TokenAmount | None
    error: str | None


class PrivateCompanyDesk:
    """Valuations, issuance, buybacks and transfer approvals of one private company, each exactly once."""

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        chain: EvmChain,
        instrument: Instrument,
        deployed: DeployedPrivateCompany,
        roles: PrivateRoles,
        clock: Clock,
    ) -> None:
        if instrument.listed or instrument.ticker != deployed.ticker or chain.chain_id != deployed.chain_id:
            raise InvalidInstrumentError(
                f"the private company desk needs a private instrument deployed on chain {chain.chain_id}; "
                f"got {instrument.kind} {instrument.ticker} and a deployment of {deployed.ticker} "
                f"on chain {deployed.chain_id}"
            )
        self.db = database
        self.outbox = outbox
        self.chain = chain
        self.instrument = instrument
        self.roles = roles
        self.clock = clock
        self.token: Contract = private_token(chain, deployed)
        self.feed: Contract = valuation_feed(chain, deployed)

    @property
    def ticker(self) -> str:
        return self.instrument.ticker

    # --- valuations --------------------------------------------------------

    def record_valuation(
        self, key: str, price: Price, as_of: datetime, method: ValuationMethod | str, source: str
    ) -> PrivateAction:
        """Record a valuation off-chain and publish it on the valuation feed, once per `key`."""
        valuation = Valuation(self.ticker, price, as_of, ValuationMethod.parse(method), source.strip())
        fields = {
            "kind": "valuation",
            "price": valuation.price.units,
            "as_of": valuation.as_of.astimezone(UTC),
            "method": valuation.method.value,
            "note": valuation.source,
        }
        return self._submit(self._id("valuation", self._key(key)), fields)

    def latest_valuation(self) -> Valuation:
        """Return the latest valuation recorded here and confirmed on-chain (by as-of time, then order)."""
        valuations = self.valuations()
        if not valuations:
            raise NoValuationError(f"{self.ticker} has no valuation yet; the issuer records one first")
        return valuations[-1]

    def valuations(self) -> list[Valuation]:
        """Return every confirmed valuation, oldest as-of first."""
        with self.db.transaction() as session:
            rows = session.scalars(
                select(PrivateActionRow)
                .where(
                    PrivateActionRow.ticker == self.ticker,
                    PrivateActionRow.kind == "valuation",
                    PrivateActionRow.state == "done",
                )
                .order_by(PrivateActionRow.as_of, PrivateActionRow.updated_at)
            ).all()
            return [
                Valuation(
                    self.ticker,
                    Price(r.price or 0),
                    _aware(r.as_of),
                    ValuationMethod(r.method or ""),
                    r.note or "",
                )
                for r in rows
            ]

    def published_valuation(self) -> Valuation:
        """Return the valuation the feed publishes now, as a venue reads it."""
        try:
            _, price, as_of, _, method, source = tuple(self.feed.latest_valuation())
        except RevertError:
            raise NoValuationError(f"{self.ticker}'s valuation feed has no valuation yet") from None
        return Valuation(
            self.ticker,
            Price(int(price)),
            datetime.fromtimestamp(int(as_of), UTC),
            list(ValuationMethod)[int(method) - 1],
            str(source),
        )

    # --- issuance and buybacks ---------------------------------------------

    def issue(self, round_id: int, holder: str, shares: Shares, unlock_at: datetime | None) -> PrivateAction:
        """Issue `shares` to `holder` in round `round_id`, locked up until `unlock_at` (None: not locked).

        One issuance per holder per round: asking again returns the same action.
        """
        action_id, fields = self._issuance(round_id, Allocation(holder, shares, unlock_at))
        return self._submit(action_id, fields)

    def issue_round(self, round_id: int, allocations: Sequence[Allocation]) -> list[PrivateAction]:
        """Issue every allocation of round `round_id`, each once.

        Every allocation is checked first, its arguments and then against the chain, so a round with
        one bad allocation issues nothing; a round asked again issues only what a crash left undone.
        """
        if not allocations:
            raise InvalidRequestError(f"round {round_id} has no allocations")
        issuances = [self._issuance(round_id, allocation) for allocation in allocations]
        holders = [fields["holder"] for _, fields in issuances]
        if len(set(holders)) != len(holders):
            twice = sorted({h for h in holders if holders.count(h) > 1})
            raise InvalidRequestError(f"round {round_id} allocates to {', '.join(twice)} more than once")
        with self.db.transaction() as session:
            stored = set(
                session.scalars(
                    select(PrivateActionRow.id).where(
                        PrivateActionRow.ticker == self.ticker, PrivateActionRow.round_id == round_id
                    )
                )
            )
        for action_id, fields in issuances:
            if action_id not in stored:
                self._simulate(action_id, self._call(action_id, fields))
        return [self._submit(action_id, fields) for action_id, fields in issuances]

    def _issuance(self, round_id: int, allocation: Allocation) -> tuple[str, dict[str, Any]]:
        if not isinstance(round_id, int) or isinstance(round_id, bool) or not 0 < round_id <= MAX_ROUND_ID:
            raise InvalidRequestError(
                f"round id must be an integer from 1 to {MAX_ROUND_ID}, not {round_id!r}"
            )
        wallet = self._wallet(allocation.holder)
        unlock_at = allocation.unlock_at
        fields = {
            "kind": "issue",
            "holder": wallet,
            "amount": self._raw(allocation.shares),
            "round_id": round_id,
            "unlock_at": self._epoch(unlock_at) if unlock_at is not None else 0,
        }
        return self._id("issue", f"{round_id}:{wallet}"), fields

    def buy_back(self, key: str, holder: str, shares: Shares) -> PrivateAction:
        """Burn `shares` of `holder`'s that the issuer bought back, once per `key`."""
        fields = {"kind": "buy_back", "holder": self._wallet(holder), "amount": self._raw(shares)}
        return self._submit(self._id("buy_back", self._key(key)), fields)

    def locked(self, holder: str) -> TokenAmount:
        """Return `holder`'s shares still in lock-up."""
        return TokenAmount(
            int(self.token.locked_balance(self._wallet(holder))), self.instrument.token_decimals
        )

    def balance(self, holder: str) -> TokenAmount:
        """Return `holder`'s shares."""
        return TokenAmount(int(self.token.balanceOf(self._wallet(holder))), self.instrument.token_decimals)

    # --- the transfer agent ------------------------------------------------

    def pending_requests(self) -> list[TransferRequest]:
        """Return every pending transfer request, oldest first, each with what approving it would meet."""
        count = int(self.token.request_count())
        requests = (self._read_request(i) for i in range(1, count + 1))
        return [r for r in requests if r is not None and r.status is RequestStatus.PENDING]

    def request(self, request_id: int) -> TransferRequest:
        """Return transfer request `request_id`, or raise `UnknownRequestError`."""
        found = self._read_request(self._request_id(request_id))
        if found is None:
            raise UnknownRequestError(f"{self.ticker} has no transfer request {request_id}")
        return found

    def approve(self, request_id: int) -> PrivateAction:
        """Approve a pending request: the token moves the shares if every rule holds now."""
        number = self._request_id(request_id)

        def approvable() -> None:
            request = self._pending(number, "approve")
            if request.check is not None and request.check[0] != 0:
                raise ComplianceError(f"transfer request {number} cannot be approved now: {request.check[1]}")

        fields = {"kind": "approve", "request_id": number}
        return self._submit(self._id("approve", str(number)), fields, approvable)

    def reject(self, request_id: int, reason: str) -> PrivateAction:
        """Reject a pending request with `reason`, releasing the shares it reserved."""
        text = reason.strip() if isinstance(reason, str) else ""
        if not 0 < len(text) <= MAX_REASON_LENGTH or not text.isascii() or not text.isprintable():
            raise InvalidRequestError(
                f"a rejection needs a reason of 1 to {MAX_REASON_LENGTH} printable ASCII characters"
            )
        number = self._request_id(request_id)
        fields = {"kind": "reject", "request_id": number, "note": text}
        return self._submit(self._id("reject", str(number)), fields, lambda: self._pending(number, "reject"))

    def request_transfer(self, holder: str, receiver: str, shares: Shares, *, key: str) -> int:
        """File `holder`'s request to move `shares` to `receiver`, for a holder whose key the platform
        holds, once per request `key`; return the request's id. The agent decides it later."""
        sent = Outboxed(
            "private",
            self.chain,
            self.db,
            self.outbox,
            self.clock,
            InvalidRequestError,
            ActionRefusedError,
        )
        sender = sent.sender(self._wallet(holder), key)
        purpose = sent.purpose(sender, self.ticker, "request", key)
        if sent.stored(purpose):
            outcome = sent.run(purpose, self.token.request_transfer, (), sender, "transfer request")
        else:
            arguments = (self._wallet(receiver), self._raw(shares))
            outcome = sent.run(purpose, self.token.request_transfer, arguments, sender, "transfer request")
        receipt = sent.mined(outcome)
        filed = next(e for e in self.token.decode_logs(receipt) if e.name == "TransferRequested")
        return int(filed.args["request_id"])

    # --- durability --------------------------------------------------------

    def resume(self) -> int:
        """Finish every action a crash left pending; return how many there were."""
        with self.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(PrivateActionRow.id)
                    .where(PrivateActionRow.ticker == self.ticker, PrivateActionRow.state == "pending")
                    .order_by(PrivateActionRow.created_at, PrivateActionRow.id)
                )
            )
        for action_id in ids:
            self._run(action_id)
        return len(ids)

    def action(self, action_id: str) -> PrivateAction:
        """Return the action `action_id`, or raise `UnknownRequestError`."""
        with self.db.transaction() as session:
            row = session.get(PrivateActionRow, action_id)
            if row is None:
                raise UnknownRequestError(f"no private-company action {action_id!r}")
            return self._view(row)

    # --- internals ---------------------------------------------------------

    def _submit(
        self, action_id: str, fields: dict[str, Any], precheck: Callable[[], object] | None = None
    ) -> PrivateAction:
        # An action stored already is finished (or returned), whatever the chain says now: after a
        # crash, asking again is how it completes. Only a new one is checked before it is stored.
        with self.db.transaction() as session:
            row = session.get(PrivateActionRow, action_id)
            if row is not None:
                differs = [k for k, v in fields.items() if _stored(getattr(row, k)) != _stored(v)]
                if differs:
                    raise IdempotencyConflictError(
                        f"{action_id} was asked before with a different {', '.join(differs)}"
                    )
                if row.state != "pending":
                    return self._view(row)
        if row is None:
            if precheck is not None:
                precheck()
            call = self._call(action_id, fields)
            self._simulate(action_id, call)
            now = self.clock.now()
            with self.db.transaction() as session:
                session.add(
                    PrivateActionRow(
                        id=action_id,
                        ticker=self.ticker,
                        state="pending",
                        created_at=now,
                        updated_at=now,
                        **fields,
                    )
                )
        return self._run(action_id)

    def _run(self, action_id: str) -> PrivateAction:
        with self.db.transaction() as session:
            row = session.get(PrivateActionRow, action_id)
            assert row is not None
            fields = {c: getattr(row, c) for c in _CALL_FIELDS}
            state = row.state
        if state == "pending":
            self.outbox.run_call(
                self.db,
                action_id,
                self._call(action_id, fields),
                owner=f"private:{self.ticker}",
                now=self.clock.now,
                load=self._loader(action_id),
                on_confirmed=self._done,
                on_failed=self._failed,
                crash_sent="private_action_sent",
                crash_mined="private_action_mined",
            )
        return self.action(action_id)

    def _call(self, action_id: str, fields: dict[str, Any]) -> EvmCall:
        issuer, agent = self.roles.issuer, self.roles.transfer_agent
        kind = fields["kind"]
        if kind == "valuation":
            as_of = int(fields["as_of"].timestamp())
            method = ValuationMethod(fields["method"]).code
            return EvmCall(
                self.feed.record_valuation, (fields["price"], as_of, method, fields["note"]), issuer
            )
        if kind == "issue":
            args = (fields["holder"], fields["amount"], fields["unlock_at"], fields["round_id"])
            return EvmCall(self.token.issue, args, issuer)
        if kind == "buy_back":
            return EvmCall(self.token.buy_back, (fields["holder"], fields["amount"]), issuer)
        if kind == "approve":
            return EvmCall(self.token.approve_transfer, (fields["request_id"],), agent)
        if kind == "reject":
            return EvmCall(self.token.reject_transfer, (fields["request_id"], fields["note"]), agent)
        raise AssertionError(f"{action_id}: unknown kind {kind}")

    def _simulate(self, action_id: str, call: EvmCall) -> None:
        try:
            call.function.call(*call.args, sender=call.sender)
        except RevertError as exc:
            raise ActionRefusedError(f"{action_id} refused by the chain: {exc.reason or exc}") from None

    @staticmethod
    def _loader(action_id: str) -> Callable[[Session], PrivateActionRow]:
        def load(session: Session) -> PrivateActionRow:
            row = session.get(PrivateActionRow, action_id, with_for_update=True)
            assert row is not None
            return row

        return load

    def _done(self, _session: Session, row: PrivateActionRow) -> None:
        row.state = "done"
        row.updated_at = self.clock.now()

    def _failed(self, _session: Session, row: PrivateActionRow, reason: str) -> None:
        row.state = "failed"
        row.error = reason
        row.updated_at = self.clock.now()

    def _view(self, row: PrivateActionRow) -> PrivateAction:
        amount = None if row.amount is None else TokenAmount(row.amount, self.instrument.token_decimals)
        return PrivateAction(row.id, row.kind, row.state, row.request_id, row.holder, amount, row.error)

    def _pending(self, request_id: int, what: str) -> TransferRequest:
        request = self.request(request_id)
        if request.status is not RequestStatus.PENDING:
            raise InvalidRequestError(
                f"transfer request {request.id} is {request.status.name.lower()} already; only a pending one "
                f"can be {what}d"
            )
        with self.db.transaction() as session:
            other = session.scalars(
                select(PrivateActionRow.id).where(
                    PrivateActionRow.ticker == self.ticker,
                    PrivateActionRow.request_id == request.id,
                    PrivateActionRow.state == "pending",
                    PrivateActionRow.kind != what,
                )
            ).first()
        if other is not None:
            raise InvalidRequestError(f"transfer request {request.id} is being decided already ({other})")
        return request

    def _read_request(self, request_id: int) -> TransferRequest | None:
        sender, receiver, amount, status, requested_at, decided_at = tuple(self.token.request(request_id))
        if int(status) == 0:
            return None
        state = RequestStatus(int(status))
        check = None
        if state is RequestStatus.PENDING:
            code, reason = self.token.check_request(request_id)
            check = (int(code), str(reason))
        return TransferRequest(
            id=request_id,
            sender=checksum(sender),
            receiver=checksum(receiver),
            amount=TokenAmount(int(amount), self.instrument.token_decimals),
            status=state,
            requested_at=datetime.fromtimestamp(int(requested_at), UTC),
            decided_at=datetime.fromtimestamp(int(decided_at), UTC) if int(decided_at) else None,
            check=check,
        )

    def _id(self, kind: str, key: str) -> str:
        return f"private:{self.ticker}:{kind}:{key}"

    @staticmethod
    def _key(key: str) -> str:
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidRequestError(
                f"key {key!r} must be 1 to 48 letters, digits, dots, dashes or underscores"
            )
        return key

    @staticmethod
    def _request_id(request_id: int) -> int:
        if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id <= 0:
            raise InvalidRequestError(f"a transfer request id is a positive integer, not {request_id!r}")
        return request_id

    @staticmethod
    def _wallet(holder: str) -> str:
        try:
            return checksum(holder)
        except ValueError as exc:
            raise InvalidRequestError(f"holder {exc}") from None

    def _raw(self, shares: Shares) -> int:
        if not isinstance(shares, Shares) or shares.units <= 0:
            raise InvalidRequestError(f"shares must be a positive Shares amount, not {shares!r}")
        try:
            return shares.to_token_units(self.instrument.token_decimals)
        except ValueError as exc:
            raise InvalidRequestError(
                f"{exc}: the {self.instrument.token_symbol} token counts whole units"
            ) from None

    @staticmethod
    def _epoch(at: datetime) -> int:
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise InvalidRequestError("a lock-up end must be a datetime with a timezone")
        seconds = int(at.timestamp())
        if not 0 < seconds < 2**64:
            raise InvalidRequestError(f"lock-up end {at.isoformat()} is out of range")
        return seconds


_CALL_FIELDS = (
    "kind",
    "price",
    "as_of",
    "method",
    "note",
    "holder",
    "amount",
    "round_id",
    "unlock_at",
    "request_id",
)


def _aware(at: datetime | None) -> datetime:
    assert at is not None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _stored(value: object) -> object:
    # SQLite gives datetimes back without their zone; compare instants.
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC)
    return value
