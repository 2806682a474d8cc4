"""A reporter: observes an instrument when a transmitter asks, and signs what it saw for one round.

A reporter trusts nothing in a request but the question: the feed, round and time to observe at.
The closed-market policy, band and last close a transmitter states are what the feed holds and
checks on-chain, so a transmitter stating others only gets observations the feed refuses.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from eth_account.signers.local import LocalAccount

from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price
from equitoken.model.time import Clock
from equitoken.oracle.closed_market import ClosedPolicy, ClosedTerms
from equitoken.oracle.observation import FeedId, Observation, SignedObservation
from equitoken.oracle.sources import ObservationSource

DEFAULT_FUTURE_TOLERANCE = timedelta(seconds=30)
MAX_TICKER_LENGTH = 10


class ObservationRefusedError(EquitokenError, ValueError):
    """A reporter will not sign this request; the message says why."""

    code = "observation_refused"


@dataclass(frozen=True, slots=True)
class ObservationRequest:
    """What a transmitter asks: observe `ticker` at `at` (Unix seconds) for round `round_id` of `feed`."""

    feed: FeedId
    ticker: str
    round_id: int
    at: int
    closed_policy: ClosedPolicy = ClosedPolicy.FROZEN
    band_bps: int = 1_000
    last_close: Price | None = None

    def __post_init__(self) -> None:
        if not self.ticker or len(self.ticker) > MAX_TICKER_LENGTH:
            raise ObservationRefusedError(
                f"ticker {self.ticker!r} must be 1 to {MAX_TICKER_LENGTH} characters"
            )
        if self.round_id < 1:
            raise ObservationRefusedError(f"round id {self.round_id} is not positive")
        if self.at < 0:
            raise ObservationRefusedError(f"observation time {self.at} is negative")
        try:
            object.__setattr__(self, "closed_policy", ClosedPolicy(self.closed_policy))
            self.closed_terms()
        except ValueError as error:
            raise ObservationRefusedError(str(error)) from None

    def closed_terms(self) -> ClosedTerms:
        """Return the feed's closed-market terms the request states."""
        return ClosedTerms(self.closed_policy, self.band_bps, self.last_close)


class ObservationClient(Protocol):
    """A reporter as a transmitter reaches it: in-process (`Reporter`) or over HTTP (`ReporterClient`)."""

    @property
    def address(self) -> str:
        """Return the address the reporter signs with."""
        ...

    def observe(self, request: ObservationRequest) -> SignedObservation:
        """Return the reporter's signed observation for `request`."""
        ...


class Reporter:
    """Observe with `source` and sign with `account`; refuse times beyond `clock` (when given)."""

    def __init__(
        self,
        account: LocalAccount,
        source: ObservationSource,
        clock: Clock | None = None,
        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    ) -> None:
        self._account = account
        self.source = source
        self.clock = clock
        self.future_tolerance = future_tolerance

    @property
    def address(self) -> str:
        """Return the address the reporter signs with."""
        return checksum(self._account.address)

    def observe(self, request: ObservationRequest) -> SignedObservation:
        """Observe the request's ticker at its time and sign it for its feed and round.

        Raise ObservationRefusedError for a time ahead of the reporter's clock by more than its
        tolerance (a signature for the future could be held back and used then), and `NoPriceError`
        when the source has no price.
        """
        at = datetime.fromtimestamp(request.at, UTC)
        if self.clock is not None:
            now = self.clock.now()
            if at > now + self.future_tolerance:
                raise ObservationRefusedError(
                    f"observation time {at.isoformat()} is ahead of the reporter's clock {now.isoformat()} "
                    f"by more than {self.future_tolerance.total_seconds():g}s"
                )
        price, status = self.source.observe(request.ticker, at, request.closed_terms())
        observation = Observation(request.feed, request.round_id, price, status, request.at)
        return observation.sign(self._account)
