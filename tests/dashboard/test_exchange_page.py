"""The exchange page in a real headless Chromium: the book, own orders and balances, an order placed
and cancelled, a trade seen live over the WebSocket, and ledger stock bought from $1, against the real
API, exchange engine, ledger desk and paper broker."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import serve
from tests.support.dashboard import screenshot
from tests.support.platform import ACCOUNTS, GENESIS, build_platform
from tests.venues.exchange.builders import rules

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.dashboard import mount_dashboard
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.oracle.observation import MarketStatus
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.ledger import LedgerDesk, ledger_rules
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue

pytestmark = [pytest.mark.browser]

NewPage = Callable[[], Page]
TICKER = "AAPL"


@dataclass
class ServedExchange:
    url: str
    seller_key: str
    buyer_key: str
    desk: LedgerDesk
    clock: ManualClock

    def settle_ledger(self) -> None:
        """Run the ledger desk a minute at a time until its orders have settled."""
        for _ in range(30):
            self.desk.process()
            if not self.desk.orders(open_only=True):
                return
            self.clock.advance(timedelta(minutes=1))
        raise AssertionError(self.desk.orders(open_only=True))


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[ServedExchange]:
    tmp = tmp_path_factory.mktemp("exchange-page")
    database = Database(sqlite_url(tmp / "platform.sqlite"))
    database.migrate()
    platform = build_platform(
        InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS),
        database,
        prices,
        calendar,
        tmp,
    )
    expiry = platform.clock.now() + timedelta(days=365)
    buyer = platform.issuer.investors.onboard("Ada Lovelace", "GB", "retail", kyc_expires_at=expiry)
    exchange = Exchange.open(tmp / "exchange", [rules(), ledger_rules(TICKER)], lambda _: MarketStatus.OPEN)
    venue = ExchangeVenue(exchange, clock=platform.clock)
    members = ExchangeMembers(database, platform.clock)
    desk = LedgerDesk(database, venue, platform.broker, prices, platform.clock)
    platform.issuer.count_ledger(desk.outstanding)
    venue.credit_deposit(members.account_of(platform.participant.id), TICKER, 10 * 10**9, "seller-aapl")
    venue.credit_deposit(members.account_of(buyer.id), USDC, 10_000 * 10**6, "buyer-usdc")
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        exchange=venue,
        exchange_members=members,
        exchange_ledger=desk,
    )
    seller_key = context.keys.issue(Role.PARTICIPANT, platform.participant.id, "seller")
    buyer_key = context.keys.issue(Role.INVESTOR, buyer.id, "buyer")

    def app() -> object:
        created = create_app(context)
        mount_dashboard(created)
        return created

    with serve(app) as url:
        yield ServedExchange(url, seller_key, buyer_key, desk, platform.clock)
    exchange.close()
    database.close()


def open_exchange_page(page: Page, served: ServedExchange, key: str) -> None:
    page.goto(f"{served.url}/#/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.get_by_role("link", name="Exchange").click()
    expect(page.locator('main[data-page="exchange"][data-loaded="true"]')).to_be_attached()
    expect(page.locator("#exchange-live")).to_have_text("● live")


def place(page: Page, side: str, price: str, quantity: str) -> None:
    page.get_by_label("Side").select_option(side)
    page.get_by_label("Price (dollars)").fill(price)
    page.get_by_label("Quantity (shares)").fill(quantity)
    page.get_by_role("button", name="Place order").click()


def test_a_member_places_and_cancels_an_order_and_sees_a_trade_live(
    served: ServedExchange, new_page: NewPage
) -> None:
    seller = new_page()
    buyer = new_page()
    open_exchange_page(seller, served, served.seller_key)
    open_exchange_page(buyer, served, served.buyer_key)
    expect(seller.locator("#exchange-status")).to_have_text("● open")

    place(seller, "sell", "101.25", "2")

    asks = seller.locator("#exchange-asks")
    expect(asks.get_by_role("row").nth(1)).to_contain_text("$101.25")
    expect(asks.get_by_role("row").nth(1)).to_contain_text("2")
    own = seller.locator("#exchange-orders")
    expect(own.get_by_role("row")).to_have_count(2)
    expect(own).to_contain_text("sell")
    expect(seller.locator('#exchange-balances tr[data-asset="AAPL"]')).to_contain_text("8 shares")
    expect(buyer.locator("#exchange-asks")).to_contain_text("$101.25")

    own.get_by_role("button", name="Cancel order 1").click()

    expect(own).to_contain_text("You have no open orders.")
    expect(seller.locator("#exchange-asks")).to_contain_text("No orders on this side.")
    expect(buyer.locator("#exchange-asks")).to_contain_text("No orders on this side.")

    place(seller, "sell", "100.5", "1.5")
    expect(buyer.locator("#exchange-asks")).to_contain_text("$100.50")
    place(buyer, "buy", "100.5", "1")

    expect(buyer.locator("#order-status")).to_contain_text("filled, 1 fill(s)")
    for page in (buyer, seller):
        trades = page.locator("#exchange-trades")
        expect(trades.get_by_role("row")).to_have_count(2)
        expect(trades).to_contain_text("$100.50")
        expect(page.locator("#exchange-asks")).to_contain_text("0.5")
    expect(buyer.locator('#exchange-balances tr[data-asset="AAPL"]')).to_contain_text("1 shares")
    expect(seller.locator('#exchange-balances tr[data-asset="USDC"]')).to_contain_text("$100.4799")
    screenshot(buyer, "exchange")


def test_a_refused_order_shows_the_problem_and_changes_nothing(
    served: ServedExchange, new_page: NewPage
) -> None:
    page = new_page()
    open_exchange_page(page, served, served.buyer_key)
    before = page.locator("#exchange-balances").text_content()

    place(page, "buy", "100.005", "1")

    expect(page.get_by_role("alert")).to_contain_text("off_tick")
    expect(page.get_by_role("alert")).to_contain_text("ticks of $0.01")
    assert page.locator("#exchange-balances").text_content() == before


def test_a_member_buys_ledger_stock_from_a_dollar_and_sells_it(
    served: ServedExchange, new_page: NewPage
) -> None:
    page = new_page()
    open_exchange_page(page, served, served.buyer_key)
    ledger = page.locator("#ledger")
    expect(ledger.locator("#ledger-stock")).to_have_text("AAPL.L")
    usdc = page.locator('#exchange-balances tr[data-asset="USDC"]')
    before = usdc.text_content()

    page.get_by_label("Dollars to spend, or shares to sell").fill("0.50")
    page.get_by_role("button", name="Send ledger order").click()

    expect(ledger.get_by_role("alert")).to_contain_text("below the 1 USD minimum")
    expect(ledger).to_contain_text("You have no ledger orders.")
    assert usdc.text_content() == before

    page.get_by_label("Dollars to spend, or shares to sell").fill("25")
    page.get_by_role("button", name="Send ledger order").click()

    expect(page.locator("#ledger-status")).to_contain_text("requested")
    expect(usdc).not_to_have_text(before or "")
    served.settle_ledger()
    page.reload()
    expect(page.locator('main[data-page="exchange"][data-loaded="true"]')).to_be_attached()
    bought = ledger.locator("tr[data-ledger-order]")
    expect(bought).to_have_count(1)
    expect(bought).to_contain_text("done")
    held = page.locator('#exchange-balances tr[data-asset="AAPL.L"]')
    expect(held).to_contain_text("shares")
    cells = held.locator("td").first.text_content() or ""
    owned = cells.removesuffix(" shares")
    assert owned == bought.locator("td").nth(4).text_content()

    page.get_by_label("Buy or sell").select_option("sell")
    page.get_by_label("Dollars to spend, or shares to sell").fill(owned)
    page.get_by_role("button", name="Send ledger order").click()

    expect(ledger.locator("tr[data-ledger-order]")).to_have_count(2)
    served.settle_ledger()
    page.reload()
    expect(ledger.locator("tr[data-ledger-order]").first).to_contain_text("done")
    expect(page.locator('#exchange-balances tr[data-asset="AAPL.L"] td').first).to_have_text("0 shares")
    screenshot(page, "exchange-ledger")
