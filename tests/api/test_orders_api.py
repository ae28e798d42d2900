"""The orders, pickups and returns endpoints: happy paths, validation, scopes and stores, status
moves, stock, and query budgets."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from celery.signals import task_prerun
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, Channel, Role, Scope
from customers.models import Activity, Customer, CustomerInsight
from customers.services import Identity, customer_resolve
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    Pickup,
    PickupStatus,
    Product,
    Refund,
    Return,
)
from orders.services import order_number
from stores.models import StockAction, StockLevel, StockMovement, Store, StoreKind
from stores.services import stock_adjust
from tests.api.conftest import ClientFactory, TokenFactory
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
# What recording one more order of a bulk request costs: nothing, for orders recorded together
# (their customers, contact points, orders, numbers, lines, timeline and audit entries take one
# statement each for all of them; products and stored orders are read once per request). One
# by one, each cost 15.
PER_ITEM_QUERIES = 0


@pytest.fixture
def shop() -> dict[str, Any]:
    """Two stores and a warehouse, two products, stock everywhere."""
    store1 = StoreFactory.create(code="st01", name="Union Square")
    store2 = StoreFactory.create(code="st02", name="Mission")
    warehouse = StoreFactory.create(code="wh01", name="Warehouse", kind=StoreKind.WAREHOUSE)
    tee = ProductFactory.create(sku="TEE-BLU-M", name="T-shirt", price=Decimal("19.00"))
    mug = ProductFactory.create(sku="MUG-01", name="Mug", price=Decimal("9.00"))
    for location in (store1, store2, warehouse):
        for product in (tee, mug):
            stock_adjust(store=location, product=product, action=StockAction.RECEIVE, quantity=10)
    return {"st01": store1, "st02": store2, "wh01": warehouse, "tee": tee, "mug": mug}


def on_hand(store: Store, product: Product) -> tuple[int, int]:
    level = StockLevel.objects.get(store=store, product=product)
    return level.on_hand, level.reserved


def web_order(**overrides: Any) -> dict[str, Any]:
    return {
        "external_source": "webshop",
        "external_id": "WS-1",
        "customer": {"email": "ana@example.com", "first_name": "Ana"},
        "channel": "web",
        "lines": [{"sku": "TEE-BLU-M", "quantity": 2}, {"sku": "MUG-01", "quantity": 1}],
    } | overrides


def store_sale(**overrides: Any) -> dict[str, Any]:
    return {
        "external_source": "pos-st01",
        "external_id": "T-1",
        "customer": {"phone": "+1 415 555 0100"},
        "channel": "store",
        "store": "st01",
        "lines": [{"sku": "MUG-01", "quantity": 3, "unit_price": "8.10"}],
    } | overrides


def counts() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        StockMovement.objects.count(),
        Activity.objects.count(),
    )


class TestCreate:
    def test_web_order_is_recorded_on_the_resolved_customer(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])
        response = api_client(raw).post(ORDERS, web_order(), format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        order = Order.objects.get(number=body["number"])
        assert body["total"] == "47.00"
        assert body["status"] == "placed" and body["fulfilment"] == "ship"
        assert [line["sku"] for line in body["lines"]] == ["TEE-BLU-M", "MUG-01"]
        assert body["customer"] == order.customer_id
        assert order.customer.contact_points.filter(value="ana@example.com").exists()
        assert Activity.objects.filter(subject_id=order.number).count() == 1
        # Shipped orders leave the warehouse when they ship, not when placed.
        assert on_hand(shop["wh01"], shop["tee"]) == (10, 0)

    def test_recording_an_order_reads_its_products_once(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        django_assert_max_num_queries: Any,
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])
        client = api_client(raw)
        place(client, web_order(external_id="WS-0"))

        # the token (of every store: its stores are not read); the products, the order stored
        # under the external id; two savepoints and their releases; the customer's resolution
        # (contact points, customer, contact point, audit); the order, its number, lines, audit
        # and timeline entry (the answer is the order as recorded, not read back)
        with django_assert_max_num_queries(16) as queries:
            place(client, web_order(external_id="WS-1", customer={"email": "bo@example.com"}))

        products = [q["sql"] for q in queries.captured_queries if '"orders_product"' in q["sql"]]
        assert len(products) == 1

    @pytest.mark.parametrize(
        "payload",
        [
            web_order(placed_at="2026-01-02T10:00:00+02:00", shipping="4.9", tax="1.1"),
            web_order(fulfilment="pickup", pickup_store="st02"),
            store_sale(lines=[{"sku": "MUG-01", "quantity": 3, "unit_price": "8.1"}]),
        ],
    )
    def test_the_answer_is_the_order_as_stored(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        payload: dict[str, Any],
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)

        answer = client.post(ORDERS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")

        assert answer.status_code == 201, answer.content
        stored = client.get(reverse("api:order-detail", args=[answer.json()["number"]]))
        assert answer.json() == stored.json()
        replayed = client.post(ORDERS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert replayed.json() == stored.json()

    @pytest.mark.parametrize("placed_at", ["0004-01-01T02:00:00Z", "2999-01-01T00:00:00Z"])
    def test_a_time_before_1990_or_in_the_future_is_refused(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        placed_at: str,
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])

        response = api_client(raw).post(ORDERS, web_order(placed_at=placed_at), format="json")

        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "placed_at": ["Give a time between 1990 and now."]
        }
        assert not Order.objects.exists()

    def test_pickup_order_reserves_at_the_pickup_store(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])
        response = api_client(raw).post(
            ORDERS, web_order(fulfilment="pickup", pickup_store="st02"), format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["pickup"]["status"] == "placed" and body["pickup"]["store"] == "st02"
        assert on_hand(shop["st02"], shop["tee"]) == (10, 2)

    def test_store_sale_takes_stock_once(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.STORE], stores=[shop["st01"]])
        client = api_client(raw)
        first = client.post(ORDERS, store_sale(), format="json")
        assert first.status_code == 201, first.content
        assert first.json()["status"] == "completed" and first.json()["total"] == "24.30"
        assert on_hand(shop["st01"], shop["mug"]) == (7, 0)
        # The same sale sent again (a POS retry without a key): the stored order, no new stock move.
        again = client.post(ORDERS, store_sale(), format="json")
        assert again.status_code == 200
        assert again.json()["number"] == first.json()["number"]
        assert Order.objects.count() == 1
        assert on_hand(shop["st01"], shop["mug"]) == (7, 0)
        assert StockMovement.objects.filter(kind=StockAction.SELL).count() == 1

    def test_store_sale_beyond_stock_on_record_sells_what_is_there(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        response = api_client(raw).post(
            ORDERS, store_sale(lines=[{"sku": "MUG-01", "quantity": 12}]), format="json"
        )
        assert response.status_code == 201
        assert on_hand(shop["st01"], shop["mug"]) == (0, 0)
        movement = StockMovement.objects.get(kind=StockAction.SELL)
        assert movement.on_hand_change == -10
        assert "only 10 on record" in movement.reason

    def test_a_sale_the_till_sends_days_later_still_takes_its_stock_once(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        # History goes through import_orders, which leaves today's stock alone; a till that
        # was offline sends real sales, whose goods are gone from the shelf.
        _, raw = token_factory()
        old = (timezone.now() - timedelta(days=3)).isoformat()
        for _ in range(2):
            response = api_client(raw).post(ORDERS, store_sale(placed_at=old), format="json")
            assert response.status_code in (200, 201)
        assert on_hand(shop["st01"], shop["mug"]) == (7, 0)

    def test_session_staff_may_record_for_their_store(
        self, shop: dict[str, Any], api_client: ClientFactory
    ) -> None:
        manager = store_staff(shop["st01"])
        assert api_client(user=manager).post(ORDERS, store_sale(), format="json").status_code == 201
        refused = api_client(user=manager).post(
            ORDERS, store_sale(store="st02", external_id="T-2"), format="json"
        )
        assert refused.status_code == 403
        assert Order.objects.count() == 1


class TestValidation:
    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            (web_order(colour="red"), "colour"),
            (web_order(customer={"email": "a@example.com", "shoe": 9}), "customer.shoe"),
            (web_order(lines=[{"sku": "MUG-01", "quantity": 1, "qty": 1}]), "lines.0.qty"),
            (web_order(lines=[{"sku": "MUG-01", "quantity": 0}]), "lines.0.quantity"),
            (web_order(lines=[{"sku": "MUG-01", "quantity": -2}]), "lines.0.quantity"),
            (web_order(lines=[{"sku": "MUG-01", "quantity": "two"}]), "lines.0.quantity"),
            (web_order(lines=[{"sku": "MUG-01", "quantity": 1.5}]), "lines.0.quantity"),
            (
                web_order(lines=[{"sku": "MUG-01", "quantity": 1, "unit_price": "-1"}]),
                "lines.0.unit_price",
            ),
            (web_order(lines=[{"sku": "NOPE", "quantity": 1}]), "lines.1.sku"),
            (web_order(lines=[]), "lines"),
            (web_order(lines="MUG-01"), "lines"),
            (web_order(external_id="x" * 65), "external_id"),
            (web_order(number="N" * 33), "number"),
            (
                web_order(customer={"email": "a@example.com", "first_name": "A" * 101}),
                "customer.first_name",
            ),
            (web_order(customer={"first_name": "Ana"}), "customer.non_field_errors"),
            (web_order(customer="ana@example.com"), "customer.non_field_errors"),
            (web_order(channel="email"), "channel"),
            (web_order(fulfilment="pickup", pickup_store="st99"), "pickup_store"),
            (store_sale(store="st99"), "store"),
            (store_sale(store=7), "store"),
            (web_order(external_source=""), "external_source"),
            (web_order(shipping="-5"), "shipping"),
            (web_order(fulfilment="pickup"), "pickup_store"),
            (store_sale(store=""), "store"),
        ],
    )
    def test_bad_input_is_a_400_with_field_messages_and_stores_nothing(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        payload: dict[str, Any],
        field: str,
    ) -> None:
        if field == "lines.1.sku":
            payload["lines"] = [{"sku": "MUG-01", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]
        _, raw = token_factory()
        before = counts()
        response = api_client(raw).post(ORDERS, payload, format="json")
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert field in error["fields"], error["fields"]
        assert counts() == before

    def test_a_taken_number_is_a_400_also_for_an_order_with_an_external_id(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        place(client, web_order(external_id="WS-1", number="W777"))

        response = client.post(ORDERS, web_order(external_id="WS-2", number="W777"), format="json")

        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "number": ["Order number W777 is already taken."]
        }
        assert Order.objects.count() == 1

    def test_malformed_json_is_a_400(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        response = api_client(raw).post(ORDERS, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["status"] == 400

    def test_pickup_store_without_stock_names_the_stores_that_have_it(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        before = counts()
        response = api_client(raw).post(
            ORDERS,
            web_order(
                fulfilment="pickup",
                pickup_store="st01",
                lines=[{"sku": "MUG-01", "quantity": 11}],
            ),
            format="json",
        )
        assert response.status_code == 400
        assert "pickup_store" in response.json()["error"]["fields"]
        assert counts() == before


class TestPermissions:
    def test_store_1_token_cannot_write_store_2_sales(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.STORE], stores=[shop["st01"]])
        before = counts()
        response = api_client(raw).post(ORDERS, store_sale(store="st02"), format="json")
        assert response.status_code == 403
        assert "st02" in response.json()["error"]["message"]
        assert counts() == before

    def test_pickup_at_a_foreign_store_is_refused_too(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(stores=[shop["st01"]])
        response = api_client(raw).post(
            ORDERS, web_order(fulfilment="pickup", pickup_store="st02"), format="json"
        )
        assert response.status_code == 403
        assert Order.objects.count() == 0

    def test_token_outside_its_channels_is_refused(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])
        response = api_client(raw).post(ORDERS, store_sale(), format="json")
        assert response.status_code == 403
        assert Order.objects.count() == 0

    @pytest.mark.parametrize(
        ("scopes", "method", "expected"),
        [
            ([Scope.ORDERS_READ], "post", 403),
            ([Scope.CUSTOMERS_WRITE], "post", 403),
            ([Scope.ORDERS_WRITE], "get", 403),
            ([Scope.ORDERS_READ], "get", 200),
        ],
    )
    def test_scopes(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        scopes: list[str],
        method: str,
        expected: int,
    ) -> None:
        _, raw = token_factory(scopes=scopes)
        client = api_client(raw)
        if method == "post":
            response = client.post(ORDERS, web_order(), format="json")
        else:
            response = client.get(ORDERS)
        assert response.status_code == expected
        assert Order.objects.count() == 0

    def test_anonymous_revoked_and_customer_are_refused(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        from crm.services import token_revoke

        token, raw = token_factory()
        token_revoke(token=token, actor=UserFactory.create(role=Role.ADMIN))
        assert api_client().get(ORDERS).status_code in (401, 403)
        assert api_client(raw).get(ORDERS).status_code == 401
        customer = UserFactory.create(role=Role.CUSTOMER)
        assert api_client(user=customer).post(ORDERS, web_order(), format="json").status_code == 403
        assert Order.objects.count() == 0


def place(client: Any, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(ORDERS, payload, format="json")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


class TestStatus:
    def status_url(self, number: str) -> str:
        return reverse("api:order-status", args=[number])

    def test_paid_shipped_delivered_with_timeline_audit_and_warehouse_stock(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.WEB])
        client = api_client(raw)
        number = place(client, web_order())["number"]
        for to in ("paid", "shipped", "delivered"):
            response = client.post(self.status_url(number), {"status": to}, format="json")
            assert response.status_code == 200, response.content
            assert response.json()["status"] == to
        assert on_hand(shop["wh01"], shop["tee"]) == (8, 0)
        assert on_hand(shop["wh01"], shop["mug"]) == (9, 0)
        summaries = list(
            Activity.objects.filter(subject_id=number)
            .order_by("occurred_at", "id")
            .values_list("summary", flat=True)
        )
        assert summaries[1:] == [
            f"Order {number} paid",
            f"Order {number} shipped",
            f"Order {number} delivered",
        ]
        audits = AuditEntry.objects.filter(object_type="orders.order").order_by("id")
        assert [entry.action for entry in audits] == [
            "order.create",
            "order.paid",
            "order.shipped",
            "order.delivered",
        ]
        assert audits[1].data["source"] == "token:Test system"

    @pytest.mark.parametrize(
        ("steps", "to"),
        [
            ([], "shipped"),
            ([], "delivered"),
            (["paid", "shipped"], "cancelled"),
            (["cancelled"], "paid"),
            ([], "completed"),
            ([], "placed"),
        ],
    )
    def test_illegal_moves_are_a_clear_400(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        steps: list[str],
        to: str,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        number = place(client, web_order())["number"]
        for step in steps:
            assert (
                client.post(self.status_url(number), {"status": step}, format="json").status_code
                == 200
            )
        status_before = Order.objects.get(number=number).status
        audits = AuditEntry.objects.count()
        response = client.post(self.status_url(number), {"status": to}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["status"]
        assert Order.objects.get(number=number).status == status_before
        assert AuditEntry.objects.count() == audits

    def test_cancelling_a_paid_order_refunds_it(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        number = place(client, web_order())["number"]
        client.post(self.status_url(number), {"status": "paid"}, format="json")
        response = client.post(self.status_url(number), {"status": "cancelled"}, format="json")
        assert response.status_code == 200
        assert Refund.objects.get(order__number=number).amount == Decimal("47.00")

    def test_pickup_orders_move_through_their_pickup(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        number = place(client, web_order(fulfilment="pickup", pickup_store="st01"))["number"]
        response = client.post(self.status_url(number), {"status": "cancelled"}, format="json")
        assert response.status_code == 400
        assert "pickup" in response.json()["error"]["fields"]["status"][0]

    def test_store_1_token_cannot_move_store_2_orders(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, all_stores = token_factory()
        number = place(api_client(all_stores), store_sale(channel="kiosk", store="st02"))["number"]
        _, raw = token_factory(stores=[shop["st01"]])
        response = api_client(raw).post(self.status_url(number), {"status": "paid"}, format="json")
        assert response.status_code == 403
        assert Order.objects.get(number=number).status == OrderStatus.PLACED

    def test_unknown_order_is_404_and_bad_status_400(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        assert (
            client.post(self.status_url("W999"), {"status": "paid"}, format="json").status_code
            == 404
        )
        number = place(client, web_order())["number"]
        response = client.post(self.status_url(number), {"status": "lost"}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"status"}
        response = client.post(self.status_url(number), {"status": "paid", "x": 1}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"x"}
        assert Order.objects.get(number=number).status == OrderStatus.PLACED


class TestRead:
    def test_detail_and_filtered_cursor_list(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        django_assert_max_num_queries: Any,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        for n in range(5):
            place(
                client, web_order(external_id=f"WS-{n}", fulfilment="pickup", pickup_store="st01")
            )
        ana = Order.objects.first()
        assert ana is not None
        place(
            client,
            web_order(external_id="WS-bob", customer={"email": "bob@example.com"}),
        )
        _, reader = token_factory(scopes=[Scope.ORDERS_READ])
        client = api_client(reader)
        # The first request of a token's minute also notes and audits its use (2 queries).
        with django_assert_max_num_queries(7):
            detail = client.get(reverse("api:order-detail", args=[ana.number]))
        assert detail.status_code == 200 and detail.json()["number"] == ana.number
        with django_assert_max_num_queries(8):
            page = client.get(ORDERS, {"customer": ana.customer_id, "page_size": 2})
        body = page.json()
        assert len(body["results"]) == 2 and body["next"]
        seen = [order["number"] for order in body["results"]]
        while body["next"]:
            body = client.get(body["next"]).json()
            seen += [order["number"] for order in body["results"]]
        assert len(seen) == len(set(seen)) == 5
        shipped = client.get(ORDERS, {"status": "placed", "channel": "web"}).json()
        assert len(shipped["results"]) == 6
        assert client.get(ORDERS, {"status": "nonsense"}).status_code == 400
        assert client.get(reverse("api:order-detail", args=["nope"])).status_code == 404

    def test_list_query_count_does_not_grow_with_orders(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        django_assert_max_num_queries: Any,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        for n in range(20):
            place(client, web_order(external_id=f"WS-{n}"))
        with django_assert_max_num_queries(8):
            response = client.get(ORDERS)
        assert len(response.json()["results"]) == 20


class TestBulk:
    def test_each_item_answered_valid_ones_stored(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(stores=[shop["st01"]])
        items = [
            web_order(external_id="B-1"),
            web_order(external_id="B-2", lines=[{"sku": "MUG-01", "quantity": 0}]),
            store_sale(external_id="B-3", store="st02"),
            web_order(external_id="B-1"),
            store_sale(external_id="B-4"),
        ]
        response = api_client(raw).post(reverse("api:order-bulk"), {"items": items}, format="json")
        assert response.status_code == 207, response.content
        results = response.json()["results"]
        assert [result["status"] for result in results] == [201, 400, 403, 200, 201]
        assert "lines.0.quantity" in results[1]["error"]["fields"]
        assert results[3]["data"]["number"] == results[0]["data"]["number"]
        assert Order.objects.count() == 2
        assert on_hand(shop["st01"], shop["mug"]) == (7, 0)

    def test_a_nul_character_is_an_items_error_not_the_requests(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        items = [
            web_order(external_id="N-1", lines=[{"sku": "MUG\x0001", "quantity": 1}]),
            web_order(external_id="N-\x002"),
            web_order(external_id="N-3"),
        ]

        bulk = client.post(reverse("api:order-bulk"), {"items": items}, format="json")
        single = client.post(ORDERS, items[0], format="json")

        assert [result["status"] for result in bulk.json()["results"]] == [400, 400, 201]
        assert single.status_code == 400
        assert Order.objects.count() == 1

    def test_an_order_stored_by_an_earlier_request_is_answered_not_stored_again(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        first = place(client, web_order(external_id="E-1"))
        response = client.post(
            reverse("api:order-bulk"),
            {"items": [web_order(external_id="E-1"), web_order(external_id="E-2")]},
            format="json",
        )
        results = response.json()["results"]
        assert [result["status"] for result in results] == [200, 201]
        assert results[0]["data"]["number"] == first["number"]
        assert Order.objects.count() == 2

    def test_products_and_stored_orders_are_read_once_per_request(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        # The token's first request of the minute also notes its use: not a cost of the items.
        client.get(ORDERS)

        def queries_for(count: int, prefix: str) -> int:
            items = [
                web_order(external_id=f"{prefix}-{n}", customer={"email": f"{prefix}{n}@x.com"})
                for n in range(count)
            ]
            with CaptureQueriesContext(connection) as captured:
                response = client.post(reverse("api:order-bulk"), {"items": items}, format="json")
            assert [r["status"] for r in response.json()["results"]] == [201] * count
            return len(captured)

        per_item = (queries_for(20, "b") - queries_for(10, "a")) / 10
        assert per_item <= PER_ITEM_QUERIES

    def test_more_than_1000_items_is_a_400(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        response = api_client(raw).post(
            reverse("api:order-bulk"), {"items": [web_order()] * 1001}, format="json"
        )
        assert response.status_code == 400
        assert Order.objects.count() == 0


def run_items(tag: str) -> list[dict[str, Any]]:
    """One request's worth of orders, every identifier marked with `tag`: new customers on the
    web, by phone and at a kiosk, a known customer who adds nothing, a known customer who adds
    her last name, a pick-up order and a till sale."""
    return [
        web_order(
            external_id=f"{tag}-0",
            customer={"email": f"ana.{tag}@example.com", "first_name": "Ana", "last_name": "Lo"},
        ),
        web_order(
            external_id=f"{tag}-1",
            channel="phone",
            customer={"email": f"bo.{tag}@example.com", "external_ids": {"webshop": f"c-{tag}"}},
            shipping="4.90",
            tax="3.10",
        ),
        web_order(
            external_id=f"{tag}-2",
            channel="kiosk",
            store="st02",
            customer={"email": f"cy.{tag}@example.com"},
            lines=[{"sku": "MUG-01", "quantity": 4, "unit_price": "7.5"}],
        ),
        web_order(external_id=f"{tag}-3", customer={"email": f"kim.{tag}@example.com"}),
        web_order(
            external_id=f"{tag}-4",
            customer={"email": f"lee.{tag}@example.com", "last_name": "Lee"},
        ),
        web_order(
            external_id=f"{tag}-5",
            customer={"email": f"mo.{tag}@example.com"},
            fulfilment="pickup",
            pickup_store="st01",
        ),
        store_sale(external_id=f"{tag}-6", customer={"email": f"ny.{tag}@example.com"}),
    ]


def known_customers(tag: str) -> None:
    """The customers of run_items(tag) that are known before it is sent."""
    for name in ("kim", "lee"):
        customer_resolve(
            identity=Identity(email=f"{name}.{tag}@example.com", first_name=name.title()),
            source=Channel.STORE,
        )


def stored_for(tag: str) -> list[Any]:
    """What the orders of run_items(tag) left in the database, ids and times left out, the tag
    and each order's number replaced by placeholders."""
    record = []
    for order in Order.objects.filter(external_id__startswith=f"{tag}-").order_by("external_id"):
        customer = order.customer
        entries = AuditEntry.objects.filter(
            Q(object_type="orders.order", object_id=str(order.pk))
            | Q(object_type="customers.customer", object_id=str(customer.pk))
        ).order_by("id")
        record.append(
            {
                "order": [
                    order.number == order_number(order.channel, order.pk),
                    order.channel,
                    order.store_id,
                    order.status,
                    order.fulfilment,
                    order.pickup_store_id,
                    str(order.subtotal),
                    str(order.shipping),
                    str(order.tax),
                    str(order.total),
                    order.external_source,
                    order.external_id,
                    hasattr(order, "pickup"),
                ],
                "lines": list(
                    order.lines.values_list("sku", "name", "quantity", "unit_price", "line_total")
                ),
                "customer": [
                    customer.first_name,
                    customer.last_name,
                    customer.search_name,
                    customer.home_store_id,
                    sorted(customer.contact_points.values_list("kind", "value", "source")),
                ],
                "timeline": list(
                    customer.activities.order_by("id").values_list(
                        "kind", "channel", "store", "summary", "subject_type", "subject_id"
                    )
                ),
                "audit": [
                    (
                        entry.action,
                        entry.object_type,
                        entry.data | {"customer": entry.data.get("customer") == customer.pk},
                        entry.ip,
                    )
                    for entry in entries
                ],
            }
        )
        text = json.dumps(record[-1], cls=DjangoJSONEncoder)
        record[-1] = json.loads(text.replace(order.number, "<number>").replace(tag, "<tag>"))
    return record


class TestBulkBatch:
    """A bulk request records its simple orders together in a few statements; what it stores and
    answers is what recording them one by one stores and answers."""

    def test_a_bulk_request_stores_what_single_requests_store(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        known_customers("xone")
        singles = [client.post(ORDERS, item, format="json") for item in run_items("xone")]
        known_customers("xall")

        bulk = client.post(
            reverse("api:order-bulk"),
            {"items": run_items("xall")},
            format="json",
            HTTP_IDEMPOTENCY_KEY="batch-1",
        )

        results = bulk.json()["results"]
        assert [result["status"] for result in results] == [s.status_code for s in singles]
        brief = ("status", "total", "external_source")
        assert [[r["data"][name] for name in brief] for r in results] == [
            [s.json()[name] for name in brief] for s in singles
        ]
        assert stored_for("xall") == stored_for("xone")

    def test_a_replay_answers_the_same_and_stores_nothing_more(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        items = {"items": run_items("xr")}
        first = client.post(
            reverse("api:order-bulk"), items, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        before = counts(), AuditEntry.objects.count()

        again = client.post(
            reverse("api:order-bulk"), items, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        resent = client.post(reverse("api:order-bulk"), items, format="json")

        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert [r["status"] for r in resent.json()["results"]] == [200] * len(items["items"])
        assert [r["data"] for r in resent.json()["results"]] == [
            r["data"] for r in first.json()["results"]
        ]
        assert (counts(), AuditEntry.objects.count()) == before

    @pytest.mark.parametrize(
        ("bad", "field"),
        [
            (web_order(external_id="X", customer={"phone": "12"}), "phone"),
            (store_sale(external_id="X", store=""), "store"),
            (web_order(external_id="X", number="W777"), "number"),
            (web_order(external_id="X", lines=[{"sku": "NOPE", "quantity": 1}]), "lines.0.sku"),
        ],
    )
    def test_a_bad_item_among_good_ones_is_its_own_400_and_changes_nothing(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        bad: dict[str, Any],
        field: str,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        taken = place(client, web_order(external_id="taken", number="W777"))
        good = [
            web_order(external_id=f"G-{n}", customer={"email": f"g{n}@example.com"})
            for n in range(3)
        ]
        customers = Customer.objects.count()
        audits = AuditEntry.objects.count()

        response = client.post(
            reverse("api:order-bulk"), {"items": [good[0], bad, *good[1:]]}, format="json"
        )

        results = response.json()["results"]
        assert [result["status"] for result in results] == [201, 400, 201, 201]
        assert field in results[1]["error"]["fields"], results[1]
        assert set(Order.objects.values_list("external_id", flat=True)) == {
            "taken",
            "G-0",
            "G-1",
            "G-2",
        }
        assert Order.objects.get(number="W777").external_id == taken["external_id"]
        assert Customer.objects.count() == customers + 3
        # Each good order: its customer's creation and the order's.
        assert AuditEntry.objects.count() == audits + 6
        numbers = [result["data"]["number"] for result in results if "data" in result]
        assert Activity.objects.filter(subject_id__in=numbers).count() == 3

    def test_the_buyers_insights_and_merge_search_are_one_task_each(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        _, raw = token_factory()
        # Twins are found by name and postcode or address: only the first three have them.
        buyers = [
            {"email": f"i{n}@example.com", "first_name": "Ivy", "last_name": f"N{n}"}
            | ({"postcode": "94110"} if n < 3 else {})
            for n in range(5)
        ]
        items = [web_order(external_id=f"I-{n}", customer=buyer) for n, buyer in enumerate(buyers)]
        ran: list[tuple[str, int]] = []

        def note(sender: Any = None, args: Any = (), **kwargs: Any) -> None:
            ran.append((sender.name, len(args[0])))

        task_prerun.connect(note, weak=False)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                response = api_client(raw).post(
                    reverse("api:order-bulk"), {"items": items}, format="json"
                )
        finally:
            task_prerun.disconnect(note)

        assert [r["status"] for r in response.json()["results"]] == [201] * 5
        assert sorted(ran) == [
            ("customers.find_merge_suggestions_batch", 3),
            ("customers.refresh_insights", 5),
        ]
        insights = CustomerInsight.objects.filter(customer__orders__external_id__startswith="I-")
        assert sorted(insights.values_list("order_count", flat=True)) == [1] * 5

    def test_a_single_buyer_without_an_address_publishes_no_merge_search(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        _, raw = token_factory()
        ran: list[str] = []

        def note(sender: Any = None, **kwargs: Any) -> None:
            ran.append(sender.name)

        task_prerun.connect(note, weak=False)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                place(api_client(raw), web_order())
                place(
                    api_client(raw),
                    web_order(
                        external_id="WS-2",
                        customer={"email": "b@example.com", "first_name": "Bo", "city": "SF"},
                    ),
                )
                place(
                    api_client(raw),
                    web_order(
                        external_id="WS-3",
                        customer={"email": "c@example.com", "last_name": "Cy", "postcode": "1"},
                    ),
                )
        finally:
            task_prerun.disconnect(note)

        assert (
            sorted(ran) == ["customers.find_merge_suggestions"] + ["customers.refresh_insight"] * 3
        )


class TestPickups:
    def pickup_of(self, client: Any, store: str = "st01") -> int:
        order = place(client, web_order(fulfilment="pickup", pickup_store=store))
        pickup_id: int = order["pickup"]["id"]
        return pickup_id

    def test_prepare_ready_collect(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        pickup_id = self.pickup_of(client)
        status_url = reverse("api:pickup-status", args=[pickup_id])
        for to in ("preparing", "ready"):
            response = client.post(status_url, {"status": to}, format="json")
            assert response.status_code == 200, response.content
            assert response.json()["status"] == to
        code = Pickup.objects.get(pk=pickup_id).code
        wrong = client.post(
            reverse("api:pickup-collect", args=[pickup_id]),
            {"code": "WRONG1"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="collect-1",
        )
        assert wrong.status_code == 400
        # The wrong code is counted even though the answer is an error (and the key is free).
        assert Pickup.objects.get(pk=pickup_id).wrong_code_attempts == 1
        collected = client.post(
            reverse("api:pickup-collect", args=[pickup_id]),
            {"code": code.lower()},
            format="json",
        )
        assert collected.status_code == 200, collected.content
        assert collected.json()["status"] == "collected"
        assert Order.objects.get().status == OrderStatus.COMPLETED
        assert on_hand(shop["st01"], shop["tee"]) == (8, 0)

    def test_illegal_move_and_cancel(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        pickup_id = self.pickup_of(client)
        status_url = reverse("api:pickup-status", args=[pickup_id])
        refused = client.post(status_url, {"status": "ready"}, format="json")
        assert refused.status_code == 400
        assert "cannot be marked ready" in refused.json()["error"]["message"] + str(
            refused.json()["error"]["fields"]
        )
        assert client.post(status_url, {"status": "collected"}, format="json").status_code == 400
        cancelled = client.post(status_url, {"status": "cancelled"}, format="json")
        assert cancelled.status_code == 200
        assert on_hand(shop["st01"], shop["tee"]) == (10, 0)
        assert Refund.objects.count() == 1

    def test_store_scoping_of_reads_and_writes(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, all_stores = token_factory()
        mine = self.pickup_of(api_client(all_stores), "st01")
        other = place(
            api_client(all_stores),
            web_order(external_id="WS-2", fulfilment="pickup", pickup_store="st02"),
        )["pickup"]["id"]
        _, raw = token_factory(stores=[shop["st01"]])
        client = api_client(raw)
        listed = client.get(reverse("api:pickup-list")).json()["results"]
        assert [pickup["id"] for pickup in listed] == [mine]
        assert client.get(reverse("api:pickup-detail", args=[other])).status_code == 404
        assert client.get(reverse("api:pickup-detail", args=[mine])).status_code == 200
        response = client.post(
            reverse("api:pickup-status", args=[other]), {"status": "preparing"}, format="json"
        )
        assert response.status_code == 404
        assert Pickup.objects.get(pk=other).status == PickupStatus.PLACED
        filtered = api_client(all_stores).get(
            reverse("api:pickup-list"), {"store": "st02", "status": "placed"}
        )
        assert [pickup["id"] for pickup in filtered.json()["results"]] == [other]


class TestReturns:
    def test_return_at_a_store_refunds_and_restocks(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, web = token_factory(channels=[Channel.WEB])
        order = place(api_client(web), web_order())
        _, raw = token_factory(channels=[Channel.STORE], stores=[shop["st02"]])
        client = api_client(raw)
        tee_line = order["lines"][0]["id"]
        response = client.post(
            reverse("api:return-list"),
            {
                "order": order["number"],
                "store": "st02",
                "lines": [{"line": tee_line, "quantity": 1, "reason": "does_not_fit"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["refund_total"] == "19.00" and body["store"] == "st02"
        assert on_hand(shop["st02"], shop["tee"]) == (11, 0)
        listed = client.get(reverse("api:return-list"), {"store": "st02"}).json()["results"]
        assert [item["number"] for item in listed] == [body["number"]]
        detail = client.get(reverse("api:return-detail", args=[body["id"]]))
        assert detail.json()["lines"][0]["sku"] == "TEE-BLU-M"

    @pytest.mark.parametrize(
        ("line_change", "field"),
        [
            ({"quantity": 3}, "lines"),
            ({"quantity": 0}, "lines.0.quantity"),
            ({"reason": "bored"}, "lines.0.reason"),
            ({"line": 999999}, "lines.0.line"),
            ({"note": "x"}, "lines.0.note"),
        ],
    )
    def test_bad_returns_are_400_and_change_nothing(
        self,
        shop: dict[str, Any],
        token_factory: TokenFactory,
        api_client: ClientFactory,
        line_change: dict[str, Any],
        field: str,
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        order = place(client, web_order())
        line = {"line": order["lines"][0]["id"], "quantity": 1, "reason": "damaged"} | line_change
        response = client.post(
            reverse("api:return-list"),
            {"order": order["number"], "store": "st01", "lines": [line]},
            format="json",
        )
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]
        assert Return.objects.count() == 0
        assert on_hand(shop["st01"], shop["tee"]) == (10, 0)

    def test_foreign_store_and_past_window(
        self, shop: dict[str, Any], token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, all_stores = token_factory()
        order = place(api_client(all_stores), web_order())
        _, raw = token_factory(stores=[shop["st01"]])
        line = {"line": order["lines"][0]["id"], "quantity": 1, "reason": "damaged"}
        payload = {"order": order["number"], "store": "st02", "lines": [line]}
        assert (
            api_client(raw).post(reverse("api:return-list"), payload, format="json").status_code
            == 403
        )
        Order.objects.filter(number=order["number"]).update(
            placed_at=timezone.now() - timedelta(days=60)
        )
        late = api_client(raw).post(
            reverse("api:return-list"), payload | {"store": "st01"}, format="json"
        )
        assert late.status_code == 400
        assert "manager" in late.json()["error"]["fields"]["order"][0]
        assert Return.objects.count() == 0
