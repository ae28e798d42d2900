"""The returns desk pages: who may open them, the whole flow through the test client, form
errors that store nothing, and query budgets that don't grow with the customer's history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, OutboundEmail, Role, User
from customers.models import Customer
from customers.services import Identity
from orders.models import Order, Return, ReturnReason
from orders.services import LineInput, order_record
from orders.services.returns import return_create, return_request_online
from stores.models import StockLevel, Store, StoreRole
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def union() -> Store:
    return StoreFactory.create(code="sf-union", name="Union Square")


@pytest.fixture
def mission() -> Store:
    return StoreFactory.create(code="sf-mission", name="Mission")


@pytest.fixture
def order() -> Order:
    """Ana's web order (no store): 2 linen tees at 30.00, 4.80 tax."""
    ProductFactory.create(sku="TEE", name="Linen tee", price=Decimal("30.00"))
    return order_record(
        identity=Identity(email="ana@example.com", first_name="Ana", last_name="López"),
        channel=Channel.WEB,
        lines=[LineInput(sku="TEE", quantity=2)],
        tax=Decimal("4.80"),
        placed_at=timezone.now() - timedelta(days=2),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def associate(union: Store) -> User:
    return store_staff(union, StoreRole.ASSOCIATE)


def desk_urls(store: Store, order: Order) -> list[str]:
    return [
        reverse("stores:returns", args=[store.code]),
        reverse("stores:returns_today", args=[store.code]),
        reverse("stores:returns_customer", args=[store.code, order.customer_id]),
    ]


class TestAccess:
    def test_anonymous_is_sent_to_login(self, client: Client, union, order) -> None:
        for url in desk_urls(union, order):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url

    def test_a_customer_gets_403(self, union, order) -> None:
        client = signed_in(UserFactory.create(role=Role.CUSTOMER))
        for url in desk_urls(union, order):
            assert client.get(url).status_code == 403, url

    def test_another_stores_desk_is_404(self, union, mission, order, associate) -> None:
        client = signed_in(associate)
        for url in desk_urls(mission, order):
            assert client.get(url).status_code == 404, url
        post = client.post(
            reverse("stores:returns_order", args=[mission.code, order.number]),
            {f"{order.number}-refund_method": "original_payment"},
        )
        assert post.status_code == 404
        assert not Return.objects.exists()

    def test_a_receipt_of_another_store_is_404(self, union, mission, order, associate) -> None:
        manager = store_staff(mission, StoreRole.MANAGER)
        returned = return_create(
            order=order,
            lines=[(order.lines.get(), 1, ReturnReason.CHANGED_MIND, "resellable")],
            store=mission,
            actor=manager,
        )

        response = signed_in(associate).get(
            reverse("stores:return_receipt", args=[union.code, returned.number])
        )

        assert response.status_code == 404

    def test_a_rep_has_no_desk(self, union, order) -> None:
        client = signed_in(UserFactory.create(role=Role.REP))
        assert client.get(reverse("stores:returns", args=[union.code])).status_code == 404


class TestDeskFlow:
    def test_find_the_customer_return_a_line_and_see_the_receipt(
        self, union, order, associate
    ) -> None:
        client = signed_in(associate)
        line = order.lines.get()

        # given the associate finds Ana by her e-mail
        found = client.get(reverse("stores:returns", args=[union.code]), {"q": "ana@example.com"})
        customer_url = reverse("stores:returns_customer", args=[union.code, order.customer_id])
        assert found.status_code == 302
        assert found["Location"] == customer_url
        page = client.get(customer_url)
        assert order.number in page.content.decode()
        assert 'max="2"' in page.content.decode()

        # when she returns one tee, damaged
        prefix = order.number
        response = client.post(
            reverse("stores:returns_order", args=[union.code, order.number]),
            {
                f"{prefix}-qty_{line.pk}": "1",
                f"{prefix}-reason_{line.pk}": ReturnReason.DAMAGED,
                f"{prefix}-condition_{line.pk}": "write_off",
                f"{prefix}-refund_method": "store_credit",
            },
        )

        # then the receipt shows the refund and the order shows the return
        returned = Return.objects.get()
        receipt_url = reverse("stores:return_receipt", args=[union.code, returned.number])
        assert response.status_code == 302
        assert response["Location"] == receipt_url
        receipt = client.get(receipt_url).content.decode()
        assert "$32.40" in receipt
        assert "Written off" in receipt
        assert "e-mailed to ana@example.com" in receipt
        assert OutboundEmail.objects.filter(key=f"return-receipt:{returned.pk}").count() == 1
        assert not StockLevel.objects.exists()
        detail = client.get(reverse("orders:detail", args=[order.number])).content.decode()
        assert returned.number in detail
        assert "Union Square" in detail
        today = client.get(reverse("stores:returns_today", args=[union.code])).content.decode()
        assert returned.number in today
        assert "Damaged or faulty: 1" in today
        # and only one tee is left to return
        assert 'max="1"' in client.get(customer_url).content.decode()

    def test_an_order_number_opens_the_customer_at_that_order(
        self, union, order, associate
    ) -> None:
        response = signed_in(associate).get(
            reverse("stores:returns", args=[union.code]), {"q": order.number.lower()}
        )

        assert response.status_code == 302
        assert response["Location"].endswith(
            f"/customers/{order.customer_id}/#order-{order.number}"
        )

    def test_nothing_found_says_so(self, union, associate) -> None:
        response = signed_in(associate).get(
            reverse("stores:returns", args=[union.code]), {"q": "nobody@example.com"}
        )

        assert "No customer or order matches" in response.content.decode()

    def test_an_online_return_is_received_at_the_desk(self, union, order, associate) -> None:
        requested = return_request_online(
            order=order, lines=[(order.lines.get(), 1, ReturnReason.WRONG_ITEM, "resellable")]
        )
        client = signed_in(associate)
        page = client.get(reverse("stores:returns_customer", args=[union.code, order.customer_id]))
        assert "Receive parcel here" in page.content.decode()

        response = client.post(
            reverse("stores:return_receive", args=[union.code, requested.number])
        )

        assert response.status_code == 302
        requested.refresh_from_db()
        assert (requested.status, requested.store) == ("completed", union)
        assert StockLevel.objects.get(store=union).on_hand == 1


class TestBadInput:
    def post(self, client: Client, store: Store, order: Order, **fields: str):
        line = order.lines.get()
        data = {f"{order.number}-refund_method": "original_payment"}
        data |= {f"{order.number}-{name}_{line.pk}": value for name, value in fields.items()}
        return client.post(reverse("stores:returns_order", args=[store.code, order.number]), data)

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            (
                {"qty": "3", "reason": "damaged", "condition": "resellable"},
                "less than or equal to 2",
            ),
            (
                {"qty": "-1", "reason": "damaged", "condition": "resellable"},
                "greater than or equal",
            ),
            (
                {"qty": "two", "reason": "damaged", "condition": "resellable"},
                "Enter a whole number",
            ),
            ({"qty": "1", "reason": "", "condition": "resellable"}, "Choose why it comes back."),
            ({"qty": "1", "reason": "bored", "condition": "resellable"}, "Select a valid choice"),
            ({"qty": "0", "reason": "", "condition": "resellable"}, "Set the quantity of at least"),
        ],
    )
    def test_errors_show_on_the_form_and_nothing_is_stored(
        self, union, order, associate, fields, message
    ) -> None:
        response = self.post(signed_in(associate), union, order, **fields)

        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Return.objects.exists()
        assert not OutboundEmail.objects.filter(key__startswith="return-receipt:").exists()

    def test_a_race_lost_to_another_desk_shows_the_services_message(
        self, union, order, associate
    ) -> None:
        client = signed_in(associate)
        page = client.get(reverse("stores:returns_customer", args=[union.code, order.customer_id]))
        assert 'max="2"' in page.content.decode()
        # another associate returns one tee while this form is open
        return_create(
            order=order,
            lines=[(order.lines.get(), 1, ReturnReason.CHANGED_MIND, "resellable")],
            store=union,
            actor=associate,
        )

        response = self.post(
            client, union, order, qty="2", reason="damaged", condition="resellable"
        )

        # the form now bounds the quantity at 1
        assert response.status_code == 400
        assert "less than or equal to 1" in response.content.decode()
        assert Return.objects.count() == 1

    def test_outside_the_window_an_associate_is_told_a_manager_must_accept(
        self, union, associate
    ) -> None:
        ProductFactory.create(sku="CAP", name="Cap", price=Decimal("12.00"))
        old = order_record(
            identity=Identity(email="bo@example.com"),
            channel=Channel.STORE,
            store=union,
            lines=[LineInput(sku="CAP", quantity=1)],
            placed_at=timezone.now() - timedelta(days=40),
        )

        response = self.post(
            signed_in(associate), union, old, qty="1", reason="changed_mind", condition="resellable"
        )

        assert response.status_code == 400
        assert "a store manager must accept this return" in response.content.decode()
        assert not Return.objects.exists()


class TestExchange:
    """One tee of Ana's (30.00 + 2.40 tax = 32.40) comes back and she takes something else."""

    def post(self, client: Client, store: Store, order: Order, **exchange: str):
        line = order.lines.get()
        prefix = order.number
        data = {
            f"{prefix}-qty_{line.pk}": "1",
            f"{prefix}-reason_{line.pk}": ReturnReason.DOES_NOT_FIT,
            f"{prefix}-condition_{line.pk}": "resellable",
            f"{prefix}-refund_method": "original_payment",
        }
        data |= {f"{prefix}-{name}": value for name, value in exchange.items()}
        return client.post(reverse("stores:returns_order", args=[store.code, order.number]), data)

    def test_the_form_offers_three_exchange_rows(self, union, order, associate) -> None:
        page = signed_in(associate).get(
            reverse("stores:returns_customer", args=[union.code, order.customer_id])
        )

        html = page.content.decode()
        assert "Exchange for" in html
        for row in (1, 2, 3):
            assert f'name="{order.number}-exchange_sku_{row}"' in html
            assert f'name="{order.number}-exchange_qty_{row}"' in html

    def test_a_cheaper_item_refunds_the_difference_and_links_the_new_order(
        self, union, order, associate
    ) -> None:
        ProductFactory.create(sku="CAP", name="Cap", price=Decimal("12.00"))
        client = signed_in(associate)

        response = self.post(client, union, order, exchange_sku_1="CAP", exchange_qty_1="1")

        returned = Return.objects.get()
        exchange = returned.exchange_order
        assert response.status_code == 302
        assert exchange is not None
        assert (exchange.customer_id, exchange.store, exchange.total) == (
            order.customer_id,
            union,
            Decimal("12.00"),
        )
        receipt = client.get(response["Location"]).content.decode()
        assert "Refund $20.40" in receipt
        assert "Customer pays" not in receipt
        assert f'href="{exchange.get_absolute_url()}"' in receipt

    def test_a_dearer_item_shows_what_the_customer_pays(self, union, order, associate) -> None:
        ProductFactory.create(sku="COAT", name="Wool coat", price=Decimal("100.00"))
        client = signed_in(associate)

        # a SKU with no quantity is one of it
        response = self.post(client, union, order, exchange_sku_2="COAT")

        assert response.status_code == 302
        receipt = client.get(response["Location"]).content.decode()
        assert "Customer pays $67.60" in receipt
        assert Return.objects.get().exchange_order.total == Decimal("100.00")

    def test_an_unknown_sku_is_a_form_error_and_stores_nothing(
        self, union, order, associate
    ) -> None:
        ProductFactory.create(sku="CAP", name="Cap", price=Decimal("12.00"))

        response = self.post(
            signed_in(associate),
            union,
            order,
            exchange_sku_1="CAP",
            exchange_sku_2="NOPE",
            exchange_qty_2="2",
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert "Unknown SKU: NOPE." in html
        # the section stays open with what was typed
        assert 'class="return-exchange border-top px-3 py-2" open' in html
        assert 'value="NOPE"' in html
        assert not Return.objects.exists()
        assert Order.objects.count() == 1
        assert not OutboundEmail.objects.filter(key__startswith="return-receipt:").exists()

    def test_a_quantity_without_a_sku_is_a_form_error(self, union, order, associate) -> None:
        response = self.post(signed_in(associate), union, order, exchange_qty_3="2")

        assert response.status_code == 400
        assert "Enter the SKU of the item taken." in response.content.decode()
        assert not Return.objects.exists()


def history(customer: Customer, orders: int) -> None:
    for _ in range(orders):
        order_record(
            identity=Identity(email="ana@example.com"),
            channel=Channel.WEB,
            lines=[LineInput(sku="TEE", quantity=2)],
        )


# Session, user, store, the page's own queries and the navigation's (stores, pickup count).
BUDGET = 14


class TestQueryBudgets:
    @pytest.mark.parametrize("orders", [1, 12])
    def test_the_customer_desk_page(
        self, union, order, associate, orders, django_assert_max_num_queries
    ) -> None:
        history(order.customer, orders)
        return_create(
            order=order,
            lines=[(order.lines.get(), 1, ReturnReason.CHANGED_MIND, "resellable")],
            store=union,
            actor=associate,
        )
        return_request_online(
            order=order, lines=[(order.lines.get(), 1, ReturnReason.OTHER, "resellable")]
        )
        client = signed_in(associate)
        url = reverse("stores:returns_customer", args=[union.code, order.customer_id])

        with django_assert_max_num_queries(BUDGET):
            assert client.get(url).status_code == 200

    @pytest.mark.parametrize("returns", [1, 2])
    def test_todays_returns_receipt_and_order_page(
        self, union, order, associate, returns, django_assert_max_num_queries
    ) -> None:
        for _ in range(returns):
            returned = return_create(
                order=order,
                lines=[(order.lines.get(), 1, ReturnReason.CHANGED_MIND, "resellable")],
                store=union,
                actor=associate,
            )
        order_record(
            identity=Identity(email="luis@example.com", first_name="Luis", last_name="López"),
            channel=Channel.WEB,
            lines=[LineInput(sku="TEE", quantity=1)],
        )
        client = signed_in(associate)
        urls = [
            reverse("stores:returns_today", args=[union.code]),
            reverse("stores:return_receipt", args=[union.code, returned.number]),
            reverse("stores:returns", args=[union.code]) + "?q=López",
        ]
        for url in urls:
            with django_assert_max_num_queries(BUDGET):
                assert client.get(url).status_code == 200, url
        rep = signed_in(UserFactory.create(role=Role.REP))
        with django_assert_max_num_queries(BUDGET):
            assert rep.get(reverse("orders:detail", args=[order.number])).status_code == 200


def test_a_posted_return_is_received_at_the_warehouse_console(order) -> None:
    warehouse: Store = StoreFactory.create(code="web", name="Reno Fulfilment", kind="warehouse")
    requested = return_request_online(
        order=order, lines=[(order.lines.get(), 1, ReturnReason.WRONG_ITEM, "resellable")]
    )
    client = signed_in(UserFactory(role=Role.SUPERVISOR))

    response = client.post(
        reverse("stores:return_receive", args=[warehouse.code, requested.number])
    )

    requested.refresh_from_db()
    assert response.status_code == 302
    assert (requested.status, requested.store) == ("completed", warehouse)
    assert StockLevel.objects.get(store=warehouse).on_hand == 1
    # a warehouse has no pickup counter and takes no counter orders
    assert client.get(reverse("stores:pickups", args=[warehouse.code])).status_code == 404
    assert client.get(reverse("stores:order_new", args=[warehouse.code])).status_code == 404
