"""API keys, issued by an operator."""

from fastapi import APIRouter, status

from equitoken.api.deps import KeysDep, OperatorDep
from equitoken.api.problems import problem_responses
from equitoken.api.schemas import KeyCreate, KeyOut

router = APIRouter(tags=["keys"])


@router.post("/keys", status_code=status.HTTP_201_CREATED, responses=problem_responses(403))
def issue_key(body: KeyCreate, _operator: OperatorDep, keys: KeysDep) -> KeyOut:
    """Issue an API key for a role (bound to an investor unless operator); the key is shown only once."""
    key = keys.issue(body.role, body.investor_id, body.label)
    return KeyOut(key=key, role=body.role, investor_id=body.investor_id, label=body.label)
