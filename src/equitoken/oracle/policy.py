"""When a new round is worth sending: the push policy, the same rule `PriceFeed.vy` enforces.

The feed waives its `min_interval` (the heartbeat) when the market status changes or the answer
moves by at least `deviation_bps` of the last answer; a transmitter following this policy therefore
never sends a round the feed refuses as "too soon", and sends every status change (each session
open and close, each halt and resumption) so that the on-chain status is exact.
"""

from dataclasses import dataclass
from enum import StrEnum

from equitoken.model.bps import BPS
from equitoken.oracle.observation import MarketStatus


class PushReason(StrEnum):
    """Why a round is due."""

    FIRST_ROUND = "first_round"
    STATUS_CHANGE = "status_change"
    DEVIATION = "deviation"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class FeedRound:
    """The feed's latest round as the chain reports it; `answer` is the token's price in feed units."""

    round_id: int
    answer: int
    started_at: int
    updated_at: int
    status: MarketStatus


@dataclass(frozen=True, slots=True)
class Candidate:
    """The round a quorum of observations would make: the token's answer, the status and its time."""

    answer: int
    status: MarketStatus
    observed_at: int


@dataclass(frozen=True, slots=True)
class PushPolicy:
    """Push on the first round, a status change, a deviation of `deviation_bps`, or after a heartbeat.

    `heartbeat_open` applies while the candidate's market is open or halted, `heartbeat_closed` while
    it is closed; both are seconds since the latest round was accepted (its `updated_at`).
    """

    deviation_bps: int = 50
    heartbeat_open: int = 3_600
    heartbeat_closed: int = 3_600

    def __post_init__(self) -> None:
        if not 0 < self.deviation_bps <= BPS:
            raise ValueError(f"deviation must be 1 to {BPS} basis points, not {self.deviation_bps}")
        for name in ("heartbeat_open", "heartbeat_closed"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {getattr(self, name)}")

    def reason(self, latest: FeedRound | None, candidate: Candidate, now: int) -> PushReason | None:
        """Return why `candidate` is due at chain time `now`, or None when it is not.

        A candidate observed no later than the latest round is never due: the feed accepts only
        newer observations.
        """
        if latest is None:
            return PushReason.FIRST_ROUND
        if candidate.observed_at <= latest.started_at:
            return None
        if candidate.status != latest.status:
            return PushReason.STATUS_CHANGE
        if abs(candidate.answer - latest.answer) * BPS >= latest.answer * self.deviation_bps:
            return PushReason.DEVIATION
        heartbeat = self.heartbeat_closed if candidate.status == MarketStatus.CLOSED else self.heartbeat_open
        if now - latest.updated_at >= heartbeat:
            return PushReason.HEARTBEAT
        return None
