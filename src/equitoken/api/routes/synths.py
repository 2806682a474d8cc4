"""The synthetic stocks: every vault for everyone; each investor's positions and its actions on them.

A synthetic (sAAPL) tracks one stock token's price and is minted against USDC locked in its vault
(`venues/synths/`, the Mirror/Synthetix model). Reads are one consistent picture, read at one block.
An investor acts for one of its registered wallets whose key the platform holds: open a position
(lock USDC, mint), deposit and withdraw USDC, mint and burn the synthetic, close the position. Each
action is checked against the chain before anything is signed (`SynthsClient`), so a refusal is a
problem with a stable code that changed nothing; an action the vault's state forbids now (the
stock's market closed or halted, the price stale) is a 409. An action is sent at most once per
`Idempotency-Key`: the client's own request key is derived from it.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Response

from equitoken.api.deps import (
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    PrincipalDep,
    SynthsDep,
    SynthsLockDep,
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
    SynthActionIn,
    SynthActionName,
    SynthCloseIn,
    SynthMintIn,
    SynthOpenIn,
    SynthPositionOut,
    SynthReceiptOut,
    SynthUsdIn,
    SynthVaultOut,
)
from equitoken.chain.records import BlockId
from equitoken.issuer.investors import Investor
from equitoken.venues.synths.actions import SynthReceipt, SynthsClient
from equitoken.venues.synths.deployment import DeployedSynth
from equitoken.venues.synths.errors import SynthsError, SynthSuspendedError, UnknownSynthError
from equitoken.venues.synths.parameters import SynthAmount
from equitoken.venues.synths.views import PositionView, VaultView

router = APIRouter(prefix="/synths", tags=["synthetic stocks"])

TickerPath = Annotated[str, Path(pattern=TICKER, description="The synthetic's stock, e.g. AAPL.")]
_WAD = Decimal(10**18)
_REFUSALS = Refusals((SynthsError,), (SynthSuspendedError,))


def _synth_of(client: SynthsClient, ticker: str, *, in_path: bool) -> DeployedSynth:
    try:
        return client.deployment.synth(ticker.upper())
    except UnknownSynthError as error:
        raise ProblemError(404 if in_path else 422, error.code, str(error)) from None


def _vault_out(client: SynthsClient, view: VaultView) -> SynthVaultOut:
    return SynthVaultOut(
        ticker=view.ticker,
        symbol=client.deployment.synth(view.ticker).symbol,
        vault=view.vault,
        synth=view.synth,
        state=view.state.name.lower(),  # type: ignore[arg-type]
        state_label=view.state.label,
        price=optional(view.price),
        min_collateral_ratio=fraction(Decimal(view.min_collateral_ratio) / _WAD),
        liquidation_penalty=fraction(Decimal(view.liquidation_penalty) / _WAD),
        max_price_age=view.max_age,
        total_collateral=str(view.total_collateral),
        total_debt=str(view.total_debt),
        bad_debt=str(view.bad_debt),
        supply=str(view.supply),
        positions=view.positions,
    )


def _position_out(investor_id: str, view: PositionView, min_ratio: int) -> SynthPositionOut:
    return SynthPositionOut(
        investor_id=investor_id,
        wallet=view.owner,
        ticker=view.ticker,
        position_id=view.id,
        collateral=str(view.collateral),
        debt=str(view.debt),
        price=optional(view.price),
        debt_value=optional(view.debt_value),
        collateral_ratio=None if view.collateral_ratio is None else fraction(view.collateral_ratio),
        liquidation_price=optional(view.liquidation_price),
        max_mint=str(view.max_mint),
        liquidatable=view.liquidatable,
        min_collateral_ratio=fraction(Decimal(min_ratio) / _WAD),
    )


def _positions(
    client: SynthsClient, owners: Sequence[tuple[str, str]], tickers: Sequence[str], block: BlockId
) -> list[SynthPositionOut]:
    """Return the open positions of (investor id, wallet) pairs in each vault, all read at `block`."""
    reader = client.reader
    wanted = {wallet.lower(): investor_id for investor_id, wallet in owners}
    out = []
    for ticker in tickers:
        min_ratio, _ = reader.risk(ticker, block)
        for view in reader.positions(ticker, None, block):
            investor_id = wanted.get(view.owner.lower())
            if investor_id is not None:
                out.append(_position_out(investor_id, view, min_ratio))
    return out


@router.get("/vaults")
def list_vaults(_principal: PrincipalDep, client: SynthsDep) -> list[SynthVaultOut]:
    """List every synthetic's vault: its price and state, minimum collateral ratio, penalty and totals."""
    block = client.chain.block_number()
    return [_vault_out(client, view) for view in client.reader.vaults(block)]


@router.get("/vaults/{ticker}", responses=problem_responses(404))
def read_vault(ticker: TickerPath, _principal: PrincipalDep, client: SynthsDep) -> SynthVaultOut:
    """Return one synthetic's vault."""
    synth = _synth_of(client, ticker, in_path=True)
    return _vault_out(client, client.reader.vault(synth.ticker, client.chain.block_number()))


@router.get("/positions", responses=problem_responses(403))
def list_positions(
    principal: PrincipalDep,
    issuer: IssuerDep,
    client: SynthsDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
) -> list[SynthPositionOut]:
    """List the caller's open positions in its registered wallets (an operator: one investor's, or
    everyone's), each with its collateral ratio and liquidation price."""
    wallets = owners(principal, issuer, investor_id)
    tickers = (
        list(client.deployment.synths)
        if ticker is None
        else [_synth_of(client, ticker, in_path=False).ticker]
    )
    return _positions(client, wallets, tickers, client.chain.block_number())


# -- actions

_In = TypeVar("_In", bound=SynthActionIn)
Send = Callable[[SynthsClient, str, str, str], SynthReceipt]
"""Send the action for (client, wallet, ticker, key)."""


def _synths(text: str | None) -> SynthAmount | None:
    if text is None:
        return None
    try:
        return SynthAmount.parse(text)
    except SynthsError:
        raise ProblemError(
            422, "invalid_amount", f"amount {text} has more decimals than a synthetic's 18"
        ) from None


def _plan_open(body: SynthOpenIn) -> tuple[Send, dict[str, object]]:
    collateral = usdc(body.collateral, "collateral")
    amount = _synths(body.amount)
    assert amount is not None  # the body requires it

    def send(client: SynthsClient, wallet: str, ticker: str, key: str) -> SynthReceipt:
        return client.open_position(wallet, ticker, collateral, amount, key=key)

    return send, {"collateral": str(collateral), "amount": str(amount)}


def _plan_usd(deposit: bool) -> Callable[[SynthUsdIn], tuple[Send, dict[str, object]]]:
    def plan(body: SynthUsdIn) -> tuple[Send, dict[str, object]]:
        if body.amount is None and deposit:
            raise ProblemError(422, "invalid_request", "amount: a deposit needs an amount (dollars of USDC)")
        amount = None if body.amount is None else usdc(body.amount)

        def send(client: SynthsClient, wallet: str, ticker: str, key: str) -> SynthReceipt:
            if deposit:
                assert amount is not None
                return client.deposit(wallet, ticker, body.position_id, amount, key=key)
            return client.withdraw(wallet, ticker, body.position_id, amount, key=key)

        return send, {"position_id": body.position_id, "amount": optional(amount)}

    return plan


def _plan_synth(mint: bool) -> Callable[[SynthMintIn], tuple[Send, dict[str, object]]]:
    def plan(body: SynthMintIn) -> tuple[Send, dict[str, object]]:
        if body.amount is None and mint:
            raise ProblemError(422, "invalid_request", "amount: a mint needs an amount (synthetics)")
        amount = _synths(body.amount)

        def send(client: SynthsClient, wallet: str, ticker: str, key: str) -> SynthReceipt:
            if mint:
                assert amount is not None
                return client.mint(wallet, ticker, body.position_id, amount, key=key)
            return client.burn(wallet, ticker, body.position_id, amount, key=key)

        return send, {"position_id": body.position_id, "amount": optional(amount)}

    return plan


def _plan_close(body: SynthCloseIn) -> tuple[Send, dict[str, object]]:
    def send(client: SynthsClient, wallet: str, ticker: str, key: str) -> SynthReceipt:
        return client.close(wallet, ticker, body.position_id, key=key)

    return send, {"position_id": body.position_id}


def _receipt_out(
    client: SynthsClient, investor: Investor, name: SynthActionName, receipt: SynthReceipt
) -> SynthReceiptOut:
    view = client.reader.position(receipt.ticker, receipt.position_id)
    min_ratio, _ = client.reader.risk(receipt.ticker)
    return SynthReceiptOut(
        action=name,
        ticker=receipt.ticker,
        wallet=receipt.wallet,
        position_id=receipt.position_id,
        collateral=str(receipt.collateral),
        synth=str(receipt.synth),
        tx_hash=receipt.tx_hash,
        position=_position_out(investor.id, view, min_ratio) if view.is_open else None,
    )


def _add_action(
    name: SynthActionName,
    body_type: type[_In],
    plan: Callable[[_In], tuple[Send, dict[str, object]]],
    description: str,
) -> None:
    path = f"/{name}"

    def act(
        body: _In,
        idempotency_key: IdempotencyKey,
        principal: PrincipalDep,
        issuer: IssuerDep,
        client: SynthsDep,
        calls: IdempotentCallsDep,
        lock: SynthsLockDep,
    ) -> Response:
        investor = acting_investor(principal, issuer, "synthetic-stock")
        synth = _synth_of(client, body.ticker, in_path=False)
        ticker = synth.ticker
        wallet = acting_wallet(investor, body.wallet, client.chain.signers, "synths", synth.vault)
        send, canonical = plan(body)
        key = derived_key(principal, idempotency_key)

        def call() -> str:
            with lock, _REFUSALS:
                receipt = send(client, wallet, ticker, key)
            return _receipt_out(client, investor, name, receipt).model_dump_json()

        canonical = {**canonical, "ticker": ticker, "wallet": wallet.lower()}
        return run_once(calls, principal, idempotency_key, router.prefix + path, canonical, call)

    add_action(router, path, f"synth_{name}", act, body_type, SynthReceiptOut, description)


_add_action(
    "open",
    SynthOpenIn,
    _plan_open,
    "Lock `collateral` dollars of USDC from your wallet in a new position and mint `amount` synthetics "
    "to it, at or above the vault's minimum collateral ratio. A 409 while the vault is suspended.",
)
_add_action(
    "deposit", SynthUsdIn, _plan_usd(deposit=True), "Add `amount` dollars of USDC to a position (any state)."
)
_add_action(
    "withdraw",
    SynthUsdIn,
    _plan_usd(deposit=False),
    "Withdraw `amount` dollars of a position's USDC (as much as it may without an amount), keeping the "
    "minimum collateral ratio.",
)
_add_action("mint", SynthMintIn, _plan_synth(mint=True), "Mint `amount` more synthetics against a position.")
_add_action(
    "burn",
    SynthMintIn,
    _plan_synth(mint=False),
    "Burn `amount` synthetics from your wallet against a position's debt (the whole debt without an amount).",
)
_add_action(
    "close",
    SynthCloseIn,
    _plan_close,
    "Burn a position's whole debt from your wallet and take all its collateral back.",
)
