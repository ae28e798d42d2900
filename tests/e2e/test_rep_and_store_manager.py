"""A call-center rep and a store manager build one customer's cross-channel history together.

The rep finds the customer by a phone number typed differently from how it was recorded, lands
on her 360 page and sees her web order and her store purchase in one timeline. A store manager,
in another browser, adds a comment without a page reload; the rep reloads and sees it signed with
the manager's name, role and store. Comments are plain text, and an over-long one is refused
with a clear message.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Dialog, Locator, Page, expect

from crm.models import Channel, Role
from customers.models import Comment, Customer
from customers.services import Identity
from orders.services import LineInput, order_record
from stores.models import Store, StoreRole
from tests.e2e.conftest import log_in
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.e2e

NO_RELOAD_MARKER = "window.__crmNoReload"


@pytest.fixture
def maria(transactional_db: None) -> Customer:
    """Maria bought on the web shop with her e-mail and phone, then at a store with her phone."""
    ProductFactory(sku="JKT-RAIN", name="Rain jacket", price=Decimal("129.00"))
    ProductFactory(sku="SCK-WOOL", name="Wool socks", price=Decimal("14.50"))
    store = StoreFactory(code="sf-union", name="Union Square")
    web = order_record(
        identity=Identity(
            email="maria.gomez@example.com",
            phone="+1 415 555 0134",
            first_name="Maria",
            last_name="Gomez",
            city="San Francisco",
        ),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1)],
        shipping=Decimal("5.00"),
    )
    in_store = order_record(
        identity=Identity(phone="415-555-0134"),
        channel=Channel.STORE,
        store=store,
        lines=[LineInput(sku="SCK-WOOL", quantity=2)],
    )
    assert web.customer_id == in_store.customer_id
    return Customer.objects.get(pk=web.customer_id)


def _timeline(page: Page) -> Locator:
    return page.locator("#timeline-items")


def test_rep_finds_customer_by_phone_and_manager_comments(
    live_server, maria: Customer, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    # given a rep and the manager of the store Maria bought at
    rep = UserFactory(
        role=Role.REP, first_name="Rita", last_name="Reyes", email="rita@retail.example"
    )
    manager = store_staff(
        Store.objects.get(code="sf-union"),
        StoreRole.MANAGER,
        first_name="Marcus",
        last_name="Lee",
        email="marcus@retail.example",
    )
    # Two other Gomezes, so a name search has a list of results to show.
    for first in ("Ana", "Luis"):
        order_record(
            identity=Identity(
                email=f"{first.lower()}.gomez@example.com", first_name=first, last_name="Gomez"
            ),
            channel=Channel.WEB,
            lines=[LineInput(sku="SCK-WOOL", quantity=1)],
        )
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    # when the rep signs in through the login page
    rep_page = new_context().new_page()
    rep_page.on("dialog", refuse)
    rep_page.goto(f"{live_server.url}/accounts/login/")
    expect(rep_page.get_by_role("heading", name="Sign in")).to_be_visible()
    rep_page.screenshot(path=screenshots / "login.png", full_page=True)
    log_in(rep_page, live_server.url, rep.email)

    # then she lands on the customer search, ready to type
    expect(rep_page).to_have_url(re.compile(r"/customers/$"))
    search = rep_page.get_by_role("searchbox", name="Find a customer")
    expect(search).to_be_focused()

    # a name shared by several customers lists them
    search.fill("gomez")
    search.press("Enter")
    expect(rep_page.get_by_role("heading", name=re.compile("Customers matching"))).to_be_visible()
    expect(rep_page.locator("tbody tr")).to_have_count(3)
    rep_page.screenshot(path=screenshots / "search-results.png", full_page=True)

    # and the phone number typed in another format goes straight to Maria's 360 page
    search = rep_page.get_by_role("searchbox", name="Find a customer")
    search.fill("(415) 555-0134")
    search.press("Enter")
    expect(rep_page).to_have_url(f"{live_server.url}/customers/{maria.pk}/")
    expect(rep_page.get_by_role("heading", level=1)).to_have_text("Maria Gomez")
    timeline = _timeline(rep_page)
    web_order = timeline.locator(".timeline-item", has_text="Web shop order")
    store_order = timeline.locator(".timeline-item", has_text="Store order")
    expect(web_order).to_have_count(1)
    expect(store_order).to_have_count(1)
    expect(store_order).to_contain_text("Union Square")
    expect(web_order).to_contain_text("134.00")
    expect(rep_page.locator("#contact-points")).to_contain_text("(415) 555-0134")
    expect(rep_page.locator("#contact-points")).to_contain_text("maria.gomez@example.com")
    rep_page.screenshot(path=screenshots / "customer-360-rep.png", full_page=True)

    # when the store manager, in another browser, opens the same customer and comments
    manager_page = new_context().new_page()
    manager_page.on("dialog", refuse)
    log_in(manager_page, live_server.url, manager.email)
    manager_page.goto(f"{live_server.url}{maria.get_absolute_url()}")
    manager_page.evaluate(f"{NO_RELOAD_MARKER} = 'still here'")
    expect(manager_page.locator("#last-contact")).to_have_text("No contact yet")
    comment_box = manager_page.get_by_label("Add a comment")
    comment_box.fill("Came in about the rain jacket's zip: offered a repair, she prefers a swap.")
    manager_page.get_by_role("button", name="Add comment").click()

    # then the comment appears at the top of her timeline without a page reload
    newest = _timeline(manager_page).locator(".timeline-item").first
    expect(newest).to_contain_text("offered a repair, she prefers a swap")
    expect(newest).to_contain_text("Marcus Lee")
    assert manager_page.evaluate(NO_RELOAD_MARKER) == "still here"
    expect(manager_page.get_by_label("Add a comment")).to_have_value("")
    expect(manager_page.locator("#last-contact")).to_have_text("Now")
    manager_page.screenshot(path=screenshots / "customer-360-after-comment.png", full_page=True)

    # and a comment that looks like code is stored and shown as text, never run
    script = "<script>alert(1)</script>"
    manager_page.get_by_label("Add a comment").fill(script)
    manager_page.get_by_role("button", name="Add comment").click()
    newest = _timeline(manager_page).locator(".timeline-item").first
    expect(newest.locator(".timeline-detail")).to_have_text(script)
    assert manager_page.evaluate(NO_RELOAD_MARKER) == "still here"

    # and an over-long comment is refused with a clear message, keeping what was written
    too_long = "x" * 2001
    manager_page.get_by_label("Add a comment").evaluate("(box, text) => box.value = text", too_long)
    manager_page.get_by_role("button", name="Add comment").click()
    error = manager_page.locator("#comment-errors")
    expect(error).to_be_visible()
    expect(error).to_have_text(
        re.compile(r"A comment can be at most 2,?000 characters; this one has 2,?001\.")
    )
    expect(manager_page.get_by_label("Add a comment")).to_have_attribute("aria-invalid", "true")
    expect(manager_page.get_by_label("Add a comment")).to_have_value(too_long)
    assert manager_page.evaluate(NO_RELOAD_MARKER) == "still here"
    assert Comment.objects.filter(customer=maria).count() == 2

    # when the rep reloads her page
    rep_page.reload()

    # then she sees the manager's comment signed with his name, role and store
    comment = _timeline(rep_page).locator(".timeline-item", has_text="offered a repair")
    expect(comment).to_have_count(1)
    expect(comment).to_contain_text("Marcus Lee")
    expect(comment).to_contain_text("Store manager")
    expect(comment).to_contain_text("Union Square")
    expect(_timeline(rep_page).locator(".timeline-detail", has_text=script)).to_have_text(script)
    rep_page.screenshot(path=screenshots / "customer-360-rep-after-comment.png", full_page=True)

    # and no script ever ran in either browser
    assert dialogs == []
