"""The push policy: each reason to push, at its exact boundary, and the rounds it holds back."""

import pytest

from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.policy import Candidate, FeedRound, PushPolicy, PushReason

OPEN, CLOSED, HALTED = MarketStatus.OPEN, MarketStatus.CLOSED, MarketStatus.HALTED
LATEST = FeedRound(round_id=7, answer=20_000_000_000, started_at=1_000, updated_at=1_002, status=OPEN)
POLICY = PushPolicy(deviation_bps=50, heartbeat_open=3_600, heartbeat_closed=7_200)


def test_the_first_round_is_always_due() -> None:
    assert POLICY.reason(None, Candidate(1, CLOSED, 5), now=5) is PushReason.FIRST_ROUND


@pytest.mark.parametrize("status", [CLOSED, HALTED])
def test_every_status_change_is_due_at_once(status: MarketStatus) -> None:
    candidate = Candidate(LATEST.answer, status, LATEST.started_at + 1)

    assert POLICY.reason(LATEST, candidate, now=LATEST.updated_at + 1) is PushReason.STATUS_CHANGE


def test_a_move_of_exactly_the_deviation_is_due_and_one_unit_less_is_not() -> None:
    step = LATEST.answer * 50 // 10_000  # 0.5% of 200.00000000
    now = LATEST.updated_at + 60

    up = POLICY.reason(LATEST, Candidate(LATEST.answer + step, OPEN, 1_060), now)
    down = POLICY.reason(LATEST, Candidate(LATEST.answer - step, OPEN, 1_060), now)
    short = POLICY.reason(LATEST, Candidate(LATEST.answer + step - 1, OPEN, 1_060), now)

    assert (up, down, short) == (PushReason.DEVIATION, PushReason.DEVIATION, None)


def test_the_heartbeat_is_due_exactly_at_its_interval_since_the_last_update() -> None:
    candidate = Candidate(LATEST.answer, OPEN, 4_000)

    assert POLICY.reason(LATEST, candidate, now=LATEST.updated_at + 3_599) is None
    assert POLICY.reason(LATEST, candidate, now=LATEST.updated_at + 3_600) is PushReason.HEARTBEAT


def test_a_closed_market_beats_at_its_own_heartbeat() -> None:
    closed = FeedRound(7, 100, started_at=1_000, updated_at=1_000, status=CLOSED)
    candidate = Candidate(100, CLOSED, 9_000)

    assert POLICY.reason(closed, candidate, now=1_000 + 3_600) is None
    assert POLICY.reason(closed, candidate, now=1_000 + 7_200) is PushReason.HEARTBEAT


def test_an_observation_not_newer_than_the_latest_round_is_never_due() -> None:
    stale = Candidate(LATEST.answer * 2, CLOSED, LATEST.started_at)

    assert POLICY.reason(LATEST, stale, now=LATEST.updated_at + 100_000) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"deviation_bps": 0}, "deviation must be 1 to 10000"),
        ({"deviation_bps": 10_001}, "deviation must be 1 to 10000"),
        ({"heartbeat_open": 0}, "heartbeat_open must be a positive"),
        ({"heartbeat_closed": -1}, "heartbeat_closed must be a positive"),
    ],
)
def test_a_policy_out_of_range_is_refused(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PushPolicy(**options)
