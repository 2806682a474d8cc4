"""Identifiers the platform hands out: the kind's prefix and random hex, so that an id says what it names.

Ids are opaque strings to everyone else (the API takes them as path parameters); the types keep an
investor's id from being passed where a request's is meant.
"""

import uuid
from typing import NewType

InvestorId = NewType("InvestorId", str)
"""An onboarded investor: `inv-` and 12 hex digits."""

RequestId = NewType("RequestId", str)
"""A mint or redemption request: `req-` and 16 hex digits."""

ApiKeyId = NewType("ApiKeyId", str)
"""An API key (not its secret): `key-` and 12 hex digits."""


def new_investor_id() -> InvestorId:
    return InvestorId(f"inv-{uuid.uuid4().hex[:12]}")


def new_request_id() -> RequestId:
    return RequestId(f"req-{uuid.uuid4().hex[:16]}")


def new_api_key_id() -> ApiKeyId:
    return ApiKeyId(f"key-{uuid.uuid4().hex[:12]}")
