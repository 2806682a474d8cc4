"""Ledger stock on the exchange: bought from $1 through the issuer's broker into custody, sold back,
traded between accounts on its book, never deposited or withdrawn; SQLite and the paper broker on
replayed prices."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.ledger import DEPOSIT, IN_SESSION, LedgerWorld, book_rules, open_world
from tests.venues.exchange.builders import limit

from equitoken.brokers.orders import OrderStatus
from equitoken.issuer.custody import EXCHANGE_USDC, USD, CustodyLedger, custody_account
from equitoken.issuer.reconcile import Holding, reconcile
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.errors import EquitokenError, InsufficientFundsError
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.trades import VenueTradeBook
from equitoken.proofs.errors import InvalidProofError, InvalidReportError, UnknownHolderError
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.ledger import InvalidLedgerBalancesError, ledger_holder, ledger_proof, ledger_tree
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import ReservesReport
from equitoken.store.database import Database
from equitoken.store.schema import ExchangeLedgerEventRow, LedgerEntryRow
from equitoken.venues.exchange import ledger as ledger_module
from equitoken.venues.exchange.accounts import (
    FEES_ACCOUNT,
    USDC,
    ConflictingTransferError,
    InvalidTransferError,
    NoTokenError,
    UnknownAssetError,
)
from equitoken.venues.exchange.engine import Exchange, MarketHaltedError
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.ledger import (
    ConflictingLedgerOrderError,
    InvalidLedgerOrderError,
    LedgerDesk,
    LedgerHaltedError,
    LedgerNotAllowedError,
    LedgerState,
    client_order_id,
    ledger_rules,
)
from equitoken.venues.exchange.orders import Side

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

AAPL_L = "AAPL.L"
SECRET = b"ledger liabilities test secret, 32+ bytes"
SHARE = 10**9


@pytest.fixture
def world(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> Iterator[LedgerWorld]:
    world = open_world(database, prices, calendar, tmp_path, ManualClock(IN_SESSION), create=True)
    yield world
    world.close()


def _custody(world: LedgerWorld) -> tuple[int, int, int]:
    """Return AAPL in custody, its ledger allocation, and the token backing (custody less the allocation)."""
    ledger = CustodyLedger()
    with world.database.transaction() as session:
        return (
            ledger.balance(session, custody_account("AAPL"), "AAPL"),
            ledger.ledger_allocation(session, "AAPL"),
            ledger.backing(session, "AAPL"),
        )


def _state(world: LedgerWorld) -> tuple[bytes, list[object], int, int]:
    """Everything a refused request must leave as it was."""
    with world.database.transaction() as session:
        entries = len(list(session.scalars(select(LedgerEntryRow.id))))
    return world.exchange.snapshot(), list(world.desk.orders()), entries, len(world.broker.open_orders())


def _conserved(world: LedgerWorld) -> None:
    accounts = world.exchange.accounts
    for asset in (USDC, AAPL_L):
        expected = (
            accounts.deposited(asset)
            - accounts.withdrawn(asset)
            + accounts.credited(asset)
            - accounts.debited(asset)
        )
        assert accounts.total(asset) == expected, asset
    # Every ledger unit in the accounts is a share custody allocated to the ledger.
    assert world.desk.outstanding()["AAPL"] == Shares(_custody(world)[1])


def test_a_one_dollar_buy_credits_the_fraction_its_fills_bought(world: LedgerWorld) -> None:
    account = world.account("inv-a")

    order = world.desk.buy(account, "AAPL", Usd.parse("1"), "buy-1")
    assert order.state is LedgerState.REQUESTED
    assert world.venue.balance(account, USDC).available == DEPOSIT - 10**6  # paid when asked
    world.run()

    done = world.desk.order("buy-1")
    broker_order = world.broker.order(client_order_id("buy-1"))
    assert broker_order is not None
    assert broker_order.status is OrderStatus.FILLED
    assert len(broker_order.fills) == 2
    # The shares are what $1 buys at the price when asked less the 1% buffer, to 10^-9 share.
    price = world.desk.prices.quote("AAPL", IN_SESSION).price
    assert broker_order.quantity == price.scaled_bps(100).shares_for(Usd.parse("1"))
    assert done.state is LedgerState.DONE
    assert [(e.from_state, e.to_state) for e in world.desk.events("buy-1")] == [
        (None, "requested"),
        ("requested", "ordered"),
        ("ordered", "settling"),
        ("settling", "done"),
    ]
    assert done.filled_shares == broker_order.filled_quantity
    assert 0 < done.filled_shares.units < SHARE // 100  # AAPL is far above $100
    assert done.filled_usd == broker_order.filled_notional(round_up=True) <= Usd.parse("1")
    assert world.venue.balance(account, AAPL_L).available == done.filled_shares.units
    assert world.venue.balance(account, USDC).available == DEPOSIT - done.filled_usd.units
    custody, allocation, backing = _custody(world)
    assert custody == allocation == done.filled_shares.units
    assert backing == 0  # no token can be minted against shares that back ledger balances
    with world.database.transaction() as session:
        assert CustodyLedger().balance(session, EXCHANGE_USDC, USD) == done.filled_usd.units
        assert not any(CustodyLedger().trial_balance(session).values())
    _conserved(world)


def test_a_sale_to_the_issuer_pays_the_proceeds_and_releases_the_shares(world: LedgerWorld) -> None:
    account = world.account("inv-a")
    world.desk.buy(account, "AAPL", Usd.parse("20"), "buy")
    world.run()
    bought = world.desk.order("buy").filled_shares
    usdc_before = world.venue.balance(account, USDC).available

    world.desk.sell(account, "AAPL", Shares(bought.units // 2), "sell")
    assert world.venue.balance(account, AAPL_L).available == bought.units - bought.units // 2
    world.run()

    sold = world.desk.order("sell")
    broker_order = world.broker.order(client_order_id("sell"))
    assert broker_order is not None
    assert sold.state is LedgerState.DONE
    assert sold.filled_shares.units == bought.units // 2
    assert sold.filled_usd == broker_order.filled_notional(round_up=False) > Usd.parse("9")
    assert world.venue.balance(account, USDC).available == usdc_before + sold.filled_usd.units
    assert world.venue.balance(account, AAPL_L).total == bought.units - bought.units // 2
    custody, allocation, _ = _custody(world)
    assert custody == allocation == bought.units - bought.units // 2
    _conserved(world)

    # The rest, worth under $1 now, can still go: a whole balance has no minimum.
    rest = Shares(world.venue.balance(account, AAPL_L).available)
    world.desk.sell(account, "AAPL", rest, "sell-rest")
    world.run()
    assert world.venue.balance(account, AAPL_L).total == 0
    assert _custody(world)[:2] == (0, 0)
    _conserved(world)


def test_book_trades_between_accounts_conserve_and_replay(world: LedgerWorld, tmp_path: Path) -> None:
    seller, buyer = world.account("inv-a"), world.account("inv-b")
    world.desk.buy(seller, "AAPL", Usd.parse("50"), "buy")
    world.run()
    bought = world.desk.order("buy").filled_shares.units
    lot = 10**5  # 10^-4 share

    world.venue.submit(AAPL_L, limit(seller, Side.SELL, 30_000, 500 * lot))  # 0.05 share at $300
    outcome = world.venue.submit(AAPL_L, limit(buyer, Side.BUY, 30_000, 300 * lot))

    assert len(outcome.trades) == 1
    assert world.venue.balance(buyer, AAPL_L).available == 300 * lot
    assert world.venue.balance(seller, AAPL_L) == (bought - 500 * lot, 200 * lot)
    notional = 300 * lot * 300 * 10**6 // SHARE
    fee = notional // 1000  # 10 bps taker fee
    assert world.venue.balance(buyer, USDC).available == DEPOSIT - notional - fee
    _conserved(world)

    # The ledger asset's transfers and trades replay from the journals to the same balances.
    snapshot = world.exchange.snapshot()
    world.close()
    reopened = open_world(
        world.database, world.desk.prices, MarketCalendar("XNYS"), tmp_path, world.clock, create=False
    )
    assert reopened.exchange.snapshot() == snapshot
    world.exchange = reopened.exchange  # closed by the fixture


def test_a_ledger_asset_cannot_be_withdrawn_or_deposited(world: LedgerWorld) -> None:
    account = world.account("inv-a")
    world.desk.buy(account, "AAPL", Usd.parse("5"), "buy")
    world.run()
    before = _state(world)
    accounts = world.exchange.accounts

    with pytest.raises(NoTokenError, match=r"AAPL\.L is a ledger stock balance with no on-chain token"):
        world.venue.request_withdrawal(account, AAPL_L, 1, "w-1")
    with pytest.raises(NoTokenError, match="cannot be deposited"):
        world.venue.credit_deposit(account, AAPL_L, 10**6, "d-1")
    with pytest.raises(NoTokenError):
        accounts.request_withdrawal(-1, AAPL_L, 1, "w-fees")

    assert _state(world) == before
    # The refused ids were never spent: the same ids still work for a real asset.
    assert world.venue.request_withdrawal(account, USDC, 1, "w-1")


@pytest.mark.parametrize(
    ("investor", "side", "ticker", "amount", "order_id", "error", "message"),
    [
        ("inv-a", "buy", "AAPL", Usd(0), "o", InvalidLedgerOrderError, "must be positive"),
        ("inv-a", "buy", "AAPL", Usd(-1_000_000), "o", InvalidLedgerOrderError, "must be positive"),
        ("inv-a", "buy", "AAPL", Usd(999_999), "o", InvalidLedgerOrderError, r"below the 1 USD minimum"),
        ("inv-a", "buy", "AAPL", 5_000_000, "o", InvalidLedgerOrderError, "must be a Usd amount"),
        ("inv-a", "buy", "AAPL", Usd.parse("2000"), "o", InsufficientFundsError, "the buy needs 2000000000"),
        ("inv-a", "buy", "MSFT", Usd.parse("5"), "o", UnknownInstrumentError, "not 'MSFT'"),
        ("inv-a", "buy", "AAPL.L", Usd.parse("5"), "o", UnknownInstrumentError, "not 'AAPL.L'"),
        ("inv-pending", "buy", "AAPL", Usd.parse("5"), "o", LedgerNotAllowedError, "KYC is pending"),
        (77, "buy", "AAPL", Usd.parse("5"), "o", LedgerNotAllowedError, "no exchange member"),
        (0, "buy", "AAPL", Usd.parse("5"), "o", InvalidLedgerOrderError, "account 0"),
        ("inv-a", "buy", "AAPL", Usd.parse("5"), "", InvalidLedgerOrderError, "order id ''"),
        ("inv-a", "buy", "AAPL", Usd.parse("5"), "x" * 65, InvalidLedgerOrderError, "1 to 64"),
        ("inv-a", "sell", "AAPL", Shares(0), "o", InvalidLedgerOrderError, "must be positive"),
        ("inv-a", "sell", "AAPL", Shares(-5), "o", InvalidLedgerOrderError, "must be positive"),
        ("inv-a", "sell", "AAPL", Shares(10**6), "o", InvalidLedgerOrderError, "below the 1 USD minimum"),
        ("inv-a", "sell", "AAPL", Shares(SHARE), "o", InsufficientFundsError, "AAPL.L available"),
        ("inv-a", "sell", "AAPL", 10**6, "o", InvalidLedgerOrderError, "must be a Shares amount"),
        ("inv-pending", "sell", "AAPL", Shares(10**6), "o", LedgerNotAllowedError, "KYC is pending"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(
    world: LedgerWorld,
    investor: str | int,
    side: str,
    ticker: str,
    amount: object,
    order_id: str,
    error: type[EquitokenError],
    message: str,
) -> None:
    # Account 1 holds ledger shares, so a sale has something to refuse against.
    world.desk.buy(world.account("inv-a"), "AAPL", Usd.parse("5"), "held")
    world.run()
    account = world.account(investor) if isinstance(investor, str) else investor
    before = _state(world)

    place = world.desk.buy if side == "buy" else world.desk.sell
    with pytest.raises(error, match=message):
        place(account, ticker, amount, order_id)  # type: ignore[arg-type]

    assert _state(world) == before


def test_a_buy_whose_usdc_an_order_locks_first_is_refused_and_leaves_no_order(
    world: LedgerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = world.account("inv-a")
    # A bid for 0.33 share at $3,000 locks all but about $8 of the account's $1,000.
    bid = limit(account, Side.BUY, 300_000, 3_300 * 10**5)

    def order_in_between(point: str) -> None:
        if point == "ledger_recorded":  # an order arrives between the check and the debit
            world.venue.submit("AAPL", bid)

    monkeypatch.setattr(ledger_module, "checkpoint", order_in_between)
    with pytest.raises(InsufficientFundsError, match="less than the 500000000 to pay"):
        world.desk.buy(account, "AAPL", Usd.parse("500"), "race")

    assert world.desk.orders() == []
    with world.database.transaction() as session:
        assert list(session.scalars(select(ExchangeLedgerEventRow))) == []
    balance = world.venue.balance(account, USDC)
    assert balance.total == DEPOSIT  # the bid holds; nothing was debited
    assert world.desk.process() == 0


def test_a_halted_instrument_takes_no_ledger_orders(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> None:
    def halted(ticker: str) -> MarketStatus:
        assert ticker == "AAPL"  # a ledger book trades under its instrument's status
        return MarketStatus.HALTED

    world = open_world(
        database, prices, calendar, tmp_path, ManualClock(IN_SESSION), create=True, status=halted
    )
    try:
        before = _state(world)
        with pytest.raises(LedgerHaltedError, match="AAPL is halted"):
            world.desk.buy(world.account("inv-a"), "AAPL", Usd.parse("5"), "o")
        with pytest.raises(MarketHaltedError):
            world.venue.submit(AAPL_L, limit(world.account("inv-a"), Side.BUY, 100, 10**7))
        assert _state(world) == before
    finally:
        world.close()


def test_an_order_id_names_one_order(world: LedgerWorld) -> None:
    account = world.account("inv-a")
    first = world.desk.buy(account, "AAPL", Usd.parse("5"), "same")
    before = _state(world)

    assert world.desk.buy(account, "AAPL", Usd.parse("5"), "same") == first
    with pytest.raises(ConflictingLedgerOrderError, match="already placed as a buy of AAPL"):
        world.desk.buy(account, "AAPL", Usd.parse("6"), "same")
    with pytest.raises(ConflictingLedgerOrderError):
        world.desk.sell(account, "AAPL", Shares(10**7), "same")
    assert _state(world) == before
    # A transfer id is spent once too: crediting it again with other figures is refused.
    with pytest.raises(ConflictingTransferError):
        world.venue.debit(account, USDC, 1, "ledger-pay:same")
    with pytest.raises(UnknownAssetError):
        world.venue.credit(account, "TSLA.L", 1, "t")
    assert _state(world) == before


def test_ledger_proofs_refuse_what_they_cannot_prove(world: LedgerWorld) -> None:
    a = world.account("inv-a")
    world.desk.buy(a, "AAPL", Usd.parse("5"), "buy")
    world.run()
    tree = ledger_tree("AAPL", world.desk.balances("AAPL"), SECRET)
    proof = ledger_proof(tree, a)

    with pytest.raises(UnknownHolderError, match=r"has no AAPL\.L balance"):
        ledger_proof(tree, world.account("inv-b"))
    with pytest.raises(InvalidProofError, match="not the published root"):
        verify(proof, MerkleSumTree.build("AAPL.L", [], SECRET).root_hex)
    forged = InclusionProof.from_json(proof.to_json().replace(str(proof.balance), str(proof.balance + 1)))
    with pytest.raises(InvalidProofError):
        verify(forged, tree.root_hex)
    with pytest.raises(InvalidLedgerBalancesError, match="non-negative"):
        ledger_tree("AAPL", {a: -1}, SECRET)
    with pytest.raises(InvalidLedgerBalancesError, match="not an exchange account number"):
        ledger_holder(-2)
    assert ledger_holder(FEES_ACCOUNT).lower() == "0x" + "f" * 40
    with pytest.raises(ValueError, match="name no instrument"):
        reconcile(world.database, [], {}, {"AAPL": Shares(1)})


def test_ledger_book_trades_go_on_the_tape_in_shares_under_their_own_symbol(
    database: Database, tmp_path: Path
) -> None:
    asked: list[str] = []

    def multipliers(ticker: str, _at: datetime) -> Multiplier:
        asked.append(ticker)
        return Multiplier.one().scaled(2, 1)

    tape = VenueTradeBook(database)
    exchange = Exchange.open(
        tmp_path / "tape",
        book_rules(),
        lambda _ticker: MarketStatus.OPEN,
        tape=tape,
        clock=ManualClock(IN_SESSION),
        multipliers=multipliers,
        fsync=FsyncPolicy.PER_BATCH,
    )
    try:
        # Seeded as the desk's settlement would credit them (this test is about the tape only).
        exchange.accounts.credit(1, AAPL_L, SHARE, "seed-shares")
        exchange.accounts.credit(2, USDC, DEPOSIT, "seed-usdc")
        exchange.submit(AAPL_L, limit(1, Side.SELL, 28_000, 10**7))  # 0.01 share at $280
        exchange.submit(AAPL_L, limit(2, Side.BUY, 28_000, 10**7))
    finally:
        exchange.close()

    since, until = IN_SESSION - timedelta(minutes=1), IN_SESSION + timedelta(minutes=1)
    [trade] = tape.trades(AAPL_L, since, until)
    assert (trade.price, trade.quantity) == (Price.parse("280"), Shares.parse("0.01"))
    assert tape.trades("AAPL", since, until) == []
    assert asked == []  # shares have no token multiplier


def test_settlement_and_reading_refuse_bad_input_and_change_nothing(
    world: LedgerWorld, database: Database, prices: ReplayPriceSource, tmp_path: Path
) -> None:
    account = world.account("inv-a")
    world.desk.buy(account, "AAPL", Usd.parse("5"), "held")
    world.run()
    before = _state(world)
    venue = world.venue

    for amount in (0, -1, "5", True):
        with pytest.raises(InvalidTransferError, match="must be a positive integer"):
            venue.credit(account, AAPL_L, amount, "bad-amount")  # type: ignore[arg-type]
    with pytest.raises(InvalidTransferError, match="non-negative integer"):
        venue.credit(FEES_ACCOUNT, USDC, 1, "bad-account")
    with pytest.raises(InvalidTransferError, match="printable characters"):
        venue.credit(account, USDC, 1, "")
    with pytest.raises(InsufficientFundsError, match=r"less than the \d+ to pay"):
        venue.debit(account, AAPL_L, SHARE, "too-much")
    with pytest.raises(UnknownAssetError):
        venue.holdings("TSLA.L")
    with pytest.raises(InvalidLedgerOrderError, match="no ledger order 'nope'"):
        world.desk.order("nope")
    with pytest.raises(InvalidLedgerOrderError, match="no ledger order 'nope'"):
        world.desk.events("nope")
    with pytest.raises(UnknownInstrumentError, match="not 'MSFT'"):
        world.desk.balances("MSFT")
    with pytest.raises(ValueError, match="price buffer"):
        LedgerDesk(database, venue, world.broker, prices, world.clock, price_buffer_bps=-1)
    with pytest.raises(ValueError, match="need their instrument's book"):
        Exchange.open(tmp_path / "alone", [ledger_rules("AAPL")], lambda _t: MarketStatus.OPEN)
    assert _state(world) == before

    # A reserves report whose ledger object is malformed is refused by name.
    tokens = MerkleSumTree.build("AAPL", [], SECRET)
    holding = Holding("AAPL", Shares(10), {1: Shares(5)}, ledger=Shares(5))
    body = ReservesReport.of(holding, tokens, issuer="I", spv="S", as_of=IN_SESSION).body()
    assert body["ledger"] == {"shares": "0.000000005", "root": None, "total_units": "0", "holders": 0}
    for bad, message in (("x", "ledger must be an object"), ({**body["ledger"], "root": 5}, "root")):
        with pytest.raises(InvalidReportError, match=message):
            ReservesReport.from_body({**body, "ledger": bad})
    with pytest.raises(InvalidReportError, match=r"ledger tree is for AAPL\.L"):
        ReservesReport.of(
            Holding("MSFT", Shares(0), {}),
            MerkleSumTree.build("MSFT", [], SECRET),
            issuer="I",
            spv="S",
            as_of=IN_SESSION,
            ledger_tree=MerkleSumTree.build("AAPL.L", [], SECRET),
        )
