"""Investors and their KYC: operators onboard and maintain them; an investor reads its own record."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from equitoken.api.deps import IssuerDep, OperatorDep, PrincipalDep, RegistryLockDep
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import ID, FrozenUpdate, InvestorCreate, InvestorOut, KycUpdate, WalletBind
from equitoken.issuer.errors import UnknownInvestorError
from equitoken.issuer.investors import Investor, InvestorBook
from equitoken.issuer.service import Issuer

router = APIRouter(tags=["investors"])

InvestorPath = Annotated[str, Path(pattern=ID)]


def _existing(issuer: Issuer, investor_id: str) -> Investor:
    try:
        return issuer.investors.get(investor_id)
    except UnknownInvestorError as exc:
        raise ProblemError(404, exc.code, exc.message) from None


@dataclass(frozen=True)
class _RegistryChange:
    """An operator's change to an existing investor, mirrored to the identity registry under its lock."""

    issuer: Issuer
    lock: threading.Lock

    def apply(self, investor_id: str, change: Callable[[InvestorBook], Investor]) -> InvestorOut:
        _existing(self.issuer, investor_id)
        with self.lock:
            return InvestorOut.of(change(self.issuer.investors))


async def _registry_change(
    _operator: OperatorDep, issuer: IssuerDep, lock: RegistryLockDep
) -> _RegistryChange:
    return _RegistryChange(issuer, lock)


RegistryChangeDep = Annotated[_RegistryChange, Depends(_registry_change)]


@router.post("/investors", status_code=status.HTTP_201_CREATED, responses=problem_responses(403))
def onboard_investor(
    body: InvestorCreate, _operator: OperatorDep, issuer: IssuerDep, lock: RegistryLockDep
) -> InvestorOut:
    """Onboard an investor and register it in the on-chain identity registry."""
    with lock:
        investor = issuer.investors.onboard(
            body.name,
            body.jurisdiction,
            body.category,
            kyc_expires_at=body.kyc_expires_at,
            accredited=body.accredited,
        )
    return InvestorOut.of(investor)


@router.get("/investors", responses=problem_responses(403))
def list_investors(
    _operator: OperatorDep, issuer: IssuerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[InvestorOut]:
    """List every investor, in onboarding order."""
    investors = issuer.investors.all()
    page, next_cursor = paginate(investors, limit, cursor, lambda i: [i.onchain_id])
    return Page[InvestorOut](items=[InvestorOut.of(i) for i in page], next_cursor=next_cursor)


@router.get("/investors/{investor_id}", responses=problem_responses(404))
def read_investor(investor_id: InvestorPath, principal: PrincipalDep, issuer: IssuerDep) -> InvestorOut:
    """Return an investor: any to an operator, only its own to an investor's key."""
    if not principal.is_operator and investor_id != principal.investor_id:
        raise ProblemError(404, UnknownInvestorError.code, f"no investor {investor_id!r}")
    return InvestorOut.of(_existing(issuer, investor_id))


@router.post("/investors/{investor_id}/wallets", responses=problem_responses(403, 404))
def bind_wallet(investor_id: InvestorPath, body: WalletBind, change: RegistryChangeDep) -> InvestorOut:
    """Bind a wallet to the investor and add it to the identity registry."""
    return change.apply(investor_id, lambda book: book.bind_wallet(investor_id, body.wallet))


@router.put("/investors/{investor_id}/kyc", responses=problem_responses(403, 404))
def update_kyc(investor_id: InvestorPath, body: KycUpdate, change: RegistryChangeDep) -> InvestorOut:
    """Set when the investor's KYC expires, here and in the identity registry."""
    return change.apply(investor_id, lambda book: book.set_kyc_expiry(investor_id, body.kyc_expires_at))


@router.put("/investors/{investor_id}/frozen", responses=problem_responses(403, 404))
def update_frozen(investor_id: InvestorPath, body: FrozenUpdate, change: RegistryChangeDep) -> InvestorOut:
    """Freeze or unfreeze the investor, here and in the identity registry."""
    return change.apply(investor_id, lambda book: book.set_frozen(investor_id, body.frozen))
