"""The private companies page in a real headless Chromium against the real API and anvil: the operator
issues ACME shares in two rounds (one locked up) and records a valuation; an accredited investor sees
its shares, what is locked and their value, and asks for two transfers; the transfer agent approves
the one it may and rejects the one that would move locked shares. Refusals show the problem and
change nothing."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from tests.dashboard.server import Dashboard
from tests.dashboard.test_pages import loaded, log_in
from tests.support.dashboard import screenshot

from equitoken.api.keys import ApiKeys

pytestmark = [pytest.mark.browser, pytest.mark.anvil]

NewPage = Callable[[], Page]


def _open(page: Page, dashboard: Dashboard, key: str) -> None:
    log_in(page, dashboard, key)
    page.get_by_role("link", name="Private").click()
    loaded(page, "private")


def _post(page: Page, form: str, fields: dict[str, str], button: str) -> None:
    scope = page.locator(f'form[aria-labelledby="{form}"]')
    for label, value in fields.items():
        scope.get_by_label(label, exact=True).fill(value)
    scope.get_by_role("button", name=button).click()


def test_rounds_a_valuation_and_the_transfer_agents_decisions(
    dashboard: Dashboard, new_page: NewPage
) -> None:
    platform = dashboard.platform
    chain = platform.chain
    with dashboard.lock:
        investors, expiry = platform.issuer.investors, platform.clock.now() + timedelta(days=365)
        grace = investors.onboard(
            "Grace Hopper", "GB", "professional", kyc_expires_at=expiry, accredited=True
        )
        investors.bind_wallet(grace.id, chain.accounts[12])
        katherine = investors.onboard(
            "Katherine Johnson", "GB", "professional", kyc_expires_at=expiry, accredited=True
        )
        investors.bind_wallet(katherine.id, chain.accounts[13])
        grace_key = ApiKeys(platform.issuer.db, platform.clock).issue("investor", grace.id, "grace")
    holder, receiver = chain.accounts[12], chain.accounts[13]
    now = platform.clock.now()

    operator = new_page()
    _open(operator, dashboard, dashboard.keys.operator)
    acme = operator.locator('#private-companies tr[data-company="ACME"]')
    expect(acme.locator('[data-field="price"]')).to_have_text("$42.50")
    issue = {"Round": "1", "Investor's wallet": holder, "Shares to issue": "100"}
    unlock = (now + timedelta(days=180)).isoformat()
    _post(
        operator,
        "private-issue-title",
        issue | {"Locked up until (ISO 8601, optional)": unlock},
        "Issue shares",
    )
    expect(operator.locator("#private-status")).to_contain_text("Issuance done: 100 shares")
    _post(
        operator,
        "private-issue-title",
        issue | {"Round": "2", "Shares to issue": "20", "Locked up until (ISO 8601, optional)": ""},
        "Issue shares",
    )
    expect(operator.locator("#private-status")).to_contain_text("Issuance done: 20 shares")
    # The participant's wallet is verified but not accredited: refused, nothing issued.
    _post(
        operator,
        "private-issue-title",
        issue | {"Round": "3", "Investor's wallet": platform.wallet},
        "Issue shares",
    )
    expect(operator.get_by_role("alert")).to_contain_text("accredited")
    expect(operator.locator("#private-holdings tr[data-holding]")).to_have_count(1)

    future = (now + timedelta(days=30)).isoformat()
    valuation = {"Price (USD per share)": "45", "As of (ISO 8601)": future, "Source": "Series B"}
    _post(operator, "private-valuation-title", valuation, "Record valuation")
    expect(operator.get_by_role("alert")).to_be_visible()
    expect(acme.locator('[data-field="price"]')).to_have_text("$42.50")
    with dashboard.lock:  # newer than the first valuation, and not after the latest block
        platform.clock.advance(timedelta(minutes=1))
        chain.mine()
        as_of = datetime.fromtimestamp(chain.timestamp(), UTC).isoformat()
    _post(operator, "private-valuation-title", valuation | {"As of (ISO 8601)": as_of}, "Record valuation")
    expect(operator.locator("#private-status")).to_contain_text("Valuation done")
    expect(acme.locator('[data-field="price"]')).to_have_text("$45.00")

    investor = new_page()
    _open(investor, dashboard, grace_key)
    held = investor.locator(f'#private-holdings tr[data-holding="ACME:{holder}"]')
    expect(held.locator('[data-field="shares"]')).to_have_text("120")
    expect(held.locator('[data-field="locked"]')).to_have_text("100")
    expect(held.locator('[data-field="value"]')).to_have_text("$5,400.00")
    transfer = {"Shares to transfer": "10", "Receiver's wallet": receiver}
    _post(investor, "private-transfer-title", transfer | {"Shares to transfer": "500"}, "Ask to transfer")
    expect(investor.get_by_role("alert")).to_be_visible()
    _post(investor, "private-transfer-title", transfer, "Ask to transfer")
    expect(investor.locator("#private-status")).to_contain_text("filed")
    _post(investor, "private-transfer-title", transfer | {"Shares to transfer": "15"}, "Ask to transfer")
    expect(investor.locator("#private-status")).to_contain_text("filed")

    operator.reload()
    loaded(operator, "private")
    rows = operator.locator("#private-requests tr[data-request]")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    # Each alone fits the 20 unlocked shares; together they do not.
    expect(first.locator('[data-field="check"]')).to_have_text("approvable")
    expect(second.locator('[data-field="check"]')).to_have_text("approvable")
    first_id = first.get_attribute("data-request")
    second_id = second.get_attribute("data-request")
    operator.get_by_role("button", name=f"Approve request {first_id}").click()
    expect(operator.locator("#private-status")).to_contain_text(f"Request {first_id} approved: done")
    left = operator.locator(f'#private-requests tr[data-request="{second_id}"] [data-field="check"]')
    expect(left).to_contain_text("lock")
    screenshot(operator, "private-requests")
    operator.get_by_role("button", name=f"Approve request {second_id}").click()
    expect(operator.get_by_role("alert")).to_contain_text("lock")
    operator.get_by_label(f"Reason to reject request {second_id}").fill("shares still locked up")
    operator.get_by_role("button", name=f"Reject request {second_id}").click()
    expect(operator.locator("#private-status")).to_contain_text(f"Request {second_id} rejected: done")
    expect(operator.locator("#private-requests")).to_contain_text("No transfer request is waiting.")
    moved = operator.locator(f'#private-holdings tr[data-holding="ACME:{receiver}"] [data-field="shares"]')
    expect(moved).to_have_text("10")

    investor.reload()
    loaded(investor, "private")
    expect(held.locator('[data-field="shares"]')).to_have_text("110")
    expect(held.locator('[data-field="value"]')).to_have_text("$4,950.00")
    screenshot(investor, "private-holdings")
