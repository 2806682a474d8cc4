"""The custody ledger: double-entry, in shares (asset = ticker) and dollars (asset = "USD").

Glossary of accounts (debit-positive amounts; every entry sums to zero per asset):
- `custody:<ticker>`            shares the SPV holds at its custodian (debit balance);
- `issued:<ticker>`             the SPV's obligation to token holders (credit balance);
- `treasury:usdc`               stablecoin the issuer holds on-chain (debit balance);
- `escrow:<request>`            a participant's payment held for its mint request (credit balance,
                                back to zero when the request ends);
- `broker:cash`                 cash paid to (credit) or received from (debit) the broker;
- `payable:<request>`           redemption proceeds owed to a participant until paid out;
- `revenue:fees`                fees earned (credit balance);
- `fees:<ticker>`               shares in custody the issuer earned as management fee (credit balance);
- `ledger:<ticker>`             shares in custody allocated to the exchange's ledger stock balances
                                (credit balance; no token stands for them);
- `exchange:usdc`               USDC the exchange owes the issuer for ledger shares bought, net of
                                those sold (debit balance).
Invariant: for each instrument, the token holders' backing (custody:<ticker> less the issuer's own
fee shares and the ledger allocation) >= tokens outstanding on every chain x multiplier, and the
ledger allocation >= the ledger balances in the exchange's accounts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.model.errors import EquitokenError
from equitoken.store.schema import LedgerEntryRow, LedgerLineRow

USD = "USD"
TREASURY = "treasury:usdc"
BROKER_CASH = "broker:cash"
FEES = "revenue:fees"
EXCHANGE_USDC = "exchange:usdc"


def custody_account(ticker: str) -> str:
    return f"custody:{ticker}"


def issued_account(ticker: str) -> str:
    return f"issued:{ticker}"


def fees_account(ticker: str) -> str:
    """Return the account of the shares the issuer earned as management fee on `ticker`."""
    return f"fees:{ticker}"


def ledger_account(ticker: str) -> str:
    """Return the account of the shares in custody that back the exchange's ledger balances of `ticker`."""
    return f"ledger:{ticker}"


def escrow_account(request_id: str) -> str:
    return f"escrow:{request_id}"


def payable_account(request_id: str) -> str:
    return f"payable:{request_id}"


def surplus_account(ticker: str) -> str:
    """Return the account of what the issuer owns itself: shares in custody that back no token."""
    return f"surplus:{ticker}"


class UnbalancedEntryError(EquitokenError, ValueError):
    """A journal entry whose lines do not sum to zero for some asset."""


@dataclass(frozen=True)
class Line:
    """One side of an entry: `amount` (debit positive) of `asset` in `account`."""

    account: str
    asset: str
    amount: int


class CustodyLedger:
    """Post balanced entries and read balances, inside the caller's database transaction."""

    def post(
        self,
        session: Session,
        cause: str,
        memo: str,
        lines: list[Line],
        *,
        at: datetime,
        request_id: str | None = None,
        fill_id: str | None = None,
    ) -> LedgerEntryRow:
        """Post one entry for `cause`; posting the same cause again returns the existing entry."""
        existing = session.scalars(select(LedgerEntryRow).where(LedgerEntryRow.cause == cause)).one_or_none()
        if existing is not None:
            return existing
        _check_balanced(cause, lines)
        entry = LedgerEntryRow(at=at, memo=memo, request_id=request_id, fill_id=fill_id, cause=cause)
        entry.lines = [
            LedgerLineRow(account=x.account, asset=x.asset, amount=x.amount) for x in lines if x.amount
        ]
        session.add(entry)
        session.flush()
        return entry

    def balance(self, session: Session, account: str, asset: str) -> int:
        """Return the balance (debits minus credits) of `asset` in `account`."""
        total = session.scalar(
            select(func.coalesce(func.sum(LedgerLineRow.amount), 0)).where(
                LedgerLineRow.account == account, LedgerLineRow.asset == asset
            )
        )
        return int(total or 0)

    def backing(self, session: Session, ticker: str) -> int:
        """Return the shares in custody that back tokens: custody less the issuer's own fee shares and
        the shares allocated to the exchange's ledger balances."""
        return (
            self.balance(session, custody_account(ticker), ticker)
            + self.balance(session, fees_account(ticker), ticker)
            - self.ledger_allocation(session, ticker)
        )

    def ledger_allocation(self, session: Session, ticker: str) -> int:
        """Return the shares in custody allocated to the exchange's ledger balances of `ticker`."""
        return -self.balance(session, ledger_account(ticker), ticker)

    def balances(
        self, session: Session, prefix: str, asset: str | None = None
    ) -> Mapping[tuple[str, str], int]:
        """Return every (account, asset) balance whose account starts with `prefix`."""
        query = (
            select(LedgerLineRow.account, LedgerLineRow.asset, func.sum(LedgerLineRow.amount))
            .where(LedgerLineRow.account.startswith(prefix))
            .group_by(LedgerLineRow.account, LedgerLineRow.asset)
        )
        if asset is not None:
            query = query.where(LedgerLineRow.asset == asset)
        return {(account, a): int(total) for account, a, total in session.execute(query)}

    def trial_balance(self, session: Session) -> Mapping[str, int]:
        """Return the sum of all lines per asset: zero for every asset in a sound ledger."""
        query = select(LedgerLineRow.asset, func.sum(LedgerLineRow.amount)).group_by(LedgerLineRow.asset)
        return {asset: int(total) for asset, total in session.execute(query)}


def _check_balanced(cause: str, lines: list[Line]) -> None:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.asset] = totals.get(line.asset, 0) + line.amount
    unbalanced = {asset: total for asset, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedEntryError(f"entry {cause!r} does not balance: {unbalanced}")
