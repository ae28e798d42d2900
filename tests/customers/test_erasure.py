"""An administrator erases a customer's personal data; what the books need stays."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, Channel, Role, User, WebhookDelivery, WebhookEvent
from crm.webhooks import webhook_endpoint_create
from customers.erasure import ERASED, customer_erase
from customers.models import Customer
from customers.services import Identity, comment_add
from orders.models import Order
from orders.services import LineInput, order_record
from tests.factories import ProductFactory, UserFactory, web_inquiry
from tickets.models import Attachment, Inquiry, Message
from tickets.services.callbacks import callback_request
from tickets.services.workspace import inquiry_note_add, inquiry_reply

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "ana.lima@example.com", "+14155550123"
SECRETS = (
    EMAIL,
    "Lima",
    "Ana",
    "ana lima",
    "lima ana",
    "Fulton Street",
    "4155550123",
    "my zip broke",
)


def ana() -> tuple[Customer, Order]:
    """Ana Lima, who shops on the web, signs in to the portal, wrote in, sent a photo, asked for
    a call back and has a rep's comment and note about her."""
    ProductFactory(sku="TEE-001", price=Decimal("30.00"))
    # Another system is told of every event (her inquiry's status changing among them).
    webhook_endpoint_create(
        url="https://erp.example.com/hooks", events=list(WebhookEvent.values), actor=None
    )
    identity = Identity(
        email=EMAIL,
        phone=PHONE,
        first_name="Ana",
        last_name="Lima",
        address_line1="1 Fulton Street",
    )
    order = order_record(
        identity=identity, channel=Channel.WEB, lines=[LineInput(sku="TEE-001", quantity=2)]
    )
    customer = order.customer
    Customer.objects.filter(pk=customer.pk).update(
        user=UserFactory(role=Role.CUSTOMER, email=EMAIL, first_name="Ana", last_name="Lima")
    )
    inquiry = web_inquiry(
        email=EMAIL, text="Hello, my zip broke.", subject="Ana Lima: my zip broke"
    )
    Attachment.objects.create(
        message=inquiry.messages.get(),
        filename="zip.jpg",
        content_type="image/jpeg",
        size=4,
        file=ContentFile(b"jpeg", name="zip.jpg"),
    )
    rep = UserFactory(role=Role.REP)
    inquiry_reply(
        inquiry=inquiry, text="Sorry Ana, a new zip is on its way.", actor=rep, status="waiting"
    )
    inquiry_note_add(inquiry=inquiry, text="Ana Lima called twice.", actor=rep)
    comment_add(customer=customer, author=rep, body="Ana prefers e-mail.")
    start = timezone.now() + timedelta(hours=2)
    callback_request(
        customer=customer,
        phone=PHONE,
        window_start=start,
        window_end=start + timedelta(hours=2),
        channel=Channel.PHONE,
        actor=rep,
    )
    return Customer.objects.get(pk=customer.pk), order


def stored_text() -> str:
    """Every row of every table of the product, as text."""
    return "\n".join(
        repr(list(model._default_manager.values()))
        for app in ("crm", "customers", "orders", "stores", "tickets")
        for model in apps.get_app_config(app).get_models()
    )


def test_erasure_leaves_nothing_that_identifies_her_and_keeps_the_books() -> None:
    customer, order = ana()
    admin: User = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    assert all(secret in stored_text() for secret in SECRETS)
    assert WebhookDelivery.objects.filter(payload__data__inquiry__customer_id=customer.pk)
    photo = Attachment.objects.get()

    done = customer_erase(customer=customer, actor=admin)

    text = stored_text()
    assert [secret for secret in SECRETS if secret in text] == []
    customer.refresh_from_db()
    assert customer.full_name == f"Customer #{customer.pk}" and customer.erased_at is not None
    assert customer.user is None
    kept = Order.objects.get(pk=order.pk)
    assert (kept.number, kept.total, kept.customer_id) == (
        order.number,
        Decimal("60.00"),
        customer.pk,
    )
    assert kept.lines.get().line_total == Decimal("60.00")
    assert set(Message.objects.values_list("text", flat=True)) == {ERASED}
    assert set(Inquiry.objects.values_list("subject", flat=True)) == {ERASED}
    assert not Attachment.objects.exists() and not photo.file.storage.exists(photo.file.name)
    entry = AuditEntry.objects.get(action="customer.erase")
    assert (entry.actor, entry.object_id, entry.data) == (admin, str(customer.pk), done)
    assert done["contact points"] == 2 and done["attachments"] == 1
    with pytest.raises(ValidationError, match="already erased"):
        customer_erase(customer=customer, actor=admin)


def test_an_administrator_erases_from_the_admin_after_confirming() -> None:
    customer, _ = ana()
    admin: User = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    url = reverse("admin:customers_customer_changelist")
    chosen = {"action": "erase", "_selected_action": [str(customer.pk)]}

    asked = client.post(url, chosen)
    assert asked.status_code == 200 and "This cannot be undone" in asked.content.decode()
    assert Customer.objects.get(pk=customer.pk).erased_at is None

    done = client.post(url, chosen | {"confirmed": "yes"}, follow=True)

    assert "Personal data of 1 customer(s) erased." in done.content.decode()
    assert Customer.objects.get(pk=customer.pk).erased_at is not None


def test_only_administrators_may_erase() -> None:
    customer, _ = ana()
    supervisor: User = UserFactory(role=Role.SUPERVISOR, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(supervisor)

    client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase", "_selected_action": [str(customer.pk)], "confirmed": "yes"},
    )

    assert Customer.objects.get(pk=customer.pk).erased_at is None
    assert not AuditEntry.objects.filter(action="customer.erase").exists()
