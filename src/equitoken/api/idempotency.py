"""Idempotency keys: a value-moving call made again with the same `Idempotency-Key` gets the first answer.

The first successful response is stored under (API key, idempotency key) with a fingerprint of the
call; a retry of the same call gets that response again (status 200, header `Idempotent-Replayed`),
the same key on a different call gets 409. Refusals are not stored: they changed nothing, so a retry
is simply tried again. The issuer's own idempotency key is derived from the same pair, so a crash
between the issuer's commit and the stored response still yields one request, not two.
"""

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from equitoken.api.keys import Principal
from equitoken.api.problems import ProblemError
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import ApiIdempotencyRow

_STRIPES = 64


@dataclass(frozen=True)
class StoredResponse:
    """A response to a value-moving call; `replayed` when it is the stored answer to an earlier try."""

    status_code: int
    body: str
    replayed: bool


def fingerprint(method: str, path: str, body: Any) -> str:
    """Return the SHA-256 of a call: its method, path and body in canonical JSON."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def issuer_key(principal: Principal, idempotency_key: str) -> str:
    """Return the issuer's idempotency key for a caller's key: unique per API key and within 128 chars."""
    return f"api:{principal.key_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}"


class IdempotentCalls:
    """Run value-moving calls at most once per (API key, idempotency key), and replay their answers."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock
        # Identical calls racing in this process wait for each other, so the second replays the first.
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    def run(
        self,
        principal: Principal,
        idempotency_key: str,
        call_fingerprint: str,
        call: Callable[[], tuple[int, str]],
    ) -> StoredResponse:
        """Return the stored answer for this key, or make the call and store its answer."""
        stored = self._stored(principal, idempotency_key, call_fingerprint)
        if stored is not None:
            return stored
        stripe = int(hashlib.sha256(f"{principal.key_id}:{idempotency_key}".encode()).hexdigest(), 16)
        with self._locks[stripe % _STRIPES]:
            stored = self._stored(principal, idempotency_key, call_fingerprint)
            if stored is not None:
                return stored
            status_code, body = call()
            try:
                with self.db.transaction() as session:
                    session.add(
                        ApiIdempotencyRow(
                            api_key_id=principal.key_id,
                            idempotency_key=idempotency_key,
                            fingerprint=call_fingerprint,
                            status_code=status_code,
                            body=body,
                            created_at=self.clock.now(),
                        )
                    )
            except IntegrityError:
                # Another process answered the same key first; its answer is the one that counts.
                stored = self._stored(principal, idempotency_key, call_fingerprint)
                if stored is None:
                    raise
                return stored
        return StoredResponse(status_code, body, replayed=False)

    def _stored(
        self, principal: Principal, idempotency_key: str, call_fingerprint: str
    ) -> StoredResponse | None:
        with self.db.transaction() as session:
            row = session.scalars(
                select(ApiIdempotencyRow).where(
                    ApiIdempotencyRow.api_key_id == principal.key_id,
                    ApiIdempotencyRow.idempotency_key == idempotency_key,
                )
            ).one_or_none()
            if row is None:
                return None
            if row.fingerprint != call_fingerprint:
                raise ProblemError(
                    409,
                    "idempotency_conflict",
                    f"Idempotency-Key {idempotency_key!r} was already used for a different call",
                )
            return StoredResponse(row.status_code, row.body, replayed=True)
