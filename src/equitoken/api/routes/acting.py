"""What the venue routes share: who acts, for which custodied wallet, under which request key, how an
action runs once per `Idempotency-Key`, how a venue's refusal becomes a problem, and how figures read.

The perpetuals, synthetic-stock and lending routes act alike: an investor acts for one of its
registered EVM wallets whose key the platform holds; the venue's client checks the action against the
chain before anything is signed; the client's own request key is derived from the caller's
`Idempotency-Key`, so a retry after a crash finds the transaction already sent.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from equitoken.api.deps import investor_scope
from equitoken.api.idempotency import IdempotentCalls, fingerprint
from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.issuer.errors import UnknownInvestorError
from equitoken.issuer.investors import Investor
from equitoken.issuer.service import Issuer
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import InvalidAmountError, Price, Usd

_PLACES = Decimal("1e-8")


def fraction(value: Decimal) -> str:
    """Return a decimal fraction to 8 places, without trailing zeros."""
    return format(value.quantize(_PLACES).normalize(), "f")


def optional(value: object) -> str | None:
    """Return the value as text, or None."""
    return None if value is None else str(value)


def scoped_investors(principal: Principal, issuer: Issuer, investor_id: str | None) -> list[Investor]:
    """Return the investors a read covers: the caller itself, or an operator's one investor or everyone."""
    scope = investor_scope(principal, investor_id)
    try:
        return issuer.investors.all() if scope is None else [issuer.investors.get(scope)]
    except UnknownInvestorError as error:
        raise ProblemError(422, error.code, error.message) from None


def owners(principal: Principal, issuer: Issuer, investor_id: str | None) -> list[tuple[str, str]]:
    """Return the (investor id, EVM wallet) pairs a read covers."""
    investors = scoped_investors(principal, issuer, investor_id)
    return [(investor.id, wallet) for investor in investors for wallet in evm_wallets(investor)]


def acting_investor(principal: Principal, issuer: Issuer, venue: str) -> Investor:
    """Return the investor behind an investor's key; an operator key is a 403."""
    if principal.investor_id is None:
        raise ProblemError(
            403, "forbidden", f"an operator key has no {venue} positions; act with an investor's key"
        )
    return issuer.investors.get(principal.investor_id)


def evm_wallets(investor: Investor) -> list[str]:
    """Return the investor's registered EVM wallets."""
    return [wallet for wallet in investor.wallets if wallet.startswith("0x")]


def acting_wallet(
    investor: Investor,
    asked: str | None,
    signers: SignerRegistry,
    prefix: str,
    contract: str,
    kind: str = "contract",
) -> str:
    """Return the wallet the action is for: the one asked, which must be the investor's, else its first
    EVM wallet whose key the platform holds; codes are `<prefix>_wallet_not_registered` and
    `<prefix>_wallet_not_custodied`, the latter naming the `kind` of `contract` to call instead."""
    wallets = evm_wallets(investor)
    if asked is not None:
        chosen = next((w for w in wallets if w.lower() == asked.lower()), None)
        if chosen is None:
            raise ProblemError(
                422, f"{prefix}_wallet_not_registered", f"{asked} is not one of your registered wallets"
            )
    else:
        if not wallets:
            raise ProblemError(
                422, f"{prefix}_wallet_not_registered", "you have no registered EVM wallet to act for"
            )
        signable = [w for w in wallets if w in signers]
        chosen = (signable or wallets)[0]
    if chosen not in signers:
        raise ProblemError(
            422,
            f"{prefix}_wallet_not_custodied",
            f"the platform holds no key for {chosen}: call the {kind} {contract} from that wallet yourself",
        )
    return chosen


def derived_key(principal: Principal, idempotency_key: str) -> str:
    """Return the venue client's request key for a caller's key: unique per API key, 44 characters."""
    digest = hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


def usdc(text: str, what: str = "amount") -> Usd:
    """Return dollars of USDC, refusing more than 6 decimals."""
    try:
        return Usd.parse(text)
    except InvalidAmountError:
        raise ProblemError(422, "invalid_amount", f"{what} {text} has more decimals than USDC's 6") from None


def price(text: str | None, what: str) -> Price | None:
    """Return a price in dollars (8 decimals at most), or None."""
    if text is None:
        return None
    try:
        return Price.parse(text)
    except InvalidAmountError:
        raise ProblemError(
            422, "invalid_amount", f"{what} {text} has more decimals than a price's 8"
        ) from None


def units(text: str, decimals: int, what: str) -> int:
    """Return a decimal number of whole units (tokens, shares) in units of 10^-`decimals`."""
    try:
        scaled = Decimal(text).scaleb(decimals)
    except InvalidOperation:
        raise ProblemError(422, "invalid_amount", f"{what} {text!r} is not a number") from None
    if scaled != scaled.to_integral_value():
        raise ProblemError(422, "invalid_amount", f"{what} {text} has more than {decimals} decimals")
    return int(scaled)


def run_once(
    calls: IdempotentCalls,
    principal: Principal,
    idempotency_key: str,
    path: str,
    canonical: object,
    call: Callable[[], str],
) -> Response:
    """Answer the stored response for this key, or make the call (returning its JSON body) and store it."""

    def answer() -> tuple[int, str]:
        return status.HTTP_200_OK, call()

    stored = calls.run(principal, idempotency_key, fingerprint("POST", path, canonical), answer)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return Response(
        stored.body, status_code=stored.status_code, media_type="application/json", headers=headers
    )


@dataclass(frozen=True)
class Refusals:
    """Within it, a venue's refusal (one of `errors`) becomes a problem with the refusal's code: a 409 for
    the `conflicts` (the venue's state forbids the action now), else a 422."""

    errors: tuple[type[EquitokenError], ...]
    conflicts: tuple[type[EquitokenError], ...]

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, self.errors):
            code = 409 if isinstance(error, self.conflicts) else 422
            raise ProblemError(code, error.code, str(error)) from None


def add_action(
    router: APIRouter,
    path: str,
    name: str,
    act: Callable[..., Response],
    body_type: type[BaseModel],
    receipt_type: type[BaseModel],
    description: str,
) -> None:
    """Add `act` as the POST route `path` taking a `body_type` and answering a `receipt_type`."""
    act.__annotations__["body"] = body_type
    responses: dict[int | str, dict[str, Any]] = {
        200: {"model": receipt_type, "description": "The action's receipt; a retry gets the first one."},
        **problem_responses(403, 409, 503),
    }
    router.add_api_route(
        path,
        act,
        methods=["POST"],
        name=name,
        description=description,
        response_model=receipt_type,
        responses=responses,
    )
