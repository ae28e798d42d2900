"""The marketing-touch and web-activity endpoints."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from crm.models import Channel, Scope
from customers.models import Activity, ActivityKind, Cart, Customer, Touch, Visit, WishListItem
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def new_customer() -> Customer:
    customer: Customer = CustomerFactory()
    return customer


WRITE = [Scope.MARKETING_READ, Scope.MARKETING_WRITE]


@pytest.fixture
def client(token_factory, api_client):
    _, raw = token_factory(scopes=WRITE)
    return api_client(raw)


def touch_body(**kwargs):
    return {
        "identity": {"email": "ana@example.com"},
        "source": "mailer",
        "external_id": "t-1",
        "offer_type": "percent_off",
        "offer_value": "20",
        "channel": "email",
        **kwargs,
    }


class TestTouches:
    def test_record_by_identity_then_replay_by_external_id(self, client) -> None:
        url = reverse("api:touch-list")

        first = client.post(url, touch_body(), format="json")
        again = client.post(url, touch_body(), format="json")

        assert first.status_code == 201, first.json()
        assert again.status_code == 200
        assert first.json()["offer_value"] == "20.00"
        assert Touch.objects.count() == 1
        entry = Activity.objects.get(kind=ActivityKind.OFFER_SENT)
        assert entry.summary == "Offer 20% off sent by e-mail"
        assert entry.customer_id == first.json()["customer"]

    def test_events_and_redemption_by_order_number(self, client) -> None:
        customer = new_customer()
        Order.objects.create(number="W100231", customer=customer, channel=Channel.WEB)
        touch = client.post(
            reverse("api:touch-list"),
            touch_body(identity=None, customer=customer.pk) | {},
            format="json",
        )
        assert touch.status_code == 400  # identity: null is not an identity
        touch = client.post(
            reverse("api:touch-list"),
            {k: v for k, v in touch_body(customer=customer.pk).items() if k != "identity"},
            format="json",
        )
        url = reverse("api:touch-events", args=[touch.json()["id"]])

        opened = client.post(url, {"event": "opened", "at": "2026-03-01T12:00:00Z"}, format="json")
        client.post(url, {"event": "opened", "at": "2026-03-02T12:00:00Z"}, format="json")
        redeemed = client.post(url, {"event": "redeemed", "order": "W100231"}, format="json")

        assert opened.status_code == 200
        assert parse_datetime(redeemed.json()["opened_at"]) == parse_datetime(
            "2026-03-01T12:00:00Z"
        )
        assert redeemed.json()["redeemed_order"] == "W100231"
        assert Activity.objects.filter(kind=ActivityKind.OFFER_OPENED).count() == 1

    def test_unknown_order_is_a_field_error(self, client) -> None:
        touch = client.post(reverse("api:touch-list"), touch_body(), format="json").json()
        response = client.post(
            reverse("api:touch-events", args=[touch["id"]]),
            {"event": "redeemed", "order": "W404"},
            format="json",
        )
        assert response.status_code == 400
        assert "order" in response.json()["error"]["fields"]

    def test_event_on_unknown_touch_is_404(self, client) -> None:
        response = client.post(
            reverse("api:touch-events", args=[999999]), {"event": "opened"}, format="json"
        )
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"colour": "red"}, "colour"),
            ({"offer_value": "-5"}, "offer_value"),
            ({"offer_value": "lots"}, "offer_value"),
            ({"channel": "fax"}, "channel"),
            ({"campaign": "x" * 101}, "campaign"),
            ({"external_id": "x" * 65}, "external_id"),
            ({"identity": {"email": "a@example.com", "shoe": 9}}, "identity.shoe"),
            ({"customer": 5}, "customer"),
        ],
    )
    def test_validation(self, client, change, field) -> None:
        response = client.post(reverse("api:touch-list"), touch_body(**change), format="json")

        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Touch.objects.exists()

    def test_list_by_customer_within_a_query_budget(
        self, client, django_assert_max_num_queries
    ) -> None:
        customer = new_customer()
        for n in range(5):
            order = Order.objects.create(number=f"W{n}", customer=customer, channel=Channel.WEB)
            touch = client.post(
                reverse("api:touch-list"),
                {
                    **{k: v for k, v in touch_body(external_id=f"t{n}").items() if k != "identity"},
                    "customer": customer.pk,
                },
                format="json",
            ).json()
            client.post(
                reverse("api:touch-events", args=[touch["id"]]),
                {"event": "redeemed", "order": order.number},
                format="json",
            )
        client.post(reverse("api:touch-list"), touch_body(external_id="other"), format="json")

        with django_assert_max_num_queries(6):
            response = client.get(reverse("api:touch-list"), {"customer": customer.pk})

        assert response.status_code == 200
        results = response.json()["results"]
        assert len(results) == 5
        assert {r["redeemed_order"] for r in results} == {f"W{n}" for n in range(5)}

    def test_a_token_without_marketing_write_is_refused(self, token_factory, api_client) -> None:
        _, raw = token_factory(scopes=[Scope.MARKETING_READ])
        client = api_client(raw)

        response = client.post(reverse("api:touch-list"), touch_body(), format="json")

        assert response.status_code == 403
        assert "marketing:write" in response.json()["error"]["message"]
        assert client.get(reverse("api:touch-list")).status_code == 200

    def test_a_token_without_marketing_read_cannot_list(self, token_factory, api_client) -> None:
        _, raw = token_factory(scopes=[Scope.CUSTOMERS_READ])
        assert api_client(raw).get(reverse("api:touch-list")).status_code == 403

    def test_bulk_stores_the_good_items(self, client) -> None:
        items = [
            touch_body(external_id="a"),
            touch_body(channel="fax"),
            touch_body(external_id="b"),
        ]

        response = client.post(reverse("api:touch-bulk"), {"items": items}, format="json")

        assert response.status_code == 207
        statuses = [r["status"] for r in response.json()["results"]]
        assert statuses == [201, 400, 201]
        assert set(Touch.objects.values_list("external_id", flat=True)) == {"a", "b"}

    def test_idempotency_key_replays(self, client) -> None:
        headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
        url = reverse("api:touch-list")
        first = client.post(url, touch_body(), format="json", **headers)
        replay = client.post(url, touch_body(), format="json", **headers)
        other = client.post(url, touch_body(external_id="t-2"), format="json", **headers)

        assert (first.status_code, replay.status_code, other.status_code) == (201, 201, 422)
        assert replay["Idempotent-Replayed"] == "true"

    def test_an_answer_quoting_a_nul_character_is_kept_for_replay(self, client) -> None:
        # The bulk answer names the unknown field it refused, NUL included.
        items = [touch_body(external_id="a"), {**touch_body(external_id="b"), "odd\u0000key": 1}]
        headers = {"HTTP_IDEMPOTENCY_KEY": "k-nul"}

        first = client.post(reverse("api:touch-bulk"), {"items": items}, format="json", **headers)
        replay = client.post(reverse("api:touch-bulk"), {"items": items}, format="json", **headers)

        assert first.status_code == 207
        assert [r["status"] for r in first.json()["results"]] == [201, 400]
        assert "odd\u0000key" in first.json()["results"][1]["error"]["fields"]
        assert (replay.status_code, replay.json()) == (207, first.json())
        assert replay["Idempotent-Replayed"] == "true"
        assert Touch.objects.count() == 1


class TestWebActivity:
    def test_visit(self, client) -> None:
        response = client.post(
            reverse("api:visit-list"),
            {"identity": {"external_ids": {"webshop": "88123"}}, "source": "promotion"},
            format="json",
        )

        assert response.status_code == 201, response.json()
        assert Visit.objects.get().source == "promotion"
        assert Activity.objects.get(kind=ActivityKind.VISIT).summary == "Visited from a promotion"

    def test_visit_validation(self, client) -> None:
        customer = new_customer()
        for body, field in [
            ({"customer": customer.pk, "source": "pigeon"}, "source"),
            ({"customer": customer.pk, "source": "typed", "referrer": "x" * 501}, "referrer"),
            ({"customer": "seven", "source": "typed"}, "customer"),
            ({"customer": 999999, "source": "typed"}, "customer"),
            ({"source": "typed"}, "customer"),
        ]:
            response = client.post(reverse("api:visit-list"), body, format="json")
            assert response.status_code == 400, body
            assert field in response.json()["error"]["fields"], response.json()
        assert not Visit.objects.exists()

    def test_wishlist_add_and_remove(self, client) -> None:
        customer = new_customer()
        coat = ProductFactory(name="Wool coat")
        url = reverse("api:wishlist")

        added = client.post(
            url, {"customer": customer.pk, "action": "add", "sku": coat.sku}, format="json"
        )
        again = client.post(
            url, {"customer": customer.pk, "action": "add", "sku": coat.sku}, format="json"
        )
        removed = client.post(
            url, {"customer": customer.pk, "action": "remove", "sku": coat.sku}, format="json"
        )

        assert added.status_code == 201
        assert added.json()["items"][0]["name"] == "Wool coat"
        assert (again.status_code, again.json()["changed"]) == (200, False)
        assert removed.json() == {"customer": customer.pk, "changed": True, "items": []}

    def test_wishlist_unknown_sku(self, client) -> None:
        response = client.post(
            reverse("api:wishlist"),
            {"customer": new_customer().pk, "action": "add", "sku": "NOPE"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"sku": ["Unknown SKU NOPE."]}
        assert not WishListItem.objects.exists()

    def test_cart_abandoned_and_recovered(self, client) -> None:
        customer = new_customer()
        a, b = ProductFactory(), ProductFactory()
        Order.objects.create(number="W9", customer=customer, channel=Channel.WEB)

        abandoned = client.post(
            reverse("api:cart-abandoned"),
            {
                "customer": customer.pk,
                "source": "webshop",
                "external_id": "c-1",
                "items": [
                    {"sku": a.sku, "quantity": 2, "price": "49.90"},
                    {"sku": b.sku, "quantity": 1, "price": "84.20"},
                ],
                "step": "payment",
            },
            format="json",
        )
        recovered = client.post(
            reverse("api:cart-recovered", args=["c-1"]),
            {"source": "webshop", "order": "W9"},
            format="json",
        )

        assert abandoned.status_code == 201, abandoned.json()
        assert abandoned.json()["value"] == "184.00"
        assert recovered.status_code == 200
        assert recovered.json()["recovered_order"] == "W9"
        assert Activity.objects.get(kind=ActivityKind.CART_ABANDONED).summary == (
            "Cart abandoned at payment: 3 items, $184.00"
        )

    def test_cart_validation(self, client) -> None:
        customer = new_customer()
        product = ProductFactory()
        base = {"customer": customer.pk, "source": "webshop", "external_id": "c", "step": "cart"}
        for items, field in [
            ([], "items"),
            ([{"sku": product.sku, "quantity": -1, "price": "1"}], "items.0.quantity"),
            ([{"sku": product.sku, "quantity": 1, "price": "-1"}], "items.0.price"),
            ([{"sku": product.sku, "quantity": 1, "price": "1", "x": 1}], "items.0.x"),
            ([{"sku": "NOPE", "quantity": 1, "price": "1"}], "items.0.sku"),
        ]:
            response = client.post(
                reverse("api:cart-abandoned"), {**base, "items": items}, format="json"
            )
            assert response.status_code == 400, items
            assert any(name.startswith(field) for name in response.json()["error"]["fields"])
        assert not Cart.objects.exists()

    def test_recovering_an_unknown_cart(self, client) -> None:
        response = client.post(
            reverse("api:cart-recovered", args=["nope"]), {"source": "webshop"}, format="json"
        )
        assert response.status_code == 400
        assert "external_id" in response.json()["error"]["fields"]

    def test_bulk_stores_the_good_items(self, client) -> None:
        customer = new_customer()
        product = ProductFactory()
        items = [
            {"type": "visit", "customer": customer.pk, "source": "search"},
            {"type": "wishlist", "customer": customer.pk, "action": "add", "sku": "NOPE"},
            {"type": "teleport", "customer": customer.pk},
            {"type": "wishlist", "customer": customer.pk, "action": "add", "sku": product.sku},
            {
                "type": "cart_abandoned",
                "customer": customer.pk,
                "source": "webshop",
                "external_id": "c-1",
                "items": [{"sku": product.sku, "quantity": 1, "price": "5"}],
                "step": "shipping",
            },
            {"type": "cart_recovered", "source": "webshop", "external_id": "c-1"},
        ]

        response = client.post(reverse("api:web-activity-bulk"), {"items": items}, format="json")

        assert response.status_code == 207
        results = response.json()["results"]
        assert [r["status"] for r in results] == [201, 400, 400, 201, 201, 200]
        assert results[1]["error"]["fields"] == {"sku": ["Unknown SKU NOPE."]}
        assert "type" in results[2]["error"]["fields"]
        assert Visit.objects.count() == 1
        assert WishListItem.objects.count() == 1
        assert Cart.objects.get().recovered_at is not None

    def test_a_token_without_marketing_write_is_refused(self, token_factory, api_client) -> None:
        _, raw = token_factory(scopes=[Scope.MARKETING_READ, Scope.CUSTOMERS_WRITE])
        client = api_client(raw)
        customer = new_customer()

        for name, body in [
            ("api:visit-list", {"customer": customer.pk, "source": "search"}),
            ("api:web-activity-bulk", {"items": [{"type": "visit"}]}),
        ]:
            assert client.post(reverse(name), body, format="json").status_code == 403
        assert not Visit.objects.exists()

    def test_a_token_outside_the_web_channel_is_refused(self, token_factory, api_client) -> None:
        _, raw = token_factory(scopes=WRITE, channels=[Channel.EMAIL])
        response = api_client(raw).post(
            reverse("api:visit-list"),
            {"customer": new_customer().pk, "source": "search"},
            format="json",
        )
        assert response.status_code == 403
        assert Decimal("0") == Decimal(Visit.objects.count())
