"""The synthetic stocks' units and settings, a Python model of SynthVault's integer maths, and helpers
that publish rounds and take a snapshot of everything a call could change.

The stock's price and status always come from rounds signed by real reporter keys (`transmit`), so a
test that closes, halts or lets the price go stale drives the same feed the platform runs. The
deployers and the deployed synthetic and vault are fixtures in
``tests/contracts/venues/synths/conftest.py``.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import OPEN

WAD = 10**18
USDC = 10**6
SYNTH = 10**18
PRICE = 200 * 10**8  # $200 a token, the feed's 8 decimals
VALUE_SCALE = 10**20  # 10**(18 + 8 - 6)
MIN_CR = 15 * WAD // 10
PENALTY = WAD // 10
MAX_AGE = 60
MAX_ANSWER = 2**104 - 1
MAX_UINT = 2**256 - 1
STATE_OPEN, STATE_CLOSED, STATE_HALTED, STATE_NO_PRICE = 1, 2, 3, 4
REPORTERS = 5
QUORUM = 3


# ---------------------------------------------------------------- the model of SynthVault's maths


def healthy(collateral: int, debt: int, price: int, min_cr: int = MIN_CR) -> bool:
    """Return C * S * WAD >= m * D * p, the vault's exact health test."""
    return collateral * VALUE_SCALE * WAD >= min_cr * debt * price


def ratio(collateral: int, debt: int, price: int) -> int:
    """Return the collateral ratio, WAD, rounded down; max uint without debt."""
    return MAX_UINT if debt == 0 else collateral * VALUE_SCALE * WAD // (debt * price)


def max_debt(collateral: int, price: int, min_cr: int = MIN_CR) -> int:
    """Return the most a position of `collateral` USDC may owe at `price`."""
    return collateral * VALUE_SCALE * WAD // (min_cr * price)


def seized(amount: int, price: int, collateral: int, penalty: int = PENALTY) -> int:
    """Return the USDC a liquidation of `amount` synthetic pays: its value plus the penalty, capped."""
    return min(amount * price * (WAD + penalty) // (VALUE_SCALE * WAD), collateral)


# ------------------------------------------------------------------------------------- helpers


def now() -> int:
    """Return the current block time."""
    return int(boa.env.evm.patch.timestamp)


def publish(
    feed: Any, reporters: Sequence[LocalAccount], price: int, status: int = OPEN, *, after: int = 1
) -> int:
    """Move time on by `after` seconds and publish a round at `price` with `status`; return its time."""
    boa.env.time_travel(seconds=after)
    transmit(feed, reporters, price, status)
    return now()


Snapshot = Callable[[], tuple[Any, ...]]


def snapshot_of(vault: Any, synth: Any, usdc: Any, holders: Sequence[str]) -> Snapshot:
    """Return a function reading the vault's totals, every position and every balance."""

    def read() -> tuple[Any, ...]:
        return (
            vault.total_collateral(),
            vault.total_debt(),
            vault.bad_debt(),
            vault.next_position_id(),
            tuple(tuple(vault.position(i)) for i in range(vault.next_position_id() + 1)),
            synth.totalSupply(),
            tuple(synth.balanceOf(h) for h in [*holders, vault.address]),
            tuple(usdc.balanceOf(h) for h in [*holders, vault.address]),
        )

    return read


@contextmanager
def refused(state: Snapshot, reason: str) -> Iterator[None]:
    """Expect the block to revert with `reason` and to leave the totals, positions and balances."""
    before = state()
    with boa.reverts(reason):
        yield
    assert state() == before


def vault_events(vault: Any) -> list[tuple[str, dict[str, Any]]]:
    """Return the events the vault itself emitted in the last call, as (name, arguments)."""
    return [
        (type(log).__name__, {k: v for k, v in log._asdict().items() if k != "address"})
        for log in vault.get_logs()
        if str(getattr(log, "address", "")) == str(vault.address)
    ]
