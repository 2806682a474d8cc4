"""The lending pages in a real headless Chromium, against the real API over the real lending contracts on
the in-process chain: the markets with their LTVs and the adapter's state, and an investor depositing
collateral and borrowing from the page, then seeing the position's health factor."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import serve
from tests.support.dashboard import screenshot
from tests.support.lending_platform import open_lending
from tests.support.platform import ACCOUNTS, GENESIS, Platform, build_platform

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.dashboard import mount_dashboard
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.lending.actions import LendingClient

pytestmark = [pytest.mark.browser]

NewPage = Callable[[], Page]


@dataclass
class ServedLending:
    url: str
    platform: Platform
    lending: LendingClient
    borrower_key: str
    operator_key: str


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[ServedLending]:
    tmp = tmp_path_factory.mktemp("lending-pages")
    database = Database(sqlite_url(tmp / "platform.sqlite"))
    database.migrate()
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    platform = build_platform(chain, database, prices, calendar, tmp)
    venue = open_lending(platform, prices)
    context = ApiContext(
        issuer=platform.issuer,
        calendar=calendar,
        prices=prices,
        broker=platform.broker,
        clock=platform.clock,
        database=database,
        lending=venue.client,
    )
    borrower_key = context.keys.issue(Role.PARTICIPANT, platform.participant.id, "borrower")
    operator_key = context.keys.issue(Role.OPERATOR, None, "ops")

    def app() -> object:
        created = create_app(context)
        mount_dashboard(created)
        return created

    with serve(app) as url:
        yield ServedLending(url, platform, venue.client, borrower_key, operator_key)
    database.close()


def log_in(page: Page, served: ServedLending, key: str) -> None:
    page.goto(f"{served.url}/#/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_the_markets_page_shows_each_market_with_its_ltvs_and_state(
    served: ServedLending, new_page: NewPage
) -> None:
    page = new_page()
    log_in(page, served, served.operator_key)

    page.get_by_role("link", name="Lending").click()

    expect(page.locator('main[data-page="lending"][data-loaded="true"]')).to_be_attached()
    rows = page.locator("#lending-markets tbody tr")
    expect(rows).to_have_count(2)
    aapl, mstr = page.locator('tr[data-ticker="AAPL"]'), page.locator('tr[data-ticker="MSTR"]')
    expect(aapl.locator('[data-field="max-ltv"]')).to_have_text("40%")
    expect(aapl.locator('[data-field="lltv"]')).to_have_text("50%")
    expect(mstr.locator('[data-field="max-ltv"]')).to_have_text("30%")
    expect(mstr.locator('[data-field="lltv"]')).to_have_text("40%")
    for row in (aapl, mstr):
        expect(row.locator('[data-field="state"] [data-state="open"]')).to_have_text("open")
        expect(row.locator('[data-field="supplied"]')).to_have_text("$50,000.00")
        expect(row.locator('[data-field="utilisation"]')).to_have_text("0.00%")
    # The operator has no positions: the investor page is not in its menu.
    expect(page.get_by_role("link", name="Borrow & lend")).to_have_count(0)
    screenshot(page, "lending-markets")


def test_an_investor_deposits_collateral_borrows_and_sees_the_health_factor(
    served: ServedLending, new_page: NewPage
) -> None:
    page = new_page()
    log_in(page, served, served.borrower_key)
    page.get_by_role("link", name="Borrow & lend").click()
    expect(page.locator('main[data-page="lending-positions"][data-loaded="true"]')).to_be_attached()
    expect(page.locator("#lending-positions")).to_contain_text("You have no lending positions yet.")

    page.get_by_label("Action").select_option("supply-collateral")
    page.get_by_label("Market").select_option("AAPL")
    page.get_by_label("Amount").fill("2")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Deposited 2 AAPL tokens in the AAPL market")

    page.get_by_label("Action").select_option("borrow")
    page.get_by_label("Amount").fill("150")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".form-status")).to_contain_text("Borrowed $150.00 in the AAPL market")
    row = page.locator('#lending-positions tr[data-ticker="AAPL"]')
    expect(row.locator('[data-field="debt"]')).to_have_text("$150.00")
    expect(row.locator('[data-field="collateral"]')).to_have_text("2")
    [position] = served.lending.reader.positions(served.platform.wallet)
    assert position.health_factor is not None
    shown = position.health_factor.quantize(Decimal("0.01"), "ROUND_DOWN")
    expect(row.locator('[data-field="health"]')).to_have_text(str(shown))
    expect(row.locator('[data-field="liquidation-price"]')).to_have_text("$150.00")  # 150 / (2 x 50%)

    # Borrowing beyond the limit is refused on the page, and nothing changes.
    page.get_by_label("Amount").fill("1000")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".problem")).to_contain_text("beyond its borrow limit")
    expect(row.locator('[data-field="debt"]')).to_have_text("$150.00")
    screenshot(page, "lending-positions")
