"""The exchange's members: each investor trades under one account number, opened on first use."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from equitoken.issuer.errors import UnknownInvestorError
from equitoken.market.clock import SystemClock
from equitoken.model.errors import EquitokenError
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import ExchangeAccountRow, InvestorRow


class MembersError(EquitokenError, ValueError):
    """An investor or account the exchange cannot map; nothing changed."""

    code = "members_error"


class UnknownAccountError(MembersError):
    """No member trades under this account number."""

    code = "unknown_account"


class ExchangeMembers:
    """Map investors to the exchange's account numbers (from 1, numbered by the database) and back."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._db = database
        self._clock = clock or SystemClock()

    def account_of(self, investor_id: str) -> int:
        """Return the investor's account number, opening it on first use."""
        for _attempt in range(5):
            try:
                return self._account_of(investor_id)
            except IntegrityError:
                # Another process opened an account at the same moment: read again.
                continue
        raise RuntimeError(f"could not open an exchange account for investor {investor_id!r}")

    def investor_of(self, account: int) -> str:
        """Return the investor who trades under `account`, or raise `UnknownAccountError`."""
        if type(account) is not int:
            raise UnknownAccountError(f"account {account!r} is not an integer account number")
        with self._db.transaction() as session:
            investor_id = session.scalar(
                select(ExchangeAccountRow.investor_id).where(ExchangeAccountRow.account == account)
            )
        if investor_id is None:
            raise UnknownAccountError(f"no exchange member trades under account {account}")
        return investor_id

    def accounts(self) -> dict[int, str]:
        """Return every open account number with its investor."""
        with self._db.transaction() as session:
            rows = session.execute(
                select(ExchangeAccountRow.account, ExchangeAccountRow.investor_id).order_by(
                    ExchangeAccountRow.account
                )
            )
            return dict(rows.tuples().all())

    def _account_of(self, investor_id: str) -> int:
        with self._db.transaction() as session:
            account = session.scalar(
                select(ExchangeAccountRow.account).where(ExchangeAccountRow.investor_id == investor_id)
            )
            if account is not None:
                return account
            if session.get(InvestorRow, investor_id) is None:
                raise UnknownInvestorError(f"no investor {investor_id!r} to open an exchange account for")
            row = ExchangeAccountRow(investor_id=investor_id, created_at=self._clock.now())
            session.add(row)
            session.flush()
            return row.account
