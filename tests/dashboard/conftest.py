"""Fixtures for the dashboard: a served platform per module, and a real headless Chromium."""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.dashboard.server import Dashboard, running_dashboard
from tests.support import faketime
from tests.support.dashboard import CHROMIUM

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource


@pytest.fixture(scope="module")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard"), prices, calendar) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) for the browser tests")
    # The browser is only the client: it runs on real time even when CI moves the platform's clock
    # (Playwright's driver and Chromium hang under libfaketime).
    with faketime.children_on_real_time():
        manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
    finally:
        manager.stop()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Open pages in fresh browser contexts (separate sessionStorage: separate logins)."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
