"""The bridge between the issuer's chains: which chains and tokens it joins, each investor's transfers
and their progress, sending, supply per chain, and the compliance agent's decision on a held transfer.

A transfer burns on its source chain and mints on its destination (`bridge/`): burned, attested once
a quorum of attesters signed, then minted; or held at the destination when the receiver is refused,
until an operator (the compliance agent) releases it to another wallet or returns it to its sender.
An investor sends from one of its wallets whose key the platform holds; the desk checks everything
the source chain would refuse before it signs, so a refusal is a 422 problem with the desk's code that
changed nothing. A send is made at most once per `Idempotency-Key`.
"""

from collections.abc import Iterable
from decimal import Decimal
from threading import Lock
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from equitoken.api.deps import (
    BridgeDep,
    BridgeLockDep,
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    OperatorDep,
    PrincipalDep,
)
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import Refusals, acting_investor, run_once, scoped_investors, units
from equitoken.api.schemas import (
    ID,
    TICKER,
    BridgeChainOut,
    BridgeChainSupplyOut,
    BridgeEventOut,
    BridgeReleaseIn,
    BridgeSendOut,
    BridgeSupplyOut,
    BridgeTransferCreate,
    BridgeTransferOut,
)
from equitoken.bridge.desk import BridgeDesk, BridgeRefusedError, TransferView, UnknownTransferError
from equitoken.bridge.message import SHARED_DECIMALS
from equitoken.issuer.investors import Investor
from equitoken.issuer.service import Issuer

router = APIRouter(prefix="/bridge", tags=["bridge"])

TransferPath = Annotated[
    str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The transfer's id (its bridge message's id).")
]
TickerPath = Annotated[str, Path(pattern=TICKER, description="The token, e.g. AAPL.")]
_REFUSALS = Refusals((BridgeRefusedError,), ())


def _tokens(raw: int, decimals: int) -> str:
    """Return raw units as a decimal number of tokens, without trailing zeros."""
    return format(Decimal(raw).scaleb(-decimals).normalize(), "f")


def _transfer_out(view: TransferView) -> BridgeTransferOut:
    return BridgeTransferOut(
        id=view.id,
        ticker=view.ticker,
        source_chain=view.source_chain,
        dest_chain=view.dest_chain,
        sender=view.sender,
        receiver=view.receiver,
        amount=_tokens(view.amount, SHARED_DECIMALS),
        amount_raw=view.amount,
        state=view.state,  # type: ignore[arg-type]
        in_flight=view.in_flight,
        source_tx=view.source_tx,
        dest_tx=view.dest_tx,
        reason=view.reason,
        returns=view.returns,
        created_at=view.created_at,
        updated_at=view.updated_at,
        events=[BridgeEventOut(at=e.at, state=e.state, reason=e.reason) for e in view.events],  # type: ignore[arg-type]
    )


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower() if a.startswith("0x") else a == b


def _involves(view: TransferView, wallets: Iterable[str]) -> bool:
    return any(_same(view.sender, w) or _same(view.receiver, w) for w in wallets)


def _family(wallet: str) -> str:
    return "EVM" if wallet.startswith("0x") else "Solana"


def _holds_key(desk: BridgeDesk, wallet: str) -> bool:
    return wallet in desk.signers if wallet.startswith("0x") else wallet in desk.keypairs


def _sending_wallet(desk: BridgeDesk, investor: Investor, chain_id: int, asked: str | None) -> str:
    """Return the wallet the investor sends from: the one asked, which must be its own, else its first
    wallet on the source chain whose key the platform holds."""
    if asked is not None:
        chosen = next((w for w in investor.wallets if _same(w, asked)), None)
        if chosen is None:
            raise ProblemError(
                422, "bridge_wallet_not_registered", f"{asked} is not one of your registered wallets"
            )
        return chosen
    end = desk.relayer.network.ends.get(chain_id)
    mine = [w for w in investor.wallets if end is None or _family(w) == end.family]
    if not mine:
        raise ProblemError(
            422, "bridge_wallet_not_registered", f"you have no registered wallet on chain {chain_id}"
        )
    custodied = [w for w in mine if _holds_key(desk, w)]
    return (custodied or mine)[0]


def _decimals(desk: BridgeDesk, chain_id: int, ticker: str) -> int:
    end = desk.relayer.network.ends.get(chain_id)
    if end is None or ticker not in end.tickers:
        return SHARED_DECIMALS  # the desk refuses the chain or ticker, naming it
    return end.decimals(ticker)


def _visible(principal: Principal, issuer: Issuer, view: TransferView) -> bool:
    if principal.is_operator:
        return True
    assert principal.investor_id is not None
    return _involves(view, issuer.investors.get(principal.investor_id).wallets)


@router.get("/chains")
def list_chains(_principal: PrincipalDep, desk: BridgeDep) -> list[BridgeChainOut]:
    """List the chains the bridge joins, with their names and the tokens bridged on each."""
    names = desk.chains
    return [
        BridgeChainOut(
            chain_id=chain_id,
            name=names[chain_id],
            family=end.family,  # type: ignore[arg-type]
            tickers=sorted(end.tickers),
        )
        for chain_id, end in desk.relayer.network.ends.items()
    ]


@router.get("/transfers", responses=problem_responses(403))
def list_transfers(
    principal: PrincipalDep,
    issuer: IssuerDep,
    desk: BridgeDep,
    ticker: Annotated[str | None, Query(pattern=TICKER)] = None,
    investor_id: Annotated[str | None, Query(pattern=ID, description="Operator only; omit for all.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BridgeTransferOut]:
    """List the newest transfers from or to the caller's wallets (an operator: one investor's, or
    everyone's), without their histories."""
    wanted = None if ticker is None else ticker.upper()
    if principal.is_operator and investor_id is None:
        views = desk.transfers(ticker=wanted, limit=limit)
    else:
        wallets = {w for i in scoped_investors(principal, issuer, investor_id) for w in i.wallets}
        found = {
            v.id: v for w in sorted(wallets) for v in desk.transfers(ticker=wanted, wallet=w, limit=limit)
        }
        views = sorted(sorted(found.values(), key=lambda v: v.id), key=lambda v: v.created_at, reverse=True)
    return [_transfer_out(view) for view in views[:limit]]


@router.get("/transfers/{transfer_id}", responses=problem_responses(404))
def read_transfer(
    transfer_id: TransferPath, principal: PrincipalDep, issuer: IssuerDep, desk: BridgeDep
) -> BridgeTransferOut:
    """Return one transfer with its progress: burned, attested, then minted, or held, then released or
    returned. An investor sees only transfers from or to its wallets."""
    try:
        view = desk.transfer(transfer_id)
    except UnknownTransferError as error:
        raise ProblemError(404, error.code, str(error)) from None
    if not _visible(principal, issuer, view):
        raise ProblemError(404, UnknownTransferError.code, f"no bridge transfer {transfer_id}")
    return _transfer_out(view)


@router.post(
    "/transfers",
    response_model=BridgeSendOut,
    responses={
        200: {"model": BridgeSendOut, "description": "The burn; a retry gets the first answer."},
        **problem_responses(403, 503),
    },
)
def send_transfer(
    body: BridgeTransferCreate,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    desk: BridgeDep,
    calls: IdempotentCallsDep,
    lock: BridgeLockDep,
) -> Response:
    """Send `amount` tokens of `ticker` from your wallet on `source_chain` to `receiver` on
    `dest_chain`: the tokens are burned now and minted at the destination once a quorum of attesters
    has signed. Refused (422, nothing burned) for an unknown chain or token, the same chain twice, a
    receiver of the other chain family, more than the wallet holds, a paused pool, a sender or receiver
    the token refuses, or above the bridge's rate limit (naming the wait)."""
    investor = acting_investor(principal, issuer, "bridge")
    ticker = body.ticker.upper()
    wallet = _sending_wallet(desk, investor, body.source_chain, body.wallet)
    amount = units(body.amount, _decimals(desk, body.source_chain, ticker), "amount")

    def call() -> str:
        with lock, _REFUSALS:
            burned = desk.send(ticker, body.source_chain, wallet, body.dest_chain, body.receiver, amount)
        return BridgeSendOut(
            id=burned.transfer_id,
            ticker=ticker,
            source_chain=body.source_chain,
            dest_chain=body.dest_chain,
            wallet=wallet,
            receiver=body.receiver,
            amount=_tokens(amount, _decimals(desk, body.source_chain, ticker)),
            source_tx=burned.source_tx,
        ).model_dump_json()

    canonical = {
        "ticker": ticker,
        "source_chain": body.source_chain,
        "wallet": wallet,
        "dest_chain": body.dest_chain,
        "receiver": body.receiver.lower() if body.receiver.startswith("0x") else body.receiver,
        "amount": amount,
    }
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/transfers", canonical, call)


def _decide(desk: BridgeDesk, lock: Lock, transfer_id: str, release_to: str | None) -> BridgeTransferOut:
    try:
        with lock, _REFUSALS:
            return _transfer_out(desk.decide(transfer_id, release_to))
    except UnknownTransferError as error:
        raise ProblemError(404, error.code, str(error)) from None


_DECIDED = {
    200: {"model": BridgeTransferOut, "description": "The transfer; a retry gets the first answer."},
    **problem_responses(403, 404),
}


@router.post("/transfers/{transfer_id}/release", response_model=BridgeTransferOut, responses=_DECIDED)
def release_transfer(
    transfer_id: TransferPath,
    body: BridgeReleaseIn,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    desk: BridgeDep,
    calls: IdempotentCallsDep,
    lock: BridgeLockDep,
) -> Response:
    """Operator only (the compliance agent): release a held transfer to `to`, a wallet on its
    destination chain the token accepts; the relayer mints it there on its next pass."""

    def call() -> str:
        return _decide(desk, lock, transfer_id, body.to).model_dump_json()

    path = f"{router.prefix}/transfers/{transfer_id.lower()}/release"
    return run_once(calls, operator, idempotency_key, path, {"to": body.to}, call)


@router.post("/transfers/{transfer_id}/return", response_model=BridgeTransferOut, responses=_DECIDED)
def return_transfer(
    transfer_id: TransferPath,
    idempotency_key: IdempotencyKey,
    operator: OperatorDep,
    desk: BridgeDep,
    calls: IdempotentCallsDep,
    lock: BridgeLockDep,
) -> Response:
    """Operator only (the compliance agent): return a held transfer to its sender; the relayer sends
    it back to the source chain on its next pass."""

    def call() -> str:
        return _decide(desk, lock, transfer_id, None).model_dump_json()

    path = f"{router.prefix}/transfers/{transfer_id.lower()}/return"
    return run_once(calls, operator, idempotency_key, path, None, call)


@router.get("/supply/{ticker}", responses=problem_responses(404))
def read_supply(ticker: TickerPath, _principal: PrincipalDep, desk: BridgeDep) -> BridgeSupplyOut:
    """Return a token's supply on each chain and what is in flight to each, in tokens."""
    wanted = ticker.upper()
    if wanted not in desk.tickers:
        raise ProblemError(404, "bridge_unknown_ticker", f"{wanted} is not bridged")
    view = desk.supply(wanted)
    names = desk.chains
    chains = []
    total = Decimal(0)
    for chain_id in desk.relayer.network.ends:
        if chain_id not in view.supply and chain_id not in view.in_flight:
            continue
        supply = Decimal(view.supply.get(chain_id, 0)).scaleb(-_decimals(desk, chain_id, wanted))
        in_flight = Decimal(view.in_flight.get(chain_id, 0)).scaleb(-SHARED_DECIMALS)
        total += supply + in_flight
        chains.append(
            BridgeChainSupplyOut(
                chain_id=chain_id,
                name=names[chain_id],
                supply=format(supply.normalize(), "f"),
                in_flight=format(in_flight.normalize(), "f"),
            )
        )
    return BridgeSupplyOut(ticker=wanted, total=format(total.normalize(), "f"), chains=chains)
