"""Records written by services are read-only in the admin: listed, never added or edited there."""

import pytest
from django.urls import reverse

from crm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

READ_ONLY = [
    "crm_auditentry",
    "crm_outboundemail",
    "orders_pickup",
    "orders_return",
    "orders_refund",
    "stores_stocklevel",
    "stores_stockmovement",
]


@pytest.mark.parametrize("model", READ_ONLY)
def test_service_records_are_listed_but_not_added_in_the_admin(client, model) -> None:
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))

    listing = client.get(reverse(f"admin:{model}_changelist"))

    assert listing.status_code == 200
    assert client.get(reverse(f"admin:{model}_add")).status_code == 403
