"""Bad input gets an error that names the problem, and changes nothing."""

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from tests.support.corporate_actions import ActionsPlatform, Build
from tests.support.platform import IN_SESSION

from equitoken.issuer.corporate_actions import (
    ActionState,
    DuplicateActionError,
    InstrumentPolicy,
    UnknownActionError,
)
from equitoken.issuer.errors import InvalidRequestError
from equitoken.model.errors import EquitokenError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Shares


@pytest.fixture
def ap(build: Build) -> ActionsPlatform:
    return build(IN_SESSION)


def _refused(
    ap: ActionsPlatform, call: Callable[[], object], error: type[EquitokenError], match: str
) -> None:
    before = ap.actions.actions()
    with pytest.raises(error, match=match) as caught:
        call()
    assert caught.value.code == error.code
    assert ap.actions.actions() == before


def test_each_bad_input_is_named_and_changes_nothing(ap: ActionsPlatform) -> None:
    actions = ap.actions
    monday = date(2025, 12, 8)
    actions.announce("AAPL", "split", monday, ratio=(2, 1))
    cases: list[tuple[Callable[[], object], type[EquitokenError], str]] = [
        (
            lambda: actions.load_history("NOPE", date(2025, 1, 1), date(2025, 12, 31)),
            UnknownInstrumentError,
            "NOPE",
        ),
        # Catalogue instrument, not deployed on this chain.
        (lambda: actions.announce("NVDA", "split", monday, ratio=(2, 1)), UnknownInstrumentError, "NVDA"),
        (
            lambda: actions.load_history("AAPL", date(2025, 12, 31), date(2025, 1, 1)),
            InvalidRequestError,
            "after",
        ),
        (lambda: actions.announce("AAPL", "split", monday, ratio=(0, 1)), InvalidRequestError, "positive"),
        (lambda: actions.announce("AAPL", "split", monday, ratio=(-2, 1)), InvalidRequestError, "positive"),
        (lambda: actions.announce("AAPL", "split", monday, ratio=(1, 2)), InvalidRequestError, "more shares"),
        (
            lambda: actions.announce("AAPL", "reverse_split", monday, ratio=(3, 1)),
            InvalidRequestError,
            "fewer",
        ),
        (
            lambda: actions.announce("AAPL", "split", monday, ratio=(2, 1)),
            DuplicateActionError,
            "already has",
        ),
        (lambda: actions.announce("AAPL", "spilt", monday), InvalidRequestError, "'spilt' is not one of"),
        (
            lambda: actions.announce("AAPL", "split", date(2025, 12, 6), ratio=(2, 1)),
            InvalidRequestError,
            "trading day",
        ),
        (
            lambda: actions.announce("AAPL", "cash_dividend", monday, amount="-0.2"),
            InvalidRequestError,
            "positive",
        ),
        (
            lambda: actions.announce("AAPL", "cash_dividend", monday, amount="abc"),
            InvalidRequestError,
            "number",
        ),
        (lambda: actions.announce("AAPL", "management_fee", monday), InvalidRequestError, "policy"),
        (lambda: actions.action("AAPL:split:1999-01-04"), UnknownActionError, "no corporate action"),
        (lambda: actions.release(12345), UnknownActionError, "no dividend payment"),
    ]
    for call, error, match in cases:
        _refused(ap, call, error, match)


def test_policy_typos_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="'reinvset' is not one of: reinvest, payout"):
        InstrumentPolicy(dividends="reinvset")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="periods per year"):
        InstrumentPolicy(fee_bps_per_year=50, fee_periods_per_year=5, fee_start=date(2025, 1, 1))
    with pytest.raises(InvalidRequestError, match="fee_start"):
        InstrumentPolicy(fee_bps_per_year=50)
    with pytest.raises(InvalidRequestError, match="0 to 9999"):
        InstrumentPolicy(fee_bps_per_year=-1, fee_start=date(2025, 1, 1))


def test_a_split_out_of_the_tokens_bounds_fails_before_custody_moves(build: Build) -> None:
    ap = build(IN_SESSION)
    ap.mint("AAPL", "1", "mint-aapl")
    split = ap.actions.announce("AAPL", "split", date(2025, 12, 8), ratio=(10_000_000, 1))
    ap.at(datetime(2025, 12, 5, 21, 30, tzinfo=UTC))
    ap.process()
    failed = ap.actions.action(split.id)
    assert failed.state is ActionState.FAILED
    assert failed.reason is not None
    assert "above the token's bound" in failed.reason
    # Refused before custody moved.
    assert ap.backed_exactly("AAPL") == (Shares.parse("1"), Shares.parse("1"))
