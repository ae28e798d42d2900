"""The product search and product pages: who sees them, what the stock table says, and what
they cost in queries."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Channel, Role
from customers.services import Identity
from orders.models import Product
from orders.services import LineInput, order_record
from stores.models import StockAction, Store, StoreKind
from stores.services import stock_adjust
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def union() -> Store:
    return StoreFactory.create(name="Union Square", city="San Francisco")


@pytest.fixture
def warehouse() -> Store:
    return StoreFactory.create(name="Reno Fulfilment Center", kind=StoreKind.WAREHOUSE)


@pytest.fixture
def jacket(union: Store, warehouse: Store) -> Product:
    product = ProductFactory.create(
        sku="JKT-RAIN", name="Packable rain jacket", price=Decimal("129.00")
    )
    stock_adjust(store=union, product=product, action=StockAction.RECEIVE, quantity=4)
    stock_adjust(store=union, product=product, action=StockAction.RESERVE, quantity=1)
    stock_adjust(store=warehouse, product=product, action=StockAction.RECEIVE, quantity=40)
    return product


def logged_in(role: str, store: Store | None = None) -> Client:
    client = Client()
    client.force_login(store_staff(store, role=role) if store else UserFactory.create(role=role))
    return client


class TestAccess:
    def urls(self) -> list[str]:
        return [
            reverse("products:search"),
            reverse("products:search") + "?q=rain",
            reverse("products:detail", args=["JKT-RAIN"]),
        ]

    def test_anonymous_is_sent_to_login(self, client: Client, jacket: Product) -> None:
        for url in self.urls():
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url

    def test_a_customer_gets_403(self, jacket: Product) -> None:
        client = logged_in(Role.CUSTOMER)
        for url in self.urls():
            assert client.get(url).status_code == 403, url

    @pytest.mark.parametrize("role", [Role.REP, Role.SUPERVISOR, Role.ADMIN])
    def test_every_employee_sees_stock(self, role: str, jacket: Product) -> None:
        client = logged_in(role)
        assert client.get(reverse("products:search")).status_code == 200
        assert client.get(reverse("products:detail", args=["JKT-RAIN"])).status_code == 200

    @pytest.mark.parametrize("role", [Role.ASSOCIATE, Role.MANAGER])
    def test_store_staff_see_stock_too(self, role: str, union: Store, jacket: Product) -> None:
        client = logged_in(role, union)
        assert client.get(reverse("products:detail", args=["JKT-RAIN"])).status_code == 200

    def test_an_unknown_sku_is_404(self, jacket: Product) -> None:
        response = logged_in(Role.REP).get(reverse("products:detail", args=["NOPE-1"]))
        assert response.status_code == 404


class TestProductSearch:
    def test_finds_by_sku_prefix_or_words_of_the_name(self) -> None:
        ProductFactory.create(sku="JKT-RAIN", name="Packable rain jacket")
        ProductFactory.create(sku="JKT-DOWN", name="Down jacket, storm grey")
        ProductFactory.create(sku="SCK-WOOL", name="Merino hiking socks")
        client = logged_in(Role.REP)

        by_sku = client.get(reverse("products:search"), {"q": "jkt"}).content.decode()
        by_words = client.get(reverse("products:search"), {"q": "jacket grey"})

        assert "Packable rain jacket" in by_sku and "Down jacket" in by_sku
        assert "Merino" not in by_sku
        # One match opens the product straight away.
        assert by_words.status_code == 302
        assert by_words["Location"] == reverse("products:detail", args=["JKT-DOWN"])

    def test_no_match_says_so(self) -> None:
        ProductFactory.create(name="Packable rain jacket")

        page = logged_in(Role.REP).get(reverse("products:search"), {"q": "umbrella"})

        assert page.status_code == 200
        assert "No product matches “umbrella”" in page.content.decode()

    def test_lists_stock_online_and_how_many_stores_have_some(
        self, union: Store, warehouse: Store, jacket: Product
    ) -> None:
        sold_out = ProductFactory.create(name="Packable rain jacket, sold out")
        closed = StoreFactory.create(name="Closed store", is_active=False)
        stock_adjust(store=closed, product=sold_out, action=StockAction.RECEIVE, quantity=9)

        page = logged_in(Role.REP).get(reverse("products:search"), {"q": "rain"})

        rows = {p.sku: p for p in page.context["page"].object_list}
        assert (rows["JKT-RAIN"].online_available, rows["JKT-RAIN"].stores_in_stock) == (40, 1)
        assert (rows[sold_out.sku].online_available, rows[sold_out.sku].stores_in_stock) == (0, 0)
        assert "Out of stock" in page.content.decode()

    def test_pages_through_the_catalogue(self) -> None:
        ProductFactory.create_batch(30, name="Linen tee")
        client = logged_in(Role.REP)

        first = client.get(reverse("products:search"), {"q": "linen"})
        second = client.get(reverse("products:search"), {"q": "linen", "page": 2})

        assert len(first.context["page"].object_list) == 25
        assert len(second.context["page"].object_list) == 5
        assert "?q=linen&amp;page=2" in first.content.decode()

    def test_the_query_count_does_not_grow_with_products_or_stores(
        self, django_assert_max_num_queries
    ) -> None:
        stores = StoreFactory.create_batch(12)
        for product in ProductFactory.create_batch(30):
            for store in stores:
                stock_adjust(store=store, product=product, action=StockAction.RECEIVE, quantity=2)
        client = logged_in(Role.REP)

        # session, user, the nav's stores, count, the page of products
        with django_assert_max_num_queries(6):
            response = client.get(reverse("products:search"))

        assert response.status_code == 200


class TestProductPage:
    def test_shows_price_category_and_stock_in_every_location(
        self, union: Store, warehouse: Store, jacket: Product
    ) -> None:
        StoreFactory.create(name="Mission District")
        StoreFactory.create(name="Closed store", is_active=False)

        response = logged_in(Role.REP).get(reverse("products:detail", args=["JKT-RAIN"]))

        rows = [
            (row.label, row.on_hand, row.reserved, row.available)
            for row in response.context["stock_rows"]
        ]
        assert rows == [
            ("Online (Reno Fulfilment Center)", 40, 0, 40),
            ("Mission District", 0, 0, 0),
            ("Union Square", 4, 1, 3),
        ]
        page = response.content.decode()
        assert "$129.00" in page and jacket.category.name in page
        assert "Out of stock" in page
        assert '<span class="tabular">3</span> available' in page
        assert "Your store" not in page

    def test_store_staff_see_their_own_store_highlighted(
        self, union: Store, jacket: Product
    ) -> None:
        page = logged_in(Role.ASSOCIATE, union).get(reverse("products:detail", args=["JKT-RAIN"]))

        html = page.content.decode()
        assert html.count('class="stock-own"') == 1
        assert "Your store" in html

    def test_the_query_count_does_not_grow_with_stores(
        self, union: Store, jacket: Product, django_assert_max_num_queries
    ) -> None:
        for store in StoreFactory.create_batch(15):
            stock_adjust(store=store, product=jacket, action=StockAction.RECEIVE, quantity=1)
        client = logged_in(Role.MANAGER, union)

        # session, user, product, stock by location, own stores, the nav's stores and pickup badge
        with django_assert_max_num_queries(7):
            response = client.get(reverse("products:detail", args=["JKT-RAIN"]))

        assert len(response.context["stock_rows"]) == 17


def test_order_lines_link_to_their_product(jacket: Product) -> None:
    order = order_record(
        identity=Identity(email="ana@example.com"),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=1)],
    )

    page = logged_in(Role.REP).get(order.get_absolute_url()).content.decode()

    assert f'href="{reverse("products:detail", args=["JKT-RAIN"])}"' in page
