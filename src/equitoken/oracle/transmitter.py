"""The transmitter: gathers a quorum of reporters' signed observations and sends due rounds on-chain.

For each feed, one `tick`:
1. knows where the feed stands on the chain (latest round, quorum, reporters, closed-market policy
   and last close, report age, token and its UI multipliers) and reads the next block's time `at`;
2. asks every reporter at once for round r + 1 at `at` (a dead or slow reporter is skipped);
3. keeps the observations the feed would accept: authentic, signed by a registered reporter, for
   this feed and round, not after `at`, not older than the report age, newer than the latest
   round, within the closed-market policy, and not straddling a UI multiplier change;
4. computes the round as the feed does (`aggregation`) and asks the push policy whether it is due;
5. sends `transmit(r + 1, observations sorted by reporter address)`, after a dry run on the next
   block so that a round the feed would refuse costs nothing.

The transmitter keeps no state beyond the chain: rounds are numbered, so a killed transmitter
resumes where the feed stands, and a round another transmitter sent first ("wrong round") is no
error. Anyone may transmit: the signatures, not the sender, make a round.

Reading a feed costs eight calls, and `equitoken up` ticks every second for every instrument, while
a feed changes a few times an hour. So the transmitter keeps a copy of each feed's state (and of
each token's multiplier history) and reads it again only when it can have changed. Every write to
a feed's or a token's multiplier storage logs an event (a round logs `NewRound`, a change of
reporters, quorum, bounds or policies its own event, a multiplier change `UIMultiplierUpdated` or
`PendingUIMultiplierCancelled`), and the views read storage only, never the clock. So one
`eth_getLogs` per tick over the blocks since the last tick, across all feeds and tokens, names the
copies to drop, and a change is honoured on the very next tick. The copy is also dropped when the
chain goes back (a head lower than, or at the same height but other than, the last one seen), when a
dry run or a transmission reverts, and in any case after `refresh_after` seconds, a bound on
staleness should a reorganisation replace blocks this transmitter already scanned. None of this
weakens safety: the feed checks every rule again on-chain, so a stale copy can only cost a tick.
"""

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache

from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.evm.abi import event_topic
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.records import BlockHeader
from equitoken.model.address import checksum
from equitoken.model.bps import BPS
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import Price
from equitoken.oracle.aggregation import RoundValues, token_answer
from equitoken.oracle.closed_market import ClosedPolicy, ClosedTerms
from equitoken.oracle.observation import FeedId, MarketStatus, SignedObservation
from equitoken.oracle.policy import Candidate, FeedRound, PushPolicy, PushReason
from equitoken.oracle.reporter import ObservationClient, ObservationRequest

DEFAULT_TIMEOUT = 2.0
DEFAULT_REFRESH_AFTER = 60.0
WRONG_ROUND = "aggregator: wrong round"
_NO_TOKEN = "0x" + "00" * 20


@cache
def _price_feed() -> Artifact:
    return compile_contract("oracle/PriceFeed.vy")


@cache
def _stock_token() -> Artifact:
    return compile_contract("token/StockToken.vy")


@cache
def _feed_topics() -> frozenset[bytes]:
    # Every event of the feed: each marks a write to what the transmitter keeps a copy of.
    return frozenset(event_topic(item) for item in _price_feed().abi if item.get("type") == "event")


@cache
def _multiplier_topics() -> frozenset[bytes]:
    names = ("UIMultiplierUpdated", "PendingUIMultiplierCancelled")
    return frozenset(
        event_topic(item)
        for item in _stock_token().abi
        if item.get("type") == "event" and item.get("name") in names
    )


class TransmitOutcome(StrEnum):
    """What became of a feed's round in one tick."""

    SENT = "sent"
    NOT_DUE = "not_due"
    BELOW_QUORUM = "below_quorum"
    LOST_RACE = "lost_race"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class TransmitResult:
    """The outcome of one feed's round: why it was (not) sent, what it said, which reporters were skipped."""

    ticker: str
    round_id: int
    outcome: TransmitOutcome
    reason: PushReason | None = None
    answer: int | None = None
    status: MarketStatus | None = None
    observations: int = 0
    skipped: tuple[str, ...] = ()
    detail: str = ""
    tx_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the transmitter reads of a feed before a round."""

    latest: FeedRound | None
    quorum: int
    reporters: frozenset[str]
    closed: ClosedTerms
    max_report_age: int
    token: str | None


@dataclass(frozen=True, slots=True)
class MultiplierHistory:
    """A token's UI multipliers as `(effective_at, multiplier)`, effective times strictly increasing."""

    changes: tuple[tuple[int, int], ...]

    def at(self, timestamp: int) -> int:
        """Return the multiplier in force at `timestamp`, as the token's `uiMultiplierAt` does."""
        index = bisect.bisect_right([effective_at for effective_at, _ in self.changes], timestamp)
        return self.changes[index - 1][1] if index else MULTIPLIER_ONE


@dataclass
class _Gathered:
    kept: list[SignedObservation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    multiplier: int = MULTIPLIER_ONE


class Transmitter:
    """Bring each feed's due rounds on-chain from `reporters`' observations, sent from `sender`."""

    def __init__(
        self,
        chain: EvmChain,
        sender: str,
        feeds: Mapping[str, FeedId],
        reporters: Sequence[ObservationClient],
        policy: PushPolicy | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        refresh_after: float = DEFAULT_REFRESH_AFTER,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        for ticker, feed in feeds.items():
            if feed.chain_id != chain.chain_id:
                raise ValueError(f"feed of {ticker} is on chain {feed.chain_id}, not on {chain.chain_id}")
        if not reporters:
            raise ValueError("a transmitter needs at least one reporter to ask")
        if refresh_after <= 0:
            raise ValueError(f"refresh_after must be a positive number of seconds, not {refresh_after}")
        self.chain = chain
        self.sender = checksum(sender)
        self.feeds = dict(feeds)
        self.reporters = list(reporters)
        self.policy = policy if policy is not None else PushPolicy()
        self.timeout = timeout
        self.refresh_after = refresh_after
        self.log = log
        self._pool = ThreadPoolExecutor(max_workers=len(self.reporters), thread_name_prefix="reporter")
        self._tickers = {checksum(feed.address): ticker for ticker, feed in self.feeds.items()}
        self._states: dict[str, FeedState] = {}
        self._multipliers: dict[str, MultiplierHistory] = {}
        self._seen: BlockHeader | None = None
        self._refreshed_at = 0.0

    def close(self) -> None:
        """Stop the threads that ask the reporters."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def tick(self) -> list[TransmitResult]:
        """Send every feed's round that is due; return what became of each feed."""
        try:
            self._catch_up()
        except ChainError as error:
            return [
                TransmitResult(ticker, 0, TransmitOutcome.REJECTED, detail=str(error))
                for ticker in self.feeds
            ]
        results = []
        for ticker in self.feeds:
            try:
                result = self._transmit(ticker)
            except ChainError as error:
                self._forget(ticker)
                result = TransmitResult(ticker, 0, TransmitOutcome.REJECTED, detail=str(error))
            if result.outcome is not TransmitOutcome.NOT_DUE:
                self.log(_describe(result))
            results.append(result)
        return results

    def state(self, ticker: str) -> FeedState:
        """Return where the feed of `ticker` stands on the chain (from the copy while it is current)."""
        self._catch_up()
        return self._state(ticker)

    def transmit(self, ticker: str) -> TransmitResult:
        """Gather and, when due, send the next round of the feed of `ticker`."""
        self._catch_up()
        return self._transmit(ticker)

    def _catch_up(self) -> None:
        # Drop the copies the blocks since the last tick may have changed.
        head = self.chain.block_header("latest")
        seen, now = self._seen, time.monotonic()
        went_back = seen is not None and (
            head.number < seen.number or (head.number == seen.number and head.hash != seen.hash)
        )
        if seen is None or went_back or now - self._refreshed_at >= self.refresh_after:
            self._states.clear()
            self._multipliers.clear()
            self._refreshed_at = now
        elif head.number > seen.number and (self._states or self._multipliers):
            watched = [self.feeds[t].address for t in self._states] + list(self._multipliers)
            for entry in self.chain.get_raw_logs(watched, (), seen.number + 1, head.number):
                topic = entry.topics[0] if entry.topics else b""
                address = checksum(entry.address)
                if address in self._tickers and topic in _feed_topics():
                    self._states.pop(self._tickers[address], None)
                elif topic in _multiplier_topics():
                    self._multipliers.pop(address, None)
        self._seen = head

    def _forget(self, ticker: str) -> None:
        state = self._states.pop(ticker, None)
        if state is not None and state.token is not None:
            self._multipliers.pop(state.token, None)

    def _state(self, ticker: str) -> FeedState:
        state = self._states.get(ticker)
        if state is None:
            state = self._states[ticker] = self._read_state(ticker)
        return state

    def _read_state(self, ticker: str) -> FeedState:
        feed = self._feed(ticker)
        latest: FeedRound | None = None
        try:
            round_id, answer, started_at, updated_at, _, status = feed.latestRoundStatus()
            latest = FeedRound(
                int(round_id), int(answer), int(started_at), int(updated_at), MarketStatus(status)
            )
        except RevertError:
            latest = None  # no round yet
        # The feed bands a closed round around its last close only after a closed round: the first
        # closed round of an evening sets a new close (after a split, in other shares), so the
        # reporters are told the last close only while the market is closed.
        closed = latest is not None and latest.status == MarketStatus.CLOSED
        last_close = int(feed.last_close()) if closed else 0
        token = checksum(str(feed.token()))
        return FeedState(
            latest=latest,
            quorum=int(feed.quorum()),
            reporters=frozenset(checksum(r) for r in feed.reporters()),
            closed=ClosedTerms(
                ClosedPolicy(int(feed.closed_policy())),
                int(feed.closed_band_bps()),
                Price(last_close) if last_close else None,
            ),
            max_report_age=int(feed.max_report_age()),
            token=None if token == checksum(_NO_TOKEN) else token,
        )

    def _multiplier_history(self, token_address: str) -> MultiplierHistory:
        history = self._multipliers.get(token_address)
        if history is None:
            token = self.chain.at(token_address, _stock_token(), "stock token")
            changes = [token.multiplierChange(i) for i in range(int(token.multiplierHistoryLength()))]
            history = MultiplierHistory(tuple((int(at), int(m)) for m, at in changes))
            self._multipliers[token_address] = history
        return history

    def _transmit(self, ticker: str) -> TransmitResult:
        feed_id = self.feeds[ticker]
        state = self._state(ticker)
        # Each feed's own `at`, read last: the later it is read, the newer the source tick it catches.
        at = self.chain.timestamp("pending")
        round_id = (state.latest.round_id if state.latest is not None else 0) + 1
        if state.latest is not None and at <= state.latest.started_at:
            # No time has passed since the latest round's observation: nothing new can be observed.
            detail = f"the next block's time {at} is not after the latest round's observation"
            return TransmitResult(ticker, round_id, TransmitOutcome.NOT_DUE, detail=detail)
        request = ObservationRequest(
            feed_id, ticker, round_id, at, state.closed.policy, state.closed.band_bps, state.closed.last_close
        )
        gathered = self._gather(request, state)
        skipped = tuple(gathered.skipped)
        count = len(gathered.kept)
        if count < state.quorum:
            detail = f"{count} acceptable observations, the feed's quorum is {state.quorum}"
            return TransmitResult(
                ticker,
                round_id,
                TransmitOutcome.BELOW_QUORUM,
                observations=count,
                skipped=skipped,
                detail=detail,
            )
        values = RoundValues.of(gathered.kept)
        answer = token_answer(values.price, gathered.multiplier)
        reason = self.policy.reason(state.latest, Candidate(answer, values.status, values.observed_at), at)
        result = TransmitResult(
            ticker, round_id, TransmitOutcome.NOT_DUE, reason, answer, values.status, count, skipped
        )
        if reason is None:
            return result
        ordered = sorted(gathered.kept, key=lambda s: int(s.reporter, 16))
        arguments = (round_id, [s.as_call_argument() for s in ordered])
        feed = self._feed(ticker)
        try:
            feed.transmit.call(*arguments, sender=self.sender, block="pending")
            receipt = feed.transmit(*arguments, sender=self.sender)
        except RevertError as error:
            # The feed knows better than the copy: read it again next time.
            self._forget(ticker)
            lost = error.reason == WRONG_ROUND
            outcome = TransmitOutcome.LOST_RACE if lost else TransmitOutcome.REJECTED
            return replace(result, outcome=outcome, detail=error.reason or str(error), tx_hash=error.tx_hash)
        return replace(result, outcome=TransmitOutcome.SENT, tx_hash=receipt.tx_hash)

    def _feed(self, ticker: str) -> Contract:
        return self.chain.at(self.feeds[ticker].address, _price_feed(), f"{ticker} price feed")

    def _gather(self, request: ObservationRequest, state: FeedState) -> _Gathered:
        gathered = _Gathered()
        futures: dict[Future[SignedObservation], int] = {
            self._pool.submit(client.observe, request): index for index, client in enumerate(self.reporters)
        }
        done, late = wait(futures, timeout=self.timeout)
        for future in late:
            future.cancel()
            gathered.skipped.append(f"reporter {futures[future]}: no answer within {self.timeout:g}s")
        acceptable: dict[str, SignedObservation] = {}
        for future in sorted(done, key=futures.__getitem__):
            index = futures[future]
            error = future.exception()
            if error is not None:
                gathered.skipped.append(f"reporter {index}: {error}")
                continue
            signed = future.result()
            problem = _problem(signed, request, state)
            if problem is None and signed.reporter in acceptable:
                problem = "a second observation of the same reporter"
            if problem is not None:
                gathered.skipped.append(f"reporter {index} ({signed.reporter}): {problem}")
                continue
            acceptable[signed.reporter] = signed
        gathered.kept, gathered.multiplier, straddling = self._one_multiplier(
            list(acceptable.values()), state
        )
        gathered.skipped.extend(
            f"{s.reporter}: observed at {s.observation.observed_at}, across a UI multiplier change"
            for s in straddling
        )
        return gathered

    def _one_multiplier(
        self, observations: list[SignedObservation], state: FeedState
    ) -> tuple[list[SignedObservation], int, list[SignedObservation]]:
        # The feed refuses observations made under different multipliers (a split in between): keep
        # the largest group, the later multiplier on a tie.
        if state.token is None or not observations:
            return observations, MULTIPLIER_ONE, []
        history = self._multiplier_history(state.token)
        by_time = {t: history.at(t) for t in {s.observation.observed_at for s in observations}}
        groups: dict[int, list[SignedObservation]] = {}
        for signed in observations:
            groups.setdefault(by_time[signed.observation.observed_at], []).append(signed)
        last_time = {m: max(s.observation.observed_at for s in group) for m, group in groups.items()}
        multiplier = max(groups, key=lambda m: (len(groups[m]), last_time[m]))
        kept = groups.pop(multiplier)
        return kept, multiplier, [s for group in groups.values() for s in group]


def _problem(signed: SignedObservation, request: ObservationRequest, state: FeedState) -> str | None:
    # Why the feed would not accept this observation, or None.
    observation = signed.observation
    if observation.feed != request.feed or observation.round_id != request.round_id:
        return (
            f"signed for round {observation.round_id} of {observation.feed.address}, not {request.round_id}"
        )
    if not signed.is_authentic():
        return "the signature is not the reporter's"
    if signed.reporter not in state.reporters:
        return "not a reporter of the feed"
    if observation.observed_at > request.at:
        return f"observed at {observation.observed_at}, after the next block's time {request.at}"
    if request.at - observation.observed_at > state.max_report_age:
        return f"observed at {observation.observed_at}, more than {state.max_report_age}s before {request.at}"
    latest = state.latest
    if latest is not None and observation.observed_at <= latest.started_at:
        return f"observed at {observation.observed_at}, not after the latest round's {latest.started_at}"
    close = state.closed.last_close
    closed_again = latest is not None and latest.status == MarketStatus.CLOSED
    if closed_again and observation.status == MarketStatus.CLOSED and close is not None:
        if state.closed.policy is ClosedPolicy.FROZEN and observation.price != close:
            return f"price {observation.price} moved from the frozen close {close}"
        if abs(observation.price.units - close.units) * BPS > close.units * state.closed.band_bps:
            return f"price {observation.price} outside {state.closed.band_bps} bps of the close {close}"
    return None


def _describe(result: TransmitResult) -> str:
    head = f"{result.ticker} round {result.round_id}: {result.outcome}"
    if result.reason is not None:
        head += f" ({result.reason}, answer {result.answer}, {result.observations} observations)"
    if result.detail:
        head += f": {result.detail}"
    if result.skipped:
        head += f"; skipped {'; '.join(result.skipped)}"
    return head
