"""Two-factor sign-in for staff: a rep turns on an authenticator app from her menu, and from then
on her password alone no longer signs her in."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from playwright.sync_api import BrowserContext, Page, expect

from crm.models import Role
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e


def current_code(secret: str) -> str:
    """What the rep's authenticator app shows now."""
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def sign_in_with_password(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_rep_turns_on_an_authenticator_app_and_then_needs_its_code(
    live_server,
    transactional_db,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    rep = UserFactory(role=Role.REP, email="rep@example.com")
    page = new_context().new_page()
    log_in(page, live_server.url, rep.email)

    page.locator(".user-menu").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.screenshot(path=screenshots / "two-factor-index.png", full_page=True)
    page.get_by_role("link", name="Activate").click()
    # Changing how she signs in asks for her password again first.
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("img")).to_be_visible()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.screenshot(path=screenshots / "two-factor-activate.png", full_page=True)
    wrong = "000000" if current_code(secret) != "000000" else "111111"
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    page.get_by_label("Authenticator code").fill(current_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).not_to_have_url(re.compile(r"/totp/activate/"))
    page.locator(".user-menu").click()
    page.get_by_role("button", name="Sign out").click()

    sign_in_with_password(page, live_server.url, rep.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.screenshot(path=screenshots / "two-factor-sign-in.png", full_page=True)
    # The password alone opens nothing: the console sends her back to the code.
    page.goto(f"{live_server.url}/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(1)

    page.get_by_label("Code").fill(current_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/customers/"))
    expect(page.locator(".user-menu")).to_be_visible()
