"""The derivatives pages in a real headless Chromium, against the real API over the real perpetuals
contracts on the in-process chain, the real CFD venue and exchange: an investor opens and closes a
perpetual position, moves USDC to its CFD account, opens and closes a CFD and moves it back, all from
the page, and mints and burns a synthetic; refusals show the problem's title and detail."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import serve
from tests.support.dashboard import screenshot
from tests.support.derivatives_platform import Derivatives, open_derivatives

from equitoken.api import create_app
from equitoken.dashboard import mount_dashboard
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url

pytestmark = [pytest.mark.browser]

NewPage = Callable[[], Page]


@dataclass
class Served:
    url: str
    world: Derivatives


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("derivatives-pages")
    database = Database(sqlite_url(tmp / "platform.sqlite"))
    database.migrate()
    world = open_derivatives(database, tmp, prices, calendar)

    def app() -> object:
        created = create_app(world.context)
        mount_dashboard(created)
        return created

    with serve(app) as url:
        yield Served(url, world)
    database.close()


def log_in(page: Page, served: Served, key: str) -> None:
    page.goto(f"{served.url}/#/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_an_investor_opens_and_closes_a_perpetual_from_the_page(served: Served, new_page: NewPage) -> None:
    page = new_page()
    log_in(page, served, served.world.trader_key)
    page.get_by_role("link", name="Perpetuals").click()
    expect(page.locator('main[data-page="perps"][data-loaded="true"]')).to_be_attached()
    expect(page.locator('#perp-markets tr[data-ticker="AAPL"] [data-state="open"]')).to_be_visible()
    expect(page.locator("#perp-positions")).to_contain_text("You have no perpetual positions.")

    # A leverage beyond the market's maximum is refused with the problem's title and detail.
    page.get_by_label("Action").select_option("open")
    page.get_by_label("Market").select_option("AAPL")
    page.get_by_label("Side").select_option("long")
    page.get_by_label("Margin (USDC)").fill("100")
    page.get_by_label("Leverage", exact=True).fill("50")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".problem .problem-title")).to_have_text("Unprocessable Entity")
    expect(page.locator(".problem")).to_contain_text("1x to 10x")

    page.get_by_label("Margin (USDC)").fill("100")
    page.get_by_label("Leverage", exact=True).fill("5")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".form-status")).to_contain_text("Opened long position")
    [position] = served.world.perps.reader.positions(served.world.platform.wallet)
    row = page.locator(f'#perp-positions tr[data-position-id="{position.id}"]')
    expect(row.locator('[data-field="side"]')).to_have_text("long")
    expect(row.locator('[data-field="funding"]')).to_have_text("$0.00")
    assert position.liquidation_price is not None
    expect(row.locator('[data-field="liquidation-price"]')).to_contain_text("$")
    screenshot(page, "perps")

    page.get_by_label("Action").select_option("close")
    page.get_by_label("Position").fill(str(position.id))
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".form-status")).to_contain_text(f"Closed position {position.id} in AAPL")
    expect(page.locator("#perp-positions")).to_contain_text("You have no perpetual positions.")
    assert served.world.perps.reader.positions(served.world.platform.wallet) == []


def test_an_investor_funds_its_cfd_account_and_trades_a_cfd_from_the_page(
    served: Served, new_page: NewPage
) -> None:
    served.world.price_cfds()
    page = new_page()
    log_in(page, served, served.world.trader_key)
    page.get_by_role("link", name="CFDs").click()
    expect(page.locator('main[data-page="cfd"][data-loaded="true"]')).to_be_attached()
    expect(page.locator('#cfd-instruments tr[data-symbol="AAPL"] [data-state="open"]')).to_be_visible()
    expect(page.locator('#cfd-account [data-field="exchange"]')).to_have_text("$10,000.00")

    page.get_by_label("Action").select_option("to-cfd")
    page.get_by_label("Amount (USDC)").fill("1000")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Moved $1,000.00 to your CFD account (credited)")
    expect(page.locator('#cfd-account [data-field="balance"]')).to_have_text("$1,000.00")
    expect(page.locator('#cfd-account [data-field="exchange"]')).to_have_text("$9,000.00")

    page.get_by_label("Action").select_option("open")
    page.get_by_label("Instrument").select_option("AAPL")
    page.get_by_label("Side").select_option("short")
    page.get_by_label("Size (shares)").fill("2")
    page.get_by_label("Leverage (1:N)").fill("5")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Opened CFD")
    [position] = served.world.cfd.positions(served.world.trader_account)
    row = page.locator(f'#cfd-positions tr[data-position-id="{position.position_id}"]')
    expect(row.locator('[data-field="side"]')).to_have_text("short")
    expect(row.locator('[data-field="size"]')).to_have_text("2")
    screenshot(page, "cfd")

    page.get_by_label("Action").select_option("close")
    page.get_by_label("Position").fill(str(position.position_id))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text(f"Closed 2 AAPL of CFD {position.position_id}")
    expect(page.locator("#cfd-positions")).to_contain_text("You have no open CFD.")

    # More than the account holds is refused; then the rest goes back to the exchange.
    page.get_by_label("Action").select_option("from-cfd")
    page.get_by_label("Amount (USDC)").fill("5000")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".problem")).to_contain_text("may release at most")
    page.get_by_label("Amount (USDC)").fill("900")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Moved $900.00 to your exchange account (credited)")
    expect(page.locator('#cfd-account [data-field="exchange"]')).to_have_text("$9,900.00")


def test_an_operator_sees_the_markets_without_a_form(served: Served, new_page: NewPage) -> None:
    page = new_page()
    log_in(page, served, served.world.operator_key)

    page.get_by_role("link", name="Perpetuals").click()
    expect(page.locator('main[data-page="perps"][data-loaded="true"]')).to_be_attached()
    expect(page.locator('#perp-vault [data-field="assets"]')).to_contain_text("$")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    page.get_by_role("link", name="CFDs").click()
    expect(page.locator('main[data-page="cfd"][data-loaded="true"]')).to_be_attached()
    expect(page.locator("#cfd-instruments tbody tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Send")).to_have_count(0)


def test_an_investor_mints_and_burns_a_synthetic_from_the_page(served: Served, new_page: NewPage) -> None:
    page = new_page()
    log_in(page, served, served.world.trader_key)
    page.get_by_role("link", name="Synthetics").click()
    expect(page.locator('main[data-page="synths"][data-loaded="true"]')).to_be_attached()
    expect(page.locator('#synth-vaults tr[data-ticker="AAPL"] [data-state="open"]')).to_be_visible()
    expect(page.locator("#synth-positions")).to_contain_text("You have no synthetic positions.")

    page.get_by_label("Action").select_option("open")
    page.get_by_label("Synthetic", exact=True).select_option("AAPL")
    page.get_by_label("Collateral (USDC)").fill("3000")
    page.get_by_label("Synthetics", exact=True).fill("5")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("locked $3,000.00, minted 5 sAAPL")
    [position] = served.world.synths.reader.positions("AAPL", served.world.platform.wallet)
    row = page.locator(f'#synth-positions tr[data-position-id="{position.id}"]')
    expect(row.locator('[data-field="debt"]')).to_have_text("5")
    expect(row.locator('[data-field="liquidation-price"]')).to_have_text("$400.00")  # 3000 / 5 / 150%

    page.get_by_label("Action").select_option("mint")
    page.get_by_label("Position").fill(str(position.id))
    page.get_by_label("Synthetics", exact=True).fill("100")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".problem")).to_contain_text("minimum")
    page.get_by_label("Synthetics", exact=True).fill("1")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Minted 1 sAAPL")
    expect(row.locator('[data-field="debt"]')).to_have_text("6")
    screenshot(page, "synths")

    page.get_by_label("Action").select_option("burn")
    page.get_by_label("Position").fill(str(position.id))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Burned 6 sAAPL")
    expect(row.locator('[data-field="debt"]')).to_have_text("0")

    page.get_by_label("Action").select_option("close")
    page.get_by_label("Position").fill(str(position.id))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text(f"Closed position {position.id}: $3,000.00 back")
    expect(page.locator("#synth-positions")).to_contain_text("You have no synthetic positions.")
