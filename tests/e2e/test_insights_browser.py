"""Customer insights in the browser: a rep reads them on the 360 page and reaches a flag's reason
with the keyboard; an associate sees them for each customer at the pickup counter and watches the
cross-sell hint follow the basket typed into the kiosk order form; a supervisor raises a threshold
and the flag goes."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from crm.models import Channel
from customers.engagement import touch_event, touch_record, visit_record
from customers.models import Customer, OfferType, VisitSource
from customers.services import Identity
from orders.services import LineInput, order_record
from tests.customers.factories_insights import Shop, build_shop
from tests.e2e.conftest import DESKTOP, TABLET_LANDSCAPE, log_in
from tests.factories import web_inquiry
from tickets.models import InquiryStatus
from tickets.services.customer_side import inquiry_rate
from tickets.services.inquiries import inquiry_set_status

pytestmark = pytest.mark.e2e

MAYA = "maya.johnson@example.com"


def maya_history(shop: Shop) -> Customer:
    """Maya came from a search, orders about every two weeks, sends back four of her ten items,
    writes in six times for five orders, answers percent-off offers and visited the web shop this
    week. (Outside a test transaction each commit refreshes her insight in-process, as a worker
    would.)"""
    now = timezone.now()
    orders = []
    for n, days in enumerate((56, 42, 28, 14)):
        orders.append(
            shop.order(
                MAYA,
                [("JKT", 1), ("SCK", 2)] if n % 2 == 0 else [("VST", 1), ("SCK", 1)],
                channel=(Channel.WEB, Channel.STORE)[n % 2],
                days_ago=days,
            )
        )
    # Four of her ten items come back: the jacket and socks of one order, a vest of another.
    shop.give_back(orders[2], "JKT", 1)
    shop.give_back(orders[2], "SCK", 2)
    shop.give_back(orders[3], "VST", 1)
    customer = Customer.objects.get(contact_points__value=MAYA)
    for rating in (5, 3):
        inquiry = web_inquiry(email=MAYA)
        inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=shop.rep)
        inquiry_rate(inquiry=inquiry, rating=rating, actor=None)
    for _ in range(4):
        web_inquiry(email=MAYA, subject="Where is my refund?")
    for n, offer in enumerate(
        [OfferType.PERCENT_OFF, OfferType.PERCENT_OFF, OfferType.PERCENT_OFF, OfferType.GIFT]
    ):
        touch = touch_record(
            customer=customer,
            source="mailer",
            external_id=f"spring-{n}",
            offer_type=offer,
            offer_value=Decimal("15") if offer == OfferType.PERCENT_OFF else None,
            channel="email",
            sent_at=now - timedelta(days=50 - 10 * n),
        ).obj
        if n < 2:
            touch_event(touch=touch, event="redeemed", order_number=orders[n + 1].number)
    for days, source in [(70, VisitSource.SEARCH), (3, VisitSource.EMAIL), (1, VisitSource.SEARCH)]:
        visit_record(
            customer=customer,
            source=source,
            campaign="spring-sale" if days == 70 else "",
            occurred_at=now - timedelta(days=days),
        )
    return customer


def test_insights_on_the_360_page_the_counter_and_the_kiosk(
    live_server, transactional_db, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    shop = build_shop()
    customer = maya_history(shop)
    small = order_record(
        identity=Identity(email=MAYA),
        channel=Channel.WEB,
        lines=[LineInput(sku="SCK", quantity=1)],
        fulfilment="pickup",
        pickup_store=shop.store,
    )

    # A rep opens her 360 page: the insights sit under the key figures.
    page = new_context(DESKTOP).new_page()
    log_in(page, live_server.url, shop.rep.email)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    panel = page.locator("#insights")
    expect(panel).to_be_visible()
    expect(panel.get_by_text("High maintenance")).to_be_visible()
    expect(panel.get_by_text("Best offer: percent off")).to_be_visible()
    expect(panel).to_contain_text("Web shop visit from search (spring-sale)")
    expect(panel).to_contain_text("Socks")
    expect(panel).to_contain_text("4.0/5")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "insights-360.png", full_page=True)

    # The reason of a flag: on hover (title), to screen readers, and on keyboard focus.
    flag = panel.locator(".insight-flag-high_maintenance")
    expect(flag).to_have_attribute("title", re.compile(r"^Returned [\d.]+% of the items"))
    for _ in range(80):
        page.keyboard.press("Tab")
        if flag.evaluate("el => el === document.activeElement"):
            break
    expect(flag).to_be_focused()
    bubble = flag.evaluate("el => getComputedStyle(el, '::after').content")
    assert "Returned" in bubble and "times per order" in bubble
    panel.screenshot(path=screenshots / "insights-360-flag-focus.png")

    # An associate at the counter sees the insight of each pickup's customer.
    counter = new_context(TABLET_LANDSCAPE).new_page()
    log_in(counter, live_server.url, shop.associate.email)
    counter.goto(f"{live_server.url}/stores/{shop.store.code}/pickups/")
    row = counter.locator(f"#pickup-{small.pickup.pk}")
    expect(row.locator(".insight-flag-cross_sell")).to_contain_text("below usual")
    expect(row).to_contain_text("Average order")
    counter.screenshot(path=screenshots / "insights-counter.png", full_page=True)

    # And at the returns desk, above her orders.
    counter.goto(f"{live_server.url}/stores/{shop.store.code}/returns/customers/{customer.pk}/")
    desk = counter.get_by_role("region", name="What we know about her")
    expect(desk.locator(".insight-flag-high_maintenance")).to_be_visible()
    counter.screenshot(path=screenshots / "insights-returns-desk.png")

    # The rep sees the same on an inquiry of hers, in the customer sidebar.
    inquiry = customer.inquiries.order_by("-created_at").first()
    assert inquiry is not None
    page.goto(f"{live_server.url}/inquiries/{inquiry.pk}/")
    sidebar = page.get_by_role("region", name="Customer")
    expect(sidebar.locator(".insight-flag-high_maintenance")).to_be_visible()
    expect(sidebar).to_contain_text("Contacts per order")
    sidebar.screenshot(path=screenshots / "insights-inquiry-sidebar.png")

    # At the kiosk the hint follows the basket as it is typed.
    counter.goto(f"{live_server.url}/stores/{shop.store.code}/orders/new/?customer={customer.pk}")
    hint = counter.locator("#kiosk-insight")
    expect(hint).not_to_contain_text("Cross-sell")
    counter.get_by_label("SKU of line 1").fill("SCK")
    counter.get_by_label("Quantity of line 1").click()
    expect(hint.locator(".insight-flag-cross_sell")).to_be_visible()
    counter.get_by_label("SKU of line 1").fill("JKT")
    counter.get_by_label("Quantity of line 1").fill("3")
    counter.get_by_label("SKU of line 2").click()
    expect(hint).not_to_contain_text("Cross-sell")
    counter.screenshot(path=screenshots / "insights-kiosk.png", full_page=True)

    # A supervisor raises the returns threshold: the flag is gone at once.
    boss = new_context(DESKTOP).new_page()
    log_in(boss, live_server.url, shop.supervisor.email)
    boss.goto(f"{live_server.url}{customer.get_absolute_url()}")
    boss.locator("#insights").get_by_role("link", name="Thresholds").click()
    expect(boss.get_by_role("heading", name="Insight thresholds")).to_be_visible()
    boss.get_by_label("Returns rate above (% of items)").fill("90")
    boss.screenshot(path=screenshots / "insights-thresholds.png", full_page=True)
    boss.get_by_role("button", name="Save thresholds").click()
    expect(boss.get_by_role("status")).to_contain_text("Insight thresholds saved")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(page.locator("#insights")).to_be_visible()
    expect(page.locator("#insights .insight-flag-high_maintenance")).to_have_count(0)
