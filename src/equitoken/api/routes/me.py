"""Who the caller is."""

from fastapi import APIRouter

from equitoken.api.deps import IssuerDep, PrincipalDep
from equitoken.api.schemas import MeOut

router = APIRouter(tags=["me"])


@router.get("/me")
def read_me(principal: PrincipalDep, issuer: IssuerDep) -> MeOut:
    """Return the caller's role, and the investor its key acts for."""
    if principal.investor_id is None:
        return MeOut(role=principal.role.value, investor_id=None, name=principal.label)
    investor = issuer.investors.get(principal.investor_id)
    return MeOut(role=principal.role.value, investor_id=investor.id, name=investor.name)
