"""Market data everyone reads: the listed instruments, each book's levels and its latest trades."""

from typing import Annotated

from fastapi import APIRouter, Query

from equitoken.api.deps import ExchangeDep, PrincipalDep
from equitoken.api.problems import problem_responses
from equitoken.api.routes.exchange.conversions import dollars, levels_out, shares, status_name, trade_out
from equitoken.api.routes.exchange.refusals import TickerPath, rules_of
from equitoken.api.schemas import (
    ExchangeBookOut,
    ExchangeMarketOut,
    ExchangeTradeOut,
)

router = APIRouter()

Depth = Annotated[int, Query(ge=1, le=50, description="Levels per side, 1 to 50.")]
TradeLimit = Annotated[int, Query(ge=1, le=200, description="Trades, newest first, 1 to 200.")]


@router.get("/markets")
def list_markets(principal: PrincipalDep, venue: ExchangeDep) -> list[ExchangeMarketOut]:
    """List the instruments the exchange trades, with their steps, fees, market status and touch."""
    markets = []
    for ticker in venue.tickers():
        rules = venue.rules(ticker)
        bid, ask = venue.best(ticker)
        markets.append(
            ExchangeMarketOut(
                ticker=ticker,
                status=status_name(venue.status(ticker)),
                tick=str(rules.instrument.tick),
                lot=shares(rules, rules.instrument.lot),
                maker_fee_bps=rules.maker_fee_bps,
                taker_fee_bps=rules.taker_fee_bps,
                min_notional=str(rules.min_notional),
                best_bid=None if bid is None else dollars(rules, bid),
                best_ask=None if ask is None else dollars(rules, ask),
            )
        )
    return markets


@router.get("/markets/{ticker}/book", responses=problem_responses(404))
def read_book(
    ticker: TickerPath, principal: PrincipalDep, venue: ExchangeDep, depth: Depth = 10
) -> ExchangeBookOut:
    """Return the book's aggregated levels, best first, with the oracle's market status."""
    rules = rules_of(venue, ticker, in_path=True)
    symbol = rules.instrument.symbol
    bids, asks = venue.levels(symbol, depth)
    return ExchangeBookOut(
        ticker=symbol,
        status=status_name(venue.status(symbol)),
        bids=levels_out(rules, bids),
        asks=levels_out(rules, asks),
    )


@router.get("/markets/{ticker}/trades", responses=problem_responses(404))
def list_trades(
    ticker: TickerPath, principal: PrincipalDep, venue: ExchangeDep, limit: TradeLimit = 50
) -> list[ExchangeTradeOut]:
    """Return the latest trades, newest first."""
    rules = rules_of(venue, ticker, in_path=True)
    return [trade_out(rules, trade) for trade in venue.recent_trades(rules.instrument.symbol, limit)]
