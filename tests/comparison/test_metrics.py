"""The metric functions on what the venues returned in a real run, and their refusals."""

from decimal import Decimal

import pytest

from equitoken.comparison.metrics import (
    deviation_tenth_bps,
    gas_cost,
    round_trip_cost,
    tracking_error,
)
from equitoken.comparison.runner import ModelRun, Run
from equitoken.model.quantities import Price


def _model(run: Run, name: str) -> ModelRun:
    return next(m for m in run.models if m.model == name)


def test_an_amm_round_trip_costs_its_two_fees_and_gas_and_100k_buys_less_exposure(split_run: Run) -> None:
    amm = _model(split_run, "open_token_amm")
    gas_price, eth = 2_000_000_000, Price.parse("2500")
    costs: dict[tuple[str, int], int] = {}
    for ticker, trip in amm.round_trips:
        assert trip.refused is None, trip.refused
        cost = round_trip_cost(trip.paid, trip.received, trip.gas, gas_price, eth)
        # Gas in dollars, computed apart: gas x 2 gwei x $2,500 per ETH.
        dollars = Decimal(trip.gas) * Decimal("2e-9") * 2500
        assert cost.gas_usd == int((dollars * 10**6).to_integral_value(rounding="ROUND_CEILING"))
        assert cost.total == trip.paid - trip.received + cost.gas_usd
        # Two 30 bps pool fees, less what the first one added to the reserves the sale draws on.
        trading_tenths = cost.trading * 100_000 // trip.paid
        assert 500 <= trading_tenths <= 600, trading_tenths
        costs[(ticker, trip.usd)] = trip.exposure * 100 // trip.paid
    for ticker in ("NFLX", "MSFT"):
        # Against a pool of about $2M, a $1k buy delivers its worth less the fee; $100k moves the
        # price and delivers about a tenth less (the impact comes back on the unwind).
        assert costs[(ticker, 1_000)] >= 98
        assert 85 <= costs[(ticker, 100_000)] <= 92


def test_a_cfd_round_trip_costs_the_venue_spread_and_no_gas(split_run: Run) -> None:
    cfd = _model(split_run, "cfd")
    for _ticker, trip in cfd.round_trips:
        assert trip.refused is None, trip.refused
        cost = round_trip_cost(trip.paid, trip.received, trip.gas, 10**9, Price.parse("3000"))
        assert cost.gas_usd == 0
        # Bought at the ask and sold at the bid of a 10 bps spread around the same mid.
        assert 99 <= cost.tenth_bps <= 101


def test_an_attestation_round_trip_costs_the_desk_spread_twice_and_two_transactions(split_run: Run) -> None:
    minted = _model(split_run, "attestation_mint")
    assert len(minted.round_trips) == 4
    for _ticker, trip in minted.round_trips:
        assert trip.refused is None, trip.refused
        cost = round_trip_cost(trip.paid, trip.received, trip.gas, 10**9, Price.parse("3000"))
        # Minted at the market price plus 10 bps, redeemed at it less 10 bps, moments apart.
        assert 199 <= cost.trading * 100_000 // trip.paid <= 201
        assert 250_000 < trip.gas < 350_000  # a mint and a redemption, from their receipts


def test_tracking_error_of_the_amm_is_its_keeper_band_computed_from_its_samples(split_run: Run) -> None:
    amm = _model(split_run, "open_token_amm")
    samples = [(s.model, s.underlying) for s in amm.samples if s.ticker == "MSFT"]
    tracking = tracking_error(samples)
    deviations = sorted(
        abs(Decimal(m.units - u.units)) / u.units * 100_000 for m, u in samples if m is not None
    )
    assert tracking.samples == len(deviations) == 48
    assert tracking.max == int(deviations[-1].to_integral_value(rounding="ROUND_HALF_UP"))
    mean = sum(deviations, Decimal(0)) / len(deviations)
    assert tracking.mean == int(mean.to_integral_value(rounding="ROUND_HALF_UP"))
    # The keeper holds the pool within 50 bps in session and 200 bps closed (plus the oracle's lag).
    assert 0 < tracking.mean <= tracking.p95 <= tracking.max <= 2_100


def test_perp_marks_are_the_feed_answer_under_the_multiplier_across_the_split(split_run: Run) -> None:
    perp = _model(split_run, "perp")
    nflx = [s for s in perp.samples if s.ticker == "NFLX" and s.model is not None]
    # Per share, the mark follows the 10:1 split (the token's price is continuous; the multiplier moved).
    first, last = nflx[0].model, nflx[-1].model
    assert first is not None
    assert last is not None
    assert first.units > 1_000 * 10**8
    assert last.units < 200 * 10**8
    assert all(deviation_tenth_bps(s.model, s.underlying) < 1_000 for s in nflx if s.model is not None)


def test_metrics_refuse_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="positive"):
        gas_cost(-1, 10**9, Price.parse("3000"))
    with pytest.raises(ValueError, match="positive"):
        gas_cost(21_000, 10**9, Price(0))
    with pytest.raises(ValueError, match="pays a positive amount"):
        round_trip_cost(0, 0, 0, 10**9, Price.parse("3000"))
    with pytest.raises(ValueError, match="underlying"):
        deviation_tenth_bps(Price.parse("1"), Price(0))
    assert tracking_error([(None, Price.parse("1"))]).unpriced == 1
