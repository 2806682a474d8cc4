"""PriceFeed against a Python model, over signed rounds with lying reporters, time travel and policy changes.

Every round is signed by a quorum or more of the five reporters, a minority of whom lie about the
price, the status and the time, while the honest ones agree within 0.1% and 3 s. The model takes
the upper medians itself; the feed must match them, and the price must stay within the honest
prices of the round. Forged rounds (below quorum, an outsider's key, a wrong round id) must
change nothing.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import boa
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from tests.support.contracts.oracle import (
    by_address,
    deploy_price_feed,
    feed_id,
    raw_observation,
    reporter_key,
)

from equitoken.chain.evm.artifacts import contract_path

BPS = 10_000
OPEN, CLOSED, HALTED = 1, 2, 3
MARKET_STATUSES = (OPEN, CLOSED, HALTED)
FROZEN, INTERNAL = 1, 2
REPORTERS = 5
QUORUM = 3

_PRICE_FEED = boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))
REPORTER_ACCOUNTS = by_address([reporter_key(i) for i in range(REPORTERS)])


def upper_median(values: list[int]) -> int:
    """Return the feed's median: the upper of the two middle values for an even count."""
    return sorted(values)[len(values) // 2]


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
    honest_range: tuple[int, int]  # the lowest and highest honest price of the round


@dataclass(frozen=True)
class Deployment:
    """The feed every example starts from, deployed once per test."""

    admin: str
    feed: Any


def deploy() -> Deployment:
    """Deploy a share price feed with the five reporters and a quorum of three."""
    admin = boa.env.generate_address("admin")
    return Deployment(admin, deploy_price_feed(_PRICE_FEED, admin, REPORTER_ACCOUNTS, QUORUM))


class PriceFeedMachine(RuleBasedStateMachine):
    """Predict the outcome of every round; the feed must agree, revert reason included."""

    deployment: ClassVar[Deployment]

    def __init__(self) -> None:
        super().__init__()
        # Every example starts from the shared fresh feed and rolls back to
        # it in `teardown`: rounds, policies, clock and block number alike.
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.admin, self.feed = self.deployment.admin, self.deployment.feed
        self.reporters = REPORTER_ACCOUNTS
        self.outsider = reporter_key(REPORTERS + 100)
        self.bounds = Bounds(max_move_bps=1_000, max_report_age=300, min_interval=3_600)
        self.deviation_bps = 50
        self.closed_policy = (FROZEN, 1_000)
        self.last_close = 0
        self.rounds: list[AcceptedRound] = []

    def _sign(
        self, accounts: list[LocalAccount], observations: list[tuple[int, int, int]], round_id: int
    ) -> list[tuple[int, int, int, bytes]]:
        pairs = sorted(zip(accounts, observations, strict=True), key=lambda pair: int(pair[0].address, 16))
        feed = feed_id(self.feed)
        return [raw_observation(feed, account, round_id, *observation) for account, observation in pairs]

    def _closed_error(self, price: int, status: int) -> str | None:
        if status != CLOSED or not self.rounds or self.rounds[-1].status != CLOSED:
            return None
        policy, band = self.closed_policy
        if policy == FROZEN and price != self.last_close:
            return "aggregator: price moved while frozen"
        if policy == INTERNAL and abs(price - self.last_close) * BPS > self.last_close * band:
            return "aggregator: price outside the closed band"
        return None

    def _expected_error(self, observations: list[tuple[int, int, int]]) -> str | None:
        now = boa.env.timestamp
        for _, _, observed_at in observations:
            if observed_at > now:
                return "aggregator: observation in the future"
            if now - observed_at > self.bounds.max_report_age:
                return "aggregator: observation too old"
        answer, status, observed_at = (upper_median([o[i] for o in observations]) for i in range(3))
        closed_error = self._closed_error(answer, status)
        if closed_error is not None:
            return closed_error
        if self.rounds:
            last = self.rounds[-1]
            if observed_at <= last.observed_at:
                return "feed: observation not newer"
            deviated = abs(answer - last.answer) * BPS >= last.answer * self.deviation_bps
            if status == last.status and not deviated and now - last.updated_at < self.bounds.min_interval:
                return "feed: too soon"
            bound = self.bounds.max_move_bps
            interval = self.bounds.min_interval
            sustained = interval != 0 and now - last.updated_at >= interval
            bounded = status == last.status and not sustained
            if bound and bounded and abs(answer - last.answer) * BPS > last.answer * bound:
                return "feed: move too large"
        return None

    @rule(
        move_bps=st.integers(min_value=-2_000, max_value=2_000),
        first_answer=st.integers(min_value=1_000, max_value=10**15),
        age=st.one_of(st.integers(min_value=0, max_value=10), st.integers(min_value=-5, max_value=400)),
        status=st.sampled_from(MARKET_STATUSES),
        signers=st.permutations(range(REPORTERS)),
        count=st.integers(min_value=QUORUM, max_value=REPORTERS),
        data=st.data(),
    )
    def transmit(
        self,
        move_bps: int,
        first_answer: int,
        age: int,
        status: int,
        signers: list[int],
        count: int,
        data: st.DataObject,
    ) -> None:
        if self.rounds:
            previous = self.rounds[-1].answer
            price = max(1_000, previous + previous * move_bps // BPS)
        else:
            price = first_answer
        now = boa.env.timestamp
        liars = data.draw(st.integers(min_value=0, max_value=(count - 1) // 2), label="liars")
        # Honest reporters agree on the status and within 0.1% and 3 s on the price and time.
        honest = data.draw(
            st.lists(
                st.tuples(st.integers(price, price + price // 1_000), st.just(status), st.integers(0, 3)),
                min_size=count - liars,
                max_size=count - liars,
            ),
            label="honest",
        )
        lies = data.draw(
            st.lists(
                st.tuples(
                    st.integers(1, 2**127 - 1),
                    st.sampled_from(MARKET_STATUSES),
                    st.integers(now - self.bounds.max_report_age, now),
                ),
                min_size=liars,
                max_size=liars,
            ),
            label="lies",
        )
        accounts = [self.reporters[i] for i in signers[:count]]
        observations = [(p, s, now - age - jitter) for p, s, jitter in honest] + lies
        ordered = sorted(zip(accounts, observations, strict=True), key=lambda pair: int(pair[0].address, 16))
        expected_error = self._expected_error([observation for _, observation in ordered])
        event(f"transmit: {expected_error or 'accepted'}")
        round_id = len(self.rounds) + 1
        arguments = self._sign(accounts, observations, round_id)

        if expected_error is not None:
            with boa.reverts(expected_error):
                self.feed.transmit(round_id, arguments)
            return
        assert self.feed.transmit(round_id, arguments) == round_id

        answer, median_status, observed_at = (upper_median([o[i] for o in observations]) for i in range(3))
        if median_status == CLOSED and (not self.rounds or self.rounds[-1].status != CLOSED):
            self.last_close = answer
        honest_prices = [p for p, _, _ in honest]
        self.rounds.append(
            AcceptedRound(
                answer,
                observed_at,
                boa.env.timestamp,
                median_status,
                self.bounds,
                (min(honest_prices), max(honest_prices)),
            )
        )

    @rule(kind=st.sampled_from(["below_quorum", "outsider", "wrong_round"]))
    def transmit_forged(self, kind: str) -> None:
        now = boa.env.timestamp
        round_id = len(self.rounds) + 1
        accounts = self.reporters[:QUORUM]
        if kind == "below_quorum":
            accounts = self.reporters[: QUORUM - 1]
        elif kind == "outsider":
            accounts = [*self.reporters[: QUORUM - 1], self.outsider]
        elif kind == "wrong_round":
            round_id += 1
        arguments = self._sign(accounts, [(10**8, OPEN, now)] * len(accounts), round_id)
        reason = {
            "below_quorum": "aggregator: below quorum",
            "outsider": "aggregator: not a reporter",
            "wrong_round": "aggregator: wrong round",
        }[kind]

        with boa.reverts(reason):
            self.feed.transmit(round_id, arguments)

    # Short hops reach `too soon` and the deviation waiver; long ones the heartbeat.
    @rule(
        seconds=st.one_of(
            st.integers(min_value=1, max_value=600), st.integers(min_value=600, max_value=7_200)
        )
    )
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

    @rule(deviation_bps=st.integers(min_value=1, max_value=BPS))
    def set_deviation_bps(self, deviation_bps: int) -> None:
        self.feed.set_deviation_bps(deviation_bps, sender=self.admin)
        self.deviation_bps = deviation_bps

    @rule(policy=st.sampled_from([FROZEN, INTERNAL]), band_bps=st.integers(min_value=0, max_value=BPS))
    def set_closed_policy(self, policy: int, band_bps: int) -> None:
        self.feed.set_closed_policy(policy, band_bps, sender=self.admin)
        self.closed_policy = (policy, band_bps)

    def _on_chain(self, round_id: int) -> tuple[int, int, int, int, int]:
        result: tuple[int, int, int, int, int] = self.feed.getRoundData(round_id)
        return result

    @invariant()
    def latest_round_is_last_accepted_round(self) -> None:
        if not self.rounds:
            with boa.reverts("feed: no data"):
                self.feed.latestRoundData()
            return
        last = self.rounds[-1]
        n = len(self.rounds)
        expected = (n, last.answer, last.observed_at, last.updated_at, n)
        assert self.feed.latestRoundData() == expected
        assert self.feed.latestRoundStatus() == (*expected, last.status)

    @invariant()
    def round_ids_are_gapless(self) -> None:
        n = len(self.rounds)
        for round_id in range(max(1, n - 1), n + 1):
            r = self.rounds[round_id - 1]
            assert self._on_chain(round_id) == (round_id, r.answer, r.observed_at, r.updated_at, round_id)
        with boa.reverts("feed: no such round"):
            self.feed.getRoundData(n + 1)

    @precondition(lambda self: len(self.rounds) >= 1)
    @invariant()
    def median_within_honest_range(self) -> None:
        low, high = self.rounds[-1].honest_range
        assert low <= self._on_chain(len(self.rounds))[1] <= high

    @precondition(lambda self: len(self.rounds) >= 2)
    @invariant()
    def accepted_move_within_bound_in_force(self) -> None:
        n = len(self.rounds)
        _, previous, _, _, _ = self._on_chain(n - 1)
        _, current, _, _, _ = self._on_chain(n)
        latest, before = self.rounds[-1], self.rounds[-2]
        bound, interval = latest.bounds.max_move_bps, latest.bounds.min_interval
        new_status = latest.status != before.status
        sustained = interval != 0 and latest.updated_at - before.updated_at >= interval
        assert bound == 0 or new_status or sustained or abs(current - previous) * BPS <= previous * bound

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

    @invariant()
    def close_is_the_latest_closing_price(self) -> None:
        assert self.feed.last_close() == self.last_close

    @invariant()
    def reporters_and_quorum_are_unchanged(self) -> None:
        assert self.feed.quorum() == QUORUM
        assert self.feed.reporters() == [account.address for account in self.reporters]

    def teardown(self) -> None:
        # The invariants look at the newest rounds only; check the whole history once.
        try:
            for round_id, r in enumerate(self.rounds, start=1):
                assert self._on_chain(round_id) == (round_id, r.answer, r.observed_at, r.updated_at, round_id)
                assert self.feed.getRoundStatus(round_id) == r.status
        finally:
            self._anchor.__exit__(None, None, None)


def test_price_feed_stateful(fresh_chain: Any) -> None:
    PriceFeedMachine.deployment = deploy()
    PriceFeedMachine.TestCase().runTest()


PriceFeedMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
