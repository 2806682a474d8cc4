"""Deposits and withdrawals: a real issuance on the in-process chain (anvil for one), real databases,
and the real indexer, whose journal of the hot wallet's incoming transfers is where deposits come from."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.durable.outbox import TxStatus
from equitoken.indexer import IndexedChain, Indexer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.quantities import Price
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import (
    ChainTransactionRow,
    ExchangeDepositCursorRow,
    ExchangeDepositRow,
    ExchangeWithdrawalRow,
)
from equitoken.venues.exchange import funding as funding_module
from equitoken.venues.exchange.accounts import USDC, NoTokenError, UnknownAssetError
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.funding import (
    ConflictingWithdrawalError,
    Deposit,
    ExchangeFunding,
    FundingError,
    InvalidWithdrawalError,
    WithdrawalNotAllowedError,
    WithdrawalStatus,
    register_hot_wallet,
)
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.orders import OrderType, Side, Submit
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec
from equitoken.venues.exchange.venue import ExchangeVenue

TOKEN = 10**8  # one share of an 8-decimal stock token
DOLLAR = 10**6
HOT_WALLET_INDEX = 12
RULES = [BookRules(InstrumentSpec(t, 8, Price(1_000_000), 10_000), 2, 5) for t in ("AAPL", "MSTR")]


@dataclass
class Venue:
    platform: Platform
    database: Database
    directory: Path
    hot_wallet: str
    exchange: Exchange
    trading: ExchangeVenue
    funding: ExchangeFunding
    indexer: Indexer
    confirmations: int

    @property
    def investor(self) -> str:
        return self.platform.participant.id

    @property
    def account(self) -> int:
        return ExchangeMembers(self.database).account_of(self.investor)

    def restart(self) -> None:
        """Drop every object and reopen the exchange and funding from the same files and database."""
        self.exchange.close()
        self.exchange = Exchange.open(self.directory, RULES, _open, fsync=FsyncPolicy.PER_RECORD)
        self.trading = ExchangeVenue(self.exchange)
        self.indexer = _indexer(self)
        self.funding = _funding(self)

    def poll_deposits(self) -> list[Deposit]:
        """Run the indexer over the chain, then credit what it has indexed (as the platform loop does)."""
        self.indexer.poll()
        return self.funding.poll_deposits()

    def deposit(self, asset: str, amount: int, sender: str | None = None) -> None:
        contract = self.platform.usdc if asset == USDC else self.platform.token(asset)
        contract.transfer(self.hot_wallet, amount, sender=sender or self.platform.wallet)
        self.platform.chain.mine(self.confirmations)

    def balance(self, asset: str) -> int:
        return self.trading.balance(self.account, asset).available

    def on_chain(self, asset: str, holder: str) -> int:
        contract = self.platform.usdc if asset == USDC else self.platform.token(asset)
        return int(contract.balanceOf(holder))


def _open(_ticker: str) -> MarketStatus:
    return MarketStatus.OPEN


def _indexer(venue: Venue) -> Indexer:
    onchain = venue.platform.onchain
    indexed = IndexedChain(
        onchain.chain,
        onchain.deployment,
        settlement_tokens={USDC: onchain.usdc.address},
        confirmations=venue.confirmations,
    )
    return Indexer(venue.database, [indexed])


def _funding(venue: Venue) -> ExchangeFunding:
    return ExchangeFunding(
        venue.database,
        venue.trading,
        ExchangeMembers(venue.database),
        venue.platform.onchain,
        venue.hot_wallet,
        indexer=venue.indexer,
        clock=venue.platform.clock,
    )


def _venue(chain: EvmChain, database: Database, tmp_path: Path, confirmations: int = 1) -> Venue:
    prices = ReplayPriceSource.default(MarketCalendar("XNYS"))
    platform = build_platform(chain, database, prices, MarketCalendar("XNYS"), tmp_path)
    hot_wallet = chain.accounts[HOT_WALLET_INDEX]
    register_hot_wallet(
        platform.issuer.investors,
        hot_wallet,
        kyc_expires_at=platform.clock.now() + timedelta(days=365),
        jurisdiction="GB",
    )
    platform.approve_mint(10**6 * DOLLAR)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "5", "mint-aapl")
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "MSTR", "5", "mint-mstr")
    platform.run()
    directory = tmp_path / "exchange"
    exchange = Exchange.open(directory, RULES, _open, fsync=FsyncPolicy.PER_RECORD)
    trading = ExchangeVenue(exchange)
    venue = Venue(platform, database, directory, hot_wallet, exchange, trading, None, None, confirmations)  # type: ignore[arg-type]
    venue.indexer = _indexer(venue)
    venue.funding = _funding(venue)
    return venue


@pytest.fixture
def venue(database: Database, tmp_path: Path) -> Iterator[Venue]:
    built = _venue(
        InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS), database, tmp_path
    )
    yield built
    built.exchange.close()


# Deposits


def test_a_deposit_is_credited_once_it_is_confirmed_and_only_once(venue: Venue) -> None:
    venue.platform.token("MSTR").transfer(venue.hot_wallet, 2 * TOKEN, sender=venue.platform.wallet)
    venue.platform.chain.mine(venue.confirmations - 1)

    assert venue.poll_deposits() == []  # one block short of the indexer's confirmations

    venue.platform.chain.mine(1)
    [deposit] = venue.poll_deposits()

    assert (deposit.asset, deposit.amount, deposit.investor_id) == ("MSTR", 2 * TOKEN, venue.investor)
    assert deposit.account == venue.account
    assert venue.balance("MSTR") == 2 * TOKEN
    assert venue.poll_deposits() == []
    assert venue.funding.deposits(venue.investor) == [deposit]
    assert venue.balance("MSTR") == 2 * TOKEN


def test_usdc_and_token_deposits_credit_their_own_assets(venue: Venue) -> None:
    venue.deposit(USDC, 500 * DOLLAR)
    venue.deposit("AAPL", TOKEN)

    deposits = venue.poll_deposits()

    assert [(d.asset, d.amount) for d in deposits] == [(USDC, 500 * DOLLAR), ("AAPL", TOKEN)]
    assert (venue.balance(USDC), venue.balance("AAPL")) == (500 * DOLLAR, TOKEN)


def test_a_transfer_from_an_unknown_wallet_is_recorded_unattributed_and_credited_to_no_one(
    venue: Venue,
) -> None:
    venue.deposit(USDC, 70 * DOLLAR, sender=venue.platform.other_wallet)

    [deposit] = venue.poll_deposits()

    assert (deposit.investor_id, deposit.account, deposit.amount) == (None, None, 70 * DOLLAR)
    assert venue.funding.unattributed_deposits() == [deposit]
    assert venue.exchange.accounts.deposited(USDC) == 0


def test_a_crash_between_crediting_and_recording_never_credits_twice(venue: Venue) -> None:
    venue.deposit(USDC, 300 * DOLLAR)
    with pytest.raises(SimulatedCrash), simulated_crash("deposit_credited"):
        venue.poll_deposits()

    venue.restart()
    [deposit] = venue.poll_deposits()

    assert deposit.amount == 300 * DOLLAR
    assert venue.balance(USDC) == 300 * DOLLAR
    assert venue.exchange.accounts.deposited(USDC) == 300 * DOLLAR


# Withdrawals


def test_a_withdrawal_is_debited_sent_once_and_confirmed(venue: Venue) -> None:
    venue.deposit("MSTR", 3 * TOKEN)
    venue.poll_deposits()
    wallet_before = venue.on_chain("MSTR", venue.platform.wallet)

    requested = venue.funding.request_withdrawal(venue.investor, "MSTR", TOKEN, venue.platform.wallet, "w-1")
    assert requested.status == WithdrawalStatus.REQUESTED
    assert venue.balance("MSTR") == 2 * TOKEN
    [done] = venue.funding.process_withdrawals()

    assert done.status == WithdrawalStatus.CONFIRMED
    assert done.tx_hash is not None
    assert venue.on_chain("MSTR", venue.platform.wallet) == wallet_before + TOKEN
    assert venue.on_chain("MSTR", venue.hot_wallet) == 2 * TOKEN
    assert venue.funding.process_withdrawals() == []
    assert (
        venue.funding.request_withdrawal(venue.investor, "MSTR", TOKEN, venue.platform.wallet, "w-1") == done
    )
    assert venue.funding.withdrawals(venue.investor) == [done]


@pytest.mark.parametrize(
    ("asset", "amount", "destination", "error", "reason"),
    [
        ("TSLA", 1, "wallet", UnknownAssetError, "TSLA"),
        ("AAPL.L", 1, "wallet", NoTokenError, "no on-chain token: it cannot be withdrawn"),
        (USDC, 0, "wallet", InvalidWithdrawalError, "positive"),
        (USDC, -5, "wallet", InvalidWithdrawalError, "positive"),
        (USDC, "5", "wallet", InvalidWithdrawalError, "positive"),
        (USDC, 10 * DOLLAR, "other", InvalidWithdrawalError, "not a registered wallet"),
        (USDC, 10 * DOLLAR, "0x1234", InvalidWithdrawalError, "hex address"),
        (USDC, 10 * DOLLAR, "hot", InvalidWithdrawalError, "not a registered wallet"),
        (USDC, 101 * DOLLAR, "wallet", InsufficientFundsError, "available"),
    ],
)
def test_a_bad_withdrawal_is_refused_and_changes_nothing(
    venue: Venue, asset: str, amount: int, destination: str, error: type[Exception], reason: str
) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    address = {"wallet": venue.platform.wallet, "other": venue.platform.other_wallet, "hot": venue.hot_wallet}
    with pytest.raises(error, match=reason):
        venue.funding.request_withdrawal(
            venue.investor, asset, amount, address.get(destination, destination), "w-bad"
        )

    assert venue.balance(USDC) == 100 * DOLLAR
    assert venue.funding.withdrawals(venue.investor) == []


def test_a_withdrawal_whose_balance_an_order_locks_first_is_refused_and_leaves_no_row(
    venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    bid = Submit(venue.account, "bid", Side.BUY, OrderType.LIMIT, 9_000, TOKEN)

    def order_in_between(point: str) -> None:
        if point == "withdrawal_recorded":  # an order arrives between the check and the debit
            venue.trading.submit("AAPL", bid)

    monkeypatch.setattr(funding_module, "checkpoint", order_in_between)
    with pytest.raises(InsufficientFundsError, match="available"):
        venue.funding.request_withdrawal(venue.investor, USDC, 50 * DOLLAR, venue.platform.wallet, "w-race")

    assert venue.funding.withdrawals(venue.investor) == []
    balance = venue.trading.balance(venue.account, USDC)
    assert balance.available + balance.locked == 100 * DOLLAR  # the order holds; nothing was debited
    assert balance.locked > 90 * DOLLAR
    assert venue.funding.process_withdrawals() == []


def test_a_frozen_investor_or_expired_kyc_cannot_withdraw(venue: Venue) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    investors = venue.platform.issuer.investors

    investors.set_frozen(venue.investor, True)
    with pytest.raises(WithdrawalNotAllowedError, match="frozen"):
        venue.funding.request_withdrawal(venue.investor, USDC, DOLLAR, venue.platform.wallet, "w-frozen")
    investors.set_frozen(venue.investor, False)
    investors.set_kyc_expiry(venue.investor, venue.platform.clock.now() - timedelta(days=1))
    with pytest.raises(WithdrawalNotAllowedError, match="KYC"):
        venue.funding.request_withdrawal(venue.investor, USDC, DOLLAR, venue.platform.wallet, "w-kyc")

    assert venue.balance(USDC) == 100 * DOLLAR
    assert venue.funding.withdrawals(venue.investor) == []


def test_the_token_and_the_sanctions_list_can_refuse_a_withdrawal(venue: Venue) -> None:
    venue.deposit("AAPL", TOKEN)
    venue.poll_deposits()
    onchain = venue.platform.onchain

    onchain.token("AAPL").pause(sender=onchain.roles.pauser)
    with pytest.raises(WithdrawalNotAllowedError, match="AAPL refuses"):
        venue.funding.request_withdrawal(venue.investor, "AAPL", TOKEN, venue.platform.wallet, "w-paused")
    onchain.token("AAPL").unpause(sender=onchain.roles.pauser)
    onchain.sanctions.addToSanctionsList([venue.platform.wallet], sender=onchain.roles.admin)
    with pytest.raises(WithdrawalNotAllowedError, match="sanctions"):
        venue.funding.request_withdrawal(venue.investor, "AAPL", TOKEN, venue.platform.wallet, "w-sanctioned")

    assert venue.balance("AAPL") == TOKEN
    assert venue.funding.withdrawals(venue.investor) == []


def test_a_withdrawal_id_cannot_be_reused_for_another_withdrawal(venue: Venue) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    venue.funding.request_withdrawal(venue.investor, USDC, DOLLAR, venue.platform.wallet, "w-1")

    with pytest.raises(ConflictingWithdrawalError, match="w-1"):
        venue.funding.request_withdrawal(venue.investor, USDC, 2 * DOLLAR, venue.platform.wallet, "w-1")
    with pytest.raises(InvalidWithdrawalError, match="printable"):
        venue.funding.request_withdrawal(venue.investor, USDC, DOLLAR, venue.platform.wallet, "x" * 65)

    assert venue.balance(USDC) == 99 * DOLLAR


def test_a_transfer_the_chain_refuses_is_failed_and_credited_back_once(venue: Venue) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    venue.funding.request_withdrawal(venue.investor, USDC, 40 * DOLLAR, venue.platform.wallet, "w-1")
    # The hot wallet no longer holds the USDC, so the transfer would revert.
    venue.platform.usdc.transfer(venue.platform.other_wallet, 100 * DOLLAR, sender=venue.hot_wallet)

    [failed] = venue.funding.process_withdrawals()
    venue.restart()

    assert failed.status == WithdrawalStatus.FAILED
    assert failed.reason is not None
    assert venue.funding.process_withdrawals() == []
    assert venue.balance(USDC) == 100 * DOLLAR
    assert venue.exchange.accounts.deposited(USDC) == 140 * DOLLAR  # the deposit and one refund


def _withdraw(venue: Venue) -> None:
    venue.funding.request_withdrawal(venue.investor, USDC, 30 * DOLLAR, venue.platform.wallet, "w-1")
    venue.funding.process_withdrawals()


@pytest.mark.parametrize(
    "point", ["withdrawal_recorded", "withdrawal_debited", "withdrawal_sent", "withdrawal_mined"]
)
def test_a_withdrawal_survives_a_crash_at_each_step(venue: Venue, point: str) -> None:
    venue.deposit(USDC, 100 * DOLLAR)
    venue.poll_deposits()
    wallet_before = venue.on_chain(USDC, venue.platform.wallet)
    with pytest.raises(SimulatedCrash), simulated_crash(point):
        _withdraw(venue)

    venue.restart()
    _withdraw(venue)
    venue.restart()
    venue.funding.process_withdrawals()

    assert venue.funding.withdrawal("w-1").status == WithdrawalStatus.CONFIRMED
    assert venue.on_chain(USDC, venue.platform.wallet) == wallet_before + 30 * DOLLAR
    assert venue.balance(USDC) == 70 * DOLLAR
    with venue.database.transaction() as session:
        sends = session.scalars(
            select(ChainTransactionRow).where(ChainTransactionRow.purpose == "exchange-withdrawal:w-1")
        ).all()
        assert [s.status for s in sends] == [TxStatus.CONFIRMED]


def test_funding_refuses_an_indexer_that_does_not_follow_the_usdc(venue: Venue) -> None:
    venue.indexer = Indexer(
        venue.database, [IndexedChain(venue.platform.chain, venue.platform.onchain.deployment)]
    )

    with pytest.raises(ValueError, match=r"does not follow USDC \(0x"):
        _funding(venue)


def test_deposits_are_read_in_pages_and_the_cursor_stands_on_the_last_one_taken(
    venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(funding_module, "DEPOSITS_PER_READ", 2)
    for amount in (1, 2, 3):
        venue.deposit(USDC, amount * DOLLAR)
    venue.deposit(USDC, 4 * DOLLAR, sender=venue.platform.other_wallet)

    deposits = venue.poll_deposits()

    assert [d.amount for d in deposits] == [DOLLAR, 2 * DOLLAR, 3 * DOLLAR, 4 * DOLLAR]
    assert venue.balance(USDC) == 6 * DOLLAR
    with venue.database.transaction() as session:
        [cursor] = session.scalars(select(ExchangeDepositCursorRow)).all()
        assert (cursor.block_number, cursor.log_index) == (deposits[-1].block_number, deposits[-1].log_index)
    assert venue.poll_deposits() == []


@pytest.mark.anvil
def test_a_deposit_and_a_withdrawal_on_anvil_survive_a_crash(tmp_path: Path) -> None:
    with (
        AnvilNode(accounts=ACCOUNTS, log_file=tmp_path / "anvil.log", timestamp=GENESIS) as node,
        node.chain() as chain,
    ):
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        database = Database(sqlite_url(tmp_path / "equitoken.sqlite"))
        database.migrate()
        venue = _venue(chain, database, tmp_path, confirmations=3)
        venue.deposit("MSTR", 2 * TOKEN)
        venue.deposit(USDC, 9 * DOLLAR, sender=venue.platform.other_wallet)
        assert [d.investor_id for d in venue.poll_deposits()] == [venue.investor, None]
        wallet_before = venue.on_chain("MSTR", venue.platform.wallet)

        venue.funding.request_withdrawal(venue.investor, "MSTR", TOKEN, venue.platform.wallet, "w-anvil")
        with pytest.raises(SimulatedCrash), simulated_crash("withdrawal_sent"):
            venue.funding.process_withdrawals()
        venue.restart()
        [done] = venue.funding.process_withdrawals()

        assert done.status == WithdrawalStatus.CONFIRMED
        assert venue.on_chain("MSTR", venue.platform.wallet) == wallet_before + TOKEN
        assert venue.balance("MSTR") == TOKEN
        with database.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ExchangeDepositRow)) == 2
            assert session.scalar(select(func.count()).select_from(ExchangeWithdrawalRow)) == 1
        venue.exchange.close()
        database.close()


def test_funding_errors_are_value_errors() -> None:
    assert issubclass(FundingError, ValueError)
