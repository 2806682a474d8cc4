"""The perpetuals venue: every market and the LP vault for everyone; each investor's positions, its
orders waiting for the reopening, and its actions on them.

Markets trade perpetual futures on one stock each against a shared LP vault (`venues/perps/`). Reads
are one consistent picture: every figure of an answer is read at the same block. An investor acts for
one of its registered wallets whose key the platform holds: open a long or a short, close it (whole
or part), add margin, set its take-profit and stop-loss, and, while the stock's market is closed
under the CLOSED policy, queue an open or a close for the reopening (and cancel it). Each action is
checked against the chain before anything is signed (`PerpsClient`), so a refusal is a problem with
a stable code that changed nothing; an action the market's state forbids now (closed, halted, no
price) is a 409. An action is sent at most once per `Idempotency-Key`: the client's own request key
is derived from it, so a retry after a crash finds the transaction already sent.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Response

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    PerpsDep,
    PerpsLockDep,
    PrincipalDep,
)
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import (
    Refusals,
    acting_investor,
    acting_wallet,
    add_action,
    derived_key,
    fraction,
    optional,
    owners,
    price,
    run_once,
    units,
    usdc,
)
from equitoken.api.schemas import (
    ID,
    TICKER,
    PerpActionIn,
    PerpActionName,
    PerpCancelIn,
    PerpCloseIn,
    PerpMarginIn,
    PerpMarketOut,
    PerpOpenIn,
    PerpOrderOut,
    PerpParametersOut,
    PerpPositionOut,
    PerpReceiptOut,
    PerpTriggersIn,
    PerpVaultOut,
)
from equitoken.chain.records import BlockId
from equitoken.issuer.investors import Investor
from equitoken.model.quantities import Usd
from equitoken.venues.perps import maths
from equitoken.venues.perps.actions import PerpReceipt, PerpsClient
from equitoken.venues.perps.deployment import DeployedPerpMarket
from equitoken.venues.perps.errors import MarketClosedError, PerpError, UnknownMarketError
from equitoken.venues.perps.parameters import WAD, ClosedPolicy, PerpParameters
from equitoken.venues.perps.views import MarketView, OrderView, PositionView

router = APIRouter(prefix="/perps", tags=["perpetuals"])

TickerPath = Annotated[str, Path(pattern=TICKER, description="The market's stock, e.g. AAPL.")]
_TOKEN_DECIMALS = 18
_REFUSALS = Refusals((PerpError,), (MarketClosedError,))


def _tokens(size: int) -> str:
    return format((Decimal(size) / maths.TOKEN_UNIT).normalize(), "f")


def _wad(value: int) -> str:
    return fraction(Decimal(value) / Decimal(WAD))


def _market_of(client: PerpsClient, ticker: str, *, in_path: bool) -> DeployedPerpMarket:
    try:
        return client.deployment.market(ticker.upper())
    except UnknownMarketError as error:
        raise ProblemError(404 if in_path else 422, error.code, str(error)) from None


def _parameters_out(p: PerpParameters) -> PerpParametersOut:
    return PerpParametersOut(
        max_leverage=_wad(p.max_leverage),
        open_fee_bps=p.open_fee_bps,
        close_fee_bps=p.close_fee_bps,
        base_spread_bps=p.base_spread_bps,
        skew_scale=_tokens(p.skew_scale),
        max_funding_velocity=_wad(p.max_funding_velocity),
        max_oi_long=str(Usd(p.max_oi_long)),
        max_oi_short=str(Usd(p.max_oi_short)),
        max_profit_multiple=_wad(p.max_profit_multiple),
        liquidation_fee_bps=p.liquidation_fee_bps,
        min_margin=str(Usd(p.min_margin)),
        closed_policy="closed" if p.closed_policy is ClosedPolicy.CLOSED else "discovery",
    )


def _market_out(view: MarketView) -> PerpMarketOut:
    return PerpMarketOut(
        ticker=view.ticker,
        address=view.address,
        state=view.state.name.lower(),  # type: ignore[arg-type]
        state_label=view.state_label,
        mark=optional(view.mark),
        funding_rate=fraction(view.funding_rate),
        long_size=_tokens(view.long_size),
        short_size=_tokens(view.short_size),
        long_notional=str(view.long_usd),
        short_notional=str(view.short_usd),
        skew=_tokens(view.skew),
        parameters=_parameters_out(view.parameters),
    )


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _position_out(investor_id: str, view: PositionView) -> PerpPositionOut:
    return PerpPositionOut(
        investor_id=investor_id,
        wallet=view.owner,
        ticker=view.ticker,
        position_id=view.id,
        side="long" if view.is_long else "short",
        size=_tokens(view.size),
        entry=str(view.entry),
        mark=optional(view.mark),
        margin=str(view.margin),
        notional=optional(view.notional),
        leverage=None if view.leverage is None else fraction(view.leverage),
        pnl=optional(view.pnl),
        funding_paid=str(view.funding),
        close_fee=optional(view.close_fee),
        equity=optional(view.equity),
        liquidation_price=optional(view.liquidation_price),
        liquidatable=view.liquidatable,
        take_profit=optional(view.take_profit),
        stop_loss=optional(view.stop_loss),
        opened_at=_at(view.opened_at),
    )


def _order_out(investor_id: str, view: OrderView) -> PerpOrderOut:
    return PerpOrderOut(
        investor_id=investor_id,
        wallet=view.owner,
        ticker=view.ticker,
        order_id=view.id,
        kind=view.kind,  # type: ignore[arg-type]
        position_id=view.position_id,
        side="long" if view.is_long else "short",
        margin=str(view.margin),
        leverage=fraction(view.leverage),
        size=_tokens(view.size),
        take_profit=optional(view.take_profit),
        stop_loss=optional(view.stop_loss),
        acceptable_price=optional(view.acceptable_price),
        created_at=_at(view.created_at),
    )


def _positions(
    client: PerpsClient, owners: Sequence[tuple[str, str]], tickers: Sequence[str], block: BlockId
) -> list[PerpPositionOut]:
    """Return the open positions of (investor id, wallet) pairs in each market, all read at `block`."""
    reader = client.reader
    wanted = {wallet.lower(): investor_id for investor_id, wallet in owners}
    out = []
    for ticker in tickers:
        mark, _ = reader.mark(ticker, block)
        parameters = reader.parameters(ticker, block)
        for position_id, raw in reader.open_positions(ticker, block).items():
            investor_id = wanted.get(raw.owner.lower())
            if investor_id is not None:
                view = reader.value_position(ticker, position_id, raw, mark, parameters, block)
                out.append(_position_out(investor_id, view))
    return out


def _orders(
    client: PerpsClient, owners: Sequence[tuple[str, str]], tickers: Sequence[str], block: BlockId
) -> list[PerpOrderOut]:
    wanted = {wallet.lower(): investor_id for investor_id, wallet in owners}
    out = []
    for ticker in tickers:
        for view in client.reader.orders(None, ticker, block):
            investor_id = wanted.get(view.owner.lower())
            if investor_id is not None:
                out.append(_order_out(investor_id, view))
    return out


def _tickers(client: PerpsClient, ticker: str | None) -> list[str]:
    if ticker is None:
        return list(client.deployment.markets)
    return [_market_of(client, ticker, in_path=False).ticker]


@router.get("/markets")
def list_markets(_principal: PrincipalDep, client: PerpsDep) -> list[PerpMarketOut]:
    """List every market: its mark and state, funding rate, open interest, skew and parameters."""
    block = client.chain.block_number()
    return [_market_out(view) for view in client.reader.markets(block)]


@router.get("/markets/{ticker}", responses=problem_responses(404))
def read_market(ticker: TickerPath, _principal: PrincipalDep, client: PerpsDep) -> PerpMarketOut:
    """Return one market."""
    market = _market_of(client, ticker, in_path=True)
    return _market_out(client.reader.market(market.ticker, client.chain.block_number()))


@router.get("/vault")
def read_vault(_principal: PrincipalDep, client: PerpsDep) -> PerpVaultOut:
    """Return the LP vault every market trades against: its assets, what positions reserve, what is free."""
    view = client.reader.vault(client.chain.block_number())
    return PerpVaultOut(
        address=client.deployment.vault,
        assets=str(view.assets),
        reserved=str(view.reserved),
        free=str(view.free),
        utilisation=fraction(view.utilisation),
        share_price=fraction(view.share_price),
    )


@router.get("/positions", responses=problem_responses(403))
def list_positions(
    principal: PrincipalDep,
    issuer: IssuerDep,
    client: PerpsDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[PerpPositionOut]:
    """List the caller's open positions in its registered wallets (an operator: one investor's, or
    everyone's), each with its entry, mark, PnL, funding paid and liquidation price."""
    wallets = owners(principal, issuer, investor_id)
    tickers = _tickers(client, ticker)
    return _positions(client, wallets, tickers, client.chain.block_number())


@router.get("/orders", responses=problem_responses(403))
def list_orders(
    principal: PrincipalDep,
    issuer: IssuerDep,
    client: PerpsDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[PerpOrderOut]:
    """List the caller's orders waiting for their market to reopen."""
    wallets = owners(principal, issuer, investor_id)
    tickers = _tickers(client, ticker)
    return _orders(client, wallets, tickers, client.chain.block_number())


# -- actions

_In = TypeVar("_In", bound=PerpActionIn)
Send = Callable[[PerpsClient, str, str, str], PerpReceipt]
"""Send the action for (client, wallet, ticker, key)."""


def _size(text: str | None) -> int | None:
    return None if text is None else units(text, _TOKEN_DECIMALS, "size")


def _leverage(text: str) -> Decimal:
    return Decimal(text)


def _open_like(body: PerpOpenIn, request: bool) -> tuple[Send, dict[str, object]]:
    margin = usdc(body.margin, "margin")
    take_profit = price(body.take_profit, "take_profit")
    stop_loss = price(body.stop_loss, "stop_loss")
    acceptable = price(body.acceptable_price, "acceptable_price")
    leverage = _leverage(body.leverage)

    def send(client: PerpsClient, wallet: str, ticker: str, key: str) -> PerpReceipt:
        act = client.request_open if request else client.open_position
        return act(
            wallet,
            ticker,
            is_long=body.side == "long",
            margin=margin,
            leverage=leverage,
            take_profit=take_profit,
            stop_loss=stop_loss,
            acceptable_price=acceptable,
            key=key,
        )

    canonical: dict[str, object] = {
        "side": body.side,
        "margin": str(margin),
        "leverage": format(leverage.normalize(), "f"),
        "take_profit": optional(take_profit),
        "stop_loss": optional(stop_loss),
        "acceptable_price": optional(acceptable),
    }
    return send, canonical


def _close_like(body: PerpCloseIn, request: bool) -> tuple[Send, dict[str, object]]:
    size = _size(body.size)
    acceptable = price(body.acceptable_price, "acceptable_price")

    def send(client: PerpsClient, wallet: str, ticker: str, key: str) -> PerpReceipt:
        act = client.request_close if request else client.close_position
        return act(wallet, ticker, body.position_id, size=size, acceptable_price=acceptable, key=key)

    canonical: dict[str, object] = {
        "position_id": body.position_id,
        "size": size,
        "acceptable_price": optional(acceptable),
    }
    return send, canonical


def _plan_open(body: PerpOpenIn) -> tuple[Send, dict[str, object]]:
    return _open_like(body, request=False)


def _plan_request_open(body: PerpOpenIn) -> tuple[Send, dict[str, object]]:
    return _open_like(body, request=True)


def _plan_close(body: PerpCloseIn) -> tuple[Send, dict[str, object]]:
    return _close_like(body, request=False)


def _plan_request_close(body: PerpCloseIn) -> tuple[Send, dict[str, object]]:
    return _close_like(body, request=True)


def _plan_margin(body: PerpMarginIn) -> tuple[Send, dict[str, object]]:
    amount = usdc(body.amount)

    def send(client: PerpsClient, wallet: str, ticker: str, key: str) -> PerpReceipt:
        return client.add_margin(wallet, ticker, body.position_id, amount, key=key)

    return send, {"position_id": body.position_id, "amount": str(amount)}


def _plan_triggers(body: PerpTriggersIn) -> tuple[Send, dict[str, object]]:
    take_profit = price(body.take_profit, "take_profit")
    stop_loss = price(body.stop_loss, "stop_loss")

    def send(client: PerpsClient, wallet: str, ticker: str, key: str) -> PerpReceipt:
        return client.set_triggers(
            wallet, ticker, body.position_id, take_profit=take_profit, stop_loss=stop_loss, key=key
        )

    canonical: dict[str, object] = {
        "position_id": body.position_id,
        "take_profit": optional(take_profit),
        "stop_loss": optional(stop_loss),
    }
    return send, canonical


def _plan_cancel(body: PerpCancelIn) -> tuple[Send, dict[str, object]]:
    def send(client: PerpsClient, wallet: str, ticker: str, key: str) -> PerpReceipt:
        return client.cancel_order(wallet, ticker, body.order_id, key=key)

    return send, {"order_id": body.order_id}


def _receipt_out(
    client: PerpsClient, investor: Investor, name: PerpActionName, receipt: PerpReceipt
) -> PerpReceiptOut:
    ticker, wallet = receipt.ticker, receipt.wallet
    ordered = name in ("request_open", "request_close", "cancel_order")
    order_id = receipt.id if ordered else 0
    position_id = int(receipt.event.get("position_id", 0)) if ordered else receipt.id
    position = order = None
    if position_id:
        raw = client.reader.raw_position(ticker, position_id)
        if raw.is_open:
            mark, _ = client.reader.mark(ticker)
            parameters = client.reader.parameters(ticker)
            view = client.reader.value_position(ticker, position_id, raw, mark, parameters)
            position = _position_out(investor.id, view)
    if name in ("request_open", "request_close"):
        found = [o for o in client.reader.orders(wallet, ticker) if o.id == order_id]
        order = _order_out(investor.id, found[0]) if found else None
    return PerpReceiptOut(
        action=name,
        ticker=ticker,
        wallet=wallet,
        position_id=position_id,
        order_id=order_id,
        tx_hash=receipt.tx_hash,
        position=position,
        order=order,
    )


def _add_action(
    name: PerpActionName,
    body_type: type[_In],
    plan: Callable[[_In], tuple[Send, dict[str, object]]],
    description: str,
) -> None:
    path = f"/{name.replace('_', '-')}"

    def act(
        body: _In,
        idempotency_key: IdempotencyKey,
        principal: PrincipalDep,
        issuer: IssuerDep,
        client: PerpsDep,
        calls: IdempotentCallsDep,
        lock: PerpsLockDep,
    ) -> Response:
        investor = acting_investor(principal, issuer, "perpetual")
        market = _market_of(client, body.ticker, in_path=False)
        ticker = market.ticker
        wallet = acting_wallet(investor, body.wallet, client.chain.signers, "perp", market.address)
        send, canonical = plan(body)
        key = derived_key(principal, idempotency_key)

        def call() -> str:
            with lock, _REFUSALS:
                receipt = send(client, wallet, ticker, key)
            return _receipt_out(client, investor, name, receipt).model_dump_json()

        canonical = {**canonical, "ticker": ticker, "wallet": wallet.lower()}
        return run_once(calls, principal, idempotency_key, router.prefix + path, canonical, call)

    add_action(router, path, f"perp_{name}", act, body_type, PerpReceiptOut, description)


_add_action(
    "open",
    PerpOpenIn,
    _plan_open,
    "Open a long or a short with `margin` dollars of USDC from your wallet (the open fee comes out of "
    "it) at `leverage`, with an optional take-profit, stop-loss and worst acceptable fill. A 409 while "
    "the market does not trade (closed: queue it with `request-open`; halted; no price).",
)
_add_action(
    "close",
    PerpCloseIn,
    _plan_close,
    "Close `size` tokens of your position (all of it without a size) at no worse than `acceptable_price`; "
    "the margin, PnL less funding and the close fee come back to your wallet.",
)
_add_action("add_margin", PerpMarginIn, _plan_margin, "Add `amount` dollars of USDC to a position's margin.")
_add_action(
    "set_triggers",
    PerpTriggersIn,
    _plan_triggers,
    "Set (or clear, by omitting them) a position's take-profit and stop-loss prices.",
)
_add_action(
    "request_open",
    PerpOpenIn,
    _plan_request_open,
    "While the stock's market is closed (CLOSED policy), queue an open for the reopening; the margin is "
    "escrowed until it executes or is cancelled. A 409 in any other state.",
)
_add_action(
    "request_close",
    PerpCloseIn,
    _plan_request_close,
    "While the stock's market is closed (CLOSED policy), queue the close of `size` tokens (all without a "
    "size) of your position for the reopening.",
)
_add_action(
    "cancel_order",
    PerpCancelIn,
    _plan_cancel,
    "Cancel one of your queued orders; an open's escrowed margin comes back.",
)
