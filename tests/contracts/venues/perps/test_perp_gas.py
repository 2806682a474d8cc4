"""Gas of the hot paths as whole transactions (every account and slot cold, plus the 21,000 of a
transaction): open < 200k, close < 150k, liquidate < 150k."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.perps import PRICE, USDC, WAD, publish

OPEN_GAS, CLOSE_GAS, LIQUIDATE_GAS = 200_000, 150_000, 150_000
TRANSACTION = 21_000


@contextmanager
def _cold_access() -> Iterator[None]:
    """Run a call as in a fresh transaction (see tests/contracts/oracle/test_feed_consumer.py)."""
    account_db = boa.env.evm.vm.state._account_db
    saved = account_db._journal_accessed_state
    account_db._reset_access_counters()
    try:
        yield
    finally:
        account_db._journal_accessed_state = saved


def _gas(contract: Any, call: Callable[[], object]) -> int:
    with _cold_access():
        call()
    return int(contract._computation.get_gas_used()) + TRANSACTION


def test_gas(funded: Any, trader: str, liquidator: str, feed: Any, reporters: list[LocalAccount]) -> None:
    market = funded
    with boa.env.prank(trader):
        market.open_position(False, 1_000 * USDC, 5 * WAD, 0, 0, 0)  # open interest and funding not empty
        opened = _gas(market, lambda: market.open_position(True, 1_000 * USDC, 5 * WAD, 0, 0, 0))
        pid = market.next_position_id() - 1
        boa.env.time_travel(seconds=30)
        closed = _gas(market, lambda: market.close_position(pid, market.position(pid).size, 0))
        pid = market.open_position(True, 1_000 * USDC, 10 * WAD, 0, 0, 0)
    publish(feed, reporters, PRICE * 90 // 100)
    with boa.env.prank(liquidator):
        liquidated = _gas(market, lambda: market.liquidate(pid))
    print(f"gas open {opened} close {closed} liquidate {liquidated}")
    assert opened < OPEN_GAS
    assert closed < CLOSE_GAS
    assert liquidated < LIQUIDATE_GAS
