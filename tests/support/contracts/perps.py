"""The perpetuals' units and default parameters, a Python model of `PerpMarket`'s integer maths
(fill, size, PnL, funding, fees, equity) and helpers that move the feed.

The deployers and the deployed vault and market are fixtures in
``tests/contracts/venues/perps/conftest.py``; the token and its real quorum feed come from the
venues' and the contracts' conftests.
"""

from dataclasses import dataclass
from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import transmit
from tests.support.contracts.venues import CLOSED, HALTED, NEXT_ROUND, OPEN

WAD = 10**18
BPS = 10_000
USDC = 10**6
PRICE = 200 * 10**8
MAX_AGE = 7_200
MAX_ANSWER = 2**104 - 1
DAY = 86_400
STATE_OPEN, STATE_CLOSED, STATE_DISCOVERY, STATE_HALTED, STATE_NO_PRICE = 1, 2, 3, 4, 5
POLICY_CLOSED, POLICY_DISCOVERY = 1, 2
ORDER_OPEN, ORDER_CLOSE = 1, 2
LP_ASSETS = 1_000_000 * USDC
FUNDING_DENOMINATOR = 2 * DAY * WAD * 100

__all__ = ["CLOSED", "HALTED", "OPEN"]


@dataclass(frozen=True)
class Params:
    max_leverage: int = 10 * WAD
    open_fee_bps: int = 8
    close_fee_bps: int = 8
    base_spread_bps: int = 5
    skew_scale: int = 1_000_000 * WAD
    max_funding_velocity: int = WAD // 100
    max_oi_long: int = 10_000_000 * USDC
    max_oi_short: int = 10_000_000 * USDC
    max_profit_multiple: int = 9 * WAD
    liquidation_fee_bps: int = 50
    min_margin: int = 10 * USDC
    closed_policy: int = POLICY_CLOSED

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(self.__dict__.values())


DEFAULTS = Params()


# ------------------------------------------------------------------------------ the model


def mul_div(x: int, y: int, d: int, up: bool) -> int:
    return -(-x * y // d) if up else x * y // d


def fill(mark: int, adds_long: bool, size: int, skew: int, p: Params = DEFAULTS) -> int:
    """Return the fill of a trade of `size` that adds long exposure or not, on skew `skew`."""
    half = size // 2
    average = skew + half if adds_long else half - skew
    spread = p.base_spread_bps * (WAD // BPS)
    if average > 0:
        spread += mul_div(average, WAD, p.skew_scale, True)
    if adds_long:
        return mul_div(mark, WAD + spread, WAD, True)
    return mul_div(mark, WAD - spread, WAD, False)


@dataclass(frozen=True)
class Opened:
    fee: int
    net: int
    size: int
    price: int
    reservation: int
    notional: int


def open_model(
    is_long: bool, margin: int, leverage: int, mark: int, skew: int, p: Params = DEFAULTS
) -> Opened:
    fee = mul_div(margin, leverage * p.open_fee_bps, WAD * BPS, True)
    net = margin - fee
    at_mark = net * leverage * 100 // mark
    price = fill(mark, is_long, at_mark, skew, p)
    size = net * leverage * 100 // price
    return Opened(fee, net, size, price, net * p.max_profit_multiple // WAD, size * price // 10**20)


def pnl(is_long: bool, size: int, entry: int, exit_: int) -> int:
    move = exit_ - entry if is_long else entry - exit_
    return size * move // 10**20


def funding_owed(is_long: bool, size: int, delta: int) -> int:
    owed = size * delta if is_long else -size * delta
    return -(-owed // WAD)


def close_fee(size: int, price: int, p: Params = DEFAULTS) -> int:
    return mul_div(size, price * p.close_fee_bps, 10**24, True)


def velocity(skew: int, p: Params = DEFAULTS) -> int:
    proportional = _tdiv(skew * WAD, p.skew_scale)
    proportional = max(min(proportional, WAD), -WAD)
    return _tdiv(proportional * p.max_funding_velocity, WAD)


def _tdiv(x: int, d: int) -> int:
    """Vyper's `//` on signed integers: truncate toward zero."""
    q = abs(x) // abs(d)
    return q if (x >= 0) == (d > 0) else -q


def funding_step(
    rate: int, accrued: int, carry: int, skew: int, elapsed: int, price: int, p: Params = DEFAULTS
) -> tuple[int, int, int]:
    """Return (rate, accrued, carry) after `elapsed` seconds at `price` (Synthetix v3)."""
    new_rate = rate + _tdiv(velocity(skew, p) * elapsed, DAY)
    numerator = (rate + new_rate) * elapsed * price + carry
    step = _tdiv(numerator, FUNDING_DENOMINATOR)
    return new_rate, accrued + step, numerator - step * FUNDING_DENOMINATOR


def payout(margin_part: int, value: int, reservation_part: int) -> int:
    return max(0, min(value, margin_part + reservation_part))


def equity(pos: Any, mark: int, accrued: int, p: Params = DEFAULTS) -> int:
    value: int = (
        pos.margin
        + pnl(pos.is_long, pos.size, pos.entry_price, mark)
        - funding_owed(pos.is_long, pos.size, accrued - pos.funding_entry)
        - close_fee(pos.size, mark, p)
    )
    return value


def liquidatable(value: int, size: int, mark: int, p: Params = DEFAULTS) -> bool:
    notional = size * mark // 10**20
    return value < 0 or value * 2 * p.max_leverage < notional * WAD


# ------------------------------------------------------------------------------------- helpers


def publish(feed: Any, reporters: list[LocalAccount], price: int, status: int = OPEN) -> None:
    """Move time on by a minute and publish a round at `price` (share price) with `status`."""
    boa.env.time_travel(seconds=NEXT_ROUND)
    transmit(feed, reporters, price, status)


def now() -> int:
    return int(boa.env.evm.patch.timestamp)


def reverts_with(contract: Any, name: str, *args: Any, sender: str, reason: str) -> None:
    """Call `name` from `sender` and check it reverts with `reason`, read from the raw return data.

    (boa's own stack trace fails to decode some of the market's reverts; the reason itself is intact.)
    """
    from eth_abi.abi import decode

    data = getattr(contract, name).prepare_calldata(*args)
    result = boa.env.execute_code(to_address=contract.address, sender=sender, data=data)
    assert result.is_error, f"{name} did not revert"
    output = bytes(result.output)
    assert output[:4] == bytes.fromhex("08c379a0"), output
    assert decode(["string"], output[4:])[0] == reason
