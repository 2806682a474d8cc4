"""The oracle-safety rule every keeper applies before it acts on a price.

A keeper acts only on the feed's latest round when it exists, is at most `max_age` seconds old at
the next block's time, is not HALTED, and answers a positive price. Anything else is an
`UnsafeRoundError` that names the rule broken; the keeper records it and leaves the venue alone.
"""

from dataclasses import dataclass
from enum import StrEnum

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import Contract
from equitoken.model.errors import EquitokenError
from equitoken.oracle.observation import MarketStatus


class UnsafeRound(StrEnum):
    """Which part of the oracle-safety rule a round broke."""

    NO_ROUND = "no_round"
    STALE = "stale"
    HALTED = "halted"
    NON_POSITIVE = "non_positive"


class UnsafeRoundError(EquitokenError):
    """The feed's latest round is one no keeper may act on."""

    def __init__(self, reason: UnsafeRound, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class OracleRound:
    """A round a keeper may act on: the token's price (1e-8 dollars) and the market's status."""

    round_id: int
    answer: int
    updated_at: int
    status: MarketStatus


def read_safe_round(feed: Contract, now: int, max_age: int) -> OracleRound:
    """Read `feed`'s latest round through `latestRoundStatus`; raise UnsafeRoundError if unsafe at `now`."""
    try:
        latest = feed.latestRoundStatus()
    except RevertError:
        raise UnsafeRoundError(UnsafeRound.NO_ROUND, "the feed has no round yet") from None
    found = OracleRound(int(latest[0]), int(latest[1]), int(latest[3]), MarketStatus(int(latest[5])))
    age = now - found.updated_at
    if age > max_age:
        raise UnsafeRoundError(UnsafeRound.STALE, f"round {found.round_id} is {age} s old (max {max_age})")
    if found.status == MarketStatus.HALTED:
        raise UnsafeRoundError(UnsafeRound.HALTED, f"round {found.round_id} says the market is halted")
    if found.answer <= 0:
        raise UnsafeRoundError(UnsafeRound.NON_POSITIVE, f"round {found.round_id} answers {found.answer}")
    return found
