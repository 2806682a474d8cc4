"""The lending venue: every market for everyone; each investor's positions and its actions on them.

Markets lend USDC against one stock token each (`venues/lending/`). Reads are one consistent picture:
every figure of an answer is read at the same block. An investor acts for one of its registered
wallets whose key the platform holds (the local platform's dev wallets): supply and withdraw USDC,
deposit and withdraw collateral, borrow and repay. Each action is checked against the chain before
anything is signed (`LendingClient`), so a refusal is a problem with a stable code that changed
nothing; an action the market's oracle adapter does not allow now (halted, no price, reserves short)
is a 409. An action is sent at most once per `Idempotency-Key`: the client's own request key is
derived from it, so a retry after a crash between the transaction and the stored answer finds the
transaction already sent instead of sending another.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    LendingDep,
    LendingLockDep,
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
    run_once,
    usdc,
)
from equitoken.api.schemas import (
    ID,
    TICKER,
    LendingActionIn,
    LendingMarketOut,
    LendingPositionOut,
    LendingReceiptOut,
)
from equitoken.chain.records import BlockId
from equitoken.model.bps import BPS
from equitoken.model.quantities import Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.venues.lending.actions import LendingAction, LendingClient, LendingReceipt
from equitoken.venues.lending.adapter import AdapterState, OracleAction
from equitoken.venues.lending.deployment import DeployedMarket
from equitoken.venues.lending.errors import LendingError, MarketUnavailableError, UnknownMarketError
from equitoken.venues.lending.parameters import WAD
from equitoken.venues.lending.views import MarketView, PositionView

router = APIRouter(prefix="/lending", tags=["lending"])

TickerPath = Annotated[str, Path(pattern=TICKER, description="The market's collateral, e.g. AAPL.")]
# States in which the adapter lends: at the max LTV, or while closed at the LLTV less the cut.
_LENDS = (AdapterState.OPEN, AdapterState.GRACE, AdapterState.CLOSED)
_REFUSALS = Refusals((LendingError,), (MarketUnavailableError,))


def _wad(value: int) -> str:
    return fraction(Decimal(value) / Decimal(WAD))


def _bps(value: int) -> str:
    return fraction(Decimal(value) / Decimal(BPS))


def _market_of(client: LendingClient, ticker: str, *, in_path: bool) -> DeployedMarket:
    try:
        return client.deployment.market(ticker.upper())
    except UnknownMarketError as error:
        raise ProblemError(404 if in_path else 422, error.code, str(error)) from None


def _market_out(client: LendingClient, view: MarketView) -> LendingMarketOut:
    parameters = view.parameters
    closed_ltv = min(parameters.max_ltv, max(0, parameters.lltv - view.closed_ltv_cut))
    borrow_ltv = None
    if view.state in _LENDS:
        borrow_ltv = _wad(closed_ltv) if view.state is AdapterState.CLOSED else _bps(parameters.max_ltv_bps)
    market = client.deployment.market(view.ticker)
    return LendingMarketOut(
        ticker=view.ticker,
        market_id=view.id,
        collateral_token=market.collateral_token,
        loan_token=market.loan_token,
        state=view.state.name.lower(),  # type: ignore[arg-type]
        state_label=view.state_label,
        price=optional(view.price),
        supplied=str(view.supplied),
        borrowed=str(view.borrowed),
        liquidity=str(view.liquidity),
        utilisation=fraction(view.utilisation),
        borrow_apr=fraction(view.borrow_apr),
        borrow_apy=fraction(view.borrow_apy),
        supply_apy=fraction(view.supply_apy),
        max_ltv=_bps(parameters.max_ltv_bps),
        lltv=_bps(parameters.lltv_bps),
        closed_ltv_cut=_wad(view.closed_ltv_cut),
        borrow_ltv=borrow_ltv,
        grace_period=view.grace_period,
    )


def _position_out(investor_id: str, view: PositionView, market: DeployedMarket) -> LendingPositionOut:
    return LendingPositionOut(
        investor_id=investor_id,
        wallet=view.owner,
        ticker=view.ticker,
        supplied=str(view.supplied),
        supply_shares=str(view.supply_shares),
        debt=str(view.debt),
        borrow_shares=str(view.borrow_shares),
        collateral=str(view.collateral),
        collateral_raw=view.collateral.raw,
        price=optional(view.price),
        collateral_value=optional(view.collateral_value),
        ltv=None if view.ltv is None else fraction(view.ltv),
        health_factor=None if view.health_factor is None else fraction(view.health_factor),
        liquidation_price=optional(view.liquidation_price),
        borrow_limit=optional(view.borrow_limit),
        liquidatable=view.liquidatable,
        max_ltv=_bps(market.parameters.max_ltv_bps),
        lltv=_bps(market.parameters.lltv_bps),
    )


def _positions(
    client: LendingClient,
    owners: Sequence[tuple[str, str]],
    tickers: Sequence[str],
    block: BlockId,
    *,
    keep_empty: bool = False,
) -> list[LendingPositionOut]:
    """Return the positions of (investor id, wallet) pairs in each market, all read at `block`."""
    reader = client.reader
    out = []
    for ticker in tickers:
        market = client.deployment.market(ticker)
        totals = reader.totals(ticker, block)
        price = reader.oracle_price(ticker, block)
        try:  # as `LendingReader.position`: the withdrawal's quote carries the closed-market cut
            cut = reader.quote(ticker, OracleAction.WITHDRAW_COLLATERAL, block).ltv_cut
        except MarketUnavailableError:
            cut = 0
        for investor_id, wallet in owners:
            raw = reader.raw_position(ticker, wallet, block)
            if not keep_empty and not any(raw):
                continue
            view = reader.value_position(market, wallet, totals, raw, price, cut)
            out.append(_position_out(investor_id, view, market))
    return out


@router.get("/markets")
def list_markets(_principal: PrincipalDep, client: LendingDep) -> list[LendingMarketOut]:
    """List every market: its supply and borrows, rates, LTVs and the oracle adapter's state."""
    block = client.chain.block_number()
    return [_market_out(client, view) for view in client.reader.markets(block)]


@router.get("/markets/{ticker}", responses=problem_responses(404))
def read_market(ticker: TickerPath, _principal: PrincipalDep, client: LendingDep) -> LendingMarketOut:
    """Return one market."""
    market = _market_of(client, ticker, in_path=True)
    return _market_out(client, client.reader.market(market.ticker, client.chain.block_number()))


@router.get("/positions", responses=problem_responses(403))
def list_positions(
    principal: PrincipalDep,
    issuer: IssuerDep,
    client: LendingDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[LendingPositionOut]:
    """List the caller's positions in its registered wallets (an operator: one investor's, or everyone's),
    each with its health factor and liquidation price; empty positions are left out."""
    wallets = owners(principal, issuer, investor_id)
    tickers = (
        list(client.deployment.markets)
        if ticker is None
        else [_market_of(client, ticker, in_path=False).ticker]
    )
    return _positions(client, wallets, tickers, client.chain.block_number())


# -- actions


def _tokens(client: LendingClient, ticker: str, text: str) -> TokenAmount:
    decimals = client.reader.decimals(ticker)
    scaled = Decimal(text).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ProblemError(
            422, "invalid_amount", f"amount {text} has more decimals than {ticker}'s token ({decimals})"
        )
    return TokenAmount(int(scaled), decimals)


Amount = Usd | TokenAmount | None


def _add_action(action: LendingAction, description: str) -> None:
    path = f"/{action.value.replace('_', '-')}"

    def act(
        body: LendingActionIn,
        idempotency_key: IdempotencyKey,
        principal: PrincipalDep,
        issuer: IssuerDep,
        client: LendingDep,
        calls: IdempotentCallsDep,
        lock: LendingLockDep,
    ) -> Response:
        investor = acting_investor(principal, issuer, "lending")
        market = _market_of(client, body.ticker, in_path=False)
        ticker = market.ticker
        contract = client.deployment.lending_market
        wallet = acting_wallet(
            investor, body.wallet, client.chain.signers, "lending", contract, "market contract"
        )
        whole = action in (LendingAction.WITHDRAW, LendingAction.WITHDRAW_COLLATERAL, LendingAction.REPAY)
        collateral = action in (LendingAction.SUPPLY_COLLATERAL, LendingAction.WITHDRAW_COLLATERAL)
        amount: Amount = None
        if body.amount is None:
            if not whole:
                raise ProblemError(
                    422,
                    "invalid_request",
                    f"amount: {action.value.replace('_', ' ')} needs an amount "
                    f"({'tokens' if collateral else 'dollars of USDC'})",
                )
        else:
            amount = _tokens(client, ticker, body.amount) if collateral else usdc(body.amount)
        send: Callable[..., LendingReceipt] = getattr(client, action.value)
        key = derived_key(principal, idempotency_key)
        canonical = {
            "ticker": ticker,
            "amount": None if amount is None else str(amount),
            "wallet": wallet.lower(),
        }

        def call() -> str:
            with lock, _REFUSALS:
                receipt = send(wallet, ticker, amount, key=key)
            [position] = _positions(
                client, [(investor.id, receipt.wallet)], [ticker], "latest", keep_empty=True
            )
            out = LendingReceiptOut(
                action=action.value,
                ticker=ticker,
                wallet=receipt.wallet,
                amount=str(receipt.amount),
                tx_hash=receipt.tx_hash,
                position=position,
            )
            return out.model_dump_json()

        return run_once(calls, principal, idempotency_key, router.prefix + path, canonical, call)

    add_action(router, path, action.value, act, LendingActionIn, LendingReceiptOut, description)


_add_action(
    LendingAction.SUPPLY,
    "Lend `amount` dollars of USDC from your wallet to the market, for supply shares that earn interest.",
)
_add_action(
    LendingAction.WITHDRAW,
    "Withdraw `amount` dollars of your supplied USDC (all of it without an amount), as liquidity allows.",
)
_add_action(LendingAction.SUPPLY_COLLATERAL, "Deposit `amount` tokens from your wallet as collateral.")
_add_action(
    LendingAction.WITHDRAW_COLLATERAL,
    "Withdraw `amount` tokens of collateral (all of it without an amount), within your borrow limit.",
)
_add_action(
    LendingAction.BORROW,
    "Borrow `amount` dollars of USDC against your collateral, within the borrow limit allowed now.",
)
_add_action(
    LendingAction.REPAY,
    "Repay `amount` dollars of your debt from your wallet's USDC (the whole debt without an amount).",
)
