"""The CFD venue: its instruments for everyone; each investor's CFD account, positions and trades, and
transfers of USDC between the investor's exchange account and its CFD account.

CFDs are off-chain contracts with the venue (`venues/cfd/`, the Bybit MT5 model): USDC-margined,
long or short, priced off the oracle with a spread, financed overnight. An investor's CFD account
number is its exchange account number. Trades are answered once per `Idempotency-Key`, and made once
per key: each open or close carries a client order id derived from the API key and the
`Idempotency-Key` (`derived_key`), so a retry after a crash between the venue's fill and the stored
answer gets the first fill back, not a second trade. A refusal is a problem with a stable code that
changed nothing, a 409 when the instrument does not trade now (session closed, halted, stale price)
or when the order id was used for another order. A transfer is recorded before anything moves and is finished
after a crash (`CfdTransfers`), so it happens exactly once per key.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from equitoken.api.deps import (
    CfdDep,
    CfdTransfersDep,
    ClockDep,
    ExchangeDep,
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    MembersDep,
    PrincipalDep,
)
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import (
    Refusals,
    derived_key,
    fraction,
    run_once,
    scoped_investors,
    units,
    usdc,
)
from equitoken.api.schemas import (
    ID,
    CfdAccountOut,
    CfdCloseIn,
    CfdInstrumentOut,
    CfdOpenIn,
    CfdPositionOut,
    CfdTradeOut,
    CfdTransferIn,
    CfdTransferOut,
)
from equitoken.market.calendar import SessionPhase
from equitoken.model.bps import BPS
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.quantities import Price, Usd
from equitoken.venues.cfd.errors import (
    CfdError,
    ConflictingOrderError,
    MarketClosedError,
    MarketHaltedError,
    StalePriceError,
)
from equitoken.venues.cfd.events import Closed, Event, Opened, StopOut
from equitoken.venues.cfd.instruments import SIZE_ONE, CfdInstrument
from equitoken.venues.cfd.margin import position_margin
from equitoken.venues.cfd.positions import CfdSide, Position
from equitoken.venues.cfd.transfers import CfdDirection, CfdTransfer
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.venue import ExchangeVenue

router = APIRouter(prefix="/cfd", tags=["cfd"])

_SIZE_DECIMALS = 18
# Conflicts are refusals because the instrument does not trade now, or the order id was another
# order's, rather than because of the request.
_REFUSALS = Refusals(
    (CfdError, InsufficientFundsError),
    (MarketClosedError, MarketHaltedError, StalePriceError, ConflictingOrderError),
)
_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(403, 409, 503)


def _shares(size: int) -> str:
    return format((Decimal(size) / SIZE_ONE).normalize(), "f")


def _at(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


def _state(venue: CfdVenue, instrument: CfdInstrument, now: datetime) -> str:
    if venue.quote(instrument.symbol) is None:
        return "no_price"
    engine = venue.engine
    if engine.calendar is None:
        return "open"
    phase = engine.calendar.phase_at(now)
    if phase is SessionPhase.REGULAR or (engine.settings.extended_hours and phase is not SessionPhase.CLOSED):
        return "open"
    return "closed"


def _instrument_out(venue: CfdVenue, instrument: CfdInstrument, now: datetime) -> CfdInstrumentOut:
    quote = venue.quote(instrument.symbol)
    return CfdInstrumentOut(
        symbol=instrument.symbol,
        state=_state(venue, instrument, now),  # type: ignore[arg-type]
        bid=None if quote is None else str(Price(quote.bid)),
        mid=None if quote is None else str(Price(quote.mid)),
        ask=None if quote is None else str(Price(quote.ask)),
        max_leverage=instrument.max_leverage,
        spread_bps=instrument.spread_bps,
        long_financing_rate=fraction(Decimal(instrument.long_rate_bps) / BPS),
        short_financing_rate=fraction(Decimal(instrument.short_rate_bps) / BPS),
        min_size=_shares(instrument.min_size),
        max_price_age_seconds=instrument.max_price_age_s,
    )


def _account_out(investor_id: str, account: int, venue: CfdVenue, exchange: ExchangeVenue) -> CfdAccountOut:
    settings = venue.engine.settings
    known = account in venue.engine.accounts_known()
    figures = venue.margin(account) if known else None
    level = None if figures is None or figures.level_bps is None else Decimal(figures.level_bps) / BPS
    return CfdAccountOut(
        investor_id=investor_id,
        account=account,
        balance=str(Usd(figures.balance if figures else 0)),
        equity=str(Usd(figures.equity if figures else 0)),
        used_margin=str(Usd(figures.used_margin if figures else 0)),
        free_margin=str(Usd(figures.free_margin if figures else 0)),
        margin_level=None if level is None else fraction(level),
        margin_call_level=fraction(Decimal(settings.margin_call_bps) / BPS),
        stop_out_level=fraction(Decimal(settings.stop_out_bps) / BPS),
        exchange_available=str(Usd(exchange.balance(account, USDC).available)),
    )


def _position_out(investor_id: str, venue: CfdVenue, position: Position) -> CfdPositionOut:
    quote = venue.quote(position.symbol)
    return CfdPositionOut(
        investor_id=investor_id,
        account=position.account,
        position_id=position.position_id,
        symbol=position.symbol,
        side="long" if position.side is CfdSide.LONG else "short",
        size=_shares(position.size),
        entry=str(Price(position.entry_price)),
        mark=None if quote is None else str(Price(position.exit_price(quote))),
        pnl=None if quote is None else str(Usd(position.unrealized(quote))),
        leverage=position.leverage,
        margin=None
        if quote is None
        else str(Usd(position_margin(position.size, quote.mid, position.leverage))),
        opened_at=_at(position.opened_at_us),
    )


def _transfer_out(transfer: CfdTransfer) -> CfdTransferOut:
    return CfdTransferOut(
        transfer_id=transfer.id,
        direction=transfer.direction.value,
        amount=str(Usd(transfer.amount)),
        state=transfer.state.value,
        reason=transfer.reason,
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
    )


def _own_investor(principal: Principal) -> str:
    if principal.investor_id is None:
        raise ProblemError(403, "forbidden", "an operator key has no CFD account; act with an investor's key")
    return principal.investor_id


@router.get("/instruments")
def list_instruments(_principal: PrincipalDep, venue: CfdDep, clock: ClockDep) -> list[CfdInstrumentOut]:
    """List every CFD: its bid and ask, whether its session trades now, its leverage and financing rates."""
    now = clock.now()
    return [_instrument_out(venue, instrument, now) for instrument in venue.engine.instruments.values()]


@router.get("/account", responses=problem_responses(403))
def read_account(
    principal: PrincipalDep,
    issuer: IssuerDep,
    venue: CfdDep,
    members: MembersDep,
    exchange: ExchangeDep,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only: whose account.")] = None,
) -> CfdAccountOut:
    """Return the caller's CFD account: balance, equity, used and free margin, and margin level."""
    if principal.is_operator and investor_id is None:
        raise ProblemError(422, "invalid_request", "investor_id: an operator names the investor to read")
    [whose] = scoped_investors(principal, issuer, investor_id)
    return _account_out(whose.id, members.account_of(whose.id), venue, exchange)


@router.get("/positions", responses=problem_responses(403))
def list_positions(
    principal: PrincipalDep,
    issuer: IssuerDep,
    venue: CfdDep,
    members: MembersDep,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[CfdPositionOut]:
    """List the caller's open CFD positions (an operator: one investor's, or everyone's), each at its mark."""
    whose = scoped_investors(principal, issuer, investor_id)
    if principal.is_operator and investor_id is None:
        investors = members.accounts()
        return [_position_out(investors.get(p.account, ""), venue, p) for p in venue.positions()]
    [investor] = whose
    account = members.account_of(investor.id)
    if account not in venue.engine.accounts_known():  # it never held USDC here: it holds nothing
        return []
    return [_position_out(investor.id, venue, p) for p in venue.positions(account)]


def _trade_out(
    action: str,
    events: list[Event],
    investor_id: str,
    account: int,
    venue: CfdVenue,
    exchange: ExchangeVenue,
) -> CfdTradeOut:
    first = events[0]
    stopped = any(isinstance(e, StopOut) for e in events)
    if isinstance(first, Opened):
        size, price, pnl, remaining = first.size, first.entry_price, None, None
    elif isinstance(first, Closed):
        size, price = first.size, first.exit_price
        pnl, remaining = str(Usd(first.pnl)), _shares(first.remaining)
    else:  # pragma: no cover - an open or a close answers with its own event first
        raise ProblemError(500, "internal_error", f"unexpected CFD answer {first!r}")
    return CfdTradeOut(
        action=action,  # type: ignore[arg-type]
        position_id=first.position_id,
        symbol=first.symbol,
        size=_shares(size),
        price=str(Price(price)),
        pnl=pnl,
        remaining=remaining,
        stopped_out=stopped,
        account=_account_out(investor_id, account, venue, exchange),
    )


@router.post("/open", response_model=CfdTradeOut, responses=_ACTION_RESPONSES)
def open_position(
    body: CfdOpenIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    venue: CfdDep,
    members: MembersDep,
    exchange: ExchangeDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Open a long or a short of `size` shares at market (longs at the ask, shorts at the bid), at
    `leverage` (the instrument's maximum if omitted), from your CFD account's free margin."""
    investor_id = _own_investor(principal)
    symbol = body.symbol.upper()
    size = units(body.size, _SIZE_DECIMALS, "size")
    account = members.account_of(investor_id)
    side = CfdSide.LONG if body.side == "long" else CfdSide.SHORT

    def call() -> str:
        with _REFUSALS:
            events = venue.open_position(
                account, symbol, side, size, body.leverage, order_id=derived_key(principal, idempotency_key)
            )
        return _trade_out("open", events, investor_id, account, venue, exchange).model_dump_json()

    canonical = {"symbol": symbol, "side": body.side, "size": size, "leverage": body.leverage}
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/open", canonical, call)


@router.post("/close", response_model=CfdTradeOut, responses=_ACTION_RESPONSES)
def close_position(
    body: CfdCloseIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    venue: CfdDep,
    members: MembersDep,
    exchange: ExchangeDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Close `size` shares of one of your positions at market (all of it without a size)."""
    investor_id = _own_investor(principal)
    size = None if body.size is None else units(body.size, _SIZE_DECIMALS, "size")
    if size == 0:
        raise ProblemError(
            422, "cfd_invalid_size", "the size to close must be positive; omit it to close all"
        )
    account = members.account_of(investor_id)

    def call() -> str:
        with _REFUSALS:
            events = venue.close_position(
                account, body.position_id, size, order_id=derived_key(principal, idempotency_key)
            )
        return _trade_out("close", events, investor_id, account, venue, exchange).model_dump_json()

    canonical = {"position_id": body.position_id, "size": size}
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/close", canonical, call)


@router.post("/transfers", response_model=CfdTransferOut, responses=_ACTION_RESPONSES)
def transfer(
    body: CfdTransferIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    transfers: CfdTransfersDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Move `amount` dollars of USDC from your exchange account to your CFD account (`to_cfd`) or back
    (`from_cfd`, at most the CFD account's free margin); exactly once per `Idempotency-Key`."""
    investor_id = _own_investor(principal)
    amount = usdc(body.amount)
    if amount.units <= 0:
        raise ProblemError(422, "cfd_transfer_invalid", "the amount to transfer must be positive")
    transfer_id = derived_key(principal, idempotency_key)

    def call() -> str:
        with _REFUSALS:
            done = transfers.transfer(investor_id, CfdDirection(body.direction), amount.units, transfer_id)
        return _transfer_out(done).model_dump_json()

    canonical = {"direction": body.direction, "amount": str(amount)}
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/transfers", canonical, call)


@router.get("/transfers", responses=problem_responses(403))
def list_transfers(principal: PrincipalDep, transfers: CfdTransfersDep) -> list[CfdTransferOut]:
    """List your transfers between your exchange account and your CFD account, newest first."""
    return [_transfer_out(t) for t in transfers.of_investor(_own_investor(principal))]
