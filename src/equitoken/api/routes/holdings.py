"""Token holdings: each bound wallet's balance and what it is worth in shares.

With an indexer (`ApiContext.indexer`) the balances are the indexer's, at the block each holding
states, so a page of holdings is one consistent picture however many wallets it covers; without one
they are read from the chain's latest block, a call per wallet and token. Both sources feed the same
`_Balance` rows, so the answer is shaped in one place.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from equitoken.api.deps import (
    ClockDep,
    IssuerDep,
    OptionalIndexerDep,
    PricesDep,
    PrincipalDep,
    investor_scope,
)
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import ID, HoldingOut
from equitoken.indexer.multiplier import MultiplierEntry, multiplier_at
from equitoken.indexer.views import ChainMultiplier, IndexReader
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.errors import InvalidRequestError, UnknownInvestorError
from equitoken.issuer.investors import Investor
from equitoken.issuer.service import Issuer
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.multiplier import Multiplier
from equitoken.model.token_amount import TokenAmount


def multiplier_in_force(history: Sequence[ChainMultiplier], at: int) -> int:
    """Return the multiplier of one chain's indexed history in force at `at` (Unix seconds)."""
    return multiplier_at((MultiplierEntry(e.multiplier, e.effective_at, e.block_number) for e in history), at)


router = APIRouter(tags=["holdings"])


@dataclass(frozen=True)
class _Balance:
    chain_id: int
    ticker: str
    wallet: str
    raw: int
    multiplier: int
    block: int | None


def _chain_balances(chain: TokenChain, wallets: Sequence[str]) -> list[_Balance]:
    out = []
    for ticker in chain.tickers:
        multiplier: int | None = None
        for wallet in wallets:
            raw = chain.balance(ticker, wallet)
            if raw:
                multiplier = chain.multiplier(ticker) if multiplier is None else multiplier
                out.append(_Balance(chain.chain_id, ticker, wallet, raw, multiplier, None))
    return out


def _wallets_on(chain: TokenChain, wallets: Sequence[str]) -> list[str]:
    """Return those of `wallets` that are addresses on `chain` (an investor binds EVM and Solana ones)."""
    valid = []
    for wallet in wallets:
        try:
            valid.append(chain.parse_wallet(wallet))
        except InvalidRequestError:
            continue
    return valid


def _indexed_balances(reader: IndexReader, wallets: Sequence[str]) -> list[_Balance]:
    out = []
    cursors = {}
    histories: dict[tuple[str, int], list[ChainMultiplier]] = {}
    for balance in reader.balances_of(wallets):
        chain, ticker = balance.chain_id, balance.ticker
        if chain not in cursors:
            cursors[chain] = reader.cursor(chain)
        if (ticker, chain) not in histories:
            histories[ticker, chain] = reader.multiplier_history(ticker, chain)
        cursor = cursors[chain]
        # A balance is only indexed once its chain has a cursor.
        assert cursor is not None
        multiplier = multiplier_in_force(histories[ticker, chain], cursor.timestamp)
        out.append(_Balance(chain, ticker, balance.holder, balance.raw, multiplier, cursor.block_number))
    return out


def _holdings(
    issuer: Issuer, indexer: IndexReader | None, prices: PriceSource, now: datetime, investor: Investor
) -> list[HoldingOut]:
    wallets = sorted(investor.wallets)
    if not wallets:
        return []
    # The chains the indexer follows are read from it; any other at its latest state.
    indexed: list[str] = []
    balances: list[_Balance] = []
    for chain in issuer.chains:
        on_chain = _wallets_on(chain, wallets)
        if indexer is not None and indexer.follows(chain.chain_id):
            indexed += on_chain
        else:
            balances += _chain_balances(chain, on_chain)
    if indexer is not None and indexed:
        balances = _indexed_balances(indexer, indexed) + balances
    out = []
    for balance in balances:
        if not balance.raw or balance.ticker not in issuer.instruments:
            continue
        decimals = issuer.instruments[balance.ticker].token_decimals
        shares = TokenAmount(balance.raw, decimals).shares(balance.multiplier)
        try:
            value = str(prices.quote(balance.ticker, now).price.notional(shares, round_up=False))
        except NoPriceError:
            value = None
        out.append(
            HoldingOut(
                investor_id=investor.id,
                ticker=balance.ticker,
                chain_id=balance.chain_id,
                wallet=balance.wallet,
                raw=balance.raw,
                multiplier=str(Multiplier(balance.multiplier)),
                ui_shares=str(shares),
                value_usd=value,
                block=balance.block,
            )
        )
    return out


@router.get("/holdings", responses=problem_responses(403))
def list_holdings(
    principal: PrincipalDep,
    issuer: IssuerDep,
    indexer: OptionalIndexerDep,
    prices: PricesDep,
    clock: ClockDep,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[HoldingOut]:
    """List the tokens held in the caller's bound wallets (an operator: one investor's, or everyone's)."""
    scope = investor_scope(principal, investor_id)
    if scope is None:
        investors = issuer.investors.all()
    else:
        try:
            investors = [issuer.investors.get(scope)]
        except UnknownInvestorError as exc:
            raise ProblemError(422, exc.code, exc.message) from None
    now = clock.now()
    holdings = [h for investor in investors for h in _holdings(issuer, indexer, prices, now, investor)]
    holdings.sort(key=lambda h: (h.investor_id, h.wallet, h.ticker, h.chain_id))
    page, next_cursor = paginate(
        holdings, limit, cursor, lambda h: [h.investor_id, h.wallet, h.ticker, h.chain_id]
    )
    return Page[HoldingOut](items=page, next_cursor=next_cursor)
