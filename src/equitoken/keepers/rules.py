"""What every keeper shares: the settings they check, and the reasons they give for leaving a venue alone.

Each keeper acts only within bounds it checks at construction (`check_ranges`, `check_venue`,
`KeeperConfigError` naming the setting), and reports each venue it looked at but did not touch as a
`Refusal` with a `RefusalReason` (raised inside a tick as a `RefusedError`), so the platform's log and
the tests can tell a quiet market from a refused one.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from equitoken.chain.evm.chain import EvmChain
from equitoken.model.errors import EquitokenError

DEFAULT_MAX_AGE = 7_200
"""The oldest oracle round, in seconds, a keeper acts on."""
DEFAULT_SLIPPAGE_BPS = 10
DEFAULT_DEADLINE = 120
"""Seconds a keeper's swap stays valid after the next block."""
MAX_SECONDS = 2**40


class KeeperConfigError(EquitokenError, ValueError):
    """The keeper cannot run as configured; the message names the setting."""

    code = "keeper_config"


def check_ranges(*settings: tuple[str, int, int, int]) -> None:
    """Raise KeeperConfigError naming the first (name, value, low, high) with a value outside the range."""
    for name, value, low, high in settings:
        if not low <= value <= high:
            raise KeeperConfigError(f"{name} must be {low} to {high}, not {value}")


def check_venue(
    chain: EvmChain,
    account: str,
    tickers: Sequence[str] | None,
    *,
    venue: str,
    chain_id: int,
    available: Collection[str],
    unknown: str,
    noun: str = "market",
) -> tuple[str, ...]:
    """Return the tickers to watch (all of `available` by default), or raise KeeperConfigError when
    `venue` ("the lending venue is") is deployed on another chain, a ticker is `unknown` ("no lending
    market") to it, there is no `noun` to watch, or the chain cannot sign for `account`."""
    if chain_id != chain.chain_id:
        raise KeeperConfigError(f"{venue} deployed on chain {chain_id}, not {chain.chain_id}")
    watched = tuple(available if tickers is None else tickers)
    missing = sorted(set(watched) - set(available))
    if missing:
        raise KeeperConfigError(f"{unknown} for {', '.join(missing)}")
    if not watched:
        raise KeeperConfigError(f"the keeper needs at least one {noun} to watch")
    if account not in chain.signers:
        raise KeeperConfigError(f"the keeper cannot sign for wallet {account}")
    return watched


class RefusalReason(StrEnum):
    """Why a keeper left a pool, a book or a ticker alone this tick."""

    NO_ROUND = "no_round"
    STALE = "stale"
    HALTED = "halted"
    NON_POSITIVE = "non_positive"
    MARKET_CLOSED = "market_closed"
    EMPTY_POOL = "empty_pool"
    NO_INVENTORY = "no_inventory"
    POOL_REFUSED = "pool_refused"
    VENUE_REFUSED = "venue_refused"
    IN_FLIGHT = "in_flight"
    TOO_SMALL = "too_small"
    NO_FUNDS = "no_funds"
    ISSUER_REFUSED = "issuer_refused"
    GRACE = "grace"
    ORACLE_REFUSED = "oracle_refused"
    SLIPPAGE = "slippage"
    COMPLIANCE = "compliance"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A ticker the keeper looked at and left alone, and why."""

    ticker: str
    reason: RefusalReason
    detail: str


class RefusedError(Exception):
    """A keeper leaves a ticker alone this tick, for `reason`; the tick reports it as a `Refusal`."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
