"""One issuer over an EVM chain and Solana: requests name their chain, custody backs the supply of
both, and each chain is held to its allotment of custody."""

from datetime import timedelta
from pathlib import Path

import pytest
from solders.pubkey import Pubkey
from sqlalchemy import func, select
from tests.support.platform import USDC, Platform, build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS, derive_keypair
from equitoken.chain.solana.token2022 import AccountState, mint_to_checked
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.errors import ComplianceError, InvalidRequestError
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Shares
from equitoken.platform.assemble import assemble_issuer
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow, RequestRow

TOKEN_UNIT = 10**STOCK_DECIMALS


@pytest.fixture
def platform(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    return build_platform(evm_chain, database, prices, calendar, tmp_path, solana=True)


def _solana(platform: Platform) -> SolanaIssuerChain:
    assert platform.solana is not None
    return platform.solana


def _account_state(platform: Platform, ticker: str) -> AccountState:
    solana = _solana(platform)
    account = solana.chain.token_account(solana.token_account(ticker, platform.solana_wallet))
    assert account is not None
    return account.state


@pytest.mark.parametrize("ticker", ["AAPL", "MSTR", "HOOD"])
def test_a_mint_on_solana_is_paid_on_evm_and_backed_by_custody(platform: Platform, ticker: str) -> None:
    usdc_before = platform.usdc_total()
    wallet_before = int(platform.usdc.balanceOf(platform.wallet))

    request_id = platform.on_solana(RequestKind.MINT, ticker, "3", f"sol-{ticker}")
    platform.run()

    view = platform.issuer.request(request_id)
    assert view.state is RequestState.COMPLETED, view.reason
    assert view.chain_id == SOLANA_LOCAL
    assert view.payment_wallet == platform.wallet
    solana = _solana(platform)
    assert solana.balance(ticker, platform.solana_wallet) == 3 * TOKEN_UNIT
    assert int(platform.token(ticker).totalSupply()) == 0
    assert wallet_before - int(platform.usdc.balanceOf(platform.wallet)) == (
        view.filled_notional.units + view.fee.units
    )
    assert platform.usdc_total() == usdc_before
    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == ticker)
    assert dict(holding.outstanding) == {
        platform.onchain.chain_id: Shares.zero(),
        SOLANA_LOCAL: Shares.parse("3"),
    }
    assert holding.custody == Shares.parse("3")
    assert reconciliation.ok
    # Open and permissioned holders' accounts are thawed once verified; restricted ones stay frozen
    # and the minter thawed and froze again around the mint, in one transaction.
    expected = AccountState.FROZEN if ticker == "HOOD" else AccountState.INITIALIZED
    assert _account_state(platform, ticker) is expected
    # Each mint on Solana is attested with the allotment it was checked against (no feed to push to).
    attested = [(a.chain_id, a.custody) for a in platform.issuer.attestations(ticker)]
    assert attested == [(SOLANA_LOCAL, Shares.parse("1.5")), (SOLANA_LOCAL, Shares.parse("3"))]


def test_a_redemption_on_solana_burns_there_and_pays_on_evm(platform: Platform) -> None:
    platform.on_solana(RequestKind.MINT, "AAPL", "4", "sol-mint")
    platform.run()
    wallet_usdc = int(platform.usdc.balanceOf(platform.wallet))

    request = platform.on_solana(RequestKind.REDEEM, "AAPL", "1.5", "sol-redeem")
    platform.run()

    view = platform.issuer.request(request)
    assert view.state is RequestState.COMPLETED, view.reason
    assert _solana(platform).balance("AAPL", platform.solana_wallet) == int(2.5 * TOKEN_UNIT)
    assert int(platform.usdc.balanceOf(platform.wallet)) - wallet_usdc == view.settled.units > 0
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert holding.custody == holding.outstanding_total == Shares.parse("2.5")


def test_custody_backs_both_chains_and_each_mint_stays_within_its_allotment(platform: Platform) -> None:
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "2", "evm-mint")
    platform.on_solana(RequestKind.MINT, "AAPL", "3", "sol-mint")
    platform.run()
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert dict(holding.outstanding) == {
        platform.onchain.chain_id: Shares.parse("2"),
        SOLANA_LOCAL: Shares.parse("3"),
    }
    assert holding.custody == Shares.parse("5")
    # The EVM reserve feed is told EVM's allotment: custody less what Solana stands for.
    assert platform.onchain.reserve_feed("AAPL").latestRoundData()[1] == 2 * TOKEN_UNIT

    # A mint outside the workflow (a leaked minter key) puts Solana beyond its allotment: the next
    # mint on Solana is held before it is signed, and so is the next one on EVM, whose allotment
    # the unbacked Solana units eat into.
    solana = _solana(platform)
    mint, account = solana.deployment.mint("AAPL"), solana.token_account("AAPL", platform.solana_wallet)
    minter = solana.authorities.minter
    solana.chain.send([mint_to_checked(mint, account, minter.pubkey(), TOKEN_UNIT, 8)], solana.payer, minter)

    held_sol = platform.on_solana(RequestKind.MINT, "AAPL", "1", "sol-beyond")
    held_evm = platform.issuer.request_mint(
        platform.participant.id, platform.wallet, "AAPL", "1", "evm-beyond"
    ).id
    platform.run()
    for request_id in (held_sol, held_evm):
        view = platform.issuer.request(request_id)
        assert view.state is RequestState.HELD
        assert "beyond its allotment" in (view.reason or "")
        # Held before anything was signed: no mint of it exists, on either chain.
        with platform.issuer.db.transaction() as session:
            sent = session.scalars(
                select(ChainTransactionRow.purpose).where(
                    ChainTransactionRow.owner == f"request:{request_id}"
                )
            )
            assert not [p for p in sent if p.startswith("mint:")]


def test_a_frozen_investor_is_frozen_on_solana_and_thawed_when_unfrozen(platform: Platform) -> None:
    assert _account_state(platform, "MSTR") is AccountState.INITIALIZED

    platform.issuer.investors.set_frozen(platform.participant.id, True)
    assert _account_state(platform, "MSTR") is AccountState.FROZEN
    assert _account_state(platform, "AAPL") is AccountState.FROZEN
    with pytest.raises(ComplianceError, match="frozen"):
        platform.on_solana(RequestKind.MINT, "AAPL", "1", "while-frozen")

    platform.issuer.investors.set_frozen(platform.participant.id, False)
    assert _account_state(platform, "MSTR") is AccountState.INITIALIZED
    assert _account_state(platform, "HOOD") is AccountState.FROZEN  # restricted: frozen for good


def test_a_process_that_does_not_reach_solana_leaves_its_requests_alone(platform: Platform) -> None:
    request = platform.on_solana(RequestKind.MINT, "AAPL", "1", "left-alone")
    evm_only = assemble_issuer(
        platform.chain,
        platform.onchain.deployment,
        platform.usdc.address,
        platform.issuer.db,
        platform.clock,
        broker=platform.broker,
    ).issuer

    assert evm_only.process() == 0
    assert platform.issuer.request(request).state is RequestState.ACCEPTED
    platform.run()
    assert platform.issuer.request(request).state is RequestState.COMPLETED


def test_a_sanctioned_solana_wallet_is_frozen_and_refused(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    wallet = str(derive_keypair(b"test participant", "wallet").pubkey())  # build_platform's
    config = IssuerConfig(sanctioned_wallets=frozenset({wallet}))
    platform = build_platform(evm_chain, database, prices, calendar, tmp_path, solana=True, config=config)
    assert platform.solana_wallet == wallet

    assert _account_state(platform, "AAPL") is AccountState.FROZEN  # open, but frozen for sanctions
    with pytest.raises(ComplianceError, match="is sanctioned"):
        platform.on_solana(RequestKind.MINT, "AAPL", "1", "sanctioned")


def test_a_kyc_set_to_expire_in_the_past_freezes_the_solana_accounts(platform: Platform) -> None:
    investors = platform.issuer.investors
    investors.set_kyc_expiry(platform.participant.id, platform.clock.now() - timedelta(days=1))
    assert _account_state(platform, "AAPL") is AccountState.FROZEN

    investors.set_kyc_expiry(platform.participant.id, platform.clock.now() + timedelta(days=365))
    assert _account_state(platform, "AAPL") is AccountState.INITIALIZED


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"wallet": "0x" + "11" * 20}, InvalidRequestError, "is not a Solana address"),
        ({"wallet": "not-base58-at-all-0OIl-not-a-key"}, InvalidRequestError, "is not a Solana address"),
        ({"payment_wallet": None}, InvalidRequestError, "needs a payment wallet on the settlement chain"),
        ({"payment_wallet": "11111111111111111111111111111111"}, InvalidRequestError, "0x-prefixed"),
        ({"chain_id": 99}, InvalidRequestError, "unknown chain 99; this issuer issues on"),
        ({"ticker": "COIN"}, UnknownInstrumentError, "unknown instrument 'COIN' on chain"),
        ({"wallet": str(Pubkey.default())}, ComplianceError, "is not bound to investor"),
    ],
)
def test_a_bad_solana_request_is_refused_and_changes_nothing(
    platform: Platform, changes: dict[str, object], error: type[Exception], match: str
) -> None:
    platform.approve_mint(10**6 * USDC)
    arguments: dict[str, object] = {
        "wallet": platform.solana_wallet,
        "ticker": "AAPL",
        "chain_id": SOLANA_LOCAL,
        "payment_wallet": platform.wallet,
    } | changes
    with pytest.raises(error, match=match):
        platform.issuer.request_mint(
            platform.participant.id,
            str(arguments["wallet"]),
            str(arguments["ticker"]),
            "1",
            "bad",
            chain_id=arguments["chain_id"],  # type: ignore[arg-type]
            payment_wallet=arguments["payment_wallet"],  # type: ignore[arg-type]
        )
    with platform.issuer.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RequestRow)) == 0


def test_a_redemption_beyond_the_solana_balance_is_refused(platform: Platform) -> None:
    with pytest.raises(InsufficientFundsError, match="holds 0 AAPL token units on Solana"):
        platform.issuer.request_redeem(
            platform.participant.id,
            platform.solana_wallet,
            "AAPL",
            "1",
            "nothing-to-redeem",
            chain_id=SOLANA_LOCAL,
            payment_wallet=platform.wallet,
        )
