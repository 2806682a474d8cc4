"""How the exchange's refusals become problems: who the caller trades as, the instrument a ticker names,
and the engine's and the book's refusals, each with its stable code; none of them changes anything."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Path

from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError
from equitoken.api.schemas import TICKER
from equitoken.issuer.errors import UnknownInvestorError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.venues.exchange.accounts import AccountsError
from equitoken.venues.exchange.engine import DuplicateOrderError, ExchangeError, MarketHaltedError, Outcome
from equitoken.venues.exchange.events import Rejected
from equitoken.venues.exchange.members import ExchangeMembers, MembersError
from equitoken.venues.exchange.orders import Amend, Cancel, RejectReason, Submit
from equitoken.venues.exchange.rules import BookRules
from equitoken.venues.exchange.venue import (
    ExchangeVenue,
)

TickerPath = Annotated[str, Path(pattern=TICKER)]

# A refused cancel or amendment of an order that is not the caller's reads as an unknown order,
# so order ids reveal nothing about other members.
NOT_FOUND = {RejectReason.UNKNOWN_ORDER, RejectReason.NOT_ORDER_OWNER}


def investor_of(principal: Principal) -> str:
    """Return the investor the caller trades for; an operator key has none (403)."""
    if principal.investor_id is None:
        raise ProblemError(403, "forbidden", "an operator key has no exchange account; use an investor's key")
    return principal.investor_id


def account_of(members: ExchangeMembers, principal: Principal) -> int:
    """Return the caller's exchange account, opening it on first use; an operator key has none (403)."""
    if principal.investor_id is None:
        raise ProblemError(
            403, "forbidden", "an operator key has no exchange account; trade with an investor's key"
        )
    try:
        return members.account_of(principal.investor_id)
    except (MembersError, UnknownInvestorError) as error:
        raise ProblemError(422, error.code, str(error)) from None


def rules_of(venue: ExchangeVenue, ticker: str, *, in_path: bool) -> BookRules:
    try:
        return venue.rules(ticker.upper())
    except UnknownInstrumentError as error:
        raise ProblemError(404 if in_path else 422, error.code, str(error)) from None


def refused(error: ExchangeError | AccountsError) -> ProblemError:
    return ProblemError(409 if isinstance(error, MarketHaltedError) else 422, error.code, str(error))


def rejected(event: Rejected, ticker: str) -> ProblemError:
    if event.reason in NOT_FOUND:
        return ProblemError(404, "unknown_order", f"you have no open order {event.order_id} on {ticker}")
    return ProblemError(422, event.reason.name.lower(), event.reason.message)


def run_command(ticker: str, run: Callable[[str, Any], Outcome], command: Submit | Cancel | Amend) -> Outcome:
    try:
        outcome = run(ticker, command)
    except DuplicateOrderError:
        raise
    except (ExchangeError, AccountsError) as error:
        raise refused(error) from None
    if outcome.events and isinstance(outcome.events[0], Rejected):
        raise rejected(outcome.events[0], ticker)
    return outcome
