"""The dashboard's browser and its artifacts: Debian's Chromium, and full-page screenshots kept under
``artifacts/screenshots/``."""

from pathlib import Path

from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact: artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
