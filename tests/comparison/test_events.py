"""What the venues did at NFLX's split and over a weekend, as the runner recorded it."""

from equitoken.comparison.runner import ModelRun, Run


def _model(run: Run, name: str) -> ModelRun:
    return next(m for m in run.models if m.model == name)


def test_the_split_moves_the_token_multiplier_and_the_cfd_position_not_the_holders_value(
    split_run: Run,
) -> None:
    assert split_run.multipliers["split NFLX before"]["NFLX"] == 10**18
    assert split_run.multipliers["split NFLX after"]["NFLX"] == 10 * 10**18
    before, after = (
        split_run.underlying["split NFLX before"]["NFLX"],
        split_run.underlying["split NFLX after"]["NFLX"],
    )
    move = after.units * 10 / before.units  # the underlying's own move across the split, per old share
    for name in ("open_token_amm", "attestation_mint", "perp", "cfd"):
        model = _model(split_run, name)
        held_before = model.holdings["split NFLX before"]["NFLX"].value
        held_after = model.holdings["split NFLX after"]["NFLX"].value
        # Each holder's value moves with the stock, not by the split's factor of ten.
        assert abs(held_after / held_before - move) < 0.01, (name, held_before, held_after)
    cfd = _model(split_run, "cfd")
    assert "86." in cfd.holdings["split NFLX after"]["NFLX"].detail  # 8.6 shares became 86
    assert "8.6" in cfd.holdings["split NFLX before"]["NFLX"].detail


def test_an_order_placed_on_saturday_waits_for_monday_or_is_refused(weekend_run: Run) -> None:
    perp = _model(weekend_run, "perp")
    saturday = next(o for o in perp.orders if o[0] == "Saturday")
    _label, _ticker, placed, delivery = saturday
    assert delivery is not None
    assert delivery.at is not None
    assert placed.weekday() == 5  # Saturday
    # Queued, executed at Monday's open (09:30 New York) by the probe's keeper.
    assert (delivery.at.weekday(), delivery.at.hour) == (0, 14)
    assert delivery.at.minute <= 31
    cfd = _model(weekend_run, "cfd")
    refused = next(o for o in cfd.orders if o[0] == "Saturday")[3]
    assert refused is not None
    assert refused.at is None
    assert "closed" in (refused.refused or "")


def test_over_the_weekend_the_perp_mark_is_frozen_at_the_close(weekend_run: Run) -> None:
    perp = _model(weekend_run, "perp")
    name = "weekend 2025-11-21"
    friday, saturday = perp.marks[f"{name} friday"]["MSFT"], perp.marks[f"{name} saturday"]["MSFT"]
    close = weekend_run.underlying[f"{name} saturday"]["MSFT"]  # outside the session: the official close
    assert saturday == close
    assert friday is not None
    weekend = [s for s in perp.samples if s.at.weekday() >= 5]
    assert weekend
    assert {s.model for s in weekend} == {close}
