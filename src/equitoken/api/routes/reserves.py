"""Reserves: shares in custody against tokens outstanding, now and over time, and the full reconciliation."""

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Query

from equitoken.api.deps import IssuerDep, OperatorDep, OptionalIndexerDep, PrincipalDep
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.holdings import multiplier_in_force
from equitoken.api.schemas import TICKER, ReconciliationOut, ReserveChainOut, ReserveOut, ReservePointOut
from equitoken.indexer.views import IndexReader
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.reconcile import Reconciliation
from equitoken.issuer.service import Issuer
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Shares
from equitoken.model.token_amount import TokenAmount

router = APIRouter(tags=["reserves"])


def _reserves(chains: Sequence[TokenChain], reconciliation: Reconciliation) -> list[ReserveOut]:
    out = []
    for holding in reconciliation.holdings:
        per_chain = [
            ReserveChainOut(
                chain_id=chain.chain_id,
                family=chain.family,
                supply_raw=chain.supply(holding.ticker),
                multiplier=str(Multiplier(chain.multiplier(holding.ticker))),
                outstanding_shares=str(holding.outstanding.get(chain.chain_id, Shares.zero())),
            )
            for chain in chains
            if holding.ticker in chain.tickers
        ]
        out.append(
            ReserveOut(
                ticker=holding.ticker,
                custody_shares=str(holding.custody),
                outstanding_shares=str(holding.outstanding_total),
                gap_shares=str(holding.surplus),
                backed=holding.backed,
                chains=per_chain,
            )
        )
    return out


@router.get("/reserves")
def list_reserves(
    _principal: PrincipalDep, issuer: IssuerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[ReserveOut]:
    """List, per instrument, the shares in custody against the shares its tokens stand for."""
    reserves = _reserves(issuer.chains, issuer.reconcile())
    page, next_cursor = paginate(reserves, limit, cursor, lambda r: [r.ticker])
    return Page[ReserveOut](items=page, next_cursor=next_cursor)


def _outstanding_at(
    issuer: Issuer, reader: IndexReader | None, ticker: str
) -> Callable[[int], Shares | None]:
    """Return the shares an instrument's tokens stood for at a chain time, by the indexer (None: unknown)."""
    if reader is None:
        return lambda _at: None
    chain_ids = [c.chain_id for c in issuer.chains if reader.follows(c.chain_id)]
    cursors = [reader.cursor(chain_id) for chain_id in chain_ids]
    indexed_until = min((c.timestamp if c is not None else -1) for c in cursors)
    points = reader.supply_history(ticker)
    histories = {chain_id: reader.multiplier_history(ticker, chain_id) for chain_id in chain_ids}
    decimals = issuer.instruments[ticker].token_decimals

    def outstanding(at: int) -> Shares | None:
        if at > indexed_until:
            return None
        by_chain = next((p.by_chain for p in reversed(points) if p.at.timestamp() <= at), {})
        return sum(
            (
                TokenAmount(raw, decimals).shares(multiplier_in_force(histories[chain], at))
                for chain, raw in by_chain.items()
                if chain in histories
            ),
            Shares.zero(),
        )

    return outstanding


@router.get("/reserves/history")
def reserves_history(
    _principal: PrincipalDep,
    issuer: IssuerDep,
    indexer: OptionalIndexerDep,
    ticker: Annotated[str, Query(pattern=TICKER)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReservePointOut]:
    """List the custody attested for an instrument over time, oldest first.

    `outstanding_shares` is the indexed supply when the attestation observed custody, times the
    multiplier then; null without an indexer, or for a time the indexer has not reached yet.
    """
    symbol = ticker.upper()
    if symbol not in issuer.onchain.tickers or symbol not in issuer.instruments:
        raise ProblemError(422, "unknown_instrument", f"no instrument {ticker!r} is issued here")
    page, next_cursor = paginate(issuer.attestations(symbol), limit, cursor, lambda a: [a.id])
    outstanding = _outstanding_at(issuer, indexer, symbol)
    items = []
    for attestation in page:
        shares = outstanding(attestation.observed_at)
        items.append(
            ReservePointOut(
                at=attestation.created_at,
                custody_shares=str(attestation.custody),
                outstanding_shares=None if shares is None else str(shares),
            )
        )
    return Page[ReservePointOut](items=items, next_cursor=next_cursor)


@router.get("/reconciliation", responses=problem_responses(403))
def read_reconciliation(_operator: OperatorDep, issuer: IssuerDep) -> ReconciliationOut:
    """Return the reserves and the custody ledger's trial balance; `ok` when all is backed and balanced."""
    reconciliation = issuer.reconcile()
    return ReconciliationOut(
        ok=reconciliation.ok,
        reserves=_reserves(issuer.chains, reconciliation),
        trial_balance=dict(reconciliation.trial_balance),
    )
