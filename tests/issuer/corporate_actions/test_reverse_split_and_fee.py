"""A reverse split (the multiplier drops before custody does) and the management fee (a per-period
multiplier decay whose shares move from the holders' backing to the issuer's fee account)."""

from datetime import UTC, date, datetime

from tests.support.corporate_actions import ONE, TOKEN_UNIT, Build

from equitoken.issuer.corporate_actions import (
    ActionKind,
    ActionState,
    CorporateActionsConfig,
    InstrumentPolicy,
)
from equitoken.issuer.corporate_actions.history import history
from equitoken.issuer.custody import CustodyLedger, fees_account, issued_account
from equitoken.model.quantities import Shares

WEDNESDAY = datetime(2025, 11, 26, 15, 0, tzinfo=UTC)
FRIDAY_CLOSE = datetime(2025, 11, 28, 18, 5, tzinfo=UTC)  # the day after Thanksgiving closes at 13:00
MONDAY_OPEN = datetime(2025, 12, 1, 14, 30, tzinfo=UTC)


def test_the_data_names_reverse_splits_it_cannot_date() -> None:
    # GE's 1-for-8 of 2021 is in the catalogue without its first post-split day.
    found, skipped = history("GE", date(2021, 7, 1), date(2021, 8, 31))
    assert found == []
    assert [(s.ticker, s.published_date) for s in skipped] == [("GE", date(2021, 7, 30))]
    assert "no first post-split trading day" in skipped[0].reason


def test_reverse_split_lowers_the_multiplier_before_custody(build: Build) -> None:
    ap = build(WEDNESDAY)
    ap.mint("AAPL", "3", "mint-aapl")
    token = ap.platform.token("AAPL")
    # GE's real ratio (1-for-8), announced by hand: no catalogue instrument with replayed prices
    # had a reverse split in the data's range.
    split = ap.actions.announce("AAPL", "reverse_split", date(2025, 12, 1), ratio=(1, 8))
    assert split.kind is ActionKind.REVERSE_SPLIT

    ap.at(FRIDAY_CLOSE)
    ap.process()
    assert ap.actions.action(split.id).state is ActionState.SCHEDULED
    assert token.pendingUIMultiplier()[0] == ONE // 8
    # Scheduled, not in force: custody is untouched and still backs every token.
    assert ap.backed_exactly("AAPL") == (Shares.parse("3"), Shares.parse("3"))

    ap.at(MONDAY_OPEN)
    ap.process()

    split = ap.actions.action(split.id)
    assert split.state is ActionState.COMPLETED, split.reason
    states = [e.to_state for e in split.events if e.from_state != e.to_state]
    assert states == ["announced", "scheduled", "custody_adjusted", "completed"]
    assert int(token.balanceOfUI(ap.platform.wallet)) == 3 * TOKEN_UNIT // 8
    assert ap.backed_exactly("AAPL") == (Shares.parse("0.375"), Shares.parse("0.375"))
    assert ap.platform.onchain.reserve_feed("AAPL").latestRoundData()[1] == 3 * TOKEN_UNIT


def test_management_fee_decays_the_multiplier_each_month(build: Build) -> None:
    policy = InstrumentPolicy(fee_bps_per_year=120, fee_periods_per_year=12, fee_start=date(2025, 11, 1))
    ap = build(WEDNESDAY, CorporateActionsConfig(instruments={"AAPL": policy}))
    ap.mint("AAPL", "10", "mint-aapl")
    token = ap.platform.token("AAPL")
    ap.process()
    assert ap.actions.actions("AAPL") == []  # the first period has not ended

    ap.at(MONDAY_OPEN.replace(minute=31))
    ap.process()

    (fee,) = ap.actions.actions("AAPL")
    assert (fee.id, fee.state) == ("AAPL:management_fee:2025-12-01", ActionState.COMPLETED)
    after_one = ONE * 9_990 // 10_000  # 120 bps a year is 10 bps a month
    assert int(token.uiMultiplier()) == after_one
    assert int(token.balanceOfUI(ap.platform.wallet)) == 999_000_000
    ledger = CustodyLedger()
    with ap.platform.issuer.db.transaction() as session:
        earned = -ledger.balance(session, fees_account("AAPL"), "AAPL")
        owed = -ledger.balance(session, issued_account("AAPL"), "AAPL")
    assert earned == Shares.parse("0.01").units
    assert owed == Shares.parse("9.99").units
    custody, outstanding = ap.backed_exactly("AAPL")
    # Reconciliation counts only the holders' backing: custody less the issuer's fee shares.
    assert custody >= outstanding == Shares.parse("9.99")
    # The reserve leaves out the issuer's own shares: 9.99 backing / 0.999 = 10 tokens.
    assert ap.platform.onchain.reserve_feed("AAPL").latestRoundData()[1] == 10 * TOKEN_UNIT

    # The next period starts on 2026-01-01, a holiday: the fee applies at the next open.
    ap.at(datetime(2026, 1, 2, 15, 0, tzinfo=UTC))
    ap.process()
    ap.process()
    fees = ap.actions.actions("AAPL")
    assert [(f.id, f.state) for f in fees] == [
        ("AAPL:management_fee:2025-12-01", ActionState.COMPLETED),
        ("AAPL:management_fee:2026-01-02", ActionState.COMPLETED),
    ]
    assert int(token.uiMultiplier()) == after_one * 9_990 // 10_000
    assert ap.platform.issuer.reconcile().ok
