"""AAPL's real dividend of 2025-11-10 ($0.26 a share), paid out or reinvested, with per-jurisdiction
withholding: the participant is a GB investor (15% treaty rate), the second wallet belongs to no
investor (30% default)."""

from datetime import UTC, date, datetime, timedelta

from tests.support.corporate_actions import ONE, TOKEN_UNIT, ActionsPlatform, Build

from equitoken.issuer.corporate_actions import (
    ActionState,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
    PaymentState,
)
from equitoken.model.quantities import Shares, Usd

FRIDAY = datetime(2025, 11, 7, 15, 0, tzinfo=UTC)  # 10:00 New York, the session before the ex-date
EX_OPEN = datetime(2025, 11, 10, 14, 30, tzinfo=UTC)
ACTION = "AAPL:cash_dividend:2025-11-10"
PAYOUT = CorporateActionsConfig(instruments={"AAPL": InstrumentPolicy(dividends=DividendPolicy.PAYOUT)})


def _holders_of_record(ap: ActionsPlatform) -> None:
    """Six tokens with the GB participant, four with an unknown wallet, loaded dividend."""
    ap.mint("AAPL", "10", "mint-aapl")
    token = ap.platform.token("AAPL")
    token.transfer(ap.platform.other_wallet, 4 * TOKEN_UNIT, sender=ap.platform.wallet)
    loaded = ap.actions.load_history("AAPL", date(2025, 11, 8), date(2025, 11, 30))
    assert loaded.created == (ACTION,)


def _usdc(ap: ActionsPlatform, wallet: str) -> int:
    return int(ap.platform.usdc.balanceOf(wallet))


def test_payout_pays_each_holder_of_record_net_of_its_withholding(build: Build) -> None:
    ap = build(FRIDAY, PAYOUT)
    _holders_of_record(ap)
    participant, other = ap.platform.wallet, ap.platform.other_wallet
    before = {w: _usdc(ap, w) for w in (participant, other)}

    ap.process()  # not due before the ex-date
    assert ap.actions.action(ACTION).state is ActionState.ANNOUNCED
    ap.at(EX_OPEN + timedelta(minutes=5))
    # Bought on the ex-date: settles after the record date, so it earns nothing.
    ap.platform.token("AAPL").transfer(other, 1 * TOKEN_UNIT, sender=participant)
    ap.process()
    ap.process()  # a second run pays nobody twice

    action = ap.actions.action(ACTION)
    assert action.state is ActionState.COMPLETED, action.reason
    assert action.policy is DividendPolicy.PAYOUT
    assert action.record_shares == Shares.parse("10")
    # The custodian receives $0.26 x 10 shares less 30% withheld at source.
    assert action.cash_received == Usd.parse("1.82")
    payments = {p.holder: p for p in ap.actions.payments(ACTION)}
    assert payments[participant].jurisdiction == "GB"
    assert payments[participant].withholding_bps == 1_500
    assert payments[participant].amount == Usd.parse("1.326")  # 6 x 0.26 x 85%
    assert payments[other].jurisdiction is None
    assert payments[other].withholding_bps == 3_000
    assert payments[other].amount == Usd.parse("0.728")  # 4 x 0.26 x 70%
    assert {p.state for p in payments.values()} == {PaymentState.PAID}
    assert _usdc(ap, participant) - before[participant] == 1_326_000
    assert _usdc(ap, other) - before[other] == 728_000
    # Payouts leave the multiplier and custody alone.
    assert int(ap.platform.token("AAPL").uiMultiplier()) == ONE
    assert ap.backed_exactly("AAPL") == (Shares.parse("10"), Shares.parse("10"))


def test_payout_holds_a_sanctioned_holder_until_released(build: Build) -> None:
    ap = build(FRIDAY, PAYOUT)
    _holders_of_record(ap)
    other = ap.platform.other_wallet
    sanctions = ap.platform.onchain.sanctions
    sanctions.addToSanctionsList([other], sender=ap.platform.onchain.roles.admin)
    before = _usdc(ap, other)

    ap.at(EX_OPEN + timedelta(minutes=5))
    ap.process()

    assert ap.actions.action(ACTION).state is ActionState.COMPLETED
    held = next(p for p in ap.actions.payments(ACTION) if p.holder == other)
    assert held.state is PaymentState.HELD
    assert held.reason == "wallet on the on-chain sanctions list"
    assert _usdc(ap, other) == before
    events = [e.reason for e in ap.actions.action(ACTION).events]
    assert any("held" in reason for reason in events)

    sanctions.removeFromSanctionsList([other], sender=ap.platform.onchain.roles.admin)
    assert ap.actions.release(held.id).state is PaymentState.PENDING
    ap.process()
    ap.process()
    assert ap.actions.payment(held.id).state is PaymentState.PAID
    assert _usdc(ap, other) - before == 728_000


def test_reinvest_buys_shares_and_raises_the_multiplier_by_what_was_bought(build: Build) -> None:
    ap = build(FRIDAY)
    _holders_of_record(ap)
    participant, other = ap.platform.wallet, ap.platform.other_wallet
    before = {w: _usdc(ap, w) for w in (participant, other)}
    token = ap.platform.token("AAPL")

    ap.at(EX_OPEN + timedelta(minutes=5))
    for _ in range(30):
        ap.process()
        if ap.actions.action(ACTION).state.is_final:
            break
        ap.at(ap.platform.clock.now() + timedelta(minutes=1))

    action = ap.actions.action(ACTION)
    assert action.state is ActionState.COMPLETED, action.reason
    assert action.policy is DividendPolicy.REINVEST
    assert action.cash_received == Usd.parse("1.82")
    bought = action.shares_bought
    assert bought.units > 0
    # Custody grew by exactly the shares bought; the multiplier by no more than they back.
    custody, outstanding = ap.backed_exactly("AAPL")
    assert custody == Shares.parse("10") + bought
    multiplier = int(token.uiMultiplier())
    assert action.new_multiplier == multiplier
    assert multiplier == ONE * (10 * TOKEN_UNIT + bought.floor_to_token_units(8)) // (10 * TOKEN_UNIT)
    assert custody.units - outstanding.units < Shares.token_step(8) * 2
    assert int(token.balanceOfUI(participant)) == 6 * TOKEN_UNIT * multiplier // ONE
    # The multiplier reinvests at the 30% default; the GB investor gets the treaty difference in cash.
    payments = ap.actions.payments(ACTION)
    assert [(p.holder, p.amount, p.state) for p in payments] == [
        (participant, Usd.parse("0.234"), PaymentState.PAID)  # 6 x 0.26 x (30% - 15%)
    ]
    assert _usdc(ap, participant) - before[participant] == 234_000
    assert _usdc(ap, other) == before[other]
    # The reserve feed still reads custody over the multiplier, in raw units.
    reserve = ap.platform.onchain.reserve_feed("AAPL").latestRoundData()[1]
    assert reserve == custody.floor_to_token_units(8) * ONE // multiplier

    # A mint after the reinvestment gets the raw units its shares back under the new multiplier.
    raw_before = int(token.balanceOf(participant))
    ap.mint("AAPL", "3", "mint-after-reinvest")
    minted = int(token.balanceOf(participant)) - raw_before
    assert minted == 3 * TOKEN_UNIT * ONE // multiplier < 3 * TOKEN_UNIT
    custody, outstanding = ap.backed_exactly("AAPL")
    assert custody == Shares.parse("13") + bought
    assert 0 <= custody.units - outstanding.units < Shares.token_step(8) * 3
