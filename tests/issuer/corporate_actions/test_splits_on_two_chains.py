"""A split of an instrument issued on EVM and on Solana: both chains switch to the new multiplier at
the same instant, and a holder's UI balance agrees on both, before and after."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from solders.pubkey import Pubkey
from tests.support.corporate_actions import ONE, TOKEN_UNIT, ActionsPlatform
from tests.support.platform import USDC, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.token2022 import amount_to_ui_amount
from equitoken.issuer.corporate_actions import ActionState, CorporateActions
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database

# AAPL 4-for-1: last session on the old basis Friday 2020-08-28, first on the new one Monday 2020-08-31.
BEFORE_SPLIT = datetime(2020, 8, 28, 15, 0, tzinfo=UTC)
AFTER_CLOSE = datetime(2020, 8, 28, 20, 30, tzinfo=UTC)
EX_OPEN = datetime(2020, 8, 31, 13, 30, tzinfo=UTC)


def _ui_on_solana(solana: SolanaIssuerChain, wallet: str) -> int:
    """Return what the Token-2022 program shows `wallet`'s AAPLx as now, in raw units."""
    mint = solana.deployment.mint("AAPL")
    raw = solana.chain.holder_balance(mint, Pubkey.from_string(wallet))
    shown = solana.chain.preview([amount_to_ui_amount(mint, raw)], solana.payer).return_data.decode()
    return round(float(shown) * TOKEN_UNIT)


def test_aapl_four_for_one_switches_both_chains_at_the_same_instant(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    platform = build_platform(
        evm_chain, database, prices, calendar, tmp_path, start=BEFORE_SPLIT, solana=True
    )
    solana = platform.solana
    assert solana is not None
    ap = ActionsPlatform(
        platform, CorporateActions(platform.issuer, platform.broker, prices, calendar), calendar, prices
    )
    platform.approve_mint(10**6 * USDC)
    issuer, investor = platform.issuer, platform.participant.id
    evm_mint = issuer.request_mint(investor, platform.wallet, "AAPL", "2", "evm")
    solana_mint = issuer.request_mint(
        investor,
        platform.solana_wallet,
        "AAPL",
        "3",
        "sol",
        chain_id=SOLANA_LOCAL,
        payment_wallet=platform.wallet,
    )
    platform.run()
    assert {issuer.request(r.id).state for r in (evm_mint, solana_mint)} == {RequestState.COMPLETED}
    token = platform.token("AAPL")

    ap.actions.load_history("AAPL", date(2020, 8, 28), date(2020, 9, 30))
    ap.at(AFTER_CLOSE)
    ap.process()
    split = ap.actions.action("AAPL:split:2020-08-31")
    assert split.state is ActionState.SCHEDULED
    _, evm_effective = token.pendingUIMultiplier()
    scaled = solana.chain.mint(solana.deployment.mint("AAPL")).scaled_ui_amount
    assert scaled is not None
    assert (scaled.new_multiplier, scaled.new_multiplier_effective_timestamp) == (4.0, evm_effective)
    assert ap.backed_exactly("AAPL") == (Shares.parse("20"), Shares.parse("5"))

    # A second before the instant both show the old basis; at the instant both show the new one (on
    # EVM, in the next block: the one a transaction sent now lands in).
    ap.at(datetime.fromtimestamp(evm_effective - 1, UTC))
    assert int(token.balanceOfUI.call(platform.wallet, block="pending")) == 2 * TOKEN_UNIT
    assert _ui_on_solana(solana, platform.solana_wallet) == 3 * TOKEN_UNIT
    ap.at(datetime.fromtimestamp(evm_effective, UTC))
    assert int(token.balanceOfUI.call(platform.wallet, block="pending")) == 8 * TOKEN_UNIT
    assert _ui_on_solana(solana, platform.solana_wallet) == 12 * TOKEN_UNIT

    ap.at(EX_OPEN + timedelta(minutes=1))
    ap.process()
    split = ap.actions.action(split.id)
    assert split.state is ActionState.COMPLETED, split.reason
    assert [e.reason for e in split.events if "on chain" in e.reason] == [
        f"multiplier {4 * ONE} scheduled on chain {SOLANA_LOCAL} for {evm_effective}"
    ]
    # Custody x4, tokens x multiplier on both chains, exactly backed; raw balances never moved.
    assert ap.backed_exactly("AAPL") == (Shares.parse("20"), Shares.parse("20"))
    assert solana.balance("AAPL", platform.solana_wallet) == 3 * TOKEN_UNIT
    holding = next(h for h in issuer.reconcile().holdings if h.ticker == "AAPL")
    assert dict(holding.outstanding) == {
        platform.onchain.chain_id: Shares.parse("8"),
        SOLANA_LOCAL: Shares.parse("12"),
    }
