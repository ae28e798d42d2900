"""A customer takes out her data: one JSON file from her account page."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry, Channel, Role, User
from customers.models import Customer
from customers.services import Identity
from orders.services import LineInput, order_record
from tests.factories import ProductFactory, UserFactory, web_inquiry
from tickets.services.workspace import inquiry_note_add, inquiry_reply

pytestmark = pytest.mark.django_db


def shopper(orders: int) -> tuple[Customer, User]:
    """Ana, with `orders` web orders and one inquiry answered by a rep who noted on it too."""
    ProductFactory(sku="TEE-001", name="Linen tee", price=Decimal("30.00"))
    for _ in range(orders):
        order_record(
            identity=Identity(email="ana@example.com", first_name="Ana", last_name="Lima"),
            channel=Channel.WEB,
            lines=[LineInput(sku="TEE-001", quantity=2)],
        )
    inquiry = web_inquiry(email="ana@example.com", text="Where is my tee?")
    rep = UserFactory(role=Role.REP)
    inquiry_reply(inquiry=inquiry, text="It ships today.", actor=rep)
    inquiry_note_add(inquiry=inquiry, text="Warehouse was late again.", actor=rep)
    customer = inquiry.customer
    assert customer is not None
    user: User = UserFactory(role=Role.CUSTOMER, email="ana@example.com")
    Customer.objects.filter(pk=customer.pk).update(user=user)
    return customer, user


def test_her_download_holds_her_orders_and_the_conversation_she_saw() -> None:
    customer, user = shopper(orders=2)
    client = Client()
    client.force_login(user)

    response = client.get(reverse("account_data"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.content)
    assert data["customer"]["first_name"] == "Ana"
    assert [point["value"] for point in data["contact_points"]] == ["ana@example.com"]
    assert len(data["orders"]) == 2
    assert data["orders"][0]["lines"] == [
        {"sku": "TEE-001", "name": "Linen tee", "quantity": 2, "unit_price": "30.00",
         "line_total": "60.00"}
    ]  # fmt: skip
    (inquiry,) = data["inquiries"]
    assert [message["text"] for message in inquiry["messages"]] == [
        "Where is my tee?",
        "It ships today.",
    ]
    assert "Warehouse was late" not in response.content.decode()
    entry = AuditEntry.objects.get(action="customer.export")
    assert (entry.actor, entry.object_id) == (user, str(customer.pk))


@pytest.mark.parametrize("orders", [1, 15])
def test_the_download_costs_the_same_queries_for_a_long_history(
    orders: int, django_assert_max_num_queries
) -> None:
    _, user = shopper(orders=orders)
    client = Client()
    client.force_login(user)

    # user, customer, audit entry, home store; contact points, orders, lines, pickups, returns,
    # their lines, inquiries, messages, call-backs
    with django_assert_max_num_queries(14):
        response = client.get(reverse("account_data"))

    assert len(json.loads(response.content)["orders"]) == orders


def test_an_account_without_a_customer_record_has_nothing_to_download() -> None:
    client = Client()
    client.force_login(UserFactory(role=Role.REP))

    assert client.get(reverse("account_data")).status_code == 404
    assert not AuditEntry.objects.filter(action="customer.export").exists()
