"""Token use in the audit log: when each integration token was used and from where, and which
token made each change through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import AuditEntry, Channel, IntegrationToken, Role
from customers.models import Customer
from orders.models import Order
from tests.api.conftest import ClientFactory, TokenFactory
from tests.factories import CustomerFactory, ProductFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def test_a_token_s_use_is_recorded_with_its_address_once_a_minute(
    token_factory: TokenFactory, api_client: ClientFactory
) -> None:
    token, raw = token_factory(channels=[Channel.WEB])
    client = api_client(raw)

    client.get(ORDERS, REMOTE_ADDR="203.0.113.9")
    client.get(f"{ORDERS}?page=2", REMOTE_ADDR="203.0.113.9")
    IntegrationToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    client.get(ORDERS, REMOTE_ADDR="198.51.100.4")

    uses = AuditEntry.objects.filter(action="token.use", object_id=str(token.pk))
    assert sorted((entry.ip, entry.data["path"]) for entry in uses) == [
        ("198.51.100.4", ORDERS),
        ("203.0.113.9", ORDERS),
    ]
    assert {entry.data["token"] for entry in uses} == {f"crm_{token.prefix}"}


def test_a_change_made_through_the_api_names_its_token(
    token_factory: TokenFactory, api_client: ClientFactory
) -> None:
    StoreFactory(code="wh01", kind="warehouse")
    ProductFactory(sku="MUG-01")
    token, raw = token_factory(channels=[Channel.WEB])
    order = {
        "external_source": "webshop",
        "external_id": "WS-9",
        "customer": {"email": "ana@example.com", "first_name": "Ana"},
        "channel": "web",
        "lines": [{"sku": "MUG-01", "quantity": 1}],
    }

    response = api_client(raw).post(ORDERS, order, format="json", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 201, response.content
    number = Order.objects.get().pk
    created = AuditEntry.objects.get(action="order.create", object_id=str(number))
    assert (created.actor, created.ip) == (None, "203.0.113.9")
    written = AuditEntry.objects.exclude(action__in=["token.create", "token.use"])
    assert {(entry.action, entry.data.get("token")) for entry in written} == {
        ("customer.create", f"crm_{token.prefix}"),
        ("order.create", f"crm_{token.prefix}"),
    }


def test_a_page_opened_after_an_api_request_names_no_token(
    token_factory: TokenFactory, api_client: ClientFactory
) -> None:
    _, raw = token_factory()
    customer: Customer = CustomerFactory()
    api_client(raw).get(ORDERS)

    api_client(user=UserFactory(role=Role.REP)).get(customer.get_absolute_url())

    view = AuditEntry.objects.get(action="customer.view")
    assert "token" not in view.data
