"""The audit log: who changed what, before and after, when and from where; append-only."""

from typing import Any

import pytest
from django import forms
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry, Role, User
from crm.services import audit_backdating, audit_record, audit_redacting
from customers.models import Customer
from customers.services import Identity, customer_resolve
from stores.models import StaffMembership, Store, StoreRole
from tests.factories import CustomerFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def refused(change: Any) -> bool:
    try:
        with transaction.atomic():
            change()
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


def test_entries_can_be_neither_changed_nor_deleted() -> None:
    rep: User = UserFactory(role=Role.REP)
    customer: Customer = CustomerFactory()
    entry = audit_record(actor=rep, action="customer.view", obj=customer)
    entries = AuditEntry.objects.filter(pk=entry.pk)

    assert refused(lambda: entries.update(action="customer.nothing"))
    assert refused(lambda: entries.update(data={"forged": True}))
    assert refused(lambda: entries.update(occurred_at=entry.occurred_at.replace(year=2020)))
    assert refused(lambda: entries.update(actor=UserFactory()))
    assert refused(entries.delete)
    with audit_backdating():
        # Replaying history moves an entry's time; nothing else, even then.
        entries.update(occurred_at=entry.occurred_at.replace(year=2025))
        assert refused(lambda: entries.update(action="customer.nothing"))
    assert refused(lambda: entries.update(occurred_at=entry.occurred_at))
    with audit_redacting():
        # Erasing a customer takes personal data out of an entry's data; nothing else, even then.
        entries.update(data={"erased": True})
        assert refused(lambda: entries.update(occurred_at=entry.occurred_at))
    assert refused(lambda: entries.update(data={}))

    rep.delete()  # a person leaves; what she did stays on record

    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.actor, kept.action, kept.occurred_at.year) == (None, "customer.view", 2025)


def test_opening_a_customer_360_page_is_recorded_with_the_client_address(settings) -> None:
    rep = UserFactory(role=Role.REP)
    customer: Customer = CustomerFactory()
    client = Client()
    client.force_login(rep)

    client.get(customer.get_absolute_url(), REMOTE_ADDR="203.0.113.7")
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    client.get(
        customer.get_absolute_url(),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.66, 2001:db8::5",
    )

    views = AuditEntry.objects.filter(action="customer.view", object_id=str(customer.pk))
    assert sorted((entry.actor, entry.ip) for entry in views) == [
        (rep, "2001:db8::5"),
        (rep, "203.0.113.7"),
    ]


def _resubmit(form: forms.BaseForm, **changes: Any) -> dict[str, Any]:
    """The POST data of an admin form as the page shows it, with some fields changed."""
    data: dict[str, Any] = {}
    for field in form:
        value, widget = field.value(), field.field.widget
        if field.field.disabled:
            continue
        # A field whose default is computed also sends the value the page was shown with.
        names = [field.html_name] + [field.html_initial_name] * field.field.show_hidden_initial
        for name in names:
            if isinstance(widget, forms.MultiWidget):
                for n, part in enumerate(widget.decompress(value)):
                    data[f"{name}_{n}"] = "" if part is None else part
            elif isinstance(widget, forms.CheckboxInput):
                if value:
                    data[name] = "on"
            else:
                data[name] = "" if value is None else value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_a_role_change_in_the_admin_is_recorded_with_before_and_after() -> None:
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    rep: User = UserFactory(role=Role.REP, email="rep@example.com")
    client = Client()
    client.force_login(admin)
    url = reverse("admin:crm_user_change", args=[rep.pk])
    form = client.get(url).context["adminform"].form

    response = client.post(url, _resubmit(form, role=Role.SUPERVISOR, is_staff="on"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action="user.change", object_id=str(rep.pk))
    assert entry.actor == admin
    assert entry.data["changes"] == {
        "role": {"before": "rep", "after": "supervisor"},
        "is_staff": {"before": False, "after": True},
    }


def test_who_works_at_a_store_changed_in_the_admin_is_recorded() -> None:
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    store: Store = StoreFactory(code="sfo")
    associate: User = UserFactory(role=Role.ASSOCIATE, email="associate@example.com")
    client = Client()
    client.force_login(admin)
    url = reverse("admin:stores_store_change", args=[store.pk])
    page = client.get(url)
    data = _resubmit(page.context["adminform"].form)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data |= {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-user": str(associate.pk),
        f"{prefix}-0-role": StoreRole.ASSOCIATE,
    }

    response = client.post(url, data)

    assert response.status_code == 302
    membership = StaffMembership.objects.get(store=store, user=associate)
    entry = AuditEntry.objects.get(action="staffmembership.create")
    assert (entry.actor, entry.object_id) == (admin, str(membership.pk))
    assert entry.data["changes"]["role"] == {"before": None, "after": StoreRole.ASSOCIATE}


def test_personal_data_written_by_identity_resolution_is_recorded() -> None:
    rep: User = UserFactory(role=Role.REP)
    first = customer_resolve(
        identity=Identity(email="ana@example.com", first_name="Ana"), source="phone", actor=rep
    )
    customer_resolve(
        identity=Identity(email="ana@example.com", last_name="Lima", phone="+14155550100"),
        source="web",
    )

    created, updated = AuditEntry.objects.filter(object_id=str(first.customer.pk)).order_by("id")
    assert (created.action, created.actor, created.data["source"]) == (
        "customer.create",
        rep,
        "phone",
    )
    assert created.data["changes"] == {"first_name": {"before": "", "after": "Ana"}}
    assert created.data["contact_points_added"] == ["email:ana@example.com"]
    assert (updated.action, updated.actor) == ("customer.update", None)
    assert updated.data["changes"] == {"last_name": {"before": "", "after": "Lima"}}
    assert updated.data["contact_points_added"] == ["phone:+14155550100"]
