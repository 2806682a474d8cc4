"""The reporter protocol's JSON: requests and observations survive the trip; bad fields are named."""

from typing import Any

import pytest
from eth_account import Account

from equitoken.model.quantities import Price
from equitoken.oracle.closed_market import ClosedPolicy
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.oracle.reporter import ObservationRefusedError, ObservationRequest
from equitoken.oracle.wire import (
    WireError,
    observation_from_json,
    observation_to_json,
    request_from_json,
    request_to_json,
)

FEED = FeedId(31337, "0x" + "cd" * 20)
REQUEST = ObservationRequest(
    FEED, "AAPL", 3, 1_764_601_200, ClosedPolicy.INTERNAL, 250, Price(28_442_700_622)
)


def test_a_request_and_an_observation_come_back_equal() -> None:
    signed = Observation(FEED, 3, Price(5), MarketStatus.HALTED, 9).sign(Account.create())

    assert request_from_json(request_to_json(REQUEST)) == REQUEST
    assert observation_from_json(observation_to_json(signed)) == signed
    assert observation_from_json(observation_to_json(signed)).is_authentic()


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"round_id": "3"}, WireError, "round_id must be an integer, not '3'"),
        ({"at": True}, WireError, "at must be an integer, not True"),
        ({"ticker": 5}, WireError, "ticker must be a string"),
        ({"feed": "0x12"}, WireError, "feed: "),
        ({"closed_policy": 9}, WireError, r"closed_policy must be one of \[1, 2\], not 9"),
        ({"last_close": 1.5}, WireError, "last_close must be an integer"),
        ({"round_id": 0}, ObservationRefusedError, "round id 0 is not positive"),
    ],
)
def test_a_bad_request_field_is_named(change: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        request_from_json(request_to_json(REQUEST) | change)


def test_a_message_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(WireError, match="must be a JSON object, not list"):
        request_from_json([1])


def test_a_bad_observation_is_refused() -> None:
    body = observation_to_json(Observation(FEED, 3, Price(5), MarketStatus.OPEN, 9).sign(Account.create()))

    with pytest.raises(WireError, match="invalid observation"):
        observation_from_json(body | {"status": 7})
    with pytest.raises(WireError, match="invalid observation"):
        observation_from_json(body | {"signature": "0xzz"})
