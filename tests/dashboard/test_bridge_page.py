"""The bridge page in a real headless Chromium, against the real API over two anvil nodes, Solana,
attester processes and the relayer: an investor sends tokens from ethereum to its own wallet on base
(the receiver prefilled) and watches the transfer reach minted; the operator's reserves page shows
each chain's supply and what is in flight to it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import serve
from tests.support.bridge import BASE, ETHEREUM, BridgeWorld, bridge_world, mint_through_workflow
from tests.support.bridge_desk import make_desk
from tests.support.dashboard import screenshot

from equitoken.api import ApiContext, Role, create_app
from equitoken.dashboard import mount_dashboard
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

NewPage = Callable[[], Page]


@dataclass
class Served:
    url: str
    world: BridgeWorld
    investor_key: str
    operator_key: str


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Served]:
    with bridge_world(tmp_path_factory.mktemp("bridge-page"), prices, calendar) as world:
        p = world.platform
        mint_through_workflow(p, world.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        context = ApiContext(
            issuer=world.issuer,
            calendar=calendar,
            prices=prices,
            broker=p.broker,
            clock=p.clock,
            database=world.database,
            bridge=make_desk(world),
        )
        investor = context.keys.issue(Role.PARTICIPANT, p.participant.id, "jane street")
        operator = context.keys.issue(Role.OPERATOR, None, "ops desk")

        def app() -> object:
            created = create_app(context)
            mount_dashboard(created)
            return created

        with serve(app) as url:
            yield Served(url, world, investor, operator)


def log_in(page: Page, served: Served, key: str) -> None:
    page.goto(f"{served.url}/#/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_an_investor_bridges_to_base_and_the_reserves_show_supply_per_chain(
    served: Served, new_page: NewPage
) -> None:
    world = served.world
    page = new_page()
    log_in(page, served, served.investor_key)
    page.get_by_role("link", name="Bridge").click()
    expect(page.locator('main[data-page="bridge"][data-loaded="true"]')).to_be_attached()
    expect(page.locator("#bridge-transfers")).to_contain_text("No bridge transfers yet.")
    page.get_by_label("Token", exact=True).select_option("AAPL")
    page.get_by_label("From chain").select_option(str(ETHEREUM))
    page.get_by_label("To chain").select_option(str(BASE))
    expect(page.get_by_label("Receiver")).to_have_value(world.wallet)
    page.get_by_label("Amount (tokens)").fill("2.5")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".form-status")).to_contain_text("Burned 2.5 AAPL on Ethereum")

    world.relay()
    row = page.locator("#bridge-transfers tr[data-transfer-id]")
    expect(row.locator('[data-state="minted"]')).to_be_visible()
    expect(row.locator('[data-step="attested"]')).to_be_visible()
    expect(row.locator('[data-field="amount"]')).to_have_text("2.5")
    screenshot(page, "bridge")

    operator = new_page()
    log_in(operator, served, served.operator_key)
    operator.goto(f"{served.url}/#/reserves")
    base = operator.locator(f'#bridge-supply tr[data-ticker="AAPL"][data-chain="{BASE}"]')
    expect(base.locator('[data-field="supply"]')).to_have_text("2.5")
    expect(base.locator('[data-field="in-flight"]')).to_have_text("0")
    screenshot(operator, "reserves-bridge")
