"""Outbound webhooks: other systems are told about events as they happen.

An event writes one WebhookDelivery per subscribed endpoint in the transaction of its cause (an
outbox: an event of a rolled-back write is never sent, and one committed while Redis is down is
sent by the sweep later). A task POSTs it, signed with the endpoint's secret, and retries with a
growing wait while the receiver is down or overloaded.

The receiver checks `X-CRM-Signature: sha256=<hex>`, the HMAC-SHA256 with the endpoint's secret
of "<X-CRM-Timestamp>.<raw body>", and may refuse old timestamps (replays). Every delivery of
one event carries the same `id` in its body: a receiver drops a copy it already processed.
"""

import hashlib
import hmac
import http.client
import json
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from crm.models import (
    WEBHOOK_URL_MAX_LENGTH,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    webhook_secret,
)
from crm.services import audit_record, enqueue_after_commit

# Seconds for the connection and for each read of the answer.
TIMEOUT = 10.0
# What is kept of a refusing receiver's answer, to show staff why.
ERROR_MAX_LENGTH = 2000
# A pending delivery this long past its due time has lost its task: the sweep enqueues it again.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 500
# The longest wait a receiver's Retry-After may ask for.
RETRY_AFTER_MAX = 3600.0
USER_AGENT = "CRM-Webhooks/1"


class WebhookTemporaryFailure(Exception):
    """The receiver or the network failed in a way worth trying again in `retry_in` seconds."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


# --- Endpoints -----------------------------------------------------------------------------------


def _endpoint_errors(url: str, events: Sequence[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > WEBHOOK_URL_MAX_LENGTH:
            raise ValidationError("Too long.")
    except ValidationError:
        errors["url"] = [f"Enter an http or https URL of at most {WEBHOOK_URL_MAX_LENGTH} chars."]
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if not events or unknown:
        errors["events"] = [f"Choose at least one known event (unknown: {', '.join(unknown)})."]
    return errors


def webhook_endpoint_create(
    *, url: str, events: Sequence[str], actor: User | None, description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:  # fmt: skip
    """Register a URL for events. It gets a fresh secret, shown to the admin to give to the
    receiver; the registration is audited."""
    if errors := _endpoint_errors(url, events):
        raise ValidationError(errors)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            description=description.strip(),
            events=sorted(set(events)),
            is_active=is_active,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="webhook_endpoint.create",
            obj=endpoint,
            data={"url": url, "events": endpoint.events, "is_active": is_active},
        )
    return endpoint


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: Sequence[str], actor: User | None,
    description: str = "", is_active: bool = True, new_secret: bool = False,
) -> WebhookEndpoint:  # fmt: skip
    """Change an endpoint's URL, events or active flag, or give it a new secret (the receiver
    then needs the new one). Deliveries already written keep going to the endpoint."""
    if errors := _endpoint_errors(url, events):
        raise ValidationError(errors)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.url = url
        endpoint.description = description.strip()
        endpoint.events = sorted(set(events))
        endpoint.is_active = is_active
        if new_secret:
            endpoint.secret = webhook_secret()
        endpoint.save()
        audit_record(
            actor=actor,
            action="webhook_endpoint.update",
            obj=endpoint,
            data={
                "url": url,
                "events": endpoint.events,
                "is_active": is_active,
                "new_secret": new_secret,
            },
        )
    return endpoint


# --- Events --------------------------------------------------------------------------------------


def _customer_ref(customer: Any) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"id": customer.pk, "first_name": customer.first_name, "last_name": customer.last_name}


def _inquiry_data(inquiry: Any) -> dict[str, Any]:
    return {
        "inquiry": {
            "id": inquiry.pk,
            "reference": inquiry.reference,
            "subject": inquiry.subject,
            "status": inquiry.status,
            "channel": inquiry.channel,
            "priority": inquiry.priority,
            "customer_id": inquiry.customer_id,
            "queue_id": inquiry.queue_id,
            "resolved_at": inquiry.resolved_at,
        }
    }


def _pickup_data(pickup: Any) -> dict[str, Any]:
    # The pickup code is not sent: it is what proves at the counter that one is the customer.
    order = pickup.order
    return {
        "pickup": {
            "id": pickup.pk,
            "status": pickup.status,
            "order_number": order.number,
            "store": pickup.store.code,
            "customer": _customer_ref(order.customer),
            "ready_at": pickup.ready_at,
            "hold_until": pickup.hold_until,
        }
    }


def _return_data(return_request: Any) -> dict[str, Any]:
    return {
        "return": {
            "id": return_request.pk,
            "number": return_request.number,
            "status": return_request.status,
            "channel": return_request.channel,
            "order_number": return_request.order.number,
            "store": return_request.store.code if return_request.store else None,
            "customer_id": return_request.customer_id,
            "currency": return_request.order.currency,
            "refund_method": return_request.refund_method,
            "refund_items": return_request.refund_items,
            "refund_tax": return_request.refund_tax,
            "refund_shipping": return_request.refund_shipping,
            "refund_total": return_request.refund_total,
            "exchange_order_number": (
                return_request.exchange_order.number if return_request.exchange_order else None
            ),
            "completed_at": return_request.completed_at,
            "lines": [
                {
                    "sku": line.order_line.sku,
                    "quantity": line.quantity,
                    "reason": line.reason,
                    "condition": line.condition,
                    "refund_amount": line.refund_amount,
                }
                for line in return_request.lines.select_related("order_line").order_by("pk")
            ],
        }
    }


def _customer_data(customer: Any) -> dict[str, Any]:
    return {"customer": _customer_ref(customer)}


_DATA = {
    WebhookEvent.INQUIRY_STATUS_CHANGED: _inquiry_data,
    WebhookEvent.PICKUP_READY: _pickup_data,
    WebhookEvent.RETURN_COMPLETED: _return_data,
    WebhookEvent.CUSTOMER_MERGED: _customer_data,
}


def _subscribed(event: str) -> list[WebhookEndpoint]:
    # Endpoints are few: filtering the list here works on every database (JSON containment
    # lookups don't on SQLite, the zero-configuration default).
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]


def webhook_event_emit(
    *, event: str, obj: models.Model, data: dict[str, Any] | None = None
) -> list[WebhookDelivery]:
    """Write a delivery of `event` about `obj` (its data, plus `data`) for each active endpoint
    subscribed to it, in the caller's transaction; each is sent once that commits, and none at all
    if it rolls back. Costs one query when no endpoint wants the event."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}.")
    endpoints = _subscribed(event)
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "event": event,
        "occurred_at": timezone.now(),
        "data": {**_DATA[WebhookEvent(event)](obj), **(data or {})},
    }
    # Through the JSON encoder once: decimals and datetimes become the strings receivers get.
    stored = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event=event, event_id=event_id, payload=stored)
            for endpoint in endpoints
        )
        for delivery in deliveries:
            _deliver_on_commit(delivery.pk)
    return deliveries


def _deliver_on_commit(delivery_id: int) -> None:
    from crm.tasks import deliver_webhook  # tasks call services: import late

    enqueue_after_commit(deliver_webhook, delivery_id)


# --- Delivery ------------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-CRM-Signature value: HMAC-SHA256 of "<timestamp>.<body>" with the endpoint secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: str
    retry_after: float | None


def _post(url: str, body: bytes, headers: dict[str, str]) -> _Answer:
    """POST without following redirects (a 3xx is an answer, not a new target)."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection = connection_class(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(ERROR_MAX_LENGTH).decode(errors="replace")
        retry_after = response.getheader("Retry-After", "")
        return _Answer(
            status=response.status,
            body=text,
            retry_after=float(retry_after) if retry_after.strip().isdigit() else None,
        )
    finally:
        connection.close()


def _retry_delay(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: doubling from CRM_WEBHOOK_RETRY_BACKOFF, plus up to half again
    at random so that deliveries failed together don't retry together; longer if the receiver
    asked for it (429 or 503 with Retry-After)."""
    base = settings.CRM_WEBHOOK_RETRY_BACKOFF * 2 ** (attempts - 1)
    delay = base * (1 + random.random() / 2)  # noqa: S311 (jitter, not a secret)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX))
    return delay


def _is_temporary(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """POST a pending delivery to its endpoint, signed, and record the answer. 2xx: delivered.
    5xx, 408, 429 or a network error: recorded and raised as WebhookTemporaryFailure with a
    growing wait, until CRM_WEBHOOK_MAX_RETRIES retries are spent; any other answer: failed at
    once. Delivered or failed deliveries, and one another worker is sending right now, are left
    alone, so a delivery repeated is sent once."""
    with transaction.atomic():
        # The lock is held during the HTTP exchange: it is what stops a second send.
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        endpoint = delivery.endpoint
        if not endpoint.is_active:
            delivery.status = WebhookDeliveryStatus.FAILED
            delivery.last_error = "The endpoint was deactivated before this was sent."
            delivery.save(update_fields=["status", "last_error"])
            return delivery
        delivery.attempts += 1
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-CRM-Event": delivery.event,
            "X-CRM-Delivery": str(delivery.pk),
            "X-CRM-Timestamp": timestamp,
            "X-CRM-Signature": webhook_signature(endpoint.secret, timestamp, body),
        }
        retry_after: float | None = None
        try:
            answer = _post(endpoint.url, body, headers)
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Refused or dropped connections, timeouts, TLS errors, a malformed answer.
            delivery.last_status_code = None
            delivery.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
            temporary = True
        else:
            delivery.last_status_code = answer.status
            if 200 <= answer.status < 300:
                delivery.status = WebhookDeliveryStatus.DELIVERED
                delivery.delivered_at = timezone.now()
                delivery.last_error = ""
                delivery.save()
                return delivery
            delivery.last_error = f"HTTP {answer.status}: {answer.body}"[:ERROR_MAX_LENGTH]
            temporary = _is_temporary(answer.status)
            retry_after = answer.retry_after
        if not temporary or delivery.attempts > settings.CRM_WEBHOOK_MAX_RETRIES:
            delivery.status = WebhookDeliveryStatus.FAILED
            delivery.save()
            return delivery
        retry_in = _retry_delay(delivery.attempts, retry_after)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
        delivery.save()
    # Raised after the commit, so that the attempt and its answer stay recorded.
    raise WebhookTemporaryFailure(delivery.last_error, retry_in=retry_in)


def webhooks_sweep() -> int:
    """Enqueue again pending deliveries more than a minute past their due time: their task was
    lost (the broker was down at commit, a worker died). Each one swept is due again from now, so
    a slow queue doesn't get it enqueued by every sweep. Returns how many were enqueued."""
    now = timezone.now()
    with transaction.atomic():
        # skip_locked: a delivery being sent right now is not lost.
        overdue = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=overdue).update(next_attempt_at=now)
        for delivery_id in overdue:
            _deliver_on_commit(delivery_id)
    return len(overdue)


def webhook_resend(*, delivery: WebhookDelivery, actor: User | None) -> WebhookDelivery:
    """Send a failed delivery again with a fresh set of retries, e.g. once the receiver is fixed.
    Only failed deliveries to an active endpoint can be sent again; the re-send is audited. The
    body is the same (same event id), signed afresh."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if delivery.status != WebhookDeliveryStatus.FAILED:
            raise ValidationError("Only a failed delivery can be sent again.")
        if not delivery.endpoint.is_active:
            raise ValidationError("The endpoint is inactive: activate it first.")
        audit_record(
            actor=actor,
            action="webhook_delivery.resend",
            obj=delivery,
            data={
                "attempts": delivery.attempts,
                "last_status_code": delivery.last_status_code,
                "last_error": delivery.last_error,
            },
        )
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        _deliver_on_commit(delivery.pk)
    return delivery
