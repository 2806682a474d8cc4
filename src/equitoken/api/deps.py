"""Dependencies routes declare: the parts of the platform they serve from, the authenticated caller, and
role requirements. Each part is its own typed dependency, so a route names exactly what it uses; a
part the platform runs without (an indexer, the exchange) is a 503 problem for a route that needs it,
which only happens if a router is mounted without its part."""

import threading
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader

from equitoken.api.context import ApiContext
from equitoken.api.idempotency import IdempotentCalls
from equitoken.api.keys import ApiKeys, Principal, Role
from equitoken.api.problems import ProblemError
from equitoken.api.ratelimit import RateLimiter, retry_after_seconds
from equitoken.api.schemas import IDEMPOTENCY_KEY
from equitoken.bridge.desk import BridgeDesk
from equitoken.brokers.broker import Broker
from equitoken.indexer.views import IndexReader
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.issuer.corporate_actions.service import CorporateActions
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.time import Clock
from equitoken.proofs.liabilities import Liabilities
from equitoken.venues.cfd.transfers import CfdTransfers
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.funding import ExchangeFunding
from equitoken.venues.exchange.ledger import LedgerDesk
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.synths.actions import SynthsClient

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key issued by an operator."
)


async def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


# The getters are coroutines because they only hand out a part: FastAPI runs a plain function
# dependency in its thread pool, a hop per part per call (a fifth of the quote endpoint's throughput).
ContextDep = Annotated[ApiContext, Depends(get_context)]
_Part = TypeVar("_Part")


def _present(part: _Part | None, what: str) -> _Part:
    """Return `part`, or answer 503 when this platform runs without it."""
    if part is None:
        raise ProblemError(503, "not_configured", f"this platform runs without {what}")
    return part


async def get_issuer(context: ContextDep) -> Issuer:
    return context.issuer


async def get_calendar(context: ContextDep) -> MarketCalendar:
    return context.calendar


async def get_prices(context: ContextDep) -> PriceSource:
    return context.prices


async def get_clock(context: ContextDep) -> Clock:
    return context.clock


async def get_keys(context: ContextDep) -> ApiKeys:
    return context.keys


async def get_optional_indexer(context: ContextDep) -> IndexReader | None:
    return context.indexer


async def get_indexer(context: ContextDep) -> IndexReader:
    return _present(context.indexer, "an indexer")


async def get_liabilities(context: ContextDep) -> Liabilities:
    return _present(context.liabilities, "proofs of liabilities")


async def get_corporate_actions(context: ContextDep) -> CorporateActions:
    return _present(context.corporate_actions, "corporate actions")


async def get_exchange(context: ContextDep) -> ExchangeVenue:
    return _present(context.exchange, "the exchange")


async def get_members(context: ContextDep) -> ExchangeMembers:
    return _present(context.exchange_members, "the exchange")


async def get_funding(context: ContextDep) -> ExchangeFunding:
    return _present(context.exchange_funding, "the exchange's funding")


async def get_lending(context: ContextDep) -> LendingClient:
    return _present(context.lending, "the lending venue")


async def get_perps(context: ContextDep) -> PerpsClient:
    return _present(context.perps, "the perpetuals venue")


async def get_synths(context: ContextDep) -> SynthsClient:
    return _present(context.synths, "the synthetic stocks")


async def get_cfd(context: ContextDep) -> CfdVenue:
    return _present(context.cfd, "the CFD venue")


async def get_cfd_transfers(context: ContextDep) -> CfdTransfers:
    return _present(context.cfd_transfers, "transfers between the exchange and the CFD venue")


async def get_bridge(context: ContextDep) -> BridgeDesk:
    return _present(context.bridge, "the bridge")


async def get_processor(context: ContextDep) -> ProcessorDesk:
    return _present(context.processor, "the order processor")


async def get_processor_lock(context: ContextDep) -> threading.Lock:
    return context.processor_lock


async def get_exchange_ledger(context: ContextDep) -> LedgerDesk:
    return _present(context.exchange_ledger, "the exchange's ledger desk")


async def get_attestation(context: ContextDep) -> AttestationIssuer:
    return _present(context.attestation, "attestation mints")


async def get_attestation_lock(context: ContextDep) -> threading.Lock:
    return context.attestation_lock


@dataclass(frozen=True)
class NamedBroker:
    """The broker the issuer trades through, and what `GET /broker` calls it ("paper", "alpaca")."""

    name: str
    broker: Broker


async def get_broker(context: ContextDep) -> NamedBroker:
    return NamedBroker(context.broker_name, context.broker)


async def get_registry_lock(context: ContextDep) -> threading.Lock:
    return context.registry_lock


async def get_lending_lock(context: ContextDep) -> threading.Lock:
    return context.lending_lock


async def get_perps_lock(context: ContextDep) -> threading.Lock:
    return context.perps_lock


async def get_synths_lock(context: ContextDep) -> threading.Lock:
    return context.synths_lock


async def get_bridge_lock(context: ContextDep) -> threading.Lock:
    return context.bridge_lock


IssuerDep = Annotated[Issuer, Depends(get_issuer)]
CalendarDep = Annotated[MarketCalendar, Depends(get_calendar)]
PricesDep = Annotated[PriceSource, Depends(get_prices)]
ClockDep = Annotated[Clock, Depends(get_clock)]
KeysDep = Annotated[ApiKeys, Depends(get_keys)]
IndexerDep = Annotated[IndexReader, Depends(get_indexer)]
OptionalIndexerDep = Annotated[IndexReader | None, Depends(get_optional_indexer)]
LiabilitiesDep = Annotated[Liabilities, Depends(get_liabilities)]
CorporateActionsDep = Annotated[CorporateActions, Depends(get_corporate_actions)]
ExchangeDep = Annotated[ExchangeVenue, Depends(get_exchange)]
MembersDep = Annotated[ExchangeMembers, Depends(get_members)]
FundingDep = Annotated[ExchangeFunding, Depends(get_funding)]
LendingDep = Annotated[LendingClient, Depends(get_lending)]
RegistryLockDep = Annotated[threading.Lock, Depends(get_registry_lock)]
LendingLockDep = Annotated[threading.Lock, Depends(get_lending_lock)]
PerpsDep = Annotated[PerpsClient, Depends(get_perps)]
PerpsLockDep = Annotated[threading.Lock, Depends(get_perps_lock)]
SynthsDep = Annotated[SynthsClient, Depends(get_synths)]
SynthsLockDep = Annotated[threading.Lock, Depends(get_synths_lock)]
CfdDep = Annotated[CfdVenue, Depends(get_cfd)]
CfdTransfersDep = Annotated[CfdTransfers, Depends(get_cfd_transfers)]
BridgeDep = Annotated[BridgeDesk, Depends(get_bridge)]
ProcessorDep = Annotated[ProcessorDesk, Depends(get_processor)]
ProcessorLockDep = Annotated[threading.Lock, Depends(get_processor_lock)]
AttestationDep = Annotated[AttestationIssuer, Depends(get_attestation)]
LedgerDep = Annotated[LedgerDesk, Depends(get_exchange_ledger)]
AttestationLockDep = Annotated[threading.Lock, Depends(get_attestation_lock)]
BridgeLockDep = Annotated[threading.Lock, Depends(get_bridge_lock)]
BrokerDep = Annotated[NamedBroker, Depends(get_broker)]


def current_principal(
    request: Request, context: ContextDep, key: Annotated[str | None, Security(_api_key_header)]
) -> Principal:
    """Return the caller behind `X-API-Key`, after spending one token of its rate limit."""
    if not key:
        raise ProblemError(401, "unauthenticated", "send an API key in the X-API-Key header")
    principal = context.keys.authenticate(key)
    if principal is None:
        raise ProblemError(401, "unauthenticated", "the API key is not one this platform issued")
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(principal.key_id)
    if wait:
        raise ProblemError(
            429,
            "rate_limited",
            f"more than {limiter.limit.burst} calls at once or {limiter.limit.per_second:g} per second "
            "with this key; retry later",
            headers={"Retry-After": retry_after_seconds(wait)},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def require_operator(principal: PrincipalDep) -> Principal:
    """Return the caller if it is an operator; else a 403 problem."""
    if principal.role is not Role.OPERATOR:
        raise ProblemError(403, "forbidden", f"this needs an operator key; yours is a {principal.role} key")
    return principal


OperatorDep = Annotated[Principal, Depends(require_operator)]


def investor_scope(principal: Principal, investor_id: str | None) -> str | None:
    """Return whose data a read covers: the caller's investor, or the one an operator asked (None: all)."""
    if principal.is_operator:
        return investor_id
    if investor_id is not None and investor_id != principal.investor_id:
        raise ProblemError(403, "forbidden", "an investor key can only read its own investor's data")
    return principal.investor_id


async def get_idempotent_calls(request: Request) -> IdempotentCalls:
    calls: IdempotentCalls = request.app.state.idempotent_calls
    return calls


IdempotentCallsDep = Annotated[IdempotentCalls, Depends(get_idempotent_calls)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="Your unique key for this call (1 to 128 visible ASCII characters); "
        "a retry with the same key gets the first answer.",
    ),
]
