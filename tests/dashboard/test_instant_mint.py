"""The orders page's instant mint in a real headless Chromium, against the real API over anvil: with
the issuer's inventory stocked, a participant mints AAPLx at once with an attestation quote and sees the
tokens in its wallet; a mint beyond the inventory shows the desk's refusal and moves nothing."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import serve
from tests.support.attestation_desk import Desk, build_desk
from tests.support.order_processor import processor_world
from tests.support.platform import ACCOUNTS, GENESIS, IN_SESSION

from equitoken.api import ApiContext, Role, create_app
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.dashboard import mount_dashboard
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database, sqlite_url

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

NewPage = Callable[[], Page]


@dataclass
class Served:
    url: str
    desk: Desk
    participant_key: str


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("instant-mint")
    with (
        AnvilNode(accounts=ACCOUNTS, log_file=tmp / "anvil.log", timestamp=GENESIS) as node,
        node.chain() as chain,
    ):
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        database = Database(sqlite_url(tmp / "issuer.sqlite"))
        database.migrate()
        desk = build_desk(chain, database, prices, calendar, tmp, start=IN_SESSION)
        assert desk.attestation.restock("AAPL") is not None
        desk.run()
        orders = processor_world(desk.platform, prices)
        p = desk.platform
        context = ApiContext(
            issuer=p.issuer,
            calendar=calendar,
            prices=prices,
            broker=p.broker,
            clock=p.clock,
            database=database,
            processor=ProcessorDesk(orders.quoter, orders.operator),
            attestation=desk.attestation,
        )
        key = context.keys.issue(Role.PARTICIPANT, p.participant.id, "jane street")

        def app() -> object:
            created = create_app(context)
            mount_dashboard(created)
            return created

        with serve(app) as url:
            yield Served(url, desk, key)
        database.close()


def test_a_participant_mints_at_once_from_the_orders_page(served: Served, new_page: NewPage) -> None:
    page = new_page()
    page.goto(f"{served.url}/#/login")
    page.get_by_label("API key").fill(served.participant_key)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Orders").click()
    expect(page.locator('main[data-page="orders"][data-loaded="true"]')).to_be_attached()
    expect(page.locator("#instant-hours")).to_contain_text("Open now")

    page.get_by_label("Token", exact=True).select_option("AAPL")
    page.get_by_label("Mint or redeem", exact=True).select_option("buy")
    page.get_by_label("Shares", exact=True).fill("500")
    page.get_by_role("button", name="Mint or redeem now").click()
    expect(page.locator("#instant-status")).to_contain_text("inventory_exhausted")
    wallet = served.desk.platform.wallet
    assert int(served.desk.platform.token("AAPL").balanceOf(wallet)) == 0

    page.get_by_label("Shares", exact=True).fill("1.5")
    page.get_by_role("button", name="Mint or redeem now").click()
    expect(page.locator("#instant-status")).to_contain_text("Minted 1.5 AAPL")
    assert int(served.desk.platform.token("AAPL").balanceOf(wallet)) == 150_000_000
