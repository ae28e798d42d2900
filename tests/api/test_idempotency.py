"""Idempotency of order writes (Stripe's Idempotency-Key design) on real PostgreSQL: a replay
gets the first answer, the same key with another body is refused, concurrent duplicates write
once, and an external id sent again without a key is not stored twice."""

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from crm.models import Channel, IdempotencyKey
from orders.models import Order
from stores.models import StockAction, StockLevel, StockMovement, Store
from stores.services import stock_adjust
from tests.api.conftest import ClientFactory, TokenFactory, client_for
from tests.factories import ProductFactory, StoreFactory

ORDERS = "/api/v1/orders/"


@pytest.fixture
def store() -> Store:
    store: Store = StoreFactory.create(code="st01", name="Union Square")
    mug = ProductFactory.create(sku="MUG-01", name="Mug", price=Decimal("9.00"))
    stock_adjust(store=store, product=mug, action=StockAction.RECEIVE, quantity=50)
    return store


def sale(external_id: str = "", quantity: int = 2) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "customer": {"email": "ana@example.com"},
        "channel": "store",
        "store": "st01",
        "lines": [{"sku": "MUG-01", "quantity": quantity}],
    }
    if external_id:
        payload |= {"external_source": "pos-st01", "external_id": external_id}
    return payload


def mugs_on_hand(store: Store) -> int:
    return StockLevel.objects.get(store=store, product__sku="MUG-01").on_hand


@pytest.mark.django_db
class TestSequential:
    def test_replay_returns_the_same_status_and_body(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory(channels=[Channel.STORE], stores=[store])
        client = api_client(raw)
        first = client.post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first.headers
        again = client.post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert Order.objects.count() == 1
        assert mugs_on_hand(store) == 48
        # Without an external id, another key is another sale.
        other = client.post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        assert other.status_code == 201 and other.json()["number"] != first.json()["number"]
        assert mugs_on_hand(store) == 46

    def test_same_key_with_another_body_is_422(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        assert (
            client.post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
        )
        reused = client.post(ORDERS, sale(quantity=3), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert reused.status_code == 422
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
        assert Order.objects.count() == 1
        assert mugs_on_hand(store) == 48

    def test_keys_are_per_token(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, one = token_factory(name="POS 1")
        _, two = token_factory(name="POS 2")
        api_client(one).post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k")
        answer = api_client(two).post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers
        assert Order.objects.count() == 2

    def test_an_error_is_not_kept_so_the_key_can_be_used_again(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        bad = sale() | {"store": "st99"}
        assert client.post(ORDERS, bad, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
        assert not IdempotencyKey.objects.exists()
        good = client.post(ORDERS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert good.status_code == 201

    def test_external_id_sent_again_without_a_key_is_not_stored_twice(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        first = client.post(ORDERS, sale("T-9"), format="json")
        again = client.post(ORDERS, sale("T-9"), format="json")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert Order.objects.count() == 1
        assert mugs_on_hand(store) == 48
        # The same id from another system is another order.
        other = client.post(
            ORDERS, sale("T-9") | {"external_source": "webshop", "channel": "web"}, format="json"
        )
        assert other.status_code == 201
        assert Order.objects.count() == 2

    def test_status_updates_and_bulk_replay_too(
        self, store: Store, token_factory: TokenFactory, api_client: ClientFactory
    ) -> None:
        _, raw = token_factory()
        client = api_client(raw)
        web = sale("W-1") | {"channel": "web", "external_source": "webshop"}
        number = client.post(ORDERS, web, format="json").json()["number"]
        url = reverse("api:order-status", args=[number])
        first = client.post(url, {"status": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="s")
        again = client.post(url, {"status": "paid"}, format="json", HTTP_IDEMPOTENCY_KEY="s")
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.headers["Idempotent-Replayed"] == "true"
        items = {"items": [sale(f"B-{n}") for n in range(3)]}
        bulk = reverse("api:order-bulk")
        one = client.post(bulk, items, format="json", HTTP_IDEMPOTENCY_KEY="b")
        two = client.post(bulk, items, format="json", HTTP_IDEMPOTENCY_KEY="b")
        assert one.status_code == two.status_code == 207
        assert one.json() == two.json()
        assert Order.objects.count() == 4
        assert StockMovement.objects.filter(kind=StockAction.SELL).count() == 3


def post_together(raw: str, payload: dict[str, Any], key: str | None, threads: int = 5) -> list:
    """Send the same POST from `threads` threads released at once by a barrier."""
    barrier = threading.Barrier(threads)
    answers: list[Any] = [None] * threads

    def send(index: int) -> None:
        client: APIClient = client_for(raw)
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        try:
            barrier.wait(timeout=10)
            response = client.post(ORDERS, payload, format="json", **headers)
            answers[index] = (response.status_code, response.json())
        finally:
            connection.close()

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
class TestConcurrent:
    def test_concurrent_duplicates_with_one_key_write_once(
        self, store: Store, token_factory: TokenFactory
    ) -> None:
        _, raw = token_factory()
        answers = post_together(raw, sale(), key="same-key")
        assert Order.objects.count() == 1
        assert all(answer == answers[0] for answer in answers), answers
        assert answers[0][0] == 201
        assert mugs_on_hand(store) == 48
        assert IdempotencyKey.objects.count() == 1

    def test_concurrent_external_id_without_key_is_stored_once(
        self, store: Store, token_factory: TokenFactory
    ) -> None:
        _, raw = token_factory()
        answers = post_together(raw, sale("T-77"), key=None)
        assert Order.objects.count() == 1
        numbers = {body["number"] for _, body in answers}
        assert len(numbers) == 1
        assert {status for status, _ in answers} <= {200, 201}
        assert mugs_on_hand(store) == 48
