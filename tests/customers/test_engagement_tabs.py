"""The 360 page's Offers, Visits, Wish list and Carts tabs, the engagement entries of its History,
and the recent-offers panel of the stores' counters."""

import html
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Role
from customers.models import ActivityKind, Cart, Customer, TouchChannel
from customers.selectors_engagement import ENGAGEMENT_PAGE
from customers.services import customer_merge
from orders.models import PickupStatus, Product
from orders.services import pickup_set_status
from stores.models import StockAction, StoreRole
from stores.services import stock_adjust
from tests.customers.factories_engagement import (
    left_cart,
    sent_offer,
    web_order,
    web_visit,
    wished,
)
from tests.factories import CustomerFactory, ProductFactory, StoreFactory, UserFactory, store_staff
from tests.stores.pickup_fixtures import place_pickup, stocked_store

pytestmark = pytest.mark.django_db

TABS = ("offers", "visits", "wishlist", "carts")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def maya() -> Customer:
    customer: Customer = CustomerFactory(first_name="Maya", last_name="Johnson")
    return customer


def signed_in(role: str = Role.REP, store=None, **kwargs) -> Client:
    user = (
        store_staff(store, role=role, **kwargs)
        if store is not None
        else UserFactory(role=role, **kwargs)
    )
    client = Client()
    client.force_login(user)
    return client


def tab_url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


def text(response) -> str:
    """The page's visible words, tags stripped and spaces folded, for asserting on sentences."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


class TestTabs:
    def test_the_360_page_opens_on_the_history_with_four_more_tabs(self, maya) -> None:
        page = signed_in().get(maya.get_absolute_url()).content.decode()

        assert 'role="tablist"' in page
        tabs = re.findall(r'<a class="nav-link( active)?" id="tab-(\w+)" role="tab"', page)
        assert [name for _, name in tabs] == ["history", *TABS]
        assert [name for active, name in tabs if active] == ["history"]
        assert 'id="tab-history" role="tab" href="/customers/' in page
        assert 'aria-selected="true"' in page and page.count('aria-selected="false"') == 4
        assert 'role="tabpanel" aria-labelledby="tab-history"' in page
        assert 'id="timeline-items"' in page
        # Each tab is a plain link to its own page, loaded in place by htmx.
        for name in TABS:
            assert f'href="{tab_url(name, maya)}"' in page
            assert f'hx-get="{tab_url(name, maya)}"' in page

    @pytest.mark.parametrize("name", TABS)
    def test_a_tab_opened_directly_is_the_whole_page_with_that_tab_open(self, name, maya) -> None:
        response = signed_in().get(tab_url(name, maya))

        page = response.content.decode()
        assert response.status_code == 200
        assert "<h1>Maya Johnson</h1>" in page
        assert re.search(rf'class="nav-link active" id="tab-{name}" role="tab"', page)
        assert f'aria-labelledby="tab-{name}"' in page
        assert 'id="timeline-items"' not in page
        assert f'id="{name}-items"' in page

    @pytest.mark.parametrize("name", TABS)
    def test_htmx_gets_the_panel_alone_and_the_address_follows(self, name, maya) -> None:
        response = signed_in().get(tab_url(name, maya), headers=HTMX)

        page = response.content.decode()
        assert f'id="{name}-items"' in page
        assert "<html" not in page and 'role="tablist"' not in page
        assert response["HX-Push-Url"] == tab_url(name, maya)

    @pytest.mark.parametrize(
        ("name", "sentence"),
        [
            ("offers", "No offers yet"),
            ("visits", "No web shop visits"),
            ("wishlist", "Nothing on the wish list"),
            ("carts", "No abandoned carts"),
        ],
    )
    def test_each_tab_says_when_there_is_nothing(self, name, sentence, maya) -> None:
        page = text(signed_in().get(tab_url(name, maya), headers=HTMX))

        assert sentence in page
        assert "Maya" in page

    def test_a_merged_record_opens_the_survivors_tab(self, maya) -> None:
        twin = CustomerFactory(first_name="Maya", last_name="Johnson")
        customer_merge(survivor=maya, merged=twin, actor=UserFactory(role=Role.SUPERVISOR))

        response = signed_in().get(tab_url("offers", twin), {"channel": "sms"})

        assert response.status_code == 302
        assert response["Location"] == f"{tab_url('offers', maya)}?channel=sms"

    def test_an_unknown_customer_is_404(self) -> None:
        assert signed_in().get(reverse("customers:offers", args=[999999])).status_code == 404


class TestAccess:
    def urls(self, customer: Customer) -> list[str]:
        return [
            *(tab_url(name, customer) for name in TABS),
            reverse("customers:recent_offers", args=[customer.pk]),
        ]

    def test_anonymous_is_sent_to_login(self, client, maya) -> None:
        for url in self.urls(maya):
            response = client.get(url, headers=HTMX)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url

    def test_a_customer_gets_403_even_for_her_own_record(self, maya) -> None:
        user = UserFactory(role=Role.CUSTOMER)
        maya.user = user
        maya.save(update_fields=["user"])
        client = Client()
        client.force_login(user)

        for url in self.urls(maya):
            assert client.get(url, headers=HTMX).status_code == 403, url

    @pytest.mark.parametrize(
        "role", [Role.REP, Role.SUPERVISOR, Role.ADMIN, StoreRole.ASSOCIATE, StoreRole.MANAGER]
    )
    def test_staff_see_every_tab_and_the_panel(self, role, maya) -> None:
        store = StoreFactory() if role in (StoreRole.ASSOCIATE, StoreRole.MANAGER) else None
        client = signed_in(role, store)

        for url in self.urls(maya):
            assert client.get(url, headers=HTMX).status_code == 200, url
        for name in TABS:
            assert client.get(tab_url(name, maya)).status_code == 200, name


class TestOffers:
    def test_each_offer_shows_what_became_of_it(self, maya) -> None:
        now = timezone.now()
        order = web_order(maya, "W100231")
        sent_offer(
            maya,
            campaign="Spring sale",
            promotion_code="SPRING20",
            sent_at=now - timedelta(days=5),
            opened=now - timedelta(days=4),
            clicked=now - timedelta(days=4),
            redeemed=now - timedelta(days=3),
            order=order,
        )
        sent_offer(
            maya,
            campaign="Weekend",
            channel="sms",
            offer_type="free_shipping",
            offer_value=None,
            sent_at=now - timedelta(days=2),
            opened=now - timedelta(days=2),
        )
        sent_offer(
            maya,
            campaign="Ten off",
            offer_type="amount_off",
            offer_value=Decimal("10"),
            channel="mail",
            sent_at=now - timedelta(days=1),
        )

        response = signed_in().get(tab_url("offers", maya), headers=HTMX)

        rows = [
            (row.offer, row.touch.campaign, row.outcome)
            for row in response.context["tab"].page.rows
        ]
        assert rows == [
            ("$10.00 off", "Ten off", "sent"),
            ("free shipping", "Weekend", "opened"),
            ("20% off", "Spring sale", "redeemed"),
        ]
        page = text(response)
        assert "20% off · Spring sale Outcome: Redeemed" in page
        assert "Free shipping · Weekend Outcome: Opened" in page
        assert "Code SPRING20" in page and "SMS" in page and "Post" in page
        assert f'href="{order.get_absolute_url()}">order W100231</a>' in response.content.decode()

    def test_times_are_in_the_viewers_time_zone(self, maya) -> None:
        sent_at = timezone.now().replace(hour=3, minute=30, second=0, microsecond=0)
        sent_offer(maya, sent_at=sent_at - timedelta(days=1))
        client = signed_in(time_zone="Asia/Tokyo")

        page = client.get(tab_url("offers", maya), headers=HTMX).content.decode()

        # 03:30 UTC is 12:30 PM in Tokyo
        assert "12:30 PM" in page and "JST" in page

    def test_filtered_by_channel(self, maya) -> None:
        sent_offer(maya, campaign="By mail", channel="email")
        sent_offer(maya, campaign="By text", channel="sms")

        response = signed_in().get(tab_url("offers", maya), {"channel": "sms"}, headers=HTMX)

        assert [row.touch.campaign for row in response.context["tab"].page.rows] == ["By text"]
        assert '<option value="sms" selected>SMS</option>' in response.content.decode()
        assert response["HX-Push-Url"] == f"{tab_url('offers', maya)}?channel=sms"
        nothing = signed_in().get(tab_url("offers", maya), {"channel": "store"}, headers=HTMX)
        assert "No offers sent this way" in text(nothing)
        unknown = signed_in().get(tab_url("offers", maya), {"channel": "pigeon"}, headers=HTMX)
        assert len(unknown.context["tab"].page.rows) == 2

    def test_pages_through_every_offer_once_newest_first(self, maya) -> None:
        # Several offers go out in the same second: the id breaks the tie.
        moment = timezone.now() - timedelta(days=1)
        touches = [
            sent_offer(maya, campaign=f"c{n}", sent_at=moment - timedelta(hours=n // 4))
            for n in range(ENGAGEMENT_PAGE * 2 + 7)
        ]
        expected = [t.pk for t in sorted(touches, key=lambda t: (t.sent_at, t.pk), reverse=True)]

        seen = self._page_through(signed_in(), tab_url("offers", maya), "offer")

        assert seen == expected

    @staticmethod
    def _page_through(client: Client, url: str, name: str) -> list[int]:
        seen: list[int] = []
        response = client.get(url, headers=HTMX)
        pages = 0
        while True:
            pages += 1
            seen += [int(pk) for pk in re.findall(rf'id="{name}-(\d+)"', response.content.decode())]
            found = re.search(r'hx-get="[^"?]+\?before=([^"&]+)', response.content.decode())
            if not found:
                break
            assert "data-focus-next" in response.content.decode()
            cursor = unquote(html.unescape(found.group(1)))
            response = client.get(url, {"before": cursor}, headers=HTMX)
            # "More" pages are rows for the list, without the filter form again.
            assert "<form" not in response.content.decode()
        assert pages == -(-len(seen) // ENGAGEMENT_PAGE)
        return seen

    def test_a_timeline_entry_opens_the_tab_at_its_offer(self, maya) -> None:
        touches = [
            sent_offer(maya, campaign=f"c{n}", sent_at=timezone.now() - timedelta(days=n + 1))
            for n in range(ENGAGEMENT_PAGE + 5)
        ]
        old = touches[-2]
        client = signed_in()

        opened = client.get(tab_url("offers", maya), {"from": old.pk})

        rows = [row.touch.pk for row in opened.context["tab"].page.rows]
        assert rows == [old.pk, touches[-1].pk]
        assert f'class="timeline-item is-target" id="offer-{old.pk}"' in opened.content.decode()
        assert "Show the newest" in text(opened)
        # Someone else's offer as a start shows her newest.
        other = sent_offer(CustomerFactory())
        fallback = client.get(tab_url("offers", maya), {"from": other.pk}, headers=HTMX)
        assert [row.touch.pk for row in fallback.context["tab"].page.rows] == [
            t.pk for t in touches[:ENGAGEMENT_PAGE]
        ]


class TestVisits:
    def test_visits_with_their_source_and_the_last_30_days_by_source(self, maya) -> None:
        now = timezone.now()
        web_visit(maya, source="search", at=now - timedelta(days=1), landing_page="/p/WOM-1004")
        web_visit(maya, source="search", at=now - timedelta(days=3))
        web_visit(
            maya,
            source="email",
            at=now - timedelta(days=10),
            campaign="spring-sale",
            referrer="https://mail.example.com/",
        )
        web_visit(maya, source="social", at=now - timedelta(days=45))

        response = signed_in().get(tab_url("visits", maya), headers=HTMX)

        summary = response.context["tab"].summary
        assert summary.total == 3
        assert [(s.label, s.count) for s in summary.sources] == [("Search", 2), ("E-mail", 1)]
        page = text(response)
        assert "Last 30 days 3 visits Search 2 E-mail 1" in page
        assert "Source: E-mail spring-sale" in page
        assert "From https://mail.example.com/ Landed on /women/dresses" in page
        assert "Source: Social media" in page  # older visits are listed, not counted
        assert len(response.context["tab"].page.visits) == 4

    def test_pages_through_every_visit_once(self, maya) -> None:
        at = timezone.now() - timedelta(hours=5)
        visits = [web_visit(maya, at=at - timedelta(minutes=n // 3)) for n in range(60)]
        expected = [v.pk for v in sorted(visits, key=lambda v: (v.occurred_at, v.pk), reverse=True)]

        seen = TestOffers._page_through(signed_in(), tab_url("visits", maya), "visit")

        assert seen == expected

    def test_no_recent_visits_is_said(self, maya) -> None:
        web_visit(maya, at=timezone.now() - timedelta(days=90))

        page = text(signed_in().get(tab_url("visits", maya), headers=HTMX))

        assert "Last 30 days No visits of the web shop." in page


class TestWishList:
    def test_the_current_list_with_prices_and_the_viewers_stock(self, maya) -> None:
        store = StoreFactory(name="Union Square")
        other_store = StoreFactory(name="Mission")
        scarf = ProductFactory(sku="ACC-1007", name="Wool Scarf", price=Decimal("39.00"))
        boots = ProductFactory(sku="SHO-1016", name="Ankle Boots", price=Decimal("159.00"))
        gone = ProductFactory(sku="ELE-1001", name="Earbuds")
        stock_adjust(store=store, product=scarf, action=StockAction.RECEIVE, quantity=3)
        stock_adjust(store=other_store, product=boots, action=StockAction.RECEIVE, quantity=9)
        wished(maya, scarf, at=timezone.now() - timedelta(days=2))
        wished(maya, boots, at=timezone.now() - timedelta(days=1))
        wished(maya, gone)
        from customers.engagement import wishlist_remove

        wishlist_remove(customer=maya, sku=gone.sku)

        associate = signed_in(StoreRole.ASSOCIATE, store)
        response = associate.get(tab_url("wishlist", maya), headers=HTMX)

        rows = response.context["tab"].page.rows
        assert [row.item.product.sku for row in rows] == ["SHO-1016", "ACC-1007"]
        page = text(response)
        assert "Ankle Boots $159.00 SKU SHO-1016" in page
        assert "Out of stock at Union Square" in page
        assert "3 in stock at Union Square" in page
        assert "Mission" not in page and "Earbuds" not in page
        assert (
            f'href="{reverse("products:detail", args=["ACC-1007"])}"' in response.content.decode()
        )

        rep_page = text(signed_in().get(tab_url("wishlist", maya), headers=HTMX))
        assert "Wool Scarf" in rep_page and "in stock at" not in rep_page

    def test_pages_through_a_long_list(self, maya) -> None:
        products = ProductFactory.create_batch(30)
        at = timezone.now() - timedelta(days=1)
        items = [
            wished(maya, product, at=at - timedelta(minutes=n // 2))
            for n, product in enumerate(products)
        ]
        expected = [i.pk for i in sorted(items, key=lambda i: (i.added_at, i.pk), reverse=True)]

        seen = TestOffers._page_through(signed_in(), tab_url("wishlist", maya), "wish")

        assert seen == expected


class TestCarts:
    def test_abandoned_and_recovered_carts_with_their_items(self, maya) -> None:
        tee: Product = ProductFactory(sku="WOM-1028", name="Linen T-Shirt", price=Decimal("24.00"))
        oven: Product = ProductFactory(sku="HOM-1001", name="Dutch Oven", price=Decimal("189.00"))
        now = timezone.now()
        order = web_order(maya, "W100777")
        left_cart(maya, [(tee, 2), (oven, 1)], step="payment", at=now - timedelta(days=1))
        left_cart(
            maya,
            [(oven, 1)],
            step="shipping",
            at=now - timedelta(days=9),
            recovered_at=now - timedelta(days=8),
            order=order,
        )

        response = signed_in().get(tab_url("carts", maya), headers=HTMX)

        page = text(response)
        assert "Left at payment · 3 items, $237.00" in page
        assert "Abandoned Checkout step reached: Payment" in page
        assert "2 × Linen T-Shirt WOM-1028 $48.00" in page
        assert "Left at shipping · 1 item, $189.00" in page
        assert "Recovered Bought" in page and "as order W100777" in page
        assert f'href="{order.get_absolute_url()}"' in response.content.decode()

    def test_a_product_no_longer_in_the_catalogue_shows_its_sku(self, maya) -> None:
        product: Product = ProductFactory()
        cart = left_cart(maya, [(product, 1)])
        Cart.objects.filter(pk=cart.pk).update(
            items=[{"sku": "GONE-1", "quantity": 2, "price": "5.00"}, "not an item"]
        )

        response = signed_in().get(tab_url("carts", maya), headers=HTMX)

        assert response.status_code == 200
        assert "2 × GONE-1 GONE-1 $10.00" in text(response)
        assert "/products/GONE-1/" not in response.content.decode()

    def test_pages_through_every_cart_once(self, maya) -> None:
        product: Product = ProductFactory()
        at = timezone.now() - timedelta(days=1)
        carts = [
            left_cart(maya, [(product, 1)], at=at - timedelta(hours=n // 2)) for n in range(30)
        ]
        expected = [c.pk for c in sorted(carts, key=lambda c: (c.abandoned_at, c.pk), reverse=True)]

        seen = TestOffers._page_through(signed_in(), tab_url("carts", maya), "cart")

        assert seen == expected


class TestEscaping:
    def test_text_from_other_systems_is_escaped_everywhere(self, maya) -> None:
        evil = "<script>alert(1)</script>"
        product: Product = ProductFactory(name=f"Scarf {evil}")
        sent_offer(maya, campaign=evil, promotion_code="X<b>", opened=timezone.now())
        web_visit(maya, campaign=evil, referrer=f"https://x.example/{evil}", landing_page=evil)
        wished(maya, product)
        left_cart(maya, [(product, 1)])
        client = signed_in()

        pages = [client.get(tab_url(name, maya), headers=HTMX) for name in TABS]
        pages.append(client.get(maya.get_absolute_url()))
        pages.append(client.get(reverse("customers:recent_offers", args=[maya.pk]), headers=HTMX))

        for response in pages:
            page = response.content.decode()
            assert "<script>alert" not in page, response.request["PATH_INFO"]
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, response.request["PATH_INFO"]


class TestHistory:
    def test_engagement_entries_link_to_their_subject_and_filter(self, maya) -> None:
        order = web_order(maya, "W100888")
        product: Product = ProductFactory(sku="ACC-1001", name="Leather Belt")
        touch = sent_offer(maya, opened=timezone.now() - timedelta(days=1))
        sent_offer(maya, redeemed=timezone.now() - timedelta(hours=1), order=order)
        visit = web_visit(maya)
        wished(maya, product)
        cart = left_cart(maya, [(product, 1)])
        client = signed_in()

        page = client.get(maya.get_absolute_url()).content.decode()

        assert f"{tab_url('offers', maya)}?from={touch.pk}#offer-{touch.pk}" in page
        assert f"{tab_url('visits', maya)}?from={visit.pk}#visit-{visit.pk}" in page
        assert f"{tab_url('carts', maya)}?from={cart.pk}#cart-{cart.pk}" in page
        assert reverse("products:detail", args=["ACC-1001"]) in page
        assert f'href="{order.get_absolute_url()}">Offer 20% off redeemed on order W100888' in page
        for kind in ("offer_sent", "offer_opened", "offer_redeemed", "visit", "cart_abandoned"):
            assert f'<option value="{kind}">' in page
        for kind in (
            "bi-megaphone",
            "bi-envelope-open",
            "bi-tag",
            "bi-globe2",
            "bi-heart",
            "bi-cart-x",
        ):
            assert kind in page

        visits_only = client.get(
            reverse("customers:timeline", args=[maya.pk]), {"kind": "visit"}, headers=HTMX
        ).context["timeline"]
        assert [a.kind for a in visits_only.activities] == [ActivityKind.VISIT]
        by_email = client.get(
            reverse("customers:timeline", args=[maya.pk]), {"channel": "email"}, headers=HTMX
        ).context["timeline"]
        assert {a.kind for a in by_email.activities} == {
            ActivityKind.OFFER_SENT,
            ActivityKind.OFFER_OPENED,
            ActivityKind.OFFER_REDEEMED,
        }

    def test_the_history_tab_is_loaded_by_the_timeline_view(self, maya) -> None:
        sent_offer(maya)
        response = signed_in().get(reverse("customers:timeline", args=[maya.pk]), headers=HTMX)

        assert 'id="timeline"' in response.content.decode()
        assert response["HX-Push-Url"] == maya.get_absolute_url()


class TestRecentOffers:
    def test_the_last_five_offers_newest_first_with_their_outcome(self, maya) -> None:
        now = timezone.now()
        for n in range(7):
            sent_offer(
                maya,
                campaign=f"Campaign {n}",
                sent_at=now - timedelta(days=10 - n),
                opened=now - timedelta(days=1) if n % 2 else None,
            )
        client = signed_in(StoreRole.ASSOCIATE, StoreFactory())

        response = client.get(reverse("customers:recent_offers", args=[maya.pk]), headers=HTMX)

        campaigns = [row.touch.campaign for row in response.context["offers"]]
        assert campaigns == [f"Campaign {n}" for n in (6, 5, 4, 3, 2)]
        page = text(response)
        assert "5 recent offers: 2 answered" in page
        assert "20% off · Campaign 5 E-mail ·" in page and "Opened" in page
        assert "<details" in response.content.decode()

        card = client.get(
            reverse("customers:recent_offers", args=[maya.pk]), {"layout": "card"}, headers=HTMX
        )
        assert "Recent offers · 2 of 5 answered" in text(card)
        assert 'class="card recent-offers' in card.content.decode()

    def test_nothing_sent_is_said(self, maya) -> None:
        client = signed_in()
        url = reverse("customers:recent_offers", args=[maya.pk])

        assert "No offers sent" in text(client.get(url, headers=HTMX))
        assert "No offers have been sent to Maya." in text(
            client.get(url, {"layout": "card"}, headers=HTMX)
        )

    def test_without_htmx_it_opens_the_offers_tab(self, maya) -> None:
        response = signed_in().get(reverse("customers:recent_offers", args=[maya.pk]))

        assert response.status_code == 302 and response["Location"] == tab_url("offers", maya)

    def test_the_pickup_counter_loads_it_for_customers_at_the_counter(self) -> None:
        store = stocked_store(units=10)
        waiting = place_pickup(store, quantity=1, email="bo@example.com")
        ready = place_pickup(store, quantity=1, email="cy@example.com")
        pickup_set_status(pickup=ready, to=PickupStatus.PREPARING, actor=None)
        pickup_set_status(pickup=ready, to=PickupStatus.READY, actor=None)
        sent_offer(ready.order.customer, campaign="Jacket weekend")
        client = signed_in(StoreRole.ASSOCIATE, store)

        counter = client.get(reverse("stores:pickups", args=[store.code]), {"state": "ready"})
        to_prepare = client.get(reverse("stores:pickups", args=[store.code]))

        panel = reverse("customers:recent_offers", args=[ready.order.customer_id])
        assert f'hx-get="{panel}"' in counter.content.decode()
        assert reverse("customers:recent_offers", args=[waiting.order.customer_id]) not in (
            to_prepare.content.decode()
        )
        loaded = client.get(panel, headers=HTMX)
        assert "Jacket weekend" in text(loaded)

    def test_the_returns_desk_loads_it_as_a_card(self, maya) -> None:
        store = StoreFactory()
        client = signed_in(StoreRole.ASSOCIATE, store)

        page = client.get(
            reverse("stores:returns_customer", args=[store.code, maya.pk])
        ).content.decode()

        panel = reverse("customers:recent_offers", args=[maya.pk])
        assert f'hx-get="{panel}?layout=card" hx-trigger="load"' in page

    def test_a_merged_records_offers_are_the_survivors(self, maya) -> None:
        twin: Customer = CustomerFactory()
        sent_offer(twin, campaign="Sent to the twin")
        customer_merge(survivor=maya, merged=twin, actor=UserFactory(role=Role.SUPERVISOR))

        response = signed_in().get(reverse("customers:recent_offers", args=[twin.pk]), headers=HTMX)

        assert "Sent to the twin" in text(response)
        assert response.context["customer"] == maya


def _engagement(customer: Customer, rows: int) -> None:
    """`rows` of each: offers in every state, visits, wish-list items and carts (some bought)."""
    now = timezone.now()
    products = ProductFactory.create_batch(3)
    order = web_order(customer, f"W9{customer.pk:05d}")
    for n in range(rows):
        at = now - timedelta(hours=n + 1)
        sent_offer(
            customer,
            sent_at=at,
            channel=TouchChannel.EMAIL if n % 2 else TouchChannel.SMS,
            opened=at if n % 3 else None,
            redeemed=at if n % 5 == 0 else None,
            order=order if n % 5 == 0 else None,
        )
        web_visit(customer, at=at, source=("search", "email", "social")[n % 3])
        left_cart(
            customer,
            [(products[n % 3], 1), (products[(n + 1) % 3], 2)],
            at=at,
            recovered_at=at + timedelta(minutes=5) if n % 4 == 0 else None,
            order=order if n % 4 == 0 else None,
        )
    for product in ProductFactory.create_batch(rows):
        wished(customer, product)


# The queries each tab adds for a store manager: its rows, plus the visits' summary, the wish
# list's stores and their stock, the carts' product names.
TAB_QUERIES = {"offers": 1, "visits": 2, "wishlist": 3, "carts": 2}
# The 360 page's own (its budget is in tests/customers/test_views.py).
PAGE_360 = 12


class TestQueryBudgets:
    """Each tab costs the same number of queries with a short or a long history."""

    @pytest.mark.parametrize("rows", [3, 60])
    @pytest.mark.parametrize("name", TABS)
    def test_each_tab_panel(self, name, rows, maya, django_assert_max_num_queries) -> None:
        _engagement(maya, rows)
        client = signed_in(StoreRole.MANAGER, StoreFactory())

        # the session, the user and the customer, then the tab's own
        with django_assert_max_num_queries(3 + TAB_QUERIES[name]):
            response = client.get(tab_url(name, maya), headers=HTMX)

        assert response.status_code == 200
        assert f'id="{name}-items"' in response.content.decode()

    @pytest.mark.parametrize("rows", [3, 60])
    @pytest.mark.parametrize("name", TABS)
    def test_each_tab_as_a_whole_page(
        self, name, rows, maya, django_assert_max_num_queries
    ) -> None:
        _engagement(maya, rows)
        client = signed_in(StoreRole.MANAGER, StoreFactory())

        # the 360 page, the tab's customer check, the tab's own
        with django_assert_max_num_queries(PAGE_360 + 1 + TAB_QUERIES[name]):
            response = client.get(tab_url(name, maya))

        assert response.status_code == 200

    @pytest.mark.parametrize("rows", [3, 60])
    def test_the_history_and_the_recent_offers(
        self, rows, maya, django_assert_max_num_queries
    ) -> None:
        _engagement(maya, rows)
        client = signed_in(StoreRole.MANAGER, StoreFactory())

        with django_assert_max_num_queries(PAGE_360):
            assert client.get(maya.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(4):
            response = client.get(reverse("customers:recent_offers", args=[maya.pk]), headers=HTMX)
        assert len(response.context["offers"]) == min(rows, 5)
