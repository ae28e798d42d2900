"""manage.py seed_bench: the benchmark data set is valid for the app, at the promised ratios."""

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from crm import demo
from crm.models import BacklogSnapshot, Role, User
from customers.identifiers import name_keys
from customers.insights.services import insight_refresh
from customers.models import (
    Activity,
    Cart,
    ContactKind,
    ContactPoint,
    Customer,
    CustomerInsight,
    Touch,
    Visit,
)
from orders.models import Fulfilment, Order, OrderLine, Pickup, PickupStatus, Return
from orders.services import order_number
from stores.models import Store, StoreKind
from tickets.models import OPEN_STATUSES, Article, Inquiry, Message

pytestmark = pytest.mark.django_db

CUSTOMERS = 300
E164_US = re.compile(r"^\+1\d{10}$")


@pytest.fixture(autouse=True)
def _development_settings(settings: Any) -> None:
    settings.DEBUG = True  # the data set's logins share a published password
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded() -> str:
    out = StringIO()
    call_command("seed_bench", customers=CUSTOMERS, seed=3, stdout=out)
    return out.getvalue()


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_the_data_set_follows_the_ratios_and_the_apps_rules(seeded: str) -> None:
    assert Customer.objects.count() == CUSTOMERS
    per_customer = {
        "contact points": (ContactPoint, 1.4, 1.8),
        "orders": (Order, 2.6, 3.4),
        "inquiries": (Inquiry, 0.8, 1.2),
        "timeline entries": (Activity, 8.5, 11.5),
        "returns": (Return, 0.3, 0.5),
        "pickups": (Pickup, 0.2, 0.4),
    }
    for name, (model, low, high) in per_customer.items():
        ratio = model._default_manager.count() / CUSTOMERS
        assert low <= ratio <= high, f"{ratio:.2f} {name} per customer"
    lines_per_order = OrderLine.objects.count() / Order.objects.count()
    assert 2.4 <= lines_per_order <= 2.9
    messages_per_inquiry = Message.objects.count() / Inquiry.objects.count()
    assert 2.7 <= messages_per_inquiry <= 3.3
    assert Touch.objects.exists() and Visit.objects.exists() and Cart.objects.exists()

    # Open inquiries are about 5% and have their SLA due times.
    open_inquiries = Inquiry.objects.filter(status__in=OPEN_STATUSES)
    assert 0 < open_inquiries.count() <= 0.1 * Inquiry.objects.count()
    assert not open_inquiries.filter(first_response_due_at=None).exists()
    assert not open_inquiries.filter(queue=None).exists()

    # Values as the services store them.
    for point in ContactPoint.objects.all():
        if point.kind == ContactKind.PHONE:
            assert E164_US.match(point.value), point.value
        else:
            assert point.value == point.value.lower() and "@" in point.value
    for customer in Customer.objects.all():
        assert (customer.search_name, customer.search_name_reversed) == name_keys(
            customer.first_name, customer.last_name
        )
    for order in Order.objects.all():
        assert order.number == order_number(order.channel, order.pk)
    for pickup in Pickup.objects.select_related("order"):
        assert pickup.order.fulfilment == Fulfilment.PICKUP
    tokens = list(Inquiry.objects.values_list("tracking_token", flat=True))
    assert len(set(tokens)) == len(tokens)

    # Stores, logins, the desk, and what is derived at the end.
    assert Store.objects.filter(kind=StoreKind.STORE).count() == 6
    portal = User.objects.get(email="customer@demo.example.com")
    assert Customer.objects.get(pk=1).user == portal
    assert CustomerInsight.objects.count() == CUSTOMERS
    # The insights written in bulk are the ones the app's own refresh computes.
    for customer_id in (1, 2, CUSTOMERS // 2, CUSTOMERS):
        bulk = model_to_dict(CustomerInsight.objects.get(customer_id=customer_id))
        refreshed = insight_refresh(customer_id=customer_id)
        assert refreshed is not None
        fresh = model_to_dict(CustomerInsight.objects.get(customer_id=customer_id))
        assert {k: v for k, v in bulk.items() if k != "computed_at"} == {
            k: v for k, v in fresh.items() if k != "computed_at"
        }
    assert BacklogSnapshot.objects.exists()
    assert Article.objects.exists()

    # The sequences are past the generated ids: the services can add rows.
    new = Customer.objects.create(first_name="New", last_name="Customer")
    assert new.pk > CUSTOMERS
    # The report names each part and its time, and the row counts.
    assert "COPY" in seeded and "insights computed" in seeded
    assert f"{CUSTOMERS:,}" in seeded


def test_seeded_staff_use_the_app_on_the_data(seeded: str) -> None:
    rep = _signed_in("rep@demo.example.com")
    customer = Customer.objects.filter(contact_points__kind=ContactKind.PHONE).first()
    assert customer is not None
    assert rep.get(reverse("customers:detail", args=[customer.pk])).status_code == 200

    # A seeded phone typed the way a caller says it finds her.
    phone = customer.contact_points.get(kind=ContactKind.PHONE).value
    spoken = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    # One exact match goes straight to her record.
    found = rep.get(reverse("customers:search"), {"q": spoken})
    assert found.status_code == 302
    assert found["Location"] == reverse("customers:detail", args=[customer.pk])

    queue = rep.get(reverse("tickets:queue"))
    assert queue.status_code == 200
    inquiry = Inquiry.objects.filter(status__in=OPEN_STATUSES).order_by("pk").first()
    assert inquiry is not None
    assert rep.get(reverse("tickets:inquiry", args=[inquiry.pk])).status_code == 200
    assert Client().get(reverse("support:track", args=[inquiry.tracking_token])).status_code == 200

    # The manager's store is the one with the long pickup queue.
    manager = User.objects.get(email="manager@demo.example.com")
    assert manager.role == Role.MANAGER
    store = Store.objects.filter(kind=StoreKind.STORE).order_by("pk").first()
    assert store is not None and store.code == demo.STORES[0].code
    waiting = Pickup.objects.filter(
        store=store, status__in=[PickupStatus.PLACED, PickupStatus.PREPARING, PickupStatus.READY]
    )
    assert waiting.exists()
    counter = _signed_in(manager.email)
    assert counter.get(reverse("stores:pickups", args=[store.code])).status_code == 200
    assert counter.get(reverse("stores:returns", args=[store.code])).status_code == 200


def test_running_again_refuses_and_changes_nothing(seeded: str) -> None:
    orders = Order.objects.count()
    with pytest.raises(CommandError, match=f"already holds {CUSTOMERS:,} customers"):
        call_command("seed_bench", customers=10, stdout=StringIO())
    assert Order.objects.count() == orders


def test_refuses_outside_development(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only in development"):
        call_command("seed_bench", customers=10, stdout=StringIO())
    assert not Customer.objects.exists()


def test_the_indexes_are_back_after_the_load(seeded: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('customers_activity', 'orders_order', 'customers_contactpoint')"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"activity_timeline_idx", "order_customer_placed_idx"} <= names
    assert "contact_point_unique_value" in names
