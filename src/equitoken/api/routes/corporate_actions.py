"""Corporate actions: splits, reverse splits, dividends and management fees, as the issuer records them."""

from typing import Annotated

from fastapi import APIRouter, Query

from equitoken.api.deps import CorporateActionsDep, PrincipalDep
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.schemas import TICKER, CorporateActionOut

router = APIRouter(tags=["corporate actions"])


@router.get("/corporate-actions")
def list_corporate_actions(
    _principal: PrincipalDep,
    corporate_actions: CorporateActionsDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CorporateActionOut]:
    """List corporate actions (of one instrument with `?ticker=`), by ex-date."""
    actions = corporate_actions.actions(None if ticker is None else ticker.upper())
    ordered = sorted(actions, key=lambda a: (a.ex_date.isoformat(), a.id))
    page, next_cursor = paginate(ordered, limit, cursor, lambda a: [a.ex_date.isoformat(), a.id])
    return Page[CorporateActionOut](items=[CorporateActionOut.of(a) for a in page], next_cursor=next_cursor)
