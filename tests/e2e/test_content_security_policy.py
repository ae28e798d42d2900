"""The Content-Security-Policy in a real browser: it is in force (an inline script never runs,
even one a flaw let into a page), and the pages outside the console's own templates (the admin,
the API documentation) work under it. Every other browser test checks its own pages against it
through the new_context fixture."""

from collections.abc import Callable

import pytest
from django.utils.csp import CSP
from playwright.sync_api import BrowserContext, expect

from crm.models import Role
from customers.models import Customer
from customers.services import comment_add
from tests.e2e.conftest import log_in
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.e2e

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_an_inline_script_never_runs_and_user_text_stays_text(
    live_server, transactional_db, new_context: Callable[..., BrowserContext], csp_refused
) -> None:
    rep = UserFactory(role=Role.REP)
    customer: Customer = CustomerFactory(first_name="Ana", last_name="Lima")
    comment_add(customer=customer, author=rep, body=f"Called about {PAYLOAD}")
    page = new_context().new_page()
    log_in(page, live_server.url, rep.email)

    response = page.goto(f"{live_server.url}{customer.get_absolute_url()}")

    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and CSP.UNSAFE_INLINE not in policy
    expect(page.get_by_text(f"Called about {PAYLOAD}")).to_be_visible()
    # A script that got into the page anyway (as a flaw in escaping would let it) is refused.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__pwned = 3";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert len(csp_refused) == 1 and "inline script" in csp_refused[0]
    csp_refused.clear()


def test_the_admin_works_under_the_policy(
    live_server, transactional_db, new_context: Callable[..., BrowserContext]
) -> None:
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    customer: Customer = CustomerFactory(first_name="Ana", last_name="Lima")
    page = new_context().new_page()
    log_in(page, live_server.url, admin.email)

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(f"{live_server.url}/admin/customers/customer/?q=lima")
    expect(page.get_by_role("cell", name="Lima", exact=True)).to_be_visible()
    page.get_by_role("link", name=str(customer.pk), exact=True).click()
    expect(page.get_by_role("heading", name="View customer")).to_be_visible()


def test_the_api_documentation_works_under_the_policy(
    live_server, transactional_db, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/orders/", exact=True).first).to_be_visible()
