"""A store associate works a pick-up order on the counter: marks it ready, the customer gets the
code by e-mail, and the associate hands it over with that code. An associate at another store
takes one item back; the customer's 360 page shows the order placed, ready, collected and
returned in one timeline."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from crm.models import OutboundEmail
from orders.models import PickupStatus
from orders.services import pickup_set_status
from stores.models import StoreRole
from tests.e2e.conftest import DESKTOP, TABLET_PORTRAIT, log_in
from tests.factories import store_staff
from tests.stores.pickup_fixtures import place_pickup, stocked_store

pytestmark = pytest.mark.e2e


def test_associate_marks_ready_and_hands_over_with_the_emailed_code(
    live_server, transactional_db, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    # given a pickup being prepared and two more waiting at Union Square
    store = stocked_store(units=20)
    pickup = place_pickup(store)
    pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=None)
    for email in ("bo@example.com", "cy@example.com"):
        place_pickup(store, quantity=1, email=email)
    clerk = store_staff(store, StoreRole.ASSOCIATE, email="sam@retail.example")
    number = pickup.order.number

    # when the associate opens the counter from the nav
    page = new_context(DESKTOP).new_page()
    log_in(page, live_server.url, clerk.email)
    nav_link = page.get_by_role("link", name=re.compile(r"^Store"))
    expect(nav_link).to_contain_text("2")
    nav_link.click()
    page.get_by_role("link", name="Pickup counter").click()
    expect(page.get_by_role("heading", name="Pickup counter")).to_be_visible()
    page.screenshot(path=screenshots / "pickup-counter-desktop.png", full_page=True)

    # and marks the prepared order ready, without a page reload
    page.get_by_role("link", name=re.compile(r"^Preparing")).click()
    row = page.locator(f"#pickup-{pickup.pk}")
    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Mark ready").click()
    expect(row).to_contain_text("e-mailed the pickup code")
    assert page.evaluate("window.__noReload") is True

    # then the customer's e-mail holds the code
    ready_email = OutboundEmail.objects.get(key=f"pickup-ready:{pickup.pk}")
    found = re.search(r"Your pickup code: (\w+)", ready_email.text_body)
    assert found is not None
    code = found.group(1)

    # a wrong code is refused, the right one hands it over
    row.get_by_label(f"Pickup code for {number}").fill("WRONG9")
    row.get_by_role("button", name="Hand over").click()
    expect(row).to_contain_text("That pickup code is wrong")
    page.screenshot(path=screenshots / "pickup-counter-wrong-code.png", full_page=True)
    row.get_by_label(f"Pickup code for {number}").fill(code.lower())
    row.get_by_role("button", name="Hand over").click()
    expect(row).to_contain_text(f"Order {number} was handed over.")

    tablet = new_context(TABLET_PORTRAIT).new_page()
    log_in(tablet, live_server.url, clerk.email)
    tablet.goto(f"{live_server.url}/stores/{store.code}/pickups/")
    tablet.screenshot(path=screenshots / "pickup-counter-tablet-portrait.png", full_page=True)

    # the store's dashboard counts the two pickups still waiting to be prepared
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(store.name)
    expect(page.locator("#pickups-waiting")).to_contain_text("Placed")
    page.screenshot(path=screenshots / "store-dashboard.png", full_page=True)
    tablet.get_by_role("link", name="Dashboard").click()
    tablet.screenshot(path=screenshots / "store-dashboard-tablet-portrait.png", full_page=True)

    # and the 360 page tells the whole story in one timeline
    page.goto(f"{live_server.url}{pickup.order.customer.get_absolute_url()}")
    timeline = page.locator("#timeline-items")
    expect(timeline).to_contain_text(f"order {number}")
    expect(timeline).to_contain_text(f"Order {number} ready for pickup at {store.name}")
    expect(timeline).to_contain_text(f"Order {number} collected at {store.name}")

    # and when another associate, at a different store, takes one jacket of that web order back
    mission = stocked_store("Mission", "sf-mission", units=1)
    other = store_staff(mission, StoreRole.ASSOCIATE, first_name="Ava", last_name="Chen")
    desk = new_context(DESKTOP).new_page()
    log_in(desk, live_server.url, other.email)
    customer_id = pickup.order.customer_id
    desk.goto(f"{live_server.url}/stores/{mission.code}/returns/customers/{customer_id}/")
    card = desk.locator(f"#order-{number}")
    card.get_by_label("Quantity of Rain jacket to return").fill("1")
    card.get_by_label("Reason for Rain jacket").select_option(label="Doesn't fit")
    card.get_by_role("button", name="Return selected items").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Return R")

    # then her 360 page shows the order, the pickup and the return in one timeline
    page.reload()
    expect(timeline).to_contain_text(f"Order {number} collected at {store.name}")
    returned = timeline.locator(".timeline-item", has_text="Mission")
    expect(returned).to_contain_text("Ava Chen")
    page.screenshot(path=screenshots / "customer-360-order-pickup-return.png", full_page=True)
