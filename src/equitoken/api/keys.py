"""API keys: issue them, and find who a presented key belongs to.

A key is 32 random bytes shown once; the database keeps only its SHA-256, so a leaked database
does not leak working keys.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from equitoken.issuer.errors import InvalidRequestError, UnknownInvestorError
from equitoken.issuer.investors import InvestorCategory
from equitoken.market.clock import SystemClock
from equitoken.model.ids import ApiKeyId, InvestorId, new_api_key_id
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import ApiKeyRow, InvestorRow

_PREFIX = "eqt_"


class Role(StrEnum):
    """What a key may do: run the platform, mint and redeem for itself, or read its own data."""

    OPERATOR = "operator"
    PARTICIPANT = "participant"
    INVESTOR = "investor"


@dataclass(frozen=True)
class Principal:
    """The caller behind a key: its role and, unless an operator, the investor it acts for."""

    key_id: ApiKeyId
    role: Role
    investor_id: InvestorId | None
    label: str

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeys:
    """The API keys kept in the platform's database."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self.db = database
        self.clock = clock or SystemClock()

    def issue(self, role: Role | str, investor_id: str | None, label: str) -> str:
        """Create a key for `role` (bound to `investor_id` unless operator); return it, shown only now."""
        role = self._role(role)
        label = label.strip()
        if not 0 < len(label) <= 200:
            raise InvalidRequestError("key label must have 1 to 200 characters")
        token = _PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as session:
            if role is Role.OPERATOR:
                if investor_id is not None:
                    raise InvalidRequestError("an operator key is not bound to an investor")
            else:
                if investor_id is None:
                    raise InvalidRequestError(f"a {role} key must be bound to an investor")
                investor = session.get(InvestorRow, investor_id)
                if investor is None:
                    raise UnknownInvestorError(f"no investor {investor_id!r}")
                participant = investor.category == InvestorCategory.AUTHORISED_PARTICIPANT
                if participant != (role is Role.PARTICIPANT):
                    wanted = Role.PARTICIPANT if participant else Role.INVESTOR
                    raise InvalidRequestError(
                        f"investor {investor_id} is {investor.category}: its keys have the role {wanted}"
                    )
            session.add(
                ApiKeyRow(
                    id=new_api_key_id(),
                    token_sha256=_digest(token),
                    role=role,
                    investor_id=investor_id,
                    label=label,
                    created_at=self.clock.now(),
                )
            )
        return token

    def authenticate(self, token: str) -> Principal | None:
        """Return who `token` belongs to, or None if it is not a key this platform issued."""
        if not token.startswith(_PREFIX):
            return None
        with self.db.transaction() as session:
            row = session.scalars(
                select(ApiKeyRow).where(ApiKeyRow.token_sha256 == _digest(token))
            ).one_or_none()
            if row is None:
                return None
            investor_id = None if row.investor_id is None else InvestorId(row.investor_id)
            return Principal(ApiKeyId(row.id), Role(row.role), investor_id, row.label)

    @staticmethod
    def _role(role: Role | str) -> Role:
        try:
            return Role(role)
        except ValueError:
            raise InvalidRequestError(
                f"role {role!r} is not one of: {', '.join(r.value for r in Role)}"
            ) from None
