"""Outbound webhooks against the real parts: PostgreSQL, Redis, a Celery worker process and a real
HTTP receiver on loopback that checks signatures the way a receiving system would."""

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from crm.celery import app as celery_app
from crm.models import (
    AuditEntry,
    Channel,
    Role,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from crm.tasks import deliver_webhook
from crm.webhooks import (
    WebhookTemporaryFailure,
    webhook_deliver,
    webhook_endpoint_create,
    webhook_event_emit,
    webhook_resend,
    webhooks_sweep,
)
from customers.models import Customer
from customers.services import Identity, customer_merge, customer_resolve
from orders.models import ItemCondition, Order, PickupStatus, ReturnReason, ReturnStatus
from orders.services import LineInput, order_record
from orders.services.pickups import pickup_set_status
from orders.services.returns import return_create, return_receive, return_request_online
from stores.models import StoreRole
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tests.stores.pickup_fixtures import place_pickup, stocked_store
from tickets.models import InquiryStatus
from tickets.services.inquiries import inquiry_set_status

# The gaps between retries start at 0.3 s in the worker: 0.3-0.45, 0.6-0.9, 1.2-1.8 s.
WORKER_BACKOFF = 0.3
WORKER_MAX_RETRIES = 3
ALL_EVENTS = list(WebhookEvent.values)


# --- The receiver --------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A real HTTP server on loopback that keeps every POST (headers lower-cased, raw body, time)
    and answers 200, or the statuses queued with `answer_next`."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/crm?source=test"

    def answer_next(self, status: int, times: int = 1, **headers: str) -> None:
        self.answers.extend([(status, headers)] * times)

    def answer_always(self, status: int) -> None:
        self.answer_next(status, times=1000)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        with self.lock:
            self.requests.append(
                Received({k.lower(): v for k, v in handler.headers.items()}, body, time.monotonic())
            )
            status, headers = self.answers.pop(0) if self.answers else (200, {})
        time.sleep(self.delay)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        answer = b"ok" if status < 300 else f"refused with {status}".encode()
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    sink = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sink.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()


def signature_is_valid(secret: str, request: Received) -> bool:
    """What the receiving system does with the endpoint's secret."""
    timestamp = request.headers["x-crm-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    given = request.headers["x-crm-signature"]
    return hmac.compare_digest(given, f"sha256={expected.hexdigest()}")


# --- Helpers -------------------------------------------------------------------------------------


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {
        "CRM_WEBHOOK_RETRY_BACKOFF": str(WORKER_BACKOFF),
        "CRM_WEBHOOK_MAX_RETRIES": str(WORKER_MAX_RETRIES),
    }


def endpoint_for(receiver: Receiver, events: list[str] | None = None) -> WebhookEndpoint:
    return webhook_endpoint_create(url=receiver.url, events=events or ALL_EVENTS, actor=None)


def customer(email: str = "ana@example.com") -> Customer:
    identity = Identity(email=email, first_name="Ana", last_name="López")
    return customer_resolve(identity=identity, source=Channel.WEB).customer


def emit(obj: Any = None) -> list[WebhookDelivery]:
    """An event committed on its own, as a service would write it."""
    with transaction.atomic():
        return webhook_event_emit(
            event=WebhookEvent.CUSTOMER_MERGED,
            obj=obj or customer(),
            data={"merged_customer_id": 7},
        )


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("Timed out waiting for the worker.")
        time.sleep(0.1)


def status_of(delivery: WebhookDelivery) -> str:
    delivery.refresh_from_db()
    return delivery.status


def gaps(receiver: Receiver) -> list[float]:
    times = [request.at for request in receiver.requests]
    return [b - a for a, b in itertools.pairwise(times)]


def queued_messages() -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery"))


def supervisor() -> Any:
    return UserFactory(role=Role.SUPERVISOR, is_staff=True)


# --- With a real worker --------------------------------------------------------------------------


@pytest.mark.worker
def test_the_receiver_gets_the_event_signed_with_its_secret(
    receiver, celery_worker_process
) -> None:
    endpoint = endpoint_for(receiver)

    (delivery,) = emit(customer())
    wait_for(lambda: status_of(delivery) == WebhookDeliveryStatus.DELIVERED)

    (request,) = receiver.requests
    assert signature_is_valid(endpoint.secret, request)
    assert not signature_is_valid("whsec_someone-else", request)
    assert request.headers["x-crm-event"] == "customer.merged"
    assert request.headers["x-crm-delivery"] == str(delivery.pk)
    assert abs(int(request.headers["x-crm-timestamp"]) - time.time()) < 60
    assert request.headers["content-type"] == "application/json"
    payload = request.payload
    assert payload["id"] == str(delivery.event_id)
    assert payload["event"] == "customer.merged"
    assert payload["occurred_at"].startswith(str(timezone.now().year))
    assert payload["data"]["customer"]["last_name"] == "López"
    assert payload["data"]["merged_customer_id"] == 7
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    assert delivery.delivered_at is not None


@pytest.mark.worker
def test_a_500_is_retried_and_delivered_on_the_retry(receiver, celery_worker_process) -> None:
    endpoint_for(receiver)
    receiver.answer_next(500)

    (delivery,) = emit()
    wait_for(lambda: status_of(delivery) == WebhookDeliveryStatus.DELIVERED)

    assert len(receiver.requests) == 2
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert gaps(receiver)[0] >= WORKER_BACKOFF
    # The retry is the same delivery of the same event, signed afresh.
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-crm-delivery"] == second.headers["x-crm-delivery"]


@pytest.mark.worker
def test_retries_wait_longer_each_time(receiver, celery_worker_process) -> None:
    endpoint_for(receiver)
    receiver.answer_next(500)
    receiver.answer_next(503)
    receiver.answer_next(429)

    (delivery,) = emit()
    wait_for(lambda: status_of(delivery) == WebhookDeliveryStatus.DELIVERED)

    assert delivery.attempts == 4
    first, second, third = gaps(receiver)
    assert WORKER_BACKOFF <= first < second < third


@pytest.mark.worker
def test_a_400_fails_at_once_without_retrying(receiver, celery_worker_process) -> None:
    endpoint_for(receiver)
    receiver.answer_always(400)

    (delivery,) = emit()
    wait_for(lambda: status_of(delivery) == WebhookDeliveryStatus.FAILED)

    time.sleep(WORKER_BACKOFF * 4)
    assert len(receiver.requests) == 1
    assert (delivery.attempts, delivery.last_status_code) == (1, 400)
    assert delivery.last_error == "HTTP 400: refused with 400"


@pytest.mark.worker
def test_a_receiver_down_for_good_stops_after_the_last_retry(
    receiver, celery_worker_process
) -> None:
    endpoint_for(receiver)
    receiver.answer_always(500)

    (delivery,) = emit()
    wait_for(lambda: status_of(delivery) == WebhookDeliveryStatus.FAILED)

    assert delivery.attempts == WORKER_MAX_RETRIES + 1
    assert delivery.last_status_code == 500
    time.sleep(WORKER_BACKOFF * 2**WORKER_MAX_RETRIES)
    assert len(receiver.requests) == WORKER_MAX_RETRIES + 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_event_of_a_rolled_back_write_is_neither_stored_nor_sent(receiver) -> None:
    endpoint_for(receiver)
    survivor, merged = customer("a@example.com"), customer("b@example.com")
    celery_app.control.purge()

    with pytest.raises(RuntimeError), transaction.atomic():
        customer_merge(survivor=survivor, merged=merged, actor=supervisor())
        assert WebhookDelivery.objects.count() == 1  # written with the merge...
        raise RuntimeError("the request failed after the merge")

    assert not WebhookDelivery.objects.exists()  # ...and gone with it
    assert queued_messages() == 0
    assert receiver.requests == []


# --- The four events, from their real services ---------------------------------------------------


def only_request(receiver: Receiver, event: str) -> dict[str, Any]:
    (request,) = receiver.requests
    assert request.headers["x-crm-event"] == event
    payload = request.payload
    assert payload["event"] == event
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED
    return payload["data"]


@pytest.mark.django_db
def test_a_pickup_made_ready_is_sent(receiver, django_capture_on_commit_callbacks) -> None:
    endpoint_for(receiver, [WebhookEvent.PICKUP_READY])
    store = stocked_store()
    pickup = place_pickup(store)
    associate = store_staff(store, StoreRole.ASSOCIATE)
    with django_capture_on_commit_callbacks(execute=True):
        pickup_set_status(pickup=pickup, to=PickupStatus.PREPARING, actor=associate)
    assert receiver.requests == []  # preparing is not an event

    with django_capture_on_commit_callbacks(execute=True):
        ready = pickup_set_status(pickup=pickup, to=PickupStatus.READY, actor=associate)

    data = only_request(receiver, "pickup.ready")["pickup"]
    assert data["id"] == pickup.pk
    assert data["status"] == "ready"
    assert data["order_number"] == pickup.order.number
    assert data["store"] == "sf-union"
    assert data["customer"]["first_name"] == "Ann"
    assert data["hold_until"] is not None
    assert ready.code not in receiver.requests[0].body.decode()  # the code proves who collects


def web_order() -> Order:
    ProductFactory.create(sku="TEE", name="Linen tee", price=Decimal("30.00"))
    return order_record(
        identity=Identity(email="ana@example.com", first_name="Ana", last_name="López"),
        channel=Channel.WEB,
        lines=[LineInput(sku="TEE", quantity=2)],
        tax=Decimal("6.00"),
        shipping=Decimal("5.00"),
        placed_at=timezone.now() - timedelta(days=3),
    )


@pytest.mark.django_db
def test_a_return_at_the_desk_is_sent(receiver, django_capture_on_commit_callbacks) -> None:
    endpoint_for(receiver, [WebhookEvent.RETURN_COMPLETED])
    store = StoreFactory.create(code="sf-union", name="Union Square")
    order = web_order()
    line = order.lines.get()

    with django_capture_on_commit_callbacks(execute=True):
        returned = return_create(
            order=order,
            lines=[(line, 1, ReturnReason.CHANGED_MIND, ItemCondition.RESELLABLE)],
            store=store,
            actor=store_staff(store, StoreRole.ASSOCIATE),
        )

    data = only_request(receiver, "return.completed")["return"]
    assert data["number"] == returned.number
    assert data["status"] == ReturnStatus.COMPLETED
    assert data["order_number"] == order.number
    assert data["store"] == "sf-union"
    assert data["customer_id"] == order.customer_id
    assert data["refund_total"] == "33.00"  # 30.00 and half of the 6.00 tax
    assert data["lines"] == [
        {
            "sku": "TEE",
            "quantity": 1,
            "reason": "changed_mind",
            "condition": "resellable",
            "refund_amount": str(returned.lines.get().refund_amount),
        }
    ]


@pytest.mark.django_db
def test_a_return_started_online_is_sent_when_received(
    receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint_for(receiver, [WebhookEvent.RETURN_COMPLETED])
    store = StoreFactory.create(code="sf-union", name="Union Square")
    order = web_order()
    with django_capture_on_commit_callbacks(execute=True):
        started = return_request_online(
            order=order,
            lines=[(order.lines.get(), 2, ReturnReason.DAMAGED, ItemCondition.WRITE_OFF)],
        )
    assert receiver.requests == []  # not completed yet

    with django_capture_on_commit_callbacks(execute=True):
        return_receive(
            return_request=started, store=store, actor=store_staff(store, StoreRole.ASSOCIATE)
        )

    data = only_request(receiver, "return.completed")["return"]
    assert (data["number"], data["channel"], data["store"]) == (started.number, "web", "sf-union")


@pytest.mark.django_db
def test_an_inquiry_status_change_is_sent(receiver, django_capture_on_commit_callbacks) -> None:
    endpoint_for(receiver, [WebhookEvent.INQUIRY_STATUS_CHANGED])
    inquiry = web_inquiry(email="maya@example.com", subject="Where is my jacket?")

    with django_capture_on_commit_callbacks(execute=True):
        inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=UserFactory())

    data = only_request(receiver, "inquiry.status_changed")
    assert (data["from"], data["to"]) == ("new", "resolved")
    assert data["inquiry"]["reference"] == inquiry.reference
    assert data["inquiry"]["status"] == "resolved"
    assert data["inquiry"]["subject"] == "Where is my jacket?"
    assert data["inquiry"]["customer_id"] == inquiry.customer_id
    assert data["inquiry"]["resolved_at"] is not None


@pytest.mark.django_db
def test_a_customer_merge_is_sent(receiver, django_capture_on_commit_callbacks) -> None:
    endpoint_for(receiver, [WebhookEvent.CUSTOMER_MERGED])
    survivor, merged = customer("a@example.com"), customer("b@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(survivor=survivor, merged=merged, actor=supervisor())

    data = only_request(receiver, "customer.merged")
    assert data["customer"]["id"] == survivor.pk
    assert data["merged_customer_id"] == merged.pk


@pytest.mark.django_db
def test_only_active_subscribed_endpoints_get_an_event(
    receiver, django_capture_on_commit_callbacks
) -> None:
    wants = endpoint_for(receiver, [WebhookEvent.CUSTOMER_MERGED])
    also = webhook_endpoint_create(
        url=receiver.url + "&copy=2", events=ALL_EVENTS, actor=None, description="Copy"
    )
    endpoint_for(receiver, [WebhookEvent.PICKUP_READY])
    webhook_endpoint_create(url=receiver.url, events=ALL_EVENTS, actor=None, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        deliveries = emit()

    assert {d.endpoint for d in deliveries} == {wants, also}
    assert len(receiver.requests) == 2
    # One event: the same id at every endpoint, so receivers can drop copies.
    assert len({r.payload["id"] for r in receiver.requests}) == 1


@pytest.mark.django_db
def test_no_endpoint_costs_one_query(django_assert_num_queries) -> None:
    subject = customer()

    with django_assert_num_queries(1):
        assert webhook_event_emit(event=WebhookEvent.CUSTOMER_MERGED, obj=subject) == []


# --- Delivery rules, in-process ------------------------------------------------------------------


def pending(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> WebhookDelivery:
    endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=False):
        (delivery,) = emit()
    return delivery


@pytest.mark.django_db
def test_running_the_task_twice_delivers_once(receiver, django_capture_on_commit_callbacks) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)

    deliver_webhook(delivery.pk)
    deliver_webhook(delivery.pk)

    assert len(receiver.requests) == 1
    assert status_of(delivery) == WebhookDeliveryStatus.DELIVERED
    assert delivery.attempts == 1


@pytest.mark.worker  # queued in Redis, not run in-process: the two threads below are the workers
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_deliver_once(receiver) -> None:
    endpoint_for(receiver)
    (delivery,) = emit()
    celery_app.control.purge()
    receiver.delay = 1.0  # the first send holds the row's lock meanwhile
    results: list[object] = []

    def deliver() -> None:
        try:
            results.append(webhook_deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(receiver.requests) == 1
    assert results.count(None) == 1  # the second found the row locked and left it
    assert status_of(delivery) == WebhookDeliveryStatus.DELIVERED


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_other_answers_are_final(status, receiver, django_capture_on_commit_callbacks) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    receiver.answer_next(status, Location="http://127.0.0.1:9/elsewhere")

    webhook_deliver(delivery_id=delivery.pk)

    assert status_of(delivery) == WebhookDeliveryStatus.FAILED
    assert (delivery.attempts, delivery.last_status_code) == (1, status)
    assert len(receiver.requests) == 1  # a redirect is not followed


@pytest.mark.django_db
def test_an_unreachable_receiver_is_a_temporary_failure(django_capture_on_commit_callbacks) -> None:
    webhook_endpoint_create(url="http://127.0.0.1:9/hooks", events=ALL_EVENTS, actor=None)
    with django_capture_on_commit_callbacks(execute=False):
        (delivery,) = emit()

    with pytest.raises(WebhookTemporaryFailure) as failure:
        webhook_deliver(delivery_id=delivery.pk)

    assert failure.value.retry_in >= settings.CRM_WEBHOOK_RETRY_BACKOFF
    assert status_of(delivery) == WebhookDeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


@pytest.mark.django_db
def test_a_429_waits_as_long_as_the_receiver_asks(
    receiver, django_capture_on_commit_callbacks
) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    receiver.answer_next(429, Retry_After="600")

    with pytest.raises(WebhookTemporaryFailure) as failure:
        webhook_deliver(delivery_id=delivery.pk)

    assert failure.value.retry_in >= 600
    assert status_of(delivery) == WebhookDeliveryStatus.PENDING
    assert delivery.last_status_code == 429


@pytest.mark.django_db
def test_the_sweep_sends_what_a_lost_task_left(
    receiver, django_capture_on_commit_callbacks
) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=False):
        fresh = emit()[0]  # due now: its task may still be on its way

    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_sweep() == 1

    assert status_of(delivery) == WebhookDeliveryStatus.DELIVERED
    assert status_of(fresh) == WebhookDeliveryStatus.PENDING


@pytest.mark.django_db
def test_a_deactivated_endpoint_is_not_sent_to(
    receiver, django_capture_on_commit_callbacks
) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.update(is_active=False)

    webhook_deliver(delivery_id=delivery.pk)

    assert status_of(delivery) == WebhookDeliveryStatus.FAILED
    assert receiver.requests == []
    with pytest.raises(ValidationError, match="inactive"):
        webhook_resend(delivery=delivery, actor=None)


@pytest.mark.django_db
def test_a_resend_gets_fresh_retries_and_is_audited(
    receiver, django_capture_on_commit_callbacks
) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="Only a failed"):
        webhook_resend(delivery=delivery, actor=None)
    receiver.answer_next(410)
    webhook_deliver(delivery_id=delivery.pk)
    admin_user = UserFactory(role=Role.ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        webhook_resend(delivery=delivery, actor=admin_user)

    assert status_of(delivery) == WebhookDeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    entry = AuditEntry.objects.get(action="webhook_delivery.resend")
    assert entry.actor == admin_user
    assert entry.data["last_status_code"] == 410


@pytest.mark.django_db
def test_endpoints_need_a_web_url_and_known_events() -> None:
    with pytest.raises(ValidationError) as error:
        webhook_endpoint_create(url="ftp://example.com/x", events=["order.eaten"], actor=None)

    assert set(error.value.message_dict) == {"url", "events"}
    assert not WebhookEndpoint.objects.exists()


# --- The admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client) -> Any:
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_an_admin_registers_an_endpoint_and_sees_its_secret(admin_client, receiver) -> None:
    response = admin_client.post(
        reverse("admin:crm_webhookendpoint_add"),
        {
            "url": receiver.url,
            "description": "Loyalty app",
            "events": ["pickup.ready", "return.completed"],
            "is_active": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["pickup.ready", "return.completed"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.secret in response.content.decode()
    assert AuditEntry.objects.filter(action="webhook_endpoint.create").exists()
    page = admin_client.get(reverse("admin:crm_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()
    refused = admin_client.post(
        reverse("admin:crm_webhookendpoint_add"),
        {"url": "ftp://example.com/", "events": ["pickup.ready"], "is_active": "on"},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.django_db
def test_an_admin_changes_an_endpoint_and_gets_a_new_secret(admin_client, receiver) -> None:
    endpoint = endpoint_for(receiver)
    old_secret = endpoint.secret

    admin_client.post(
        reverse("admin:crm_webhookendpoint_change", args=[endpoint.pk]),
        {"url": receiver.url, "events": ["pickup.ready"], "new_secret": "on"},
    )

    endpoint.refresh_from_db()
    assert endpoint.events == ["pickup.ready"]
    assert endpoint.is_active is False  # the box was left unticked
    assert endpoint.secret != old_secret


@pytest.mark.django_db
def test_an_admin_resends_a_failed_delivery(
    admin_client, receiver, django_capture_on_commit_callbacks
) -> None:
    delivery = pending(receiver, django_capture_on_commit_callbacks)
    receiver.answer_next(400)
    webhook_deliver(delivery_id=delivery.pk)
    assert status_of(delivery) == WebhookDeliveryStatus.FAILED
    listing = admin_client.get(reverse("admin:crm_webhookdelivery_changelist"))
    assert listing.status_code == 200
    assert admin_client.get(reverse("admin:crm_webhookdelivery_add")).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:crm_webhookdelivery_changelist"),
            {"action": "send_again", "_selected_action": [delivery.pk]},
            follow=True,
        )

    assert "1 failed delivery(ies) queued" in response.content.decode()
    assert status_of(delivery) == WebhookDeliveryStatus.DELIVERED
    assert len(receiver.requests) == 2
    assert AuditEntry.objects.filter(action="webhook_delivery.resend").count() == 1
