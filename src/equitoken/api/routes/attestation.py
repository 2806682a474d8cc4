"""Attestation mints (the Ondo Global Markets model): a verified investor mints or redeems stock tokens
at once with a quote the issuer signs, during the exchange's regular sessions (holidays and early closes
included), within per-investor and per-token dollar limits and a band around the oracle's price; the
issuer hedges at its broker afterwards and reports the backing while it does.

An investor asks for a quote for one of its wallets and submits it to the minter itself, or lets the
platform mint or redeem for its wallet whose key the platform holds (once per `Idempotency-Key`). A
refused quote is a 422 problem with the desk's code (`outside_issuance_hours` names the next opening);
nothing is signed or sent.
"""

from fastapi import APIRouter, Response

from equitoken.api.deps import (
    AttestationDep,
    AttestationLockDep,
    IdempotencyKey,
    IdempotentCallsDep,
    IssuerDep,
    OperatorDep,
    PrincipalDep,
)
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.acting import (
    Refusals,
    acting_investor,
    acting_wallet,
    derived_key,
    evm_wallets,
    run_once,
)
from equitoken.api.schemas import (
    AttestationBackingOut,
    AttestationMinterOut,
    AttestationOut,
    AttestationQuoteIn,
    AttestationQuoteOut,
    AttestationTradeOut,
)
from equitoken.issuer.attestation.service import trade
from equitoken.issuer.errors import IssuerError
from equitoken.market.calendar import OutsideCalendarError
from equitoken.model.quantities import InvalidAmountError, Shares, Usd

router = APIRouter(prefix="/attestation", tags=["attestation mints"])
_REFUSALS = Refusals((IssuerError,), ())


def _shares(text: str) -> Shares:
    try:
        return Shares.parse(text)
    except InvalidAmountError as error:
        raise ProblemError(422, "invalid_amount", str(error)) from None


@router.get("")
def describe(_principal: PrincipalDep, attestation: AttestationDep) -> AttestationOut:
    """Return the minters, whether quotes are signed now and, if not, when next."""
    desk = attestation.desk
    now = attestation.clock.now()
    try:
        open_now = desk.calendar.is_open(now)
        next_open = None if open_now else desk.calendar.next_open(now)
    except OutsideCalendarError:
        open_now, next_open = False, None
    deployment = attestation.onchain.deployment
    return AttestationOut(
        chain_id=attestation.onchain.chain_id,
        minters=[
            AttestationMinterOut(ticker=t, minter=m, token=deployment.instrument(t).token)
            for t, m in sorted(attestation.minters.minters.items())
        ],
        open_now=open_now,
        next_open=next_open,
        spread_bps=attestation.config.spread_bps,
        quote_ttl_seconds=int(attestation.config.quote_ttl.total_seconds()),
    )


@router.post("/quotes", responses=problem_responses(403))
def quote(
    body: AttestationQuoteIn, principal: PrincipalDep, issuer: IssuerDep, attestation: AttestationDep
) -> AttestationQuoteOut:
    """Sign a quote for your wallet to mint (`buy`) or redeem (`sell`) `quantity` shares now: submit it
    to the minter's `mint_with_attestation` or `redeem_with_attestation` from that wallet before
    `expiry`, with the minter approved for the USDC (or the tokens). Refused (422, nothing signed) outside
    the sessions, for a token the minter does not serve, dust, a wallet the token refuses, a price off
    the oracle's band, more than the inventory or the dollar limits allow, or a balance short of it."""
    investor = acting_investor(principal, issuer, "attestation")
    wallets = evm_wallets(investor)
    wallet = body.wallet or (wallets[0] if wallets else None)
    if wallet is None or wallet.lower() not in {w.lower() for w in wallets}:
        raise ProblemError(
            422,
            "attestation_wallet_not_registered",
            f"{wallet or 'no wallet'} is not one of your registered wallets",
        )
    with _REFUSALS:
        signed = attestation.quote(wallet, body.ticker.upper(), body.side, _shares(body.quantity))
    q = signed.quote
    return AttestationQuoteOut(
        minter=signed.minter,
        chain_id=q.chain_id,
        attestation_id=q.id_hex,
        user=q.user,
        token=q.token,
        price=str(q.price),
        quantity=str(q.quantity),
        side=int(q.side),
        expiry=q.expiry,
        signature="0x" + signed.signature.hex(),
    )


@router.post(
    "/trades",
    response_model=AttestationTradeOut,
    responses={
        200: {"model": AttestationTradeOut, "description": "The mint or redemption."},
        **problem_responses(403),
    },
)
def trade_now(
    body: AttestationQuoteIn,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    issuer: IssuerDep,
    attestation: AttestationDep,
    calls: IdempotentCallsDep,
    lock: AttestationLockDep,
) -> Response:
    """Mint or redeem at once from your wallet whose key the platform holds: the platform takes a quote
    and uses it, once per `Idempotency-Key`. Refused (422, nothing sent) as a quote is, or when the chain
    refuses the transaction."""
    investor = acting_investor(principal, issuer, "attestation")
    signers = attestation.onchain.chain.signers
    wallet = acting_wallet(investor, body.wallet, signers, "attestation", "minter with a quote")
    ticker, quantity = body.ticker.upper(), _shares(body.quantity)

    def call() -> str:
        with lock, _REFUSALS:
            done = trade(
                attestation, wallet, ticker, body.side, quantity, key=derived_key(principal, idempotency_key)
            )
        return AttestationTradeOut(
            attestation_id=done.attestation_id,
            ticker=done.ticker,
            side="buy" if int(done.side) == 0 else "sell",
            quantity=str(done.quantity),
            usd=str(Usd(done.usd_amount)),
            tx_hash=done.tx_hash,
        ).model_dump_json()

    canonical = {"ticker": ticker, "side": body.side, "quantity": str(quantity), "wallet": wallet.lower()}
    return run_once(calls, principal, idempotency_key, f"{router.prefix}/trades", canonical, call)


@router.get("/backing", responses=problem_responses(403))
def backing(_operator: OperatorDep, attestation: AttestationDep) -> list[AttestationBackingOut]:
    """Operator only: per ticker, custody against tokens outstanding, the inventory against its target,
    and the hedges still open (shares to buy and to sell, the dollars at risk at the market price)."""
    report = attestation.report()
    return [
        AttestationBackingOut(
            ticker=t.ticker,
            custody=str(t.custody),
            outstanding=str(t.outstanding),
            inventory=str(t.inventory),
            target=str(t.target),
            to_buy=str(t.to_buy),
            to_sell=str(t.to_sell),
            quoted_buy=str(t.quoted_buy),
            quoted_sell=str(t.quoted_sell),
            usd_at_risk=str(t.usd_at_risk),
            backed=t.backed,
        )
        for t in report.tickers
    ]
