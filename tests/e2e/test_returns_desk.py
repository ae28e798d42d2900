"""An associate at a store takes back one line of a web order placed online (no store), by
keyboard, and the customer's 360 page shows the order and the return in one timeline.

Every returns desk page is photographed at desktop and tablet-portrait sizes under
var/screenshots/returns/.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crm.models import Channel
from customers.services import Identity
from orders.models import Order, Return
from orders.services import LineInput, order_record
from stores.models import StockLevel, Store, StoreRole
from tests.e2e.conftest import DESKTOP, TABLET_PORTRAIT, log_in
from tests.factories import ProductFactory, StoreFactory, store_staff

pytestmark = pytest.mark.e2e


@pytest.fixture
def web_order(transactional_db: None) -> Order:
    """Maria's web order, shipped: a rain jacket and two pairs of socks; tax and shipping."""
    ProductFactory(sku="JKT-RAIN", name="Packable rain jacket", price=Decimal("129.00"))
    ProductFactory(sku="SCK-WOOL", name="Wool socks", price=Decimal("14.50"))
    return order_record(
        identity=Identity(
            email="maria.gomez@example.com",
            phone="+1 415 555 0134",
            first_name="Maria",
            last_name="Gomez",
        ),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1), LineInput(sku="SCK-WOOL", quantity=2)],
        tax=Decimal("12.64"),
        shipping=Decimal("5.00"),
        placed_at=timezone.now() - timedelta(days=6),
    )


def shoot(page: Page, folder: Path, name: str) -> None:
    for label, viewport in (("desktop", DESKTOP), ("tablet-portrait", TABLET_PORTRAIT)):
        page.set_viewport_size(viewport)
        page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_associate_returns_one_line_of_a_web_order(
    live_server,
    web_order: Order,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    folder = screenshots / "returns"
    folder.mkdir(exist_ok=True)
    store = StoreFactory.create(code="sf-union", name="Union Square")
    StoreFactory(code="sf-mission", name="Mission")
    associate = store_staff(store, StoreRole.ASSOCIATE, first_name="Ava", last_name="Chen")
    # An old store purchase: outside the window, so its card shows the manager override field.
    ProductFactory(sku="CAP-01", name="Baseball cap", price=Decimal("19.00"))
    order_record(
        identity=Identity(phone="415-555-0134"),
        channel=Channel.STORE,
        store=Store.objects.get(code="sf-mission"),
        lines=[LineInput(sku="CAP-01", quantity=1)],
        placed_at=timezone.now() - timedelta(days=45),
    )
    page = new_context().new_page()
    log_in(page, live_server.url, associate.email)

    # given the associate opens the desk: nothing returned yet today
    page.goto(f"{live_server.url}/stores/sf-union/returns/today/")
    expect(page.get_by_role("heading", name="No returns yet today")).to_be_visible()
    shoot(page, folder, "today-empty")
    page.goto(f"{live_server.url}/stores/sf-union/returns/")
    search = page.get_by_label("Customer or order")
    expect(search).to_be_focused()
    shoot(page, folder, "desk")
    search.fill("nobody@example.com")
    search.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("No customer or order"))).to_be_visible()
    shoot(page, folder, "desk-no-match")

    # when she finds Maria by phone and returns one pair of socks (doesn't fit), by keyboard
    search = page.get_by_label("Customer or order")
    search.fill("(415) 555-0134")
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maria Gomez")
    card = page.locator(f"#order-{web_order.number}")
    expect(card).to_contain_text("Web shop")
    expect(page.locator("section.return-order")).to_have_count(2)
    shoot(page, folder, "customer")
    card.get_by_label("Quantity of Wool socks to return").fill("1")
    card.get_by_label("Reason for Wool socks").select_option(label="Doesn't fit")
    card.get_by_role("button", name="Return selected items").click()
    expect(card.locator(".is-invalid")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Return R")

    # then the receipt shows 14.50 + its tax share (14.50 / 158.00 * 12.64 = 1.16)
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("Wool socks")
    expect(receipt).to_contain_text("$15.66")
    expect(page.get_by_text("e-mailed to maria.gomez@example.com")).to_be_visible()
    shoot(page, folder, "receipt")
    # printed, the receipt stands alone: no navigation, buttons or messages
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print receipt")).to_be_hidden()
    page.screenshot(path=folder / "receipt-print.png", full_page=True)
    page.emulate_media(media="screen")
    returned = Return.objects.get()
    assert StockLevel.objects.get(store=store).on_hand == 1

    page.goto(f"{live_server.url}/stores/sf-union/returns/today/")
    expect(page.get_by_role("link", name=returned.number)).to_be_visible()
    shoot(page, folder, "today")

    # and the order page shows what came back where
    page.goto(f"{live_server.url}/orders/{web_order.number}/")
    returns = page.locator("section[aria-labelledby=returns-title]")
    expect(returns).to_contain_text(returned.number)
    expect(returns).to_contain_text("Union Square")
    shoot(page, folder, "order-detail")

    # and a bad form says what's wrong: too many socks
    page.goto(f"{live_server.url}/stores/sf-union/returns/customers/{web_order.customer_id}/")
    card = page.locator(f"#order-{web_order.number}")
    card.get_by_label("Quantity of Wool socks to return").fill("1")
    card.get_by_role("button", name="Return selected items").click()
    expect(page.locator(f"#order-{web_order.number}")).to_contain_text("Choose why it comes back.")
    shoot(page, folder, "customer-error")

    # and the customer's 360 page has the order and the return in one timeline
    page.goto(f"{live_server.url}/customers/{web_order.customer_id}/")
    timeline = page.locator("#timeline-items")
    expect(timeline.locator(".timeline-item", has_text=f"order {web_order.number}")).to_have_count(
        2
    )
    entry = timeline.locator(".timeline-item", has_text=returned.number)
    expect(entry).to_contain_text("Union Square")
    expect(entry).to_contain_text("Ava Chen")
    shoot(page, folder, "customer-360")
    page.screenshot(path=screenshots / "returns-customer-360.png", full_page=True)
