"""`maths`: the market's arithmetic on its own (the contract-matching numbers are in test_actions)."""

import pytest

from equitoken.venues.perps import maths
from equitoken.venues.perps.parameters import (
    DEFAULT_PARAMETERS,
    WAD,
    ClosedPolicy,
    PerpParameters,
    default_parameters,
)

USDC = 10**6
TOKEN = 10**18
DOLLAR = 10**8
P = PerpParameters()


def test_a_trade_adding_to_the_skew_pays_the_impact_and_one_reducing_it_only_the_spread() -> None:
    mark = 200 * DOLLAR
    size = 10_000 * TOKEN  # 1% of the skew scale

    buy_flat = maths.fill_price(mark, True, size, 0, P)
    sell_flat = maths.fill_price(mark, False, size, 0, P)
    buy_into_longs = maths.fill_price(mark, True, size, 100_000 * TOKEN, P)
    sell_into_longs = maths.fill_price(mark, False, size, 100_000 * TOKEN, P)

    # 5 bps + half the trade's own skew (0.5%) either way from a flat book.
    assert buy_flat == mark * (WAD + 5 * 10**14 + 5 * 10**15) // WAD
    assert sell_flat == mark * (WAD - 5 * 10**14 - 5 * 10**15) // WAD
    # 10% of the skew scale already long: a buy pays 10.5% impact, a sell only the base spread.
    assert buy_into_longs == mark * (WAD + 5 * 10**14 + 105 * 10**15) // WAD
    assert sell_into_longs == mark * (WAD - 5 * 10**14) // WAD


def test_funding_velocity_is_clamped_at_the_skew_scale() -> None:
    assert maths.funding_velocity(P.skew_scale // 2, P) == P.max_funding_velocity // 2
    assert maths.funding_velocity(5 * P.skew_scale, P) == P.max_funding_velocity
    assert maths.funding_velocity(-5 * P.skew_scale, P) == -P.max_funding_velocity
    # A day at full skew from zero: the rate reaches 1%/day, the accrual averages half of it.
    rate = maths.funding_rate(0, P.skew_scale, 86_400, P)
    assert rate == WAD // 100
    accrued, carry = maths.accrue(0, 0, 0, rate, 86_400, 200 * DOLLAR)
    assert accrued == 200 * USDC // 200  # 0.5% of $200 per token
    assert carry == 0


def test_the_accrual_carries_its_remainder_so_frequent_updates_lose_nothing() -> None:
    rate = 12_345_678_901
    whole, _ = maths.accrue(0, 0, rate, rate, 3_600, 199 * DOLLAR)
    accrued, carry = 0, 0
    for _ in range(3_600):
        accrued, carry = maths.accrue(accrued, carry, rate, rate, 1, 199 * DOLLAR)
    assert accrued == whole


def test_funding_owed_rounds_against_the_trader() -> None:
    assert maths.position_funding(TOKEN + 1, True, 1, 0) == 2  # 1.000...1 units, up
    assert maths.position_funding(TOKEN + 1, False, 1, 0) == -1  # received: rounded down
    assert maths.pnl(TOKEN, 100, 99, True) == -1  # a 1e-8 loss on one token rounds to a unit lost
    assert maths.pnl(TOKEN, 100, 101, True) == 0


def test_a_close_pays_between_nothing_and_the_reservation() -> None:
    margin, reservation = 1_000 * USDC, 9_000 * USDC
    size = 50 * TOKEN  # $10,000 at $200: 10x

    wiped = maths.settle_close(size, size, margin, reservation, 200 * DOLLAR, 150 * DOLLAR, True, 0, P)
    capped = maths.settle_close(size, size, margin, reservation, 200 * DOLLAR, 600 * DOLLAR, True, 0, P)
    half = maths.settle_close(size // 2, size, margin, reservation, 200 * DOLLAR, 210 * DOLLAR, True, 0, P)

    assert (wiped.payout, wiped.to_vault) == (0, margin)
    assert capped.payout == margin + reservation
    assert (half.margin_part, half.reservation_part) == (margin // 2, reservation // 2)
    assert half.pnl == 250 * USDC
    assert half.fee == 25 * 210 * USDC * 8 // 10_000
    assert half.payout == margin // 2 + 250 * USDC - half.fee


@pytest.mark.parametrize("is_long", [True, False])
@pytest.mark.parametrize("funding", [0, 37 * USDC, -12 * USDC])
def test_the_liquidation_price_is_the_exact_boundary(is_long: bool, funding: int) -> None:
    margin, entry = 1_000 * USDC, 200 * DOLLAR
    size = 40 * TOKEN + 123_456_789

    price = maths.liquidation_price(margin, size, entry, is_long, funding, P)

    assert price is not None
    beyond, inside = (price, price + 1) if is_long else (price, price - 1)
    assert maths.is_liquidatable(margin, size, entry, beyond, is_long, funding, P)
    assert not maths.is_liquidatable(margin, size, entry, inside, is_long, funding, P)
    # About 1 / leverage - the maintenance margin (5%) - the fee away from the entry.
    move = abs(price - entry) / entry
    assert 0.06 < move < 0.09


def test_a_long_without_leverage_has_no_liquidation_price_above_zero() -> None:
    assert maths.liquidation_price(10_000 * USDC, TOKEN, 100 * DOLLAR, True, 0, P) is None
    assert maths.liquidation_price(10_000 * USDC, 0, 100 * DOLLAR, True, 0, P) is None


def test_the_discovery_band_is_one_over_the_max_leverage_around_the_close() -> None:
    assert maths.discovery_band(200 * DOLLAR, 10 * WAD) == (180 * DOLLAR, 220 * DOLLAR)
    assert maths.clamp_to_band(150 * DOLLAR, 200 * DOLLAR, 10 * WAD) == 180 * DOLLAR
    assert maths.clamp_to_band(205 * DOLLAR, 200 * DOLLAR, 10 * WAD) == 205 * DOLLAR


def test_the_defaults_move_the_fill_one_percent_per_5m_of_skew() -> None:
    aapl = DEFAULT_PARAMETERS["AAPL"]
    skew_for_5m = 5_000_000 * TOKEN // 230
    assert abs(skew_for_5m * 100 * WAD // aapl.skew_scale - WAD) < WAD // 10**6
    assert (aapl.max_leverage, aapl.open_fee_bps, aapl.close_fee_bps) == (10 * WAD, 8, 8)
    assert aapl.closed_policy is ClosedPolicy.CLOSED
    assert DEFAULT_PARAMETERS["SPY"].max_leverage == 20 * WAD
    assert DEFAULT_PARAMETERS["MSTR"].max_leverage == 5 * WAD
    assert default_parameters(100).skew_scale == 5_000_000 * TOKEN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_leverage": 51 * WAD}, "max_leverage must be"),
        ({"max_leverage": WAD - 1}, "max_leverage must be"),
        ({"open_fee_bps": 101}, "open_fee_bps must be"),
        ({"skew_scale": 0}, "skew_scale must be"),
        ({"min_margin": 0}, "min_margin must be"),
        ({"liquidation_fee_bps": 1_001}, "liquidation_fee_bps must be"),
        ({"closed_policy": 3}, "closed_policy must be"),
        ({"base_spread_bps": -1}, "non-negative integer"),
    ],
)
def test_parameters_outside_the_contracts_bounds_are_refused(change: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PerpParameters(**change)  # type: ignore[arg-type]
