"""Move USDC between an investor's order-book exchange account and its CFD account, exactly once.

An investor's CFD account number is its exchange account number (`ExchangeMembers.account_of`). A
transfer is a row in `cfd_transfers`, stored before anything moves, then taken one recorded step at a
time (as the durable step machine does with a withdrawal):

    recorded --debit the source--> debited --credit the destination--> credited
        \\--the source cannot pay--> failed (never debited)

Both sides are idempotent per id: the exchange's ledger debits and credits a transfer id once
(`ExchangeVenue.request_withdrawal` / `credit_deposit`) and so does the CFD venue (`CfdVenue.withdraw` /
`deposit`). So a process killed between any two steps is completed by `resume()` (which the platform
calls at start): each step is taken again, finds its work done, and the row moves on; nothing is
doubled and nothing is lost::

    transfers = CfdTransfers(database, exchange, cfd, members, clock)
    transfers.transfer("inv-1", CfdDirection.TO_CFD, 500 * USDC_ONE, "t-1")   # exchange -> CFD
    transfers.transfer("inv-1", CfdDirection.FROM_CFD, 200 * USDC_ONE, "t-2") # CFD -> exchange
    transfers.resume()                                                          # after a restart

A transfer the source cannot pay is refused before its row is stored (`InsufficientFundsError`,
`CfdError`), so a refusal changes nothing; one whose source can no longer pay when a restart takes its
first step ends `failed` without having moved anything.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from equitoken.durable.crashpoints import checkpoint
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.quantities import Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import CfdTransferRow
from equitoken.venues.cfd.errors import CfdError
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue

__all__ = [
    "MAX_TRANSFER_ID_LENGTH",
    "CfdDirection",
    "CfdTransfer",
    "CfdTransferConflictError",
    "CfdTransferError",
    "CfdTransferState",
    "CfdTransfers",
]

MAX_TRANSFER_ID_LENGTH = 64


class CfdDirection(StrEnum):
    """Which way the USDC goes."""

    TO_CFD = "to_cfd"  # from the exchange account to the CFD account
    FROM_CFD = "from_cfd"  # from the CFD account back to the exchange account


class CfdTransferState(StrEnum):
    """Where a transfer stands; `credited` and `failed` end it."""

    RECORDED = "recorded"
    DEBITED = "debited"
    CREDITED = "credited"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """Return whether the transfer has ended."""
        return self in (CfdTransferState.CREDITED, CfdTransferState.FAILED)


class CfdTransferError(CfdError):
    """A transfer that cannot be made as asked (its id or amount); nothing moved."""

    code = "cfd_transfer_invalid"


class CfdTransferConflictError(CfdTransferError):
    """The transfer id was already used for another transfer."""

    code = "cfd_transfer_conflict"


@dataclass(frozen=True, slots=True)
class CfdTransfer:
    """A transfer as stored."""

    id: str
    investor_id: str
    account: int
    direction: CfdDirection
    amount: int  # USDC units
    state: CfdTransferState
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: CfdTransferRow) -> "CfdTransfer":
        """Return the transfer of a stored row."""
        return cls(
            row.id,
            row.investor_id,
            row.account,
            CfdDirection(row.direction),
            row.amount,
            CfdTransferState(row.state),
            row.reason,
            row.created_at,
            row.updated_at,
        )


class CfdTransfers:
    """Move USDC between the exchange and the CFD venue, one recorded step at a time."""

    def __init__(
        self,
        database: Database,
        exchange: ExchangeVenue,
        cfd: CfdVenue,
        members: ExchangeMembers,
        clock: Clock,
    ) -> None:
        self.db = database
        self.exchange = exchange
        self.cfd = cfd
        self.members = members
        self.clock = clock

    def transfer(
        self, investor_id: str, direction: CfdDirection, amount: int, transfer_id: str
    ) -> CfdTransfer:
        """Move `amount` USDC units the way `direction` says for the investor, once per `transfer_id`:
        asking again with the same id returns the same transfer (finished if a crash interrupted it)."""
        direction = CfdDirection(direction)
        _check_id(transfer_id)
        if type(amount) is not int or amount <= 0:
            raise CfdTransferError(
                f"the amount to transfer must be a positive number of USDC units, not {amount!r}"
            )
        account = self.members.account_of(investor_id)
        asked = (investor_id, account, direction, amount)
        earlier = self.get(transfer_id)
        if earlier is None:
            self._check_source(account, direction, amount)
            now = self.clock.now()
            row = CfdTransferRow(
                id=transfer_id,
                investor_id=investor_id,
                account=account,
                direction=direction.value,
                amount=amount,
                state=CfdTransferState.RECORDED.value,
                reason=None,
                created_at=now,
                updated_at=now,
            )
            try:
                with self.db.transaction() as session:
                    session.add(row)
            except IntegrityError:  # another caller stored the same id first
                earlier = self.get(transfer_id)
                if earlier is None:
                    raise
        if (
            earlier is not None
            and (earlier.investor_id, earlier.account, earlier.direction, earlier.amount) != asked
        ):
            raise CfdTransferConflictError(
                f"transfer {transfer_id!r} was already asked for {Usd(earlier.amount)} USDC "
                f"{earlier.direction} by {earlier.investor_id}"
            )
        checkpoint("cfd_transfer_recorded")
        return self.advance(transfer_id)

    def resume(self) -> list[CfdTransfer]:
        """Finish every transfer a stopped process left unfinished, oldest first; return them."""
        with self.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(CfdTransferRow.id)
                    .where(CfdTransferRow.state.in_((CfdTransferState.RECORDED, CfdTransferState.DEBITED)))
                    .order_by(CfdTransferRow.created_at, CfdTransferRow.id)
                )
            )
        return [self.advance(transfer_id) for transfer_id in ids]

    def advance(self, transfer_id: str) -> CfdTransfer:
        """Take the transfer's steps until it has ended; return it."""
        while True:
            found = self.get(transfer_id)
            if found is None:
                raise CfdTransferError(f"no CFD transfer {transfer_id!r}")
            if found.state.is_final:
                return found
            if found.state is CfdTransferState.RECORDED:
                self._debit(found)
            else:
                self._credit(found)

    def get(self, transfer_id: str) -> CfdTransfer | None:
        """Return the transfer, or None if no such id was asked for."""
        with self.db.transaction() as session:
            row = session.get(CfdTransferRow, transfer_id)
            return None if row is None else CfdTransfer.from_row(row)

    def of_investor(self, investor_id: str) -> list[CfdTransfer]:
        """Return the investor's transfers, newest first."""
        with self.db.transaction() as session:
            rows = session.scalars(
                select(CfdTransferRow)
                .where(CfdTransferRow.investor_id == investor_id)
                .order_by(CfdTransferRow.created_at.desc(), CfdTransferRow.id.desc())
            )
            return [CfdTransfer.from_row(row) for row in rows]

    # -- the steps

    def _debit(self, transfer: CfdTransfer) -> None:
        try:
            # A no-op when an earlier try debited it already; the debit itself otherwise.
            if transfer.direction is CfdDirection.TO_CFD:
                self.exchange.request_withdrawal(
                    transfer.account, USDC, transfer.amount, _leg(transfer, "out")
                )
            else:
                self.cfd.withdraw(transfer.account, transfer.amount, _leg(transfer, "out"))
        except (InsufficientFundsError, CfdError) as error:
            self._move(transfer.id, CfdTransferState.FAILED, f"never debited: {error}")
            return
        checkpoint("cfd_transfer_debited")
        self._move(transfer.id, CfdTransferState.DEBITED, None)

    def _credit(self, transfer: CfdTransfer) -> None:
        # A no-op when an earlier try credited it already.
        if transfer.direction is CfdDirection.TO_CFD:
            self.cfd.deposit(transfer.account, transfer.amount, _leg(transfer, "in"))
        else:
            self.exchange.credit_deposit(transfer.account, USDC, transfer.amount, _leg(transfer, "in"))
        self._move(transfer.id, CfdTransferState.CREDITED, None)

    def _move(self, transfer_id: str, to: CfdTransferState, reason: str | None) -> None:
        with self.db.transaction() as session:
            row = session.get(CfdTransferRow, transfer_id, with_for_update=True)
            if row is None:
                raise CfdTransferError(f"no CFD transfer {transfer_id!r}")
            row.state = to.value
            row.reason = reason
            row.updated_at = self.clock.now()

    def _check_source(self, account: int, direction: CfdDirection, amount: int) -> None:
        """Refuse, before anything is stored, a transfer its source cannot pay now."""
        if direction is CfdDirection.TO_CFD:
            available = self.exchange.balance(account, USDC).available
            if amount > available:
                raise InsufficientFundsError(
                    f"your exchange account {account} has {Usd(available)} USDC available, less than the "
                    f"{Usd(amount)} to move to your CFD account"
                )
            return
        if account not in self.cfd.engine.accounts_known():
            raise CfdTransferError(f"your CFD account {account} holds nothing yet: move USDC to it first")
        figures = self.cfd.margin(account)
        allowed = max(0, min(figures.free_margin, figures.balance))
        if amount > allowed:
            raise InsufficientFundsError(
                f"your CFD account {account} may release at most {Usd(allowed)} USDC now (balance "
                f"{Usd(figures.balance)}, free margin {Usd(figures.free_margin)}), less than "
                f"{Usd(amount)}"
            )


def _leg(transfer: CfdTransfer, leg: str) -> str:
    """Return the id each ledger knows one leg by: unique per transfer and leg, within 80 characters."""
    return f"cfd-{transfer.direction.value}-{leg}:{transfer.id}"


def _check_id(transfer_id: str) -> None:
    if not (
        isinstance(transfer_id, str)
        and 0 < len(transfer_id) <= MAX_TRANSFER_ID_LENGTH
        and transfer_id.isprintable()
    ):
        raise CfdTransferError(
            f"a transfer id has 1 to {MAX_TRANSFER_ID_LENGTH} printable characters, not {transfer_id!r}"
        )
