"""The market the issuer trades in: instruments, quotes, the trading calendar, the broker."""

from typing import Annotated

from fastapi import APIRouter, Path

from equitoken.api.deps import BrokerDep, CalendarDep, ClockDep, IssuerDep, PricesDep, PrincipalDep
from equitoken.api.pagination import Cursor, Limit, Page, paginate
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import TICKER, BrokerOut, ChainTokenOut, InstrumentOut, MarketOut, QuoteOut
from equitoken.brokers.errors import BrokerError
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import NEW_YORK
from equitoken.model.instrument import Instrument

router = APIRouter(tags=["market"])

TickerPath = Annotated[str, Path(pattern=TICKER, description="The instrument's ticker, e.g. AAPL.")]


def instrument_for(issuer: Issuer, ticker: str) -> Instrument:
    """Return the issued instrument `ticker`, or a 404 problem."""
    symbol = ticker.upper()
    if symbol not in issuer.instruments or symbol not in issuer.onchain.tickers:
        raise ProblemError(404, "unknown_instrument", f"no instrument {ticker!r} is issued here")
    return issuer.instruments[symbol]


def _instrument_out(issuer: Issuer, instrument: Instrument) -> InstrumentOut:
    onchain = issuer.onchain
    deployed = onchain.deployment.instrument(instrument.ticker)
    return InstrumentOut(
        ticker=instrument.ticker,
        name=instrument.name,
        isin=str(instrument.isin),
        token_symbol=instrument.token_symbol,
        decimals=instrument.token_decimals,
        profile=instrument.profile.name.lower(),
        venue=instrument.exchange,
        chains=[ChainTokenOut(chain_id=onchain.chain_id, token=deployed.token)],
    )


@router.get("/instruments")
def list_instruments(
    _principal: PrincipalDep, issuer: IssuerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[InstrumentOut]:
    """List the instruments issued here, by ticker."""
    tickers = sorted(t for t in issuer.onchain.tickers if t in issuer.instruments)
    page, next_cursor = paginate(tickers, limit, cursor, lambda t: [t])
    items = [_instrument_out(issuer, issuer.instruments[t]) for t in page]
    return Page[InstrumentOut](items=items, next_cursor=next_cursor)


@router.get("/instruments/{ticker}", responses=problem_responses(404))
def read_instrument(ticker: TickerPath, _principal: PrincipalDep, issuer: IssuerDep) -> InstrumentOut:
    """Return one instrument and its token on each chain."""
    return _instrument_out(issuer, instrument_for(issuer, ticker))


@router.get("/instruments/{ticker}/quote", responses=problem_responses(404, 503))
def read_quote(
    ticker: TickerPath,
    _principal: PrincipalDep,
    issuer: IssuerDep,
    prices: PricesDep,
    calendar: CalendarDep,
    clock: ClockDep,
) -> QuoteOut:
    """Return the last trade price known now, and the phase of the trading day."""
    instrument = instrument_for(issuer, ticker)
    now = clock.now()
    quote = prices.quote(instrument.ticker, now)
    return QuoteOut(
        ticker=instrument.ticker,
        price=str(quote.price),
        as_of=quote.at,
        market_phase=calendar.phase_at(now).value,
    )


@router.get("/market")
def read_market(_principal: PrincipalDep, calendar: CalendarDep, clock: ClockDep) -> MarketOut:
    """Return the trading calendar's view of now: the phase, and the next open and close."""
    now = clock.now()
    day = now.astimezone(NEW_YORK).date()
    session = calendar.next_session(now)
    return MarketOut(
        calendar=calendar.exchange,
        now=now,
        phase=calendar.phase_at(now).value,
        is_holiday=day.weekday() < 5 and calendar.session_on(day) is None,
        next_open=calendar.next_open(now),
        next_close=session.close,
    )


@router.get("/broker")
def read_broker(
    _principal: PrincipalDep, broker: BrokerDep, calendar: CalendarDep, clock: ClockDep
) -> BrokerOut:
    """Return the broker the issuer trades through, and whether it answers now."""
    try:
        broker.broker.open_orders()
        connected = True
    except BrokerError:
        connected = False
    return BrokerOut(
        name=broker.name,
        connected=connected,
        market_phase=calendar.phase_at(clock.now()).value,
    )
