"""The dashboard in a real headless Chromium against the real API, issuer, anvil and paper broker."""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect
from tests.dashboard.server import Dashboard
from tests.support.dashboard import screenshot

from equitoken.issuer.custody import CustodyLedger, Line, custody_account
from equitoken.model.quantities import Shares
from equitoken.proofs.reserves_report import SignedReport
from equitoken.simulation.run import simulate
from equitoken.simulation.week import SimulationParameters
from equitoken.store.simulation_runs import SimulationRuns

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

NewPage = Callable[[], Page]
SETTLE_SECONDS = 60


def api(dashboard: Dashboard, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{dashboard.url}/api/v1", headers={"X-API-Key": key}, timeout=30)


def log_in(page: Page, dashboard: Dashboard, key: str) -> None:
    page.goto(f"{dashboard.url}/#/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def loaded(page: Page, page_id: str) -> None:
    """Wait until the page `page_id` has shown its data once."""
    expect(page.locator(f'main[data-page="{page_id}"][data-loaded="true"]')).to_be_attached()


def mint(client: httpx.Client, wallet: str, ticker: str, quantity: str) -> dict[str, Any]:
    response = client.post(
        "/requests",
        json={"kind": "mint", "ticker": ticker, "quantity": quantity, "wallet": wallet},
        headers={"Idempotency-Key": f"test-{uuid.uuid4()}"},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def settled(client: httpx.Client, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        request: dict[str, Any] = client.get(f"/requests/{request_id}").json()
        if request["state"] in {"completed", "cancelled", "expired", "failed", "held"}:
            return request
        time.sleep(0.2)
    raise AssertionError(f"request {request_id} did not settle in {SETTLE_SECONDS} s")


def reserve(client: httpx.Client, ticker: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = client.get("/reserves", params={"limit": 200}).json()["items"]
    return next(r for r in items if r["ticker"] == ticker)


def test_a_mint_on_solana_through_the_api_shows_on_the_reserves_page(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    participant, operator = (
        api(dashboard, dashboard.keys.participant),
        api(dashboard, dashboard.keys.operator),
    )
    platform = dashboard.platform
    assert platform.solana is not None
    response = participant.post(
        "/requests",
        json={
            "kind": "mint",
            "ticker": "AAPL",
            "quantity": "2",
            "chain_id": platform.solana.chain_id,
            "wallet": platform.solana_wallet,
            "payment_wallet": platform.wallet,
        },
        headers={"Idempotency-Key": f"test-{uuid.uuid4()}"},
    )
    assert response.status_code == 201, response.text
    assert settled(participant, response.json()["id"])["state"] == "completed"
    on_solana = next(
        c for c in reserve(operator, "AAPL")["chains"] if c["chain_id"] == platform.solana.chain_id
    )

    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    loaded(page, "reserves")
    row = page.locator(f'tr.chain[data-ticker="AAPL"][data-chain="{platform.solana.chain_id}"]')
    expect(row).to_contain_text(f"Solana (chain {platform.solana.chain_id})")
    expect(row).to_contain_text(on_solana["outstanding_shares"])
    screenshot(page, "reserves-solana")


def test_a_bad_key_is_refused_with_an_error_and_no_session(dashboard: Dashboard, new_page: NewPage) -> None:
    page = new_page()
    page.goto(dashboard.url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    page.get_by_label("API key").fill("eqt_not-a-key")
    page.get_by_role("button", name="Log in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That API key was not accepted")
    expect(alert).to_contain_text("HTTP 401")
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot(page, "login-refused")


def test_a_participant_mints_through_the_form_and_the_operator_sees_the_reserves(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    operator = api(dashboard, dashboard.keys.operator)
    before = reserve(operator, "AAPL")
    participant = new_page()
    log_in(participant, dashboard, dashboard.keys.participant)
    loaded(participant, "portfolio")

    participant.get_by_role("link", name="Mint or redeem").click()
    loaded(participant, "new-request")
    participant.get_by_label("Mint (buy shares, receive tokens)").check()
    participant.get_by_label("Instrument").select_option("AAPL")
    participant.get_by_label("Quantity (shares)").fill("2")
    expect(participant.get_by_label("Wallet")).to_have_value(dashboard.platform.wallet)
    expect(participant.locator(".quote")).to_contain_text("Last price $")
    screenshot(participant, "request-form")
    participant.get_by_role("button", name="Submit request").click()

    expect(participant).to_have_url(re.compile(r"#/requests/req-"))
    request_id = participant.url.rsplit("/", 1)[1]
    expect(participant.locator("#request-state")).to_have_text("completed", timeout=SETTLE_SECONDS * 1000)
    expect(participant.locator("table.events")).to_contain_text("completed")
    screenshot(participant, "request")

    participant.get_by_role("link", name="Portfolio").click()
    loaded(participant, "portfolio")
    # The AAPL minted on the EVM chain (an earlier test of the module may have minted on Solana too).
    aapl = participant.locator(f'tr[data-ticker="AAPL"][data-chain="{dashboard.platform.onchain.chain_id}"]')
    expect(aapl.locator('[data-field="shares"]')).to_have_text("2")
    expect(participant.locator("#portfolio-total")).to_contain_text("$")
    screenshot(participant, "portfolio")

    participant.get_by_role("link", name="Requests").click()
    loaded(participant, "requests")
    finished = participant.locator(f'#requests-history tr[data-request="{request_id}"]')
    expect(finished).to_contain_text("completed")
    screenshot(participant, "requests")

    after = reserve(operator, "AAPL")
    assert Shares.parse(after["custody_shares"]) == Shares.parse(before["custody_shares"]) + Shares.parse("2")
    assert after["backed"]
    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    loaded(page, "reserves")
    row = page.locator('tr.instrument[data-ticker="AAPL"]')
    expect(row.locator('[data-field="custody"]')).to_have_text(after["custody_shares"])
    expect(row.locator('[data-field="outstanding"]')).to_have_text(after["outstanding_shares"])
    expect(row.locator('[data-field="gap"]')).to_have_text(after["gap_shares"])
    expect(row.locator(".gap-short")).to_have_count(0)
    expect(row).to_contain_text("backed")
    expect(page.locator(".status-line")).to_contain_text("fully backed")
    screenshot(page, "reserves")

    page.get_by_role("link", name="Requests").click()
    loaded(page, "requests")
    expect(page.locator(f'tr[data-request="{request_id}"]')).to_contain_text(
        dashboard.platform.participant.id
    )
    screenshot(page, "requests-operator")


def test_the_operator_pages_show_market_history_and_corporate_actions(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    participant = api(dashboard, dashboard.keys.participant)
    settled(participant, mint(participant, dashboard.platform.wallet, "AAPL", "1")["id"])
    operator = api(dashboard, dashboard.keys.operator)
    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    loaded(page, "reserves")

    page.get_by_role("link", name="Market").click()
    loaded(page, "market")
    market = operator.get("/market").json()
    phase = "holiday" if market["is_holiday"] else market["phase"]
    expect(page.locator("#market-phase .badge")).to_have_attribute("data-phase", phase)
    expect(page.locator("#broker-connection")).to_have_text("✓ connected")
    screenshot(page, "market")

    page.get_by_role("link", name="Over time").click()
    loaded(page, "history")
    expect(page.get_by_label("Instrument")).to_have_value("AAPL")
    expect(page.locator("svg.chart path.series.custody")).to_have_count(1)
    page.get_by_text("The data as a table").click()
    last = page.locator("details table tbody tr").last
    latest = operator.get("/reserves/history", params={"ticker": "AAPL", "limit": 200}).json()["items"][-1]
    expect(last.locator("td").nth(1)).to_have_text(latest["custody_shares"])
    screenshot(page, "reserves-history")

    # This platform runs neither corporate actions nor the exchange: the menu leaves their pages out,
    # and a page reached by its address says what is missing.
    paths = operator.get("/openapi.json").json()["paths"]
    assert "/api/v1/corporate-actions" not in paths
    assert "/api/v1/exchange/markets" not in paths
    expect(page.get_by_role("link", name="Market")).to_be_visible()
    expect(page.get_by_role("link", name="Corporate actions")).to_have_count(0)
    expect(page.get_by_role("link", name="Exchange")).to_have_count(0)
    page.goto(f"{dashboard.url}/#/corporate-actions")
    loaded(page, "corporate-actions")
    expect(page.get_by_text("This platform does not run corporate actions.")).to_be_visible()
    screenshot(page, "corporate-actions")


def test_a_form_refused_by_the_api_shows_the_problem_and_creates_nothing(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    client = api(dashboard, dashboard.keys.participant)
    before = client.get("/requests", params={"limit": 200}).json()["items"]
    page = new_page()
    log_in(page, dashboard, dashboard.keys.participant)
    page.goto(f"{dashboard.url}/#/requests/new")
    loaded(page, "new-request")

    page.get_by_label("Quantity (shares)").fill("1.5.2")
    page.get_by_role("button", name="Submit request").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("quantity")
    expect(alert).to_contain_text("HTTP 422")
    expect(page).to_have_url(re.compile(r"#/requests/new$"))
    screenshot(page, "request-form-refused")
    assert client.get("/requests", params={"limit": 200}).json()["items"] == before


def test_an_investor_never_sees_another_investors_requests(dashboard: Dashboard, new_page: NewPage) -> None:
    other = api(dashboard, dashboard.keys.other_participant)
    theirs = mint(other, dashboard.platform.other_wallet, "AAPL", "1")
    settled(other, theirs["id"])

    participant = new_page()
    log_in(participant, dashboard, dashboard.keys.participant)
    participant.goto(f"{dashboard.url}/#/requests")
    loaded(participant, "requests")
    expect(participant.locator(f'tr[data-request="{theirs["id"]}"]')).to_have_count(0)

    investor = new_page()
    log_in(investor, dashboard, dashboard.keys.investor)
    loaded(investor, "portfolio")
    expect(investor.get_by_role("link", name="Mint or redeem")).to_have_count(0)
    expect(investor.get_by_text("You hold no tokens yet.")).to_be_visible()
    screenshot(investor, "portfolio-investor")
    investor.get_by_role("link", name="Requests").click()
    loaded(investor, "requests")
    expect(investor.locator("tr[data-request]")).to_have_count(0)
    screenshot(investor, "requests-investor")

    investor.goto(f"{dashboard.url}/#/requests/{theirs['id']}")
    expect(investor.get_by_role("alert")).to_contain_text("HTTP 404")
    expect(investor.locator("#request-state")).to_have_count(0)
    screenshot(investor, "request-not-found")


@contextmanager
def custody_shortfall(dashboard: Dashboard, ticker: str, shares: Shares) -> Iterator[None]:
    """Record that the custodian holds `shares` fewer than the ledger says, and take it back after.

    No API path lets an operator leave custody below supply, so the shortfall is posted to the real
    custody ledger directly (balanced against a `shortfall:` account), as a custodian's statement would.
    """
    custody, shortfall = custody_account(ticker), f"shortfall:{ticker}"
    move(dashboard, ticker, shares, custody, shortfall, "custodian statement short")
    try:
        yield
    finally:
        move(dashboard, ticker, shares, shortfall, custody, "custodian statement corrected")


def move(dashboard: Dashboard, ticker: str, shares: Shares, source: str, target: str, memo: str) -> None:
    """Post a balanced ledger entry moving `shares` of `ticker` from `source` to `target`."""
    lines = [Line(source, ticker, -shares.units), Line(target, ticker, shares.units)]
    with dashboard.lock, dashboard.platform.issuer.db.transaction() as session:
        at = dashboard.platform.clock.now()
        CustodyLedger().post(session, f"test-{uuid.uuid4()}", memo, lines, at=at)


def test_custody_below_outstanding_shows_the_gap_in_red(dashboard: Dashboard, new_page: NewPage) -> None:
    participant = api(dashboard, dashboard.keys.participant)
    assert settled(participant, mint(participant, dashboard.platform.wallet, "AAPL", "1")["id"])["state"] == (
        "completed"
    )
    operator = api(dashboard, dashboard.keys.operator)
    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    loaded(page, "reserves")

    with custody_shortfall(dashboard, "AAPL", Shares.parse("0.5")):
        short = reserve(operator, "AAPL")
        assert not short["backed"]
        assert short["gap_shares"] == "-0.5"
        row = page.locator('tr.instrument[data-ticker="AAPL"]')
        gap = row.locator('[data-field="gap"]')
        expect(gap).to_have_text("-0.5")
        expect(gap).to_have_class(re.compile(r"\bgap-short\b"))
        expect(gap).to_have_css("color", "rgb(179, 18, 27)")
        expect(row).to_contain_text("under-backed")
        expect(page.get_by_role("alert")).to_contain_text("Under-backed: AAPL")
        screenshot(page, "reserves-gap")

    expect(page.locator('tr.instrument[data-ticker="AAPL"] .gap-short')).to_have_count(0)
    assert reserve(operator, "AAPL")["backed"]


def test_a_retried_submission_reuses_its_idempotency_key_and_creates_one_request(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    client = api(dashboard, dashboard.keys.participant)
    before = len(client.get("/requests", params={"limit": 200}).json()["items"])
    page = new_page()
    log_in(page, dashboard, dashboard.keys.participant)
    page.goto(f"{dashboard.url}/#/requests/new")
    loaded(page, "new-request")
    sent_keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        # The server accepts the request, but its answer never reaches the browser.
        sent_keys.append(route.request.headers["idempotency-key"])
        answer = route.fetch()
        if len(sent_keys) == 1:
            assert answer.status == 201
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    page.route("**/api/v1/requests", lose_the_first_answer)
    page.get_by_label("Quantity (shares)").fill("0.5")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("alert")).to_contain_text("The API cannot be reached")
    page.get_by_role("button", name="Submit request").click()

    expect(page).to_have_url(re.compile(r"#/requests/req-"))
    assert len(sent_keys) == 2
    assert sent_keys[0] == sent_keys[1]
    assert len(client.get("/requests", params={"limit": 200}).json()["items"]) == before + 1
    settled(client, page.url.rsplit("/", 1)[1])


def test_amounts_add_up_exactly_in_the_browser(dashboard: Dashboard, new_page: NewPage) -> None:
    page = new_page()
    page.goto(dashboard.url)

    results = page.evaluate(
        """async () => {
            const decimal = await import("/js/decimal.js");
            const format = await import("/js/format.js");
            const refused = (f) => { try { f(); return null; } catch (e) { return e.constructor.name; } };
            return {
                sum: decimal.sum(["0.1", "0.2", "1234567.000001"], 6),
                negative: decimal.sum(["1", "-2.5"], 6),
                usd: format.usd("1234567.5"),
                shares: format.shares("1000.120000000"),
                price: format.price("277.55210071"),
                too_precise: refused(() => decimal.toUnits("0.0000001", 6)),
                not_a_number: refused(() => decimal.toUnits("1e3", 6)),
            };
        }"""
    )

    assert results == {
        "sum": "1234567.300001",
        "negative": "-1.5",
        "usd": "$1,234,567.50",
        "shares": "1,000.12",
        "price": "$277.55210071",
        "too_precise": "RangeError",
        "not_a_number": "RangeError",
    }


def test_a_participant_cancels_an_open_request_from_its_page(dashboard: Dashboard, new_page: NewPage) -> None:
    client = api(dashboard, dashboard.keys.participant)
    page = new_page()
    log_in(page, dashboard, dashboard.keys.participant)
    # Holding the lock pauses the settler, so the request stays open until the cancel is in.
    with dashboard.lock:
        request = mint(client, dashboard.platform.wallet, "AAPL", "3")
        page.goto(f"{dashboard.url}/#/requests/{request['id']}")
        loaded(page, "request")
        expect(page.locator("#request-state")).to_have_text("accepted")
        page.get_by_role("button", name="Cancel this request").click()
        expect(page.get_by_role("status")).to_contain_text("Cancellation requested")
        screenshot(page, "request-cancelling")

    expect(page.locator("#request-state")).to_have_text("cancelled", timeout=SETTLE_SECONDS * 1000)
    expect(page.get_by_role("button", name="Cancel this request")).to_have_count(0)
    assert client.get(f"/requests/{request['id']}").json()["state"] == "cancelled"


def test_the_signed_report_page_shows_the_report_and_downloads_a_verifiable_file(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    operator = api(dashboard, dashboard.keys.operator)
    participant = api(dashboard, dashboard.keys.participant)
    settled(participant, mint(participant, dashboard.platform.wallet, "AAPL", "1")["id"])
    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    loaded(page, "reserves")

    page.locator('tr.instrument[data-ticker="AAPL"]').get_by_role("link", name="Signed report").click()
    loaded(page, "report")
    served = operator.get("/reserves/AAPL/report").json()
    expect(page.locator('#report-facts [data-field="custody_shares"]')).to_have_text(
        served["report"]["custody_shares"]
    )
    expect(page.locator('#report-facts [data-field="signer"]')).to_have_text(served["signer"])
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed report (JSON)").click()
    screenshot(page, "reserves-report")

    signed = SignedReport.from_json(Path(download.value.path()).read_text())
    assert signed.signer == served["signer"]
    assert str(signed.report.custody) == served["report"]["custody_shares"]


def test_the_simulation_page_shows_the_latest_stored_run(dashboard: Dashboard, new_page: NewPage) -> None:
    runs = SimulationRuns(dashboard.platform.issuer.db)
    parameters = SimulationParameters(seed=5, agents=8, days=1)
    started = datetime.now(UTC)
    report = simulate(parameters)
    run = runs.record(
        seed=parameters.seed,
        agents=parameters.agents,
        week=parameters.week,
        parameters=parameters.to_json(),
        started_at=started,
        finished_at=datetime.now(UTC),
        report=report,
    )
    page = new_page()
    log_in(page, dashboard, dashboard.keys.operator)
    page.get_by_role("link", name="Simulation").click()
    loaded(page, "simulation")

    card = page.locator(f'article[data-run="{run.id}"]')
    expect(card.locator("h2")).to_have_text(f"Run #{run.id}: 8 agents, seed 5")
    totals = report["totals"]
    expect(card.locator('[data-field="totals"]')).to_have_text(
        f"{totals['done']:,} done, {totals['refused']:,} refused"
    )
    close = report["prices"]["AAPL"]["underlying"]["close"]
    underlying = card.locator('#simulation-prices tr[data-ticker="AAPL"][data-series="underlying"]')
    expect(underlying.locator('[data-field="close"]')).to_have_text(f"${close // 10**6 / 100:,.2f}")
    trades = report["volumes"]["TSLA"]["book_trades"]
    expect(
        card.locator('#simulation-markets tr[data-ticker="TSLA"] [data-field="book-trades"]')
    ).to_have_text(f"{trades:,}")
    for kind in report["actions"]:
        expect(card.locator(f'#simulation-actions tr[data-kind="{kind}"]').first).to_be_visible()
    expect(page.locator(f'#simulation-runs tr[data-run="{run.id}"] [data-field="actions"]')).to_have_text(
        f"{totals['actions']:,}"
    )
    screenshot(page, "simulation")
