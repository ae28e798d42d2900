"""A rep reads a customer's marketing and traffic history on her 360 page: the History, Offers,
Visits, Wish list and Carts tabs, switched with the mouse and with the keyboard, each loaded in
place and each at its own address. A store associate sees the offers of the customer collecting
a pickup, and of the customer at the returns desk. Every tab is photographed under
var/screenshots/engagement-<tab>.png."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crm.models import Channel, Role
from customers.engagement import wishlist_remove
from customers.models import Customer
from customers.selectors_engagement import ENGAGEMENT_PAGE
from customers.services import Identity
from orders.models import Order, PickupStatus, Product
from orders.services import LineInput, order_record, pickup_set_status
from stores.models import StockAction, StoreRole
from stores.services import stock_adjust
from tests.customers.factories_engagement import left_cart, sent_offer, web_visit, wished
from tests.e2e.conftest import DESKTOP, TABLET_PORTRAIT, log_in
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.e2e

NO_RELOAD = "window.__crmNoReload"


@pytest.fixture
def shop(transactional_db: None) -> dict[str, object]:
    """Lena, who buys on the web shop and in store, reads the mailer and leaves carts."""
    store = StoreFactory(code="sf-union", name="Union Square", time_zone="America/Los_Angeles")
    products: dict[str, Product] = {
        sku: ProductFactory.create(sku=sku, name=name, price=Decimal(price))
        for sku, name, price in [
            ("JKT-RAIN", "Packable rain jacket, storm grey", "129.00"),
            ("BAG-CROSS", "Cognac crossbody bag", "119.00"),
            ("BOOT-ANK", "Suede ankle boots", "159.00"),
            ("SCF-WOOL", "Merino wool scarf", "39.00"),
            ("WATCH-S", "Midnight smart watch", "249.00"),
        ]
    }
    stock_adjust(store=store, product=products["JKT-RAIN"], action=StockAction.RECEIVE, quantity=9)
    stock_adjust(store=store, product=products["BAG-CROSS"], action=StockAction.RECEIVE, quantity=2)
    now = timezone.now()
    identity = Identity(email="lena.fischer@example.com", first_name="Lena", last_name="Fischer")
    spring = order_record(
        identity=identity,
        channel=Channel.WEB,
        lines=[LineInput(sku="SCF-WOOL", quantity=1)],
        placed_at=now - timedelta(days=20),
    )
    in_store = order_record(
        identity=identity,
        channel=Channel.STORE,
        store=store,
        lines=[LineInput(sku="BOOT-ANK", quantity=1)],
        placed_at=now - timedelta(days=6),
    )
    pickup_order = order_record(
        identity=identity,
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1)],
        fulfilment="pickup",
        pickup_store=store,
    )
    lena = Customer.objects.get(pk=spring.customer_id)
    for n in range(ENGAGEMENT_PAGE + 3):
        sent_offer(lena, campaign=f"Weekly picks {n + 1}", sent_at=now - timedelta(days=40 + n))
    sent_offer(
        lena,
        campaign="Spring Collection",
        promotion_code="SPRING20",
        sent_at=now - timedelta(days=23),
        opened=now - timedelta(days=22, hours=3),
        clicked=now - timedelta(days=22, hours=2),
        redeemed=now - timedelta(days=20),
        order=spring,
    )
    sent_offer(
        lena,
        campaign="Boots Week",
        channel="sms",
        offer_type="amount_off",
        offer_value=Decimal("25"),
        sent_at=now - timedelta(days=8),
        clicked=now - timedelta(days=8, hours=-1),
        redeemed=now - timedelta(days=6),
        order=in_store,
    )
    sent_offer(
        lena,
        campaign="Free Shipping Weekend",
        offer_type="free_shipping",
        offer_value=None,
        sent_at=now - timedelta(days=3),
        opened=now - timedelta(days=2),
    )
    for days, source, campaign, referrer, landing in [
        (1, "email", "free-shipping-weekend", "https://mail.example.com/", "/new"),
        (4, "search", "", "https://www.google.com/", "/shoes/boots"),
        (9, "social", "ss-lookbook", "https://www.instagram.com/", "/lookbook"),
        (12, "bookmark", "", "", "/account/wish-list"),
        (22, "email", "spring-collection", "https://mail.example.com/", "/women/scarves"),
        (45, "affiliate", "", "https://stylenotes.example.com/fall", "/women/bags"),
    ]:
        web_visit(
            lena,
            at=now - timedelta(days=days),
            source=source,
            campaign=campaign,
            referrer=referrer,
            landing_page=landing,
        )
    wished(lena, products["BAG-CROSS"], at=now - timedelta(days=12))
    wished(lena, products["WATCH-S"], at=now - timedelta(days=4))
    wished(lena, products["JKT-RAIN"], at=now - timedelta(days=30))
    wishlist_remove(customer=lena, sku="JKT-RAIN", at=now - timedelta(days=1))
    left_cart(
        lena,
        [(products["BOOT-ANK"], 1), (products["SCF-WOOL"], 2)],
        step="payment",
        at=now - timedelta(days=2),
    )
    left_cart(
        lena,
        [(products["SCF-WOOL"], 1)],
        step="shipping",
        at=now - timedelta(days=21),
        recovered_at=now - timedelta(days=20),
        order=spring,
    )
    pickup = pickup_order.pickup
    pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=None)
    pickup_set_status(pickup=pickup, to=PickupStatus.READY, actor=None)
    return {
        "lena": lena,
        "store": store,
        "spring": spring,
        "rep": UserFactory(role=Role.REP, email="rita@retail.example", time_zone="America/Chicago"),
        "associate": store_staff(store, StoreRole.ASSOCIATE, email="sam@retail.example"),
    }


def _tab(page: Page, name: str):
    return page.get_by_role("tab", name=name)


def _fits(page: Page, name: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the screen"


def test_rep_switches_tabs_with_mouse_and_keyboard(
    live_server, shop: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    lena: Customer = shop["lena"]
    url = f"{live_server.url}{lena.get_absolute_url()}"
    page = new_context(DESKTOP).new_page()
    log_in(page, live_server.url, shop["rep"].email)
    page.goto(url)
    page.evaluate(f"{NO_RELOAD} = true")

    tablist = page.get_by_role("tablist")
    expect(tablist.get_by_role("tab")).to_have_count(5)
    expect(_tab(page, "History")).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel")
    expect(panel).to_have_attribute("aria-labelledby", "tab-history")
    expect(panel.locator("#timeline-items .timeline-item").first).to_be_visible()
    page.locator("#customer-tabs-title").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "engagement-history.png", full_page=True)

    # The mouse: Offers opens in place, the address follows, the newest offer first.
    _tab(page, "Offers").click()
    expect(page).to_have_url(re.compile(r"/offers/$"))
    expect(_tab(page, "Offers")).to_have_attribute("aria-selected", "true")
    expect(_tab(page, "History")).to_have_attribute("aria-selected", "false")
    expect(panel).to_have_attribute("aria-labelledby", "tab-offers")
    offers = panel.locator("#offers-items .timeline-item")
    expect(offers).to_have_count(ENGAGEMENT_PAGE)
    expect(offers.first).to_contain_text("Free shipping")
    expect(offers.nth(2)).to_contain_text("Spring Collection")
    expect(offers.nth(2)).to_contain_text("Redeemed")
    expect(offers.nth(2).get_by_role("link", name=f"order {shop['spring'].number}")).to_be_visible()
    _fits(page, "offers")
    page.screenshot(path=screenshots / "engagement-offers.png", full_page=True)

    # Older offers append below, and the keyboard user lands on the first of them.
    panel.get_by_role("link", name="Older offers").click()
    expect(offers).to_have_count(ENGAGEMENT_PAGE + 6)
    expect(offers.nth(ENGAGEMENT_PAGE)).to_be_focused()
    # The channel filter narrows the list to the SMS offer.
    panel.get_by_label("Sent by").select_option(label="SMS")
    expect(offers).to_have_count(1)
    expect(offers.first).to_contain_text("Boots Week")
    expect(page).to_have_url(re.compile(r"/offers/\?channel=sms$"))

    # The keyboard: one tab stop for the list, arrows move, Enter and Space open.
    _tab(page, "Offers").focus()
    page.keyboard.press("ArrowRight")
    expect(_tab(page, "Visits")).to_be_focused()
    expect(_tab(page, "Offers")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(_tab(page, "Visits")).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"/visits/$"))
    expect(panel.locator("#visit-summary")).to_contain_text("5 visits")
    expect(panel.locator("#visits-items .timeline-item")).to_have_count(6)
    expect(_tab(page, "Visits")).to_be_focused()
    page.screenshot(path=screenshots / "engagement-visits.png", full_page=True)

    page.keyboard.press("ArrowRight")
    expect(_tab(page, "Wish list")).to_be_focused()
    page.keyboard.press(" ")
    expect(_tab(page, "Wish list")).to_have_attribute("aria-selected", "true")
    wishes = panel.locator("#wishlist-items .timeline-item")
    expect(wishes).to_have_count(2)
    expect(wishes.first).to_contain_text("Midnight smart watch")
    expect(page).to_have_url(re.compile(r"/wish-list/$"))
    page.screenshot(path=screenshots / "engagement-wishlist.png", full_page=True)

    page.keyboard.press("End")
    expect(_tab(page, "Carts")).to_be_focused()
    page.keyboard.press("Enter")
    carts = panel.locator("#carts-items .timeline-item")
    expect(carts).to_have_count(2)
    expect(carts.first).to_contain_text("Left at payment")
    expect(carts.first).to_contain_text("Suede ankle boots")
    expect(carts.nth(1)).to_contain_text("Recovered")
    page.screenshot(path=screenshots / "engagement-carts.png", full_page=True)

    # Tab leaves the tab list for the panel; Shift+Tab comes back to the selected tab.
    page.keyboard.press("Home")
    expect(_tab(page, "History")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(url)
    expect(panel.locator("#timeline-items .timeline-item").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(_tab(page, "Offers")).not_to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(_tab(page, "History")).to_be_focused()
    assert page.evaluate(NO_RELOAD) is True

    # The history's entries lead to their tab, at the entry.
    panel.get_by_role("link", name=re.compile(r"^Cart abandoned at shipping")).click()
    expect(page).to_have_url(re.compile(r"/carts/\?from=\d+#cart-\d+$"))
    expect(_tab(page, "Carts")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".timeline-item.is-target")).to_contain_text("Recovered")

    # Back in the browser's history, the visits tab comes back as it was.
    page.goto(f"{url}visits/")
    expect(_tab(page, "Visits")).to_have_attribute("aria-selected", "true")
    expect(page.locator("h1")).to_have_text("Lena Fischer")

    tablet = new_context(TABLET_PORTRAIT).new_page()
    log_in(tablet, live_server.url, shop["rep"].email)
    tablet.goto(f"{url}offers/")
    _fits(tablet, "offers on a tablet")
    tablet.screenshot(path=screenshots / "engagement-offers-tablet-portrait.png", full_page=True)


def test_tabs_work_without_scripts(live_server, shop: dict, browser, screenshots: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server.url, shop["rep"].email)
        page.goto(f"{live_server.url}{shop['lena'].get_absolute_url()}")
        _tab(page, "Carts").click()
        expect(page).to_have_url(re.compile(r"/carts/$"))
        expect(_tab(page, "Carts")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#carts-items .timeline-item")).to_have_count(2)
    finally:
        context.close()


def test_the_counter_shows_the_offers_of_the_customer_collecting(
    live_server, shop: dict, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    store = shop["store"]
    page = new_context(DESKTOP).new_page()
    log_in(page, live_server.url, shop["associate"].email)

    page.goto(f"{live_server.url}/stores/{store.code}/pickups/?state=ready")
    offers = page.locator(f"#recent-offers-{shop['lena'].pk}")
    expect(offers).to_contain_text("5 recent offers: 3 answered, 2 redeemed")
    offers.locator("summary").click()
    expect(offers.locator(".recent-offer")).to_have_count(5)
    expect(offers.locator(".recent-offer").first).to_contain_text("Free shipping")
    expect(offers.locator(".recent-offer").first).to_contain_text("Opened")
    _fits(page, "pickup counter")
    page.screenshot(path=screenshots / "engagement-counter.png", full_page=True)

    page.goto(f"{live_server.url}/stores/{store.code}/returns/customers/{shop['lena'].pk}/")
    card = page.locator(f"#recent-offers-{shop['lena'].pk}")
    expect(card.get_by_role("heading", name=re.compile("Recent offers"))).to_be_visible()
    expect(card.locator(".recent-offer")).to_have_count(5)
    expect(card).to_contain_text(Order.objects.get(pk=shop["spring"].pk).number)
    _fits(page, "returns desk")
    page.screenshot(path=screenshots / "engagement-returns-desk.png", full_page=True)
