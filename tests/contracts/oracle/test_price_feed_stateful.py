"""PriceFeed against a Python model, over random updates, time travel and bound changes."""

from dataclasses import dataclass

import boa
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from equitoken.chain.artifacts import contract_path

BPS = 10_000
MAX_ANSWER = 2**127 - 1
MARKET_STATUSES = (1, 2, 3)  # open, closed, halted

_PRICE_FEED = boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))


@dataclass(frozen=True)
class Bounds:
    max_move_bps: int
    max_report_age: int
    min_interval: int


@dataclass(frozen=True)
class AcceptedRound:
    answer: int
    observed_at: int
    updated_at: int
    status: int
    bounds: Bounds  # the bounds in force when the round was accepted


class PriceFeedMachine(RuleBasedStateMachine):
    """Predict the outcome of every update; the feed must agree, revert reason included."""

    def __init__(self) -> None:
        super().__init__()
        self.admin = boa.env.generate_address("admin")
        self.updater = boa.env.generate_address("updater")
        with boa.env.prank(self.admin):
            self.feed = _PRICE_FEED.deploy(8, "AAPL / USD")
            self.feed.grantRole(self.feed.UPDATER_ROLE(), self.updater)
        self.bounds = Bounds(max_move_bps=1_000, max_report_age=300, min_interval=3_600)
        self.rounds: list[AcceptedRound] = []

    def _expected_error(self, answer: int, observed_at: int, status: int) -> str | None:
        now = boa.env.timestamp
        if answer <= 0:
            return "feed: answer not positive"
        if answer > MAX_ANSWER:
            return "feed: answer too large"
        if observed_at > now:
            return "feed: observation in the future"
        if now - observed_at > self.bounds.max_report_age:
            return "feed: report too old"
        if self.rounds:
            last = self.rounds[-1]
            if observed_at <= last.observed_at:
                return "feed: observation not newer"
            if status == last.status and now - last.updated_at < self.bounds.min_interval:
                return "feed: too soon"
            bound = self.bounds.max_move_bps
            if bound and abs(answer - last.answer) * BPS > last.answer * bound:
                return "feed: move too large"
        return None

    @rule(
        move_bps=st.integers(min_value=-2_000, max_value=2_000),
        first_answer=st.integers(min_value=1, max_value=10**15),
        age=st.integers(min_value=-5, max_value=400),
        status=st.sampled_from(MARKET_STATUSES),
    )
    def update(self, move_bps: int, first_answer: int, age: int, status: int) -> None:
        if self.rounds:
            previous = self.rounds[-1].answer
            answer = previous + previous * move_bps // BPS
        else:
            answer = first_answer
        observed_at = boa.env.timestamp - age
        expected_error = self._expected_error(answer, observed_at, status)
        event(f"update: {expected_error or 'accepted'}")

        if expected_error is not None:
            with boa.reverts(expected_error):
                self.feed.update(answer, observed_at, status, sender=self.updater)
            return
        round_id = self.feed.update(answer, observed_at, status, sender=self.updater)

        assert round_id == len(self.rounds) + 1
        self.rounds.append(AcceptedRound(answer, observed_at, boa.env.timestamp, status, self.bounds))

    @rule(seconds=st.integers(min_value=1, max_value=2 * 3_600))
    def time_travel(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    @rule(
        max_move_bps=st.integers(min_value=0, max_value=BPS),
        max_report_age=st.integers(min_value=1, max_value=1_000),
        min_interval=st.integers(min_value=0, max_value=2 * 3_600),
    )
    def set_bounds(self, max_move_bps: int, max_report_age: int, min_interval: int) -> None:
        self.feed.set_bounds(max_move_bps, max_report_age, min_interval, sender=self.admin)
        self.bounds = Bounds(max_move_bps, max_report_age, min_interval)

    def _on_chain(self, round_id: int) -> tuple[int, int, int, int, int]:
        result: tuple[int, int, int, int, int] = self.feed.getRoundData(round_id)
        return result

    @invariant()
    def latest_round_is_last_accepted_update(self) -> None:
        if not self.rounds:
            with boa.reverts("feed: no data"):
                self.feed.latestRoundData()
            return
        last = self.rounds[-1]
        n = len(self.rounds)
        assert self.feed.latestRoundData() == (n, last.answer, last.observed_at, last.updated_at, n)

    @invariant()
    def round_ids_are_contiguous(self) -> None:
        n = len(self.rounds)
        for round_id in range(max(1, n - 1), n + 1):
            r = self.rounds[round_id - 1]
            assert self._on_chain(round_id) == (round_id, r.answer, r.observed_at, r.updated_at, round_id)
        with boa.reverts("feed: no such round"):
            self.feed.getRoundData(n + 1)

    @precondition(lambda self: len(self.rounds) >= 2)
    @invariant()
    def accepted_move_within_bound_in_force(self) -> None:
        n = len(self.rounds)
        _, previous, _, _, _ = self._on_chain(n - 1)
        _, current, _, _, _ = self._on_chain(n)
        bound = self.rounds[-1].bounds.max_move_bps
        assert bound == 0 or abs(current - previous) * BPS <= previous * bound

    @precondition(lambda self: len(self.rounds) >= 2)
    @invariant()
    def timestamps_are_ordered(self) -> None:
        n = len(self.rounds)
        _, _, previous_observed, previous_updated, _ = self._on_chain(n - 1)
        _, _, observed, updated, _ = self._on_chain(n)
        assert updated >= previous_updated
        assert observed > previous_observed
        assert observed <= updated

    @invariant()
    def market_status_is_readable(self) -> None:
        expected = self.rounds[-1].status if self.rounds else 0
        assert self.feed.marketStatus() == expected
        if self.rounds:
            assert self.feed.getRoundStatus(len(self.rounds)) == expected

    def teardown(self) -> None:
        # The invariants look at the newest rounds only; check the whole history once.
        for round_id, r in enumerate(self.rounds, start=1):
            assert self._on_chain(round_id) == (round_id, r.answer, r.observed_at, r.updated_at, round_id)
            assert self.feed.getRoundStatus(round_id) == r.status


TestPriceFeedStateful = PriceFeedMachine.TestCase
TestPriceFeedStateful.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
