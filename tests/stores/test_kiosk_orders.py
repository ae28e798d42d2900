"""The kiosk order form of a store's console: who may open it, orders shipped home or picked up
at a store with stock, refusals that store nothing, the stock table and a query budget."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Channel, Role, User
from customers.models import Customer
from orders.models import Fulfilment, Order, OrderStatus, Pickup
from stores.models import StockLevel, Store, StoreRole
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff
from tests.stores.pickup_fixtures import jacket, place_pickup, stocked_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def union() -> Store:
    """The store at the counter: no rain jackets."""
    return StoreFactory.create(code="sf-union", name="Union Square")


@pytest.fixture
def mission() -> Store:
    return stocked_store(name="Mission", code="sf-mission", units=4)


@pytest.fixture
def associate(union: Store) -> User:
    return store_staff(union, StoreRole.ASSOCIATE)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(store: Store) -> str:
    return reverse("stores:order_new", args=[store.code])


def new_customer_order(**overrides: str) -> dict[str, str]:
    data = {
        "email": "bea@example.com",
        "phone": "",
        "first_name": "Bea",
        "last_name": "Kim",
        "sku_1": "JKT-RAIN",
        "qty_1": "2",
        "fulfilment": Fulfilment.SHIP,
        "pickup_store": "",
        "action": "place",
    }
    data.update(overrides)
    return data


class TestAccess:
    def test_anonymous_is_sent_to_login(self, client: Client, union) -> None:
        response = client.get(url(union))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_a_customer_gets_403(self, union) -> None:
        client = signed_in(UserFactory.create(role=Role.CUSTOMER))
        assert client.get(url(union)).status_code == 403
        assert client.post(url(union), new_customer_order()).status_code == 403
        assert not Order.objects.exists()

    def test_another_store_is_404(self, union, mission, associate) -> None:
        client = signed_in(associate)
        assert client.get(url(mission)).status_code == 404
        assert client.post(url(mission), new_customer_order()).status_code == 404
        assert not Order.objects.exists()

    def test_the_store_nav_links_to_it(self, union, associate) -> None:
        response = signed_in(associate).get(reverse("stores:dashboard", args=[union.code]))
        assert url(union) in response.content.decode()


class TestPlacing:
    def test_ship_home_for_a_new_customer(self, union, associate) -> None:
        jacket()

        response = signed_in(associate).post(url(union), new_customer_order())

        order = Order.objects.get()
        assert response.status_code == 302
        assert response["Location"] == order.get_absolute_url()
        assert order.channel == Channel.KIOSK
        assert order.store == union
        assert order.fulfilment == Fulfilment.SHIP
        assert order.status == OrderStatus.PLACED
        assert order.pickup_store is None
        assert order.customer.full_name == "Bea Kim"
        assert [(line.sku, line.quantity) for line in order.lines.all()] == [("JKT-RAIN", 2)]
        assert not Pickup.objects.exists()
        followed = signed_in(associate).get(response["Location"])
        assert followed.status_code == 200

    def test_pickup_at_another_store_reserves_its_stock(self, union, mission, associate) -> None:
        response = signed_in(associate).post(
            url(union),
            new_customer_order(
                sku_1="jkt-rain", fulfilment=Fulfilment.PICKUP, pickup_store=str(mission.pk)
            ),
        )

        order = Order.objects.get()
        assert response.status_code == 302
        assert order.store == union
        assert order.pickup_store == mission
        assert Pickup.objects.get(order=order).store == mission
        assert StockLevel.objects.get(store=mission, product=jacket()).reserved == 2

    def test_a_customer_from_her_record_is_found_not_duplicated(
        self, union, mission, associate
    ) -> None:
        ann = place_pickup(mission, quantity=1).order.customer

        page = signed_in(associate).get(url(union), {"customer": ann.pk})
        response = signed_in(associate).post(
            f"{url(union)}?customer={ann.pk}",
            {"sku_1": "JKT-RAIN", "qty_1": "1", "fulfilment": "ship", "action": "place"},
        )

        assert page.status_code == 200
        assert "ann@example.com" in page.content.decode()
        assert response.status_code == 302
        assert Customer.objects.count() == 1
        assert Order.objects.filter(customer=ann, channel=Channel.KIOSK).count() == 1


class TestRefusals:
    def test_no_stock_at_the_pickup_store_names_the_stores_that_have_it(
        self, union, mission, associate
    ) -> None:
        response = signed_in(associate).post(
            url(union),
            new_customer_order(fulfilment=Fulfilment.PICKUP, pickup_store=str(union.pk)),
        )

        assert response.status_code == 400
        page = response.content.decode()
        assert "In stock at: Mission." in page
        assert 'class="form-select is-invalid"' in page
        assert not Order.objects.exists()
        assert not Customer.objects.exists()
        assert StockLevel.objects.get(store=mission, product=jacket()).reserved == 0

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"sku_1": "NOPE-1"}, "No product has this SKU."),
            ({"email": "not-an-email"}, "is not a valid e-mail address"),
            ({"email": "", "phone": ""}, "e-mail address or phone number"),
            ({"sku_1": ""}, "at least one item"),
            ({"qty_1": "0"}, "greater than or equal to 1"),
            ({"fulfilment": Fulfilment.PICKUP}, "Choose the store"),
        ],
    )
    def test_bad_input_stores_nothing(self, union, associate, overrides, message) -> None:
        jacket()

        response = signed_in(associate).post(url(union), new_customer_order(**overrides))

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Order.objects.exists()
        assert not Customer.objects.exists()


class TestStockTable:
    def test_check_stock_shows_where_each_sku_is_and_orders_nothing(
        self, union, mission, associate
    ) -> None:
        response = signed_in(associate).post(
            url(union), new_customer_order(action="check", sku_2="NOPE-1", email="")
        )

        page = response.content.decode()
        assert response.status_code == 200
        assert "Rain jacket" in page
        assert "stock-table" in page
        assert '<span class="tabular">4</span> available' in page
        assert "No product has this SKU." in page
        # Checking is not submitting: the missing contact is not flagged yet.
        assert "e-mail address or phone number" not in page
        assert not Order.objects.exists()

    def test_query_budget(self, union, mission, associate, django_assert_max_num_queries) -> None:
        # given five different products, the most the form takes: one stock query each
        client = signed_in(associate)
        data = new_customer_order(action="check")
        for n in range(2, 6):
            data[f"sku_{n}"] = ProductFactory.create(sku=f"OTHER-{n}").sku
        client.get(url(union))

        with django_assert_max_num_queries(13):
            response = client.post(url(union), data)

        assert response.status_code == 200
        assert response.content.decode().count("stock-table") == 5
