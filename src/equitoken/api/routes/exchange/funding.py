"""Deposits into the exchange's hot wallet and withdrawals to a member's registered wallets, served only
when the platform runs the exchange's funding; a withdrawal is named by its `Idempotency-Key`."""

import hashlib

from fastapi import APIRouter, Response, status

from equitoken.api.deps import ExchangeDep, FundingDep, IdempotencyKey, IdempotentCallsDep, PrincipalDep
from equitoken.api.idempotency import fingerprint
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.exchange.conversions import asset_units, deposit_out, withdrawal_out
from equitoken.api.routes.exchange.refusals import investor_of
from equitoken.api.schemas import (
    ExchangeDepositAddressOut,
    ExchangeDepositOut,
    ExchangeWithdrawalCreate,
    ExchangeWithdrawalOut,
)
from equitoken.venues.exchange.accounts import AccountsError
from equitoken.venues.exchange.funding import (
    ConflictingWithdrawalError,
    FundingError,
)
from equitoken.venues.exchange.members import MembersError

router = APIRouter()


@router.get("/deposit-address", responses=problem_responses(403))
def read_deposit_address(principal: PrincipalDep, funding: FundingDep) -> ExchangeDepositAddressOut:
    """Return the hot wallet to send USDC and tokens to, and its chain."""
    investor_of(principal)
    return ExchangeDepositAddressOut(
        address=funding.deposit_address(),
        chain_id=funding.chain_id,
        note=(
            "Send from one of your registered wallets: a transfer from any other wallet is "
            "credited to no one. Deposits count once they are confirmed."
        ),
    )


@router.get("/deposits", responses=problem_responses(403))
def list_deposits(
    principal: PrincipalDep, venue: ExchangeDep, funding: FundingDep
) -> list[ExchangeDepositOut]:
    """Return the caller's credited deposits, oldest first."""
    return [deposit_out(venue, deposit) for deposit in funding.deposits(investor_of(principal))]


@router.post(
    "/withdrawals",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangeWithdrawalOut,
    responses={
        200: {
            "model": ExchangeWithdrawalOut,
            "description": "A retry: the answer to the first call with this key.",
        },
        **problem_responses(403, 409),
    },
)
def request_withdrawal(
    body: ExchangeWithdrawalCreate,
    idempotency_key: IdempotencyKey,
    principal: PrincipalDep,
    venue: ExchangeDep,
    funding: FundingDep,
    calls: IdempotentCallsDep,
) -> Response:
    """Withdraw USDC or tokens to one of the caller's registered wallets; it is sent on-chain shortly."""
    investor_id = investor_of(principal)
    asset = body.asset.upper()
    amount = asset_units(venue, asset, body.amount)
    withdrawal_id = _withdrawal_id(principal, idempotency_key)
    canonical = {"asset": asset, "amount": amount, "destination": body.destination.lower()}

    def call() -> tuple[int, str]:
        try:
            withdrawal = funding.request_withdrawal(
                investor_id, asset, amount, body.destination, withdrawal_id
            )
        except (FundingError, AccountsError, MembersError) as error:
            code = 409 if isinstance(error, ConflictingWithdrawalError) else 422
            raise ProblemError(code, error.code, str(error)) from None
        return status.HTTP_201_CREATED, withdrawal_out(venue, withdrawal).model_dump_json()

    stored = calls.run(
        principal, idempotency_key, fingerprint("POST", "/exchange/withdrawals", canonical), call
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    code = status.HTTP_200_OK if stored.replayed else stored.status_code
    return Response(stored.body, status_code=code, media_type="application/json", headers=headers)


@router.get("/withdrawals", responses=problem_responses(403))
def list_withdrawals(
    principal: PrincipalDep, venue: ExchangeDep, funding: FundingDep
) -> list[ExchangeWithdrawalOut]:
    """Return the caller's withdrawals and where each stands, oldest first."""
    return [withdrawal_out(venue, withdrawal) for withdrawal in funding.withdrawals(investor_of(principal))]


def _withdrawal_id(principal: Principal, idempotency_key: str) -> str:
    # Withdrawal ids are global; the caller's key is only unique to its API key.
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"api-{digest[:40]}"
