"""The reporter protocol's JSON: a transmitter's request and a reporter's signed observation.

`POST /v1/observations` takes an `ObservationRequest` and answers a `SignedObservation`:

    request:  {"chain_id": 31337, "feed": "0x…", "ticker": "AAPL", "round_id": 5, "at": 1764601200,
               "closed_policy": 1, "band_bps": 1000, "last_close": 28442700622 | null}
    answer:   {"chain_id": 31337, "feed": "0x…", "round_id": 5, "price": 28442700622, "status": 1,
               "observed_at": 1764601200, "reporter": "0x…", "signature": "0x<65 bytes r|s|v>"}

Prices are integers in `Price` units (1e-8 dollar), times Unix seconds, statuses and policies the
feed's numbers. Anything else is refused with a `WireError` naming the field.
"""

from collections.abc import Mapping
from typing import Any

from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price
from equitoken.oracle.closed_market import ClosedPolicy
from equitoken.oracle.observation import FeedId, MarketStatus, Observation, SignedObservation
from equitoken.oracle.reporter import ObservationRefusedError, ObservationRequest


class WireError(EquitokenError, ValueError):
    """A message that is not valid JSON of the reporter protocol; the message names the field."""

    code = "invalid_request"


def _integer(data: Mapping[str, Any], name: str, *, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise WireError(f"{name} must be an integer, not {value!r}")
    return value


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise WireError(f"{name} must be a string, not {value!r}")
    return value


def _object(data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise WireError(f"the message must be a JSON object, not {type(data).__name__}")
    return data


def _feed(data: Mapping[str, Any]) -> FeedId:
    try:
        return FeedId(_integer(data, "chain_id"), _text(data, "feed"))
    except WireError:
        raise
    except ValueError as error:
        raise WireError(f"feed: {error}") from None


def request_to_json(request: ObservationRequest) -> dict[str, Any]:
    """Return the JSON object of a request."""
    return {
        "chain_id": request.feed.chain_id,
        "feed": request.feed.address,
        "ticker": request.ticker,
        "round_id": request.round_id,
        "at": request.at,
        "closed_policy": int(request.closed_policy),
        "band_bps": request.band_bps,
        "last_close": None if request.last_close is None else request.last_close.units,
    }


def request_from_json(data: object) -> ObservationRequest:
    """Read a request; raise WireError (or ObservationRefusedError for values out of range)."""
    body = _object(data)
    last_close = _integer(body, "last_close", optional=True)
    policy = _integer(body, "closed_policy")
    if policy not in iter(ClosedPolicy):
        raise WireError(f"closed_policy must be one of {[int(p) for p in ClosedPolicy]}, not {policy}")
    return ObservationRequest(
        _feed(body),
        _text(body, "ticker"),
        _integer(body, "round_id"),
        _integer(body, "at"),
        ClosedPolicy(policy),
        _integer(body, "band_bps"),
        None if last_close is None else Price(last_close),
    )


def observation_to_json(signed: SignedObservation) -> dict[str, Any]:
    """Return the JSON object of a signed observation."""
    o = signed.observation
    return {
        "chain_id": o.feed.chain_id,
        "feed": o.feed.address,
        "round_id": o.round_id,
        "price": o.price.units,
        "status": int(o.status),
        "observed_at": o.observed_at,
        "reporter": signed.reporter,
        "signature": "0x" + signed.signature.hex(),
    }


def observation_from_json(data: object) -> SignedObservation:
    """Read a signed observation (its signature is not checked here: see `is_authentic`)."""
    body = _object(data)
    signature = _text(body, "signature")
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        status = MarketStatus(_integer(body, "status"))
        observation = Observation(
            _feed(body),
            _integer(body, "round_id"),
            Price(_integer(body, "price")),
            status,
            _integer(body, "observed_at"),
        )
        return SignedObservation(observation, raw, _text(body, "reporter"))
    except (WireError, ObservationRefusedError):
        raise
    except ValueError as error:
        raise WireError(f"invalid observation: {error}") from None
