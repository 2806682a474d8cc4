"""Who may trade what on the exchange, decided from the investors table before an order changes anything.

A member may place or amend an order unless they are frozen or their KYC is not approved or has
expired. A BUY of a ``permissioned`` token also needs a wallet the identity registry knows (so the
tokens could be withdrawn to it) and, when the instrument lists jurisdictions, one of those.
House accounts (the venue's own keepers) are always eligible; any other account that is not a
member is refused.
"""

from collections.abc import Collection, Mapping

from sqlalchemy import select

from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import InvestorRow, WalletRow
from equitoken.venues.exchange.members import ExchangeMembers, UnknownAccountError
from equitoken.venues.exchange.orders import Side


class RegistryEligibility:
    """Answer the engine's eligibility question from the investors and wallets tables."""

    def __init__(
        self,
        database: Database,
        members: ExchangeMembers,
        clock: Clock,
        *,
        permissioned: Collection[str] = (),
        jurisdictions: Mapping[str, Collection[str]] | None = None,
        house_accounts: Collection[int] = (),
    ) -> None:
        self._db = database
        self._members = members
        self._clock = clock
        self._permissioned = frozenset(permissioned)
        self._jurisdictions = {t: frozenset(j) for t, j in (jurisdictions or {}).items()}
        self._house = frozenset(house_accounts)

    def __call__(self, account: int, ticker: str, side: Side) -> str | None:
        """Return why `account` may not place a `side` order in `ticker`, or None if it may."""
        if account in self._house:
            return None
        try:
            investor_id = self._members.investor_of(account)
        except UnknownAccountError as exc:
            return str(exc)
        with self._db.transaction() as session:
            investor = session.get(InvestorRow, investor_id)
            if investor is None:
                return f"investor {investor_id} no longer exists"
            registered = session.scalar(
                select(WalletRow.address)
                .where(WalletRow.investor_id == investor_id, WalletRow.registered_on_chain.is_(True))
                .limit(1)
            )
            frozen, kyc_status, expires = investor.frozen, investor.kyc_status, investor.kyc_expires_at
            jurisdiction = investor.jurisdiction
        if frozen:
            return f"investor {investor_id} is frozen"
        if kyc_status != "approved":
            return f"investor {investor_id}'s KYC is {kyc_status}"
        if expires <= self._clock.now():
            return f"investor {investor_id}'s KYC expired at {expires.isoformat()}"
        if side == Side.BUY and ticker in self._permissioned:
            if registered is None:
                return f"{ticker} is permissioned and investor {investor_id} has no registered wallet"
            allowed = self._jurisdictions.get(ticker)
            if allowed is not None and jurisdiction not in allowed:
                return f"{ticker} is not open to investors in {jurisdiction}"
        return None
