"""How many CFD orders per second the venue takes, journal included: for the benchmark."""

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from equitoken.market.clock import ManualClock
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.cfd.instruments import PRICE_ONE, SIZE_ONE, USDC_ONE, CfdInstrument
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.journal import FsyncPolicy

BENCH_TIME = datetime(2025, 6, 4, 15, 0, tzinfo=UTC)
"""A Wednesday 11:00 New York: the regular session is open."""

_SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA")


def measure_orders_per_second(
    n_orders: int,
    *,
    accounts: int = 100,
    fsync: FsyncPolicy | None = FsyncPolicy.PER_BATCH,
    batch: int = 1_000,
    directory: Path | None = None,
) -> float:
    """Return market orders per second through `CfdVenue`, half opens and half closes.

    `accounts` accounts trade 4 instruments; each order opens a position or closes the account's
    oldest one. With `fsync` set the venue journals to a file in `directory` (a temporary one if
    None) and syncs every `batch` orders (PER_BATCH) or every order (PER_RECORD); with None it
    journals nothing. Setup (deposits, first prices) is not timed.
    """
    if n_orders <= 0 or accounts <= 0 or batch <= 0:
        raise ValueError(f"orders {n_orders}, accounts {accounts} and batch {batch} must be positive")
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        clock = ManualClock(BENCH_TIME)
        instruments = [CfdInstrument(symbol) for symbol in _SYMBOLS]
        if fsync is None:
            venue = CfdVenue.in_memory(instruments, clock)
        else:
            venue = CfdVenue.start(Path(folder) / "cfd.journal", instruments, clock, fsync=fsync)
        try:
            for account in range(accounts):
                venue.deposit(account, 1_000_000 * USDC_ONE, f"bench-{account}")
            for i, symbol in enumerate(_SYMBOLS):
                venue.on_price(symbol, (100 + 50 * i) * PRICE_ONE, MarketStatus.OPEN, BENCH_TIME)
            open_ids: list[list[int]] = [[] for _ in range(accounts)]
            start = time.perf_counter()
            for n in range(n_orders):
                account = n % accounts
                held = open_ids[account]
                if (n // accounts) % 2 == 0 or not held:
                    side = CfdSide.LONG if n % 3 else CfdSide.SHORT
                    opened = venue.open_position(account, _SYMBOLS[n % len(_SYMBOLS)], side, SIZE_ONE, 2)
                    held.append(opened[0].position_id)  # type: ignore[union-attr]
                else:
                    venue.close_position(account, held.pop(0))
                if fsync is FsyncPolicy.PER_BATCH and (n + 1) % batch == 0:
                    venue.sync()
            venue.sync()
            return n_orders / (time.perf_counter() - start)
        finally:
            venue.close()
