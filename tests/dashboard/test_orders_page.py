"""The orders page in a real headless Chromium against the real API, anvil, the paper broker and the
order processor's operator: a retail investor buys the restricted HOODx (a tracker token it cannot move
itself) from the portal, sees the order filled, then sells it back; a low limit order is cancelled and
refunded."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import Dashboard
from tests.dashboard.test_pages import loaded, log_in
from tests.support.dashboard import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

NewPage = Callable[[], Page]
RETAIL_ACCOUNT = 12


@pytest.fixture(scope="module")
def retail_wallet(dashboard: Dashboard) -> str:
    """Give the retail investor a wallet whose key the platform holds, funded with USDC."""
    platform = dashboard.platform
    wallet = platform.chain.accounts[RETAIL_ACCOUNT]
    with dashboard.lock:
        platform.issuer.investors.bind_wallet(dashboard.investor.id, wallet)
        platform.usdc.mint.transact(wallet, 5_000 * 10**6, sender=platform.onchain.roles.admin)
    return wallet


def _order_row(page: Page, order_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#processor-orders tr[data-order-id="{order_id}"]')


def test_a_retail_investor_buys_and_sells_a_tracker_token_from_the_portal(
    dashboard: Dashboard, retail_wallet: str, new_page: NewPage
) -> None:
    page = new_page()
    log_in(page, dashboard, dashboard.keys.investor)
    page.get_by_role("link", name="Orders").click()
    loaded(page, "orders")
    expect(page.locator("#processor-orders")).to_contain_text("No orders yet.")
    expect(page.locator("#orders-fees")).to_contain_text("bps")

    page.get_by_label("Stock").select_option("HOOD")
    page.get_by_label("Side").select_option("buy")
    page.get_by_label("Order type").select_option("market")
    page.get_by_label("Spend (USD)").fill("300")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("status")).to_contain_text("placed")
    bought = _order_row(page, "1")
    expect(bought.locator('[data-field="state"] [data-state="filled"]')).to_be_visible(timeout=60_000)
    tokens = bought.locator('[data-field="filled"]').inner_text()
    assert float(tokens.replace(",", "")) > 0
    screenshot(page, "orders-filled")

    page.get_by_label("Side").select_option("sell")
    page.get_by_label("Quantity (shares)").fill(tokens.replace(",", ""))
    page.get_by_role("button", name="Place order").click()
    expect(_order_row(page, "2").locator('[data-state="filled"]')).to_be_visible(timeout=60_000)
    assert int(dashboard.platform.token("HOOD").balanceOf(retail_wallet)) == 0


def test_an_investor_cancels_an_order_that_has_not_filled(
    dashboard: Dashboard, retail_wallet: str, new_page: NewPage
) -> None:
    usdc_before = int(dashboard.platform.usdc.balanceOf(retail_wallet))
    page = new_page()
    log_in(page, dashboard, dashboard.keys.investor)
    page.get_by_role("link", name="Orders").click()
    loaded(page, "orders")
    page.get_by_label("Stock").select_option("AAPL")
    page.get_by_label("Side").select_option("buy")
    page.get_by_label("Order type").select_option("limit")
    page.get_by_label("Time in force").select_option("gtc")
    page.get_by_label("Quantity (shares)").fill("1")
    page.get_by_label("Limit price (USD per share)").fill("1")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("status")).to_contain_text("placed")
    row = page.locator("#processor-orders tr").filter(has_text="limit · gtc").last
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator('[data-state="cancelled"]')).to_be_visible(timeout=60_000)
    assert int(dashboard.platform.usdc.balanceOf(retail_wallet)) == usdc_before
