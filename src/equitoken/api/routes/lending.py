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

import hashlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    LendingDep,
    LendingLockDep,
    PrincipalDep,
    investor_scope,
)
from equitoken.api.idempotency import fingerprint
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.schemas import (
    ID,
    TICKER,
    LendingActionIn,
    LendingMarketOut,
    LendingPositionOut,
    LendingReceiptOut,
)
from equitoken.chain.records import BlockId
from equitoken.issuer.errors import UnknownInvestorError
from equitoken.issuer.investors import Investor
from equitoken.issuer.service import Issuer
from equitoken.model.bps import BPS
from equitoken.model.quantities import InvalidAmountError, Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.venues.lending.actions import LendingAction, LendingClient, LendingReceipt
from equitoken.venues.lending.adapter import AdapterState, OracleAction
from equitoken.venues.lending.deployment import DeployedMarket
from equitoken.venues.lending.errors import LendingError, MarketUnavailableError, UnknownMarketError
from equitoken.venues.lending.parameters import WAD
from equitoken.venues.lending.views import MarketView, PositionView

router = APIRouter(prefix="/lending", tags=["lending"])

TickerPath = Annotated[str, Path(pattern=TICKER, description="The market's collateral, e.g. AAPL.")]
_PLACES = Decimal("1e-8")
# States in which the adapter lends: at the max LTV, or while closed at the LLTV less the cut.
_LENDS = (AdapterState.OPEN, AdapterState.GRACE, AdapterState.CLOSED)


def _fraction(value: Decimal) -> str:
    return format(value.quantize(_PLACES).normalize(), "f")


def _wad(value: int) -> str:
    return _fraction(Decimal(value) / Decimal(WAD))


def _bps(value: int) -> str:
    return _fraction(Decimal(value) / Decimal(BPS))


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


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
        price=_optional(view.price),
        supplied=str(view.supplied),
        borrowed=str(view.borrowed),
        liquidity=str(view.liquidity),
        utilisation=_fraction(view.utilisation),
        borrow_apr=_fraction(view.borrow_apr),
        borrow_apy=_fraction(view.borrow_apy),
        supply_apy=_fraction(view.supply_apy),
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
        price=_optional(view.price),
        collateral_value=_optional(view.collateral_value),
        ltv=None if view.ltv is None else _fraction(view.ltv),
        health_factor=None if view.health_factor is None else _fraction(view.health_factor),
        liquidation_price=_optional(view.liquidation_price),
        borrow_limit=_optional(view.borrow_limit),
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


def _evm_wallets(investor: Investor) -> list[str]:
    return [wallet for wallet in investor.wallets if wallet.startswith("0x")]


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
    scope = investor_scope(principal, investor_id)
    try:
        investors = issuer.investors.all() if scope is None else [issuer.investors.get(scope)]
    except UnknownInvestorError as error:
        raise ProblemError(422, error.code, error.message) from None
    tickers = (
        list(client.deployment.markets)
        if ticker is None
        else [_market_of(client, ticker, in_path=False).ticker]
    )
    owners = [(investor.id, wallet) for investor in investors for wallet in _evm_wallets(investor)]
    return _positions(client, owners, tickers, client.chain.block_number())


# -- actions


def _investor(principal: Principal, issuer: Issuer) -> Investor:
    if principal.investor_id is None:
        raise ProblemError(
            403, "forbidden", "an operator key has no lending positions; act with an investor's key"
        )
    return issuer.investors.get(principal.investor_id)


def _wallet(investor: Investor, asked: str | None, client: LendingClient) -> str:
    """Return the wallet the action is for: the one asked, which must be the investor's, else its first
    EVM wallet whose key the platform holds."""
    wallets = _evm_wallets(investor)
    if asked is not None:
        chosen = next((w for w in wallets if w.lower() == asked.lower()), None)
        if chosen is None:
            raise ProblemError(
                422, "lending_wallet_not_registered", f"{asked} is not one of your registered wallets"
            )
    else:
        signable = [w for w in wallets if w in client.chain.signers]
        if not wallets:
            raise ProblemError(
                422, "lending_wallet_not_registered", "you have no registered EVM wallet to act for"
            )
        chosen = (signable or wallets)[0]
    if chosen not in client.chain.signers:
        raise ProblemError(
            422,
            "lending_wallet_not_custodied",
            f"the platform holds no key for {chosen}: call the market contract "
            f"{client.deployment.lending_market} from that wallet yourself",
        )
    return chosen


def _usdc(text: str) -> Usd:
    try:
        return Usd.parse(text)
    except InvalidAmountError:
        raise ProblemError(422, "invalid_amount", f"amount {text} has more decimals than USDC's 6") from None


def _tokens(client: LendingClient, ticker: str, text: str) -> TokenAmount:
    decimals = client.reader.decimals(ticker)
    scaled = Decimal(text).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ProblemError(
            422, "invalid_amount", f"amount {text} has more decimals than {ticker}'s token ({decimals})"
        )
    return TokenAmount(int(scaled), decimals)


def _derived_key(principal: Principal, idempotency_key: str) -> str:
    # The client's request keys are per wallet and market; the caller's key only per API key.
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


Amount = Usd | TokenAmount | None


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": LendingReceiptOut, "description": "The action's receipt; a retry gets the first one."},
    **problem_responses(403, 409, 503),
}


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
        investor = _investor(principal, issuer)
        market = _market_of(client, body.ticker, in_path=False)
        ticker = market.ticker
        wallet = _wallet(investor, body.wallet, client)
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
            amount = _tokens(client, ticker, body.amount) if collateral else _usdc(body.amount)
        send: Callable[..., LendingReceipt] = getattr(client, action.value)
        key = _derived_key(principal, idempotency_key)
        canonical = {
            "ticker": ticker,
            "amount": None if amount is None else str(amount),
            "wallet": wallet.lower(),
        }

        def call() -> tuple[int, str]:
            with lock:
                try:
                    receipt = send(wallet, ticker, amount, key=key)
                except LendingError as error:
                    code = 409 if isinstance(error, MarketUnavailableError) else 422
                    raise ProblemError(code, error.code, str(error)) from None
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
            return status.HTTP_200_OK, out.model_dump_json()

        stored = calls.run(
            principal, idempotency_key, fingerprint("POST", router.prefix + path, canonical), call
        )
        headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
        return Response(
            stored.body, status_code=status.HTTP_200_OK, media_type="application/json", headers=headers
        )

    router.add_api_route(
        path,
        act,
        methods=["POST"],
        name=action.value,
        description=description,
        response_model=LendingReceiptOut,
        responses=_ACTION_RESPONSES,
    )


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
