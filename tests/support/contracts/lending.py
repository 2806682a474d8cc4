"""The lending venue's units and settings, a Python model of LendingMarket's integer maths, and helpers
that publish rounds and take a snapshot of everything a call could change.

The market's status and price always come from rounds signed by real reporter keys (`transmit`), and
the collateral's reserves from the real reserve feed, so a test that halts the market or shorts the
reserves drives the same feeds the platform runs. The deployers and the deployed token, feeds,
oracle, rate model and lending market are fixtures in ``tests/contracts/venues/lending/conftest.py``.
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import boa
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import OPEN

WAD = 10**18
ORACLE_PRICE_SCALE = 10**36
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
MAX_FEE = WAD // 4
MAX_LIF = 115 * WAD // 100
LIQUIDATION_CURSOR = 3 * WAD // 10

PRICE = 200 * 10**8  # $200 a token, the feed's 8 decimals
PRICE_SCALE = 10 ** (36 + 6 - 8 - 8)  # USDC 6 decimals, the token 8, the feed 8
LLTV = 75 * WAD // 100
LLTV_HALF = WAD // 2
CLOSED_CUT = WAD // 10
GRACE = 1_800
MAX_AGE = 7_200
MAX_ANSWER = 2**104 - 1
ZERO = "0x" + "00" * 20

BORROW, WITHDRAW_COLLATERAL, LIQUIDATE = 1, 2, 3
ACTIONS = (BORROW, WITHDRAW_COLLATERAL, LIQUIDATE)
STATE_OPEN, STATE_CLOSED, STATE_HALTED, STATE_GRACE, STATE_RESERVE_PAUSED, STATE_NO_PRICE = range(1, 7)


class MarketParams(NamedTuple):
    """A market's immutable parameters, in the order of LendingMarket's struct (a tuple boa encodes)."""

    loan_token: str
    collateral_token: str
    oracle: str
    irm: str
    lltv: int


def market_id(params: MarketParams) -> bytes:
    """Return keccak256(abi.encode(params)), Morpho Blue's `MarketParams.id()`."""
    return keccak(encode(["address", "address", "address", "address", "uint256"], list(params)))


# ---------------------------------------------------------------- the model of LendingMarket's maths


def mul_div(x: int, y: int, d: int, up: bool) -> int:
    """Return x * y / d rounded down, or up."""
    return -(-x * y // d) if up else x * y // d


def to_shares(assets: int, total_assets: int, total_shares: int, up: bool) -> int:
    """Convert assets to shares at (S + 1e6) / (A + 1)."""
    return mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, up)


def to_assets(shares: int, total_assets: int, total_shares: int, up: bool) -> int:
    """Convert shares to assets at (A + 1) / (S + 1e6)."""
    return mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, up)


def lif(lltv: int) -> int:
    """Return the liquidation incentive factor, min(1.15, 1 / (1 - 0.3 * (1 - lltv))), WAD."""
    return min(MAX_LIF, WAD * WAD // (WAD - LIQUIDATION_CURSOR * (WAD - lltv) // WAD))


def max_borrow(collateral: int, price: int, max_ltv: int) -> int:
    """Return the most a position of `collateral` may owe at `price` (1e36 scale) and `max_ltv`."""
    return collateral * price // ORACLE_PRICE_SCALE * max_ltv // WAD


def taylor(rate: int, elapsed: int) -> int:
    """Return e^(rate * elapsed) - 1 by its first three terms, WAD, as the contract computes it."""
    first = rate * elapsed
    second = first * first // (2 * WAD)
    return first + second + second * first // (3 * WAD)


def oracle_price(answer: int) -> int:
    """Return the oracle's price for a feed answer: raw USDC per raw token, times 1e36."""
    return answer * PRICE_SCALE


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


def snapshot_of(lending: Any, params: MarketParams, users: Sequence[str], tokens: Sequence[Any]) -> Snapshot:
    """Return a function reading the market's totals, every user's position and every token balance."""
    id_ = market_id(params)
    holders = [*users, lending.address]

    def read() -> tuple[Any, ...]:
        return (
            tuple(lending.market(id_)),
            tuple(tuple(lending.position(id_, user)) for user in users),
            tuple(tuple(token.balanceOf(holder) for holder in holders) for token in tokens),
        )

    return read


def market_events(lending: Any) -> list[tuple[str, dict[str, Any]]]:
    """Return the events the lending market itself emitted in the last call, as (name, arguments)."""
    return [
        (type(log).__name__, {k: v for k, v in log._asdict().items() if k != "address"})
        for log in lending.get_logs()
        if str(getattr(log, "address", "")) == str(lending.address)
    ]
