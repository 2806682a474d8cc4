"""Cursor pagination: `?limit=` and an opaque `?cursor=` naming where the previous page ended."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from equitoken.api.problems import ProblemError

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page, 1 to 200.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` of the previous page; omit for the first.")
]


class Page(BaseModel, Generic[T]):
    """One page of a list, and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(position: Sequence[Any]) -> str:
    """Return an opaque cursor for the position after which the next page starts."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Return the position a cursor names; raise a 422 problem if this API did not issue it."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, list) or len(position) != arity:
        raise ProblemError(422, "invalid_cursor", f"cursor {cursor!r} is not one this API issued")
    return position


def paginate(
    items: Sequence[T], limit: int, cursor: str | None, position: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    """Return the page after `cursor` of `items` (sorted by `position`) and the next page's cursor."""
    start = 0
    if cursor is not None and items:
        after = decode_cursor(cursor, len(position(items[0])))
        try:
            start = next((i for i, item in enumerate(items) if list(position(item)) > after), len(items))
        except TypeError:
            raise ProblemError(
                422, "invalid_cursor", f"cursor {cursor!r} is not one this API issued"
            ) from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, encode_cursor(position(page[-1])) if more and page else None
