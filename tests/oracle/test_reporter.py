"""A reporter signs what it observes on real replayed prices, for one round of one feed, and refuses
requests it must not sign."""

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.prices import NoPriceError
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price
from equitoken.oracle.closed_market import ClosedPolicy
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.reporter import ObservationRefusedError, ObservationRequest, Reporter
from equitoken.oracle.sources import MarketObservationSource

FEED = FeedId(31337, "0x" + "ab" * 20)
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
AT = int(IN_SESSION.timestamp())


@pytest.fixture
def reporter(prices: ReplayPriceSource, calendar: MarketCalendar) -> Reporter:
    clock = ManualClock(IN_SESSION)
    return Reporter(Account.create(), MarketObservationSource(prices, calendar), clock, timedelta(seconds=30))


def test_the_signed_observation_is_what_the_source_saw_at_the_requested_time(
    reporter: Reporter, prices: ReplayPriceSource
) -> None:
    signed = reporter.observe(ObservationRequest(FEED, "AAPL", 4, AT))

    assert signed.is_authentic()
    assert signed.reporter == reporter.address
    observation = signed.observation
    assert (observation.feed, observation.round_id, observation.observed_at) == (FEED, 4, AT)
    assert observation.price == prices.quote("AAPL", IN_SESSION).price
    assert observation.status is MarketStatus.OPEN


def test_a_signature_does_not_carry_over_to_another_round(reporter: Reporter) -> None:
    signed = reporter.observe(ObservationRequest(FEED, "AAPL", 4, AT))
    moved = type(signed)(
        type(signed.observation)(FEED, 5, signed.observation.price, signed.observation.status, AT),
        signed.signature,
        signed.reporter,
    )

    assert not moved.is_authentic()


def test_a_time_beyond_the_reporters_clock_and_tolerance_is_refused(reporter: Reporter) -> None:
    assert reporter.observe(ObservationRequest(FEED, "AAPL", 1, AT + 30)).observation.observed_at == AT + 30

    with pytest.raises(ObservationRefusedError, match=r"ahead of the reporter's clock .* by more than 30s"):
        reporter.observe(ObservationRequest(FEED, "AAPL", 1, AT + 31))


def test_an_unknown_ticker_has_no_price(reporter: Reporter) -> None:
    with pytest.raises(NoPriceError, match="unknown ticker"):
        reporter.observe(ObservationRequest(FEED, "NOPE", 1, AT))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"round_id": 0}, "round id 0 is not positive"),
        ({"at": -1}, "observation time -1 is negative"),
        ({"ticker": ""}, "ticker '' must be 1 to 10 characters"),
        ({"closed_policy": 7}, "7 is not a valid ClosedPolicy"),
        ({"band_bps": 10_001}, "band must be 0 to 10000"),
        ({"last_close": Price(0)}, "last close 0 is not positive"),
    ],
)
def test_a_malformed_request_is_refused(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"feed": FEED, "ticker": "AAPL", "round_id": 1, "at": AT}
    with pytest.raises(ObservationRefusedError, match=message):
        ObservationRequest(**(base | fields))  # type: ignore[arg-type]


def test_internal_policy_requests_sign_the_closed_price(
    reporter: Reporter, prices: ReplayPriceSource
) -> None:
    evening = datetime(2025, 12, 1, 23, 0, tzinfo=UTC)
    request = ObservationRequest(FEED, "AAPL", 2, int(evening.timestamp()), ClosedPolicy.INTERNAL, 500)
    assert isinstance(reporter.clock, ManualClock)
    reporter.clock.set(evening)

    observation = reporter.observe(request).observation

    assert (observation.price, observation.status) == (
        prices.quote("AAPL", evening).price,
        MarketStatus.CLOSED,
    )
