"""Splits from the real history: custody, multiplier and reserves move together, and tokens x multiplier
never exceed custody before, during or after the ex-date's open."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.support.corporate_actions import ONE, TOKEN_UNIT, Build

from equitoken.issuer.corporate_actions import ActionKind, ActionState
from equitoken.issuer.errors import InvalidRequestError
from equitoken.issuer.workflow.states import RequestState
from equitoken.model.quantities import Shares
from equitoken.store.schema import AttestationRow

# AAPL 4-for-1: last session on the old basis Friday 2020-08-28, first on the new one Monday 2020-08-31.
BEFORE_SPLIT = datetime(2020, 8, 28, 15, 0, tzinfo=UTC)  # 11:00 New York
AFTER_CLOSE = datetime(2020, 8, 28, 20, 30, tzinfo=UTC)
EX_OPEN = datetime(2020, 8, 31, 13, 30, tzinfo=UTC)


def test_aapl_four_for_one_split_from_the_data(build: Build) -> None:
    ap = build(BEFORE_SPLIT)
    ap.mint("AAPL", "2", "mint-aapl")
    token = ap.platform.token("AAPL")
    wallet = ap.platform.wallet

    loaded = ap.actions.load_history("AAPL", date(2020, 8, 28), date(2020, 9, 30))
    assert loaded.created == ("AAPL:split:2020-08-31",)
    split = ap.actions.action("AAPL:split:2020-08-31")
    assert (split.kind, split.ratio, split.record_date) == (ActionKind.SPLIT, (4, 1), date(2020, 8, 31))
    assert split.effective_at == EX_OPEN

    # Not due during the last session on the old basis.
    ap.process()
    assert ap.actions.action(split.id).state is ActionState.ANNOUNCED

    # After the close: custody first (x4), then the multiplier scheduled for the ex-date's open.
    ap.at(AFTER_CLOSE)
    chain_now = ap.platform.chain.timestamp("pending")
    ap.process()
    split = ap.actions.action(split.id)
    assert split.state is ActionState.SCHEDULED
    assert (split.old_multiplier, split.new_multiplier) == (ONE, 4 * ONE)
    pending_multiplier, effective_at = token.pendingUIMultiplier()
    assert pending_multiplier == 4 * ONE
    # The chain's clock runs apart from the replayed market's; the gap to the open is kept.
    assert abs(effective_at - chain_now - (EX_OPEN - AFTER_CLOSE).total_seconds()) <= 5
    assert int(token.balanceOfUI(wallet)) == 2 * TOKEN_UNIT  # not in force yet
    assert ap.backed_exactly("AAPL") == (Shares.parse("8"), Shares.parse("2"))

    # Just before the open nothing changes; from the open the multiplier is in force.
    ap.at(EX_OPEN - timedelta(seconds=30))
    ap.process()
    assert ap.actions.action(split.id).state is ActionState.SCHEDULED
    ap.at(EX_OPEN)
    ap.process()
    split = ap.actions.action(split.id)
    assert split.state is ActionState.COMPLETED, split.reason
    assert int(token.balanceOf(wallet)) == 2 * TOKEN_UNIT  # raw balances never move
    assert int(token.balanceOfUI(wallet)) == 8 * TOKEN_UNIT
    assert ap.backed_exactly("AAPL") == (Shares.parse("8"), Shares.parse("8"))
    # The reserve feed reads custody over the multiplier in raw units: 8 shares / 4 = 2 tokens.
    assert ap.platform.onchain.reserve_feed("AAPL").latestRoundData()[1] == 2 * TOKEN_UNIT
    with ap.platform.issuer.db.transaction() as session:
        last = session.scalars(select(AttestationRow).order_by(AttestationRow.id.desc())).first()
        assert last is not None
        assert last.custody_shares == Shares.parse("8").units
    states = [e.to_state for e in split.events if e.from_state != e.to_state]
    assert states == ["announced", "custody_adjusted", "scheduled", "completed"]

    # Loading the same history again changes nothing.
    again = ap.actions.load_history("AAPL", date(2020, 8, 28), date(2020, 9, 30))
    assert (again.created, again.existing) == ((), ("AAPL:split:2020-08-31",))


def test_mints_and_redemptions_after_the_split_move_raw_units_by_the_multiplier(build: Build) -> None:
    ap = build(BEFORE_SPLIT)
    ap.mint("AAPL", "2", "mint-aapl")
    ap.actions.load_history("AAPL", date(2020, 8, 28), date(2020, 9, 30))
    ap.at(AFTER_CLOSE)
    ap.process()
    ap.at(EX_OPEN + timedelta(minutes=5))
    ap.process()
    token, wallet = ap.platform.token("AAPL"), ap.platform.wallet
    assert int(token.uiMultiplier()) == 4 * ONE

    # Four post-split shares bought are one raw token, shown as four.
    ap.mint("AAPL", "4", "mint-after-split")
    assert int(token.balanceOf(wallet)) == 3 * TOKEN_UNIT
    assert int(token.balanceOfUI(wallet)) == 12 * TOKEN_UNIT
    assert ap.backed_exactly("AAPL") == (Shares.parse("12"), Shares.parse("12"))

    # Redeeming 1.00000001 shares takes the raw units standing for at least that: rounded up.
    issuer = ap.platform.issuer
    ap.platform.approve_redeem("AAPL", TOKEN_UNIT)
    redeem = issuer.request_redeem(ap.platform.participant.id, wallet, "AAPL", "1.00000001", "redeem-after")
    ap.platform.run()
    assert issuer.request(redeem.id).state is RequestState.COMPLETED
    assert int(token.balanceOf(wallet)) == 3 * TOKEN_UNIT - TOKEN_UNIT // 4 - 1
    custody, outstanding = ap.backed_exactly("AAPL")
    assert custody == Shares.parse("10.99999999")
    assert outstanding.units <= custody.units


def test_a_quantity_below_what_one_raw_unit_stands_for_is_refused(build: Build) -> None:
    ap = build(BEFORE_SPLIT)
    ap.actions.load_history("AAPL", date(2020, 8, 28), date(2020, 9, 30))
    ap.at(AFTER_CLOSE)
    ap.process()
    ap.at(EX_OPEN + timedelta(minutes=5))
    ap.process()
    ap.platform.approve_mint(10**6 * 10**6)
    before = ap.platform.issuer.requests()
    with pytest.raises(InvalidRequestError, match="less than one AAPLx unit stands for"):
        ap.platform.issuer.request_mint(
            ap.platform.participant.id, ap.platform.wallet, "AAPL", "0.00000003", "too-small"
        )
    assert ap.platform.issuer.requests() == before
