"""The perpetual market's arithmetic, integer for integer as `PerpMarket.vy` and `perp_math.vy` do it.

Glossary (as in the contracts' headers):
- s          a size in token units, 18 decimals (`TOKEN_UNIT` = 1e18 per whole token);
- p, e, P    prices: the feed's token price, 8 decimals (`PRICE_SCALE` = 1e8 per dollar); e a
             position's entry (its fill), P the mark;
- n(s, p)    notional, USDC (6 decimals) = s * p / 1e20;
- m          a position's margin, USDC, after the open fee;
- L          leverage, WAD (10e18 = 10x); max_L the market's `max_leverage`;
- fee_o      the open fee: m_posted * L * open_fee_bps / (1e18 * 1e4), rounded up, out of the margin;
- s at open  (m_posted - fee_o) * L * 100 / fill (6 + 18 + 2 - 8 = 18 decimals); the fill's impact is
             measured on the size at the mark, since the size at the fill depends on the fill;
- res        the vault's reservation for a position, m * max_profit_multiple / WAD: the most its
             profit can be;
- k, K       skew = long size - short size, and `skew_scale` (token units);
- fill       mark * (1 + spread) for a trade adding long exposure (a long open, a short close),
             rounded up; mark * (1 - spread) otherwise, rounded down; spread = base spread + the
             average skew over the trade in its direction (0 if negative) / K: trades that add to
             the skew pay more, ones that reduce it pay only the base spread;
- v, r       the funding velocity clamp(k / K, -1, 1) * max_funding_velocity and the rate
             r' = r + v * dt / 86400, both WAD per day (positive: longs pay shorts);
- F          accrued funding, USDC per whole token: F' = F + (r + r') / 2 * dt / 86400 * p / 100 / WAD,
             the division's remainder carried; a long of size s owes s * (F - F_entry) / 1e18,
             rounded up (a short the opposite);
- pnl        s * (exit - e) / 1e20 for a long, the opposite for a short, rounded down;
- fee_c      the close fee: n(s, p) * close_fee_bps / 1e4, rounded up;
- equity     m + pnl(P) - funding - fee_c(P);
- healthy    equity * 2 * max_L >= n(s, P) * WAD: the maintenance margin is n(s, P) / (2 max_L).
Invariant the contract keeps: a close pays clamp(m_part + pnl - funding - fee_c, 0, m_part + res_part),
so a trader never loses more than the margin and the vault never pays more than it reserved; every
rounding favours the vault. The venue's views, its client's checks and the keeper's choices all come
from here, so they agree with the contract to the unit.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from equitoken.model.bps import BPS
from equitoken.venues.perps.parameters import WAD, PerpParameters

__all__ = [
    "FEE_SCALE",
    "NOTIONAL_SCALE",
    "PRICE_SCALE",
    "SECONDS_PER_DAY",
    "SIZE_SCALE",
    "TOKEN_UNIT",
    "OpenQuote",
    "Settlement",
    "accrue",
    "clamp_to_band",
    "close_fee",
    "closed_size",
    "current_rate",
    "discovery_band",
    "equity",
    "fill_price",
    "funding_rate",
    "funding_velocity",
    "is_healthy",
    "is_liquidatable",
    "leverage_of",
    "liquidation_price",
    "liquidation_reward",
    "maintenance_margin",
    "mul_div",
    "notional",
    "open_fee",
    "pnl",
    "position_funding",
    "quote_open",
    "settle_close",
]

PRICE_SCALE = 10**8
TOKEN_UNIT = 10**18
NOTIONAL_SCALE = 10**20  # size (1e18) x price (1e8) / 1e20 = USDC (1e6)
SIZE_SCALE = 100  # size = margin (1e6) x leverage (1e18) x 100 / price (1e8)
FEE_SCALE = 10**24  # fee = size x price x bps / 1e24: the notional in bps
SECONDS_PER_DAY = 86_400
FUNDING_DENOMINATOR = 2 * SECONDS_PER_DAY * WAD * 100  # the average, a day, WAD, 8 to 6 decimals
BPS_TO_WAD = WAD // BPS


def mul_div(x: int, y: int, denominator: int, *, round_up: bool) -> int:
    """Return x * y / denominator (all non-negative) rounded down, or up (snekmate's `_mul_div`)."""
    if round_up:
        return -(-x * y // denominator)
    return x * y // denominator


def notional(size: int, price: int, *, round_up: bool = False) -> int:
    """Return the USDC value of `size` token units at `price`, rounded down (or up)."""
    return mul_div(size, price, NOTIONAL_SCALE, round_up=round_up)


def fill_price(mark: int, adds_long: bool, size: int, skew: int, parameters: PerpParameters) -> int:
    """Return the price a trade of `size` gets at `mark` with the market's `skew` before it: a trade
    that adds long exposure (a long open, a short close) pays mark x (1 + spread), rounded up; one
    that adds short exposure gets mark x (1 - spread), rounded down. The spread is the base spread
    plus the average skew over the trade in its direction (0 if negative) over the skew scale."""
    half = size // 2
    average = skew + half if adds_long else half - skew
    spread = parameters.base_spread_bps * BPS_TO_WAD
    if average > 0:
        spread += mul_div(average, WAD, parameters.skew_scale, round_up=adds_long)
    if adds_long:
        return mul_div(mark, WAD + spread, WAD, round_up=True)
    if spread >= WAD:
        raise ValueError("perp: price impact too large")
    return mul_div(mark, WAD - spread, WAD, round_up=False)


def funding_velocity(skew: int, parameters: PerpParameters) -> int:
    """Return how fast the funding rate moves, WAD per day: clamp(skew / K, -1, 1) x max velocity."""
    proportional = max(-WAD, min(WAD, _div(skew * WAD, parameters.skew_scale)))
    return _div(proportional * parameters.max_funding_velocity, WAD)


def current_rate(last_rate: int, velocity: int, elapsed: int) -> int:
    """Return the funding rate (WAD per day) `elapsed` seconds after it was `last_rate`."""
    return last_rate + _div(velocity * elapsed, SECONDS_PER_DAY)


def funding_rate(last_rate: int, skew: int, elapsed: int, parameters: PerpParameters) -> int:
    """Return the funding rate `elapsed` seconds after `last_rate` at a constant `skew`."""
    return current_rate(last_rate, funding_velocity(skew, parameters), elapsed)


def accrue(accrued: int, carry: int, last_rate: int, rate: int, elapsed: int, price: int) -> tuple[int, int]:
    """Return the accrued funding per whole token and the remainder carried to the next step:
    F' = F + (r + r') / 2 x dt / 86400 x p / 100 / WAD, the division's remainder carried."""
    numerator = (last_rate + rate) * elapsed * price + carry
    step = _div(numerator, FUNDING_DENOMINATOR)
    return accrued + step, numerator - step * FUNDING_DENOMINATOR


def position_funding(size: int, is_long: bool, accrued: int, entry: int) -> int:
    """Return the USDC a position owes in funding (negative: it receives), rounded up: the ceiling of
    size x (F_now - F_entry) / 1e18, the opposite for a short."""
    owed = size * (accrued - entry)
    if not is_long:
        owed = -owed
    return -(-owed // TOKEN_UNIT)


def pnl(size: int, entry: int, price: int, is_long: bool) -> int:
    """Return the position's profit at `price`, before fees and funding (USDC, signed), rounded down."""
    move = price - entry if is_long else entry - price
    return size * move // NOTIONAL_SCALE


def open_fee(margin: int, leverage: int, fee_bps: int) -> int:
    """Return the open fee of `margin` at `leverage`: `fee_bps` of margin x leverage, rounded up."""
    return mul_div(margin, leverage * fee_bps, WAD * BPS, round_up=True)


def close_fee(size: int, price: int, fee_bps: int) -> int:
    """Return the close fee of `size` at `price`: `fee_bps` of the notional, rounded up."""
    return mul_div(size, price * fee_bps, FEE_SCALE, round_up=True)


@dataclass(frozen=True, slots=True)
class OpenQuote:
    """What an open of `margin` at `leverage` gets: the fee, the margin left, the fill, the size, the
    notional at the fill and the vault reservation (the most its profit can be)."""

    fee: int
    margin: int
    fill: int
    size: int
    notional: int
    reservation: int


def quote_open(
    mark: int, is_long: bool, margin: int, leverage: int, skew: int, parameters: PerpParameters
) -> OpenQuote:
    """Return the open of `margin` USDC at `leverage` (WAD) at `mark` with the market's `skew`: the fee
    comes out of the margin, the impact is measured on the size at the mark (the size at the fill
    depends on the fill), and the size is the rest of the margin x leverage at the fill."""
    fee = open_fee(margin, leverage, parameters.open_fee_bps)
    net = margin - fee
    at_mark = mul_div(net, leverage * SIZE_SCALE, mark, round_up=False)
    fill = fill_price(mark, is_long, at_mark, skew, parameters)
    size = mul_div(net, leverage * SIZE_SCALE, fill, round_up=False)
    reservation = mul_div(net, parameters.max_profit_multiple, WAD, round_up=False)
    return OpenQuote(fee, net, fill, size, notional(size, fill), reservation)


@dataclass(frozen=True, slots=True)
class Settlement:
    """What closing part of a position settles: its share of the margin and of the reservation, the
    price PnL, the funding, the close fee and the payout to the owner."""

    margin_part: int
    reservation_part: int
    pnl: int  # at the fill, before funding and fees
    funding: int
    fee: int
    payout: int

    @property
    def to_vault(self) -> int:
        """Return what the vault gains (positive) or pays (negative) on the close."""
        return self.margin_part - self.payout


def closed_size(size: int, position_size: int, margin: int, min_margin: int) -> int:
    """Return what closing `size` of a position closes: all of it when the rest would hold less than
    `min_margin` (dust no one could close at a profit or liquidate for a reward)."""
    return position_size if margin - margin * size // position_size < min_margin else size


def settle_close(
    size: int,
    position_size: int,
    margin: int,
    reservation: int,
    entry: int,
    fill: int,
    is_long: bool,
    accrued_delta: int,
    parameters: PerpParameters,
) -> Settlement:
    """Return the settlement of closing `size` of a position at `fill` when the accrued funding has moved
    `accrued_delta` since its entry: payout = clamp(margin part + PnL - funding - fee, 0, margin part
    + reservation part). A close that would leave less than `min_margin` closes the whole position."""
    size = closed_size(size, position_size, margin, parameters.min_margin)
    margin_part, reservation_part = margin, reservation
    if size != position_size:
        margin_part = margin * size // position_size
        reservation_part = reservation * size // position_size
    price_pnl = pnl(size, entry, fill, is_long)
    funding = position_funding(size, is_long, accrued_delta, 0)
    fee = close_fee(size, fill, parameters.close_fee_bps)
    value = margin_part + price_pnl - funding - fee
    payout = min(value, margin_part + reservation_part) if value > 0 else 0
    return Settlement(margin_part, reservation_part, price_pnl, funding, fee, payout)


def equity(
    margin: int,
    size: int,
    entry: int,
    mark: int,
    is_long: bool,
    funding_owed: int,
    parameters: PerpParameters,
) -> int:
    """Return the position's equity at `mark`: margin + PnL - funding owed - the close fee there."""
    return (
        margin
        + pnl(size, entry, mark, is_long)
        - funding_owed
        - close_fee(size, mark, parameters.close_fee_bps)
    )


def is_healthy(equity_: int, notional_: int, parameters: PerpParameters) -> bool:
    """Return whether `equity_` covers the maintenance margin, exactly as the contract compares it:
    equity x 2 x max leverage >= notional x WAD."""
    return equity_ >= 0 and equity_ * 2 * parameters.max_leverage >= notional_ * WAD


def maintenance_margin(size: int, mark: int, parameters: PerpParameters) -> int:
    """Return the equity below which the position may be liquidated: notional / (2 x max leverage)."""
    return -(-notional(size, mark) * WAD // (2 * parameters.max_leverage))


def is_liquidatable(
    margin: int,
    size: int,
    entry: int,
    mark: int,
    is_long: bool,
    funding_owed: int,
    parameters: PerpParameters,
) -> bool:
    """Return whether the position may be liquidated at `mark` (the state aside)."""
    held = equity(margin, size, entry, mark, is_long, funding_owed, parameters)
    return not is_healthy(held, notional(size, mark), parameters)


def liquidation_reward(equity_: int, size: int, mark: int, margin: int, parameters: PerpParameters) -> int:
    """Return the liquidator's reward: min(max(equity, 0), notional x liquidation fee, margin)."""
    if equity_ <= 0:
        return 0
    return min(equity_, notional(size, mark) * parameters.liquidation_fee_bps // BPS, margin)


def liquidation_price(
    margin: int, size: int, entry: int, is_long: bool, funding_owed: int, parameters: PerpParameters
) -> int | None:
    """Return the mark (8 decimals) at which the position becomes liquidatable with its funding as it
    stands: the highest price at which a long is liquidatable, the lowest for a short, exactly as
    `is_liquidatable` rounds. None for an empty position, or a long liquidatable at no positive price.

    Solved first from equity(p) = n(p) / (2 max_L) with the close fee c at p:
    long  p = (s e / 1e20 - m + F) / (s / 1e20 x (1 - c - 1 / (2 max_L))),
    short p = (s e / 1e20 + m - F) / (s / 1e20 x (1 + c + 1 / (2 max_L))),
    then moved to the exact integer boundary.
    """
    if size == 0:
        return None
    fee = parameters.close_fee_bps * BPS_TO_WAD
    maintenance = WAD * WAD // (2 * parameters.max_leverage)
    base = size * entry
    cushion = (margin - funding_owed) * NOTIONAL_SCALE
    if is_long:
        factor = WAD - fee - maintenance
        estimate = max(0, base - cushion) * WAD // (size * factor) if factor > 0 else 0
    else:
        estimate = max(0, base + cushion) * WAD // (size * (WAD + fee + maintenance))

    def liquidatable(price: int) -> bool:
        return is_liquidatable(margin, size, entry, price, is_long, funding_owed, parameters)

    if is_long:  # liquidatable on [1, p]: find the last price that is
        if not liquidatable(1):
            return None
        return _last_true(liquidatable, 1, max(estimate, 1))
    # liquidatable on [p, oo): find the first price that is
    return _first_true(liquidatable, max(estimate, 1))


def _last_true(test: Callable[[int], bool], low: int, guess: int) -> int:
    """Return the largest x >= low with test(x), for a test true up to a point (test(low) is true)."""
    step = 1
    if test(guess):
        low = guess
        while test(guess + step):
            low = guess + step
            step *= 2
        high = guess + step
    else:
        high = guess
        while guess - step > low and not test(guess - step):
            high = guess - step
            step *= 2
        low = max(low, guess - step)
    while high - low > 1:  # test(low) true, test(high) false
        middle = (low + high) // 2
        if test(middle):
            low = middle
        else:
            high = middle
    return low


def _first_true(test: Callable[[int], bool], guess: int) -> int:
    """Return the smallest x >= 1 with test(x), for a test false up to a point and true from it."""
    step = 1
    if test(guess):
        high = guess
        while guess - step >= 1 and test(guess - step):
            high = guess - step
            step *= 2
        low = max(0, guess - step)
    else:
        low = guess
        while not test(guess + step):
            low = guess + step
            step *= 2
        high = guess + step
    while high - low > 1:  # test(low) false (or low == 0), test(high) true
        middle = (low + high) // 2
        if test(middle):
            high = middle
        else:
            low = middle
    return high


def discovery_band(close: int, max_leverage: int) -> tuple[int, int]:
    """Return the band a DISCOVERY market clamps the feed's price to while the stock's market is
    closed: C -+ C / max_L, C the close in token terms."""
    width = mul_div(close, WAD, max_leverage, round_up=False)
    return close - width, close + width


def clamp_to_band(answer: int, close: int, max_leverage: int) -> int:
    """Return the DISCOVERY mark: the feed's `answer` clamped to the band around `close`."""
    low, high = discovery_band(close, max_leverage)
    return min(max(answer, low), high)


def leverage_of(size: int, mark: int, margin: int) -> Decimal | None:
    """Return the position's leverage at `mark`: notional over margin (None without margin)."""
    if margin <= 0:
        return None
    return (Decimal(notional(size, mark)) / Decimal(margin)).quantize(Decimal("0.0001"))


def _div(numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded toward zero, as Vyper divides signed integers."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient
