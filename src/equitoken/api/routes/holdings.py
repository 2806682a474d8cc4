"""Token holdings, read from the chain: each bound wallet's balance and what it is worth in shares."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from equitoken.api.context import ApiContext
from equitoken.api.deps import ContextDep, PrincipalDep, investor_scope
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import ID, HoldingOut
from equitoken.issuer.errors import UnknownInvestorError
from equitoken.issuer.investors import Investor
from equitoken.market.prices import NoPriceError
from equitoken.model.quantities import Shares

MULTIPLIER_ONE = 10**18


def multiplier_text(multiplier: int) -> str:
    """Return a token's UI multiplier (18 decimals on-chain) as a decimal string: "1", "1.5"."""
    return f"{(Decimal(multiplier).scaleb(-18)).normalize():f}"


router = APIRouter(tags=["holdings"])


def _holdings(context: ApiContext, investor: Investor) -> list[HoldingOut]:
    issuer = context.issuer
    onchain = issuer.onchain
    now = context.clock.now()
    out = []
    for ticker in sorted(t for t in onchain.tickers if t in issuer.instruments):
        token = onchain.token(ticker)
        decimals = issuer.instruments[ticker].token_decimals
        multiplier: int | None = None
        for wallet in sorted(investor.wallets):
            raw = int(token.balanceOf(wallet))
            if not raw:
                continue
            multiplier = int(token.uiMultiplier()) if multiplier is None else multiplier
            shares = Shares.from_token_units(raw * multiplier // MULTIPLIER_ONE, decimals)
            try:
                value = str(context.prices.quote(ticker, now).price.notional(shares, round_up=False))
            except NoPriceError:
                value = None
            out.append(
                HoldingOut(
                    investor_id=investor.id,
                    ticker=ticker,
                    chain_id=onchain.chain_id,
                    wallet=wallet,
                    raw=raw,
                    multiplier=multiplier_text(multiplier),
                    ui_shares=str(shares),
                    value_usd=value,
                )
            )
    return out


@router.get("/holdings", responses=problem_responses(403))
def list_holdings(
    principal: PrincipalDep,
    context: ContextDep,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[HoldingOut]:
    """List the tokens held in the caller's bound wallets (an operator: one investor's, or everyone's)."""
    scope = investor_scope(principal, investor_id)
    if scope is None:
        investors = context.issuer.investors.all()
    else:
        try:
            investors = [context.issuer.investors.get(scope)]
        except UnknownInvestorError as exc:
            raise ProblemError(422, exc.code, exc.message) from None
    holdings = [h for investor in investors for h in _holdings(context, investor)]
    holdings.sort(key=lambda h: (h.investor_id, h.wallet, h.ticker))
    page, next_cursor = paginate(holdings, limit, cursor, lambda h: [h.investor_id, h.wallet, h.ticker])
    return Page[HoldingOut](items=page, next_cursor=next_cursor)
