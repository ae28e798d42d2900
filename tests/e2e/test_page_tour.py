"""Every console page, as its user sees it, at desktop and store-tablet sizes.

Each page is opened by the role that uses it, checked for the things that make a page unusable
on a tablet (a page wider than the screen, a missing heading), and saved as a full-page
screenshot under var/screenshots/tour/ for a human to look at. The 360 page's htmx filters and
"Older entries" paging and the keyboard path into the console are checked along the way.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crm.models import Channel, Role
from customers.models import Activity, Customer
from customers.selectors import SEARCH_LIMIT, TIMELINE_PAGE
from customers.services import Identity, comment_add, customer_resolve, merge_suggestion_record
from orders.models import Order
from orders.services import LineInput, order_record
from stores.models import StoreRole
from tests.e2e.conftest import VIEWPORTS, log_in
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    ProductFactory,
    StoreFactory,
    UserFactory,
    store_staff,
)

pytestmark = pytest.mark.e2e

LONG_EMAIL = "alexandra.konstantinopoulou-vandenberghe@correo-electronico-muy-largo.example.com"
ORDERS_IN_HISTORY = 40


@pytest.fixture
def shop(transactional_db: None) -> dict[str, object]:
    return build_shop()


def build_shop() -> dict[str, object]:
    """A retailer with three stores, staff of every role and customers with every kind of record."""
    union = StoreFactory(code="sf-union", name="Union Square")
    mission = StoreFactory(code="sf-mission", name="Mission District")
    StoreFactory(code="oak-center", name="Oakland City Center")
    for sku, name, price in [
        ("JKT-RAIN", "Packable rain jacket, storm grey", "129.00"),
        ("SCK-WOOL", "Merino hiking socks (3 pairs)", "24.50"),
        ("BAG-DAY", "Everyday 22 L daypack", "89.00"),
    ]:
        ProductFactory(sku=sku, name=name, price=Decimal(price))

    now = timezone.now()
    channels = [Channel.WEB, Channel.STORE, Channel.PHONE, Channel.WEB, Channel.KIOSK]
    first = None
    for n in range(ORDERS_IN_HISTORY):
        channel = channels[n % len(channels)]
        store = (union if n % 2 else mission) if channel in {Channel.STORE, Channel.KIOSK} else None
        order = order_record(
            identity=Identity(
                email=LONG_EMAIL,
                phone="+1 415 555 0199",
                loyalty_number="LC-2048-7781",
                first_name="Alexandra",
                last_name="Konstantinopoulou-Vandenberghe",
                address_line1="1200 Fulton Street, Apartment 4B",
                city="San Francisco",
                postcode="94117",
            )
            if first is None
            else Identity(email=LONG_EMAIL),
            channel=channel,
            store=store,
            lines=[
                LineInput(sku="JKT-RAIN", quantity=1),
                LineInput(sku="SCK-WOOL", quantity=1 + n % 3),
            ][: 1 + n % 2],
            placed_at=now - timedelta(days=700 - n * 17),
            shipping=Decimal("5.00") if channel == Channel.WEB else Decimal("0"),
        )
        first = first or order
    assert first is not None
    alexandra = Customer.objects.get(pk=first.customer_id)

    rep = UserFactory(
        role=Role.REP, first_name="Rita", last_name="Reyes", email="rita@retail.example"
    )
    manager = store_staff(
        union,
        StoreRole.MANAGER,
        first_name="Marcus",
        last_name="Lee",
        email="marcus@retail.example",
    )
    supervisor = UserFactory(
        role=Role.SUPERVISOR, first_name="Sam", last_name="Okafor", email="sam@retail.example"
    )
    comment_add(
        customer=alexandra,
        author=manager,
        body="Prefers pickup at Union Square on Saturdays.\nAsk for Marcus: he knows her sizes.",
    )
    comment_add(customer=alexandra, author=rep, body="Called about a late delivery; " + "x" * 90)

    portal_user = UserFactory(role=Role.CUSTOMER, first_name="Alexandra", email=LONG_EMAIL)
    alexandra.user = portal_user
    alexandra.save(update_fields=["user"])

    quiet = CustomerFactory(first_name="Ben", last_name="Quiet")
    ContactPointFactory(customer=quiet, value="ben.quiet@example.com")

    for n in range(SEARCH_LIMIT + 5):
        smith = CustomerFactory(last_name="Smith", city="Berkeley" if n % 2 else "")
        ContactPointFactory(customer=smith, value=f"smith{n}@example.com")

    # Two records of one person: a store sale with a phone, a web sign-up with an e-mail.
    jordan_store = customer_resolve(
        identity=Identity(
            phone="510 555 0101", first_name="Jordan", last_name="Park", postcode="94612"
        ),
        source=Channel.STORE,
        store=union,
    ).customer
    jordan_web = customer_resolve(
        identity=Identity(
            email="jpark@example.com",
            first_name="Jordan",
            last_name="Park",
            postcode="94612",
            address_line1="55 Harrison St",
        ),
        source=Channel.WEB,
    ).customer
    merge_suggestion_record(first=jordan_store, second=jordan_web, reason="Same name and address")
    for n in range(3):
        a = CustomerFactory(first_name="Chris", last_name=f"Taylor{n}")
        b = CustomerFactory(first_name="Chris", last_name=f"Taylor{n}")
        ContactPointFactory(customer=a)
        merge_suggestion_record(first=a, second=b, reason="Shared phone +1 415 555 0111")

    return {
        "rep": rep,
        "manager": manager,
        "supervisor": supervisor,
        "portal_user": portal_user,
        "alexandra": alexandra,
        "quiet": quiet,
        "order": Order.objects.filter(customer=alexandra).order_by("-placed_at").first(),
    }


def _check_and_shoot(page: Page, directory: Path, name: str) -> None:
    """The page has a heading and fits the screen's width; then it is photographed."""
    expect(page.locator("h1")).to_have_count(1)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the screen"
    page.screenshot(path=directory / f"{name}.png", full_page=True)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_fits_and_is_photographed(
    size: str,
    live_server,
    shop: dict,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    directory = screenshots / "tour"
    directory.mkdir(exist_ok=True)
    viewport = VIEWPORTS[size]
    url = live_server.url
    alexandra: Customer = shop["alexandra"]

    anonymous = new_context(viewport).new_page()
    anonymous.goto(f"{url}/accounts/login/")
    _check_and_shoot(anonymous, directory, f"login-{size}")
    anonymous.get_by_label("E-mail").fill(shop["rep"].email)
    anonymous.get_by_label("Password", exact=True).fill("not the password")
    anonymous.get_by_role("button", name="Sign in").click()
    expect(anonymous.get_by_role("alert")).to_contain_text("not correct")
    _check_and_shoot(anonymous, directory, f"login-error-{size}")
    anonymous.goto(f"{url}/support/articles/")
    expect(anonymous.get_by_text("No help articles yet")).to_be_visible()
    _check_and_shoot(anonymous, directory, f"help-empty-{size}")

    rep = new_context(viewport).new_page()
    log_in(rep, url, shop["rep"].email)
    _check_and_shoot(rep, directory, f"search-empty-{size}")
    rep.goto(f"{url}/customers/?q=nobody+like+this")
    expect(rep.get_by_text("No customer matches")).to_be_visible()
    _check_and_shoot(rep, directory, f"search-none-{size}")
    rep.goto(f"{url}/customers/?q=smith")
    expect(rep.locator("tbody tr")).to_have_count(SEARCH_LIMIT)
    _check_and_shoot(rep, directory, f"search-many-{size}")

    rep.goto(f"{url}{alexandra.get_absolute_url()}")
    items = rep.locator("#timeline-items .timeline-item")
    expect(items).to_have_count(TIMELINE_PAGE)
    _check_and_shoot(rep, directory, f"customer-long-{size}")

    rep.evaluate("window.__crmNoReload = true")
    rep.get_by_role("link", name="Older entries").click()
    expect(items).to_have_count(Activity.objects.filter(customer=alexandra).count())
    expect(rep.get_by_role("link", name="Older entries")).to_have_count(0)
    # The keyboard user continues reading where the list grew.
    expect(items.nth(TIMELINE_PAGE)).to_be_focused()
    rep.get_by_label("Type").select_option(label="Comment")
    expect(items).to_have_count(2)
    expect(rep).to_have_url(re.compile(r"kind=comment_added"))
    assert rep.evaluate("window.__crmNoReload") is True
    _check_and_shoot(rep, directory, f"customer-filtered-{size}")
    rep.reload()  # the filter is in the address, so a reload keeps it
    expect(rep.get_by_label("Type")).to_have_value("comment_added")
    expect(items).to_have_count(2)
    rep.get_by_label("Channel").select_option(label="In-store kiosk")
    expect(rep.get_by_text("Nothing of this kind")).to_be_visible()
    rep.get_by_role("link", name="Clear filters").click()
    expect(items).to_have_count(TIMELINE_PAGE)
    expect(rep.get_by_label("Channel")).to_have_value("")

    rep.goto(f"{url}{shop['quiet'].get_absolute_url()}")
    expect(rep.get_by_text("No history yet")).to_be_visible()
    _check_and_shoot(rep, directory, f"customer-empty-{size}")
    rep.get_by_role("tab", name="Offers").click()
    expect(rep.get_by_text("No offers yet")).to_be_visible()
    _check_and_shoot(rep, directory, f"customer-offers-empty-{size}")

    rep.goto(f"{url}{shop['order'].get_absolute_url()}")
    _check_and_shoot(rep, directory, f"order-{size}")

    rep.get_by_role("navigation", name="Main").get_by_role("link", name="Inquiries").click()
    expect(rep.get_by_role("heading", name="Inquiries", exact=True)).to_be_visible()
    _check_and_shoot(rep, directory, f"inquiries-empty-{size}")
    rep.get_by_role("navigation", name="Main").get_by_role("link", name="Call-backs").click()
    _check_and_shoot(rep, directory, f"callbacks-empty-{size}")
    rep.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge base").click()
    expect(rep.get_by_text("No articles yet")).to_be_visible()
    _check_and_shoot(rep, directory, f"knowledge-empty-{size}")

    response = rep.goto(f"{url}/customers/999999/")
    assert response is not None and response.status == 404
    expect(rep.get_by_role("heading", name="We couldn’t find that page")).to_be_visible()
    _check_and_shoot(rep, directory, f"not-found-{size}")

    manager = new_context(viewport).new_page()
    log_in(manager, url, shop["manager"].email)
    manager.goto(f"{url}{alexandra.get_absolute_url()}")
    _check_and_shoot(manager, directory, f"customer-manager-{size}")

    supervisor = new_context(viewport).new_page()
    log_in(supervisor, url, shop["supervisor"].email)
    supervisor.locator(".user-menu").click()
    supervisor.get_by_role("link", name="Merge suggestions").click()
    expect(supervisor.get_by_role("link", name="Compare")).to_have_count(4)
    _check_and_shoot(supervisor, directory, f"merge-list-{size}")
    supervisor.get_by_role("link", name="Compare").first.click()
    expect(supervisor.get_by_role("heading", name="Are these one person?")).to_be_visible()
    _check_and_shoot(supervisor, directory, f"merge-compare-{size}")
    supervisor.goto(f"{url}/customers/insights/settings/")
    expect(supervisor.get_by_role("heading", name="Insight thresholds")).to_be_visible()
    _check_and_shoot(supervisor, directory, f"insight-thresholds-{size}")

    customer = new_context(viewport).new_page()
    log_in(customer, url, shop["portal_user"].email)
    expect(customer).to_have_url(re.compile(r"/me/$"))
    _check_and_shoot(customer, directory, f"me-{size}")
    response = customer.goto(f"{url}/customers/")
    assert response is not None and response.status == 403
    expect(customer.get_by_role("heading", name="isn’t available to your account")).to_be_visible()
    expect(customer.get_by_role("link", name="Customers")).to_have_count(0)
    _check_and_shoot(customer, directory, f"forbidden-{size}")


def test_keyboard_reaches_search_and_content(
    live_server, shop: dict, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    log_in(page, live_server.url, shop["rep"].email)
    page.goto(f"{live_server.url}{shop['alexandra'].get_absolute_url()}")

    # The first Tab shows the skip link; following it puts the focus on the page's content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    # "/" from anywhere but a text field jumps to the customer search, as in most consoles.
    page.locator("body").press("/")
    expect(page.get_by_role("searchbox", name="Find a customer")).to_be_focused()

    # Focus is always visible: a focused control draws an outline or a focus ring.
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Older entries").focus()
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle !== 'none' || s.boxShadow !== 'none'; })()"
    )
    assert ring, "the focused control shows no focus indicator"
