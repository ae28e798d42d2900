"""Browser tests: Debian's chromium driven by Playwright's sync API against pytest-django's
live server.

Playwright's sync API keeps an asyncio event loop running in the test's thread for as long as
the browser is open, and Django refuses database access from a thread with a running loop unless
DJANGO_ALLOW_ASYNC_UNSAFE is set. It is safe here: the test thread only builds data with
factories and services while the browser waits. The variable is set for exactly as long as the
browser runs (one per test module), so the rest of the suite keeps Django's check.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.factories import PASSWORD

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = os.environ.get("CRM_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
TABLET_PORTRAIT = {"width": 820, "height": 1180}
VIEWPORTS = {"desktop": DESKTOP, "tablet": TABLET_LANDSCAPE, "tablet-portrait": TABLET_PORTRAIT}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need chromium at {CHROMIUM}: apt-get install chromium")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def csp_refused() -> list[str]:
    """What the Content-Security-Policy refused in the test's browser contexts, as Chromium
    reports it (a console error naming the policy): "page address: message"."""
    return []


@pytest.fixture
def new_context(
    browser: Browser, csp_refused: list[str]
) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh browser context (its own cookies: one signed-in person) per call. Every page
    of every browser test runs under the site's Content-Security-Policy: anything it refuses (an
    inline script or style, a file from elsewhere) fails the test that loaded it, unless the test
    provoked it on purpose and empties csp_refused."""
    contexts: list[BrowserContext] = []

    def report(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            csp_refused.append(f"{message.location['url']}: {message.text}")

    def make(viewport: dict[str, int] | None = None) -> BrowserContext:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="en-US", timezone_id="America/New_York"
        )
        context.set_default_timeout(10_000)
        context.on("console", report)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not csp_refused, "The Content-Security-Policy refused:\n" + "\n".join(csp_refused)


@pytest.fixture
def screenshots() -> Path:
    """Where browser tests leave their screenshots: var/screenshots/ in the checkout."""
    path = Path(settings.BASE_DIR) / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login page and wait for the landing page."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label(re.compile(r"^e-?mail", re.IGNORECASE)).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^sign in$", re.IGNORECASE)).click()
    assert "/accounts/login/" not in page.url, f"{email} could not sign in"
