"""In-store reports: an associate records what a customer reports at the store as an inquiry;
she gets the usual acknowledgement when she has an e-mail address."""

import pytest
from django.core import mail
from django.urls import reverse

from crm.models import Channel, Role
from customers.models import ContactKind, Customer
from orders.models import Order
from stores.models import StoreKind, StoreRole
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    StoreFactory,
    UserFactory,
    store_staff,
)
from tickets.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(code="sf-union", name="Union Square")


@pytest.fixture
def associate(store):
    return store_staff(store, StoreRole.ASSOCIATE)


def report(**overrides):
    data = {
        "email": "",
        "phone": "",
        "first_name": "Maya",
        "last_name": "Lopez",
        "order_number": "",
        "subject": "Heel came off",
        "text": "The heel of the boots she bought here came off.",
    }
    data.update(overrides)
    return data


def test_associate_records_a_report_and_the_customer_is_acknowledged(
    client, store, associate, django_capture_on_commit_callbacks
):
    known: Customer = CustomerFactory()
    ContactPointFactory(customer=known, kind=ContactKind.EMAIL, value="maya@example.com")
    order = Order.objects.create(number="S-3003", customer=known, channel=Channel.STORE)
    client.force_login(associate)
    url = reverse("stores:inquiry_new", args=[store.code])
    page = client.get(url).content.decode()
    assert "Customer report" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, report(email="Maya@Example.com", order_number="s-3003"))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.STORE
    assert inquiry.store == store
    assert inquiry.opened_by == associate
    assert inquiry.customer == known
    assert inquiry.order == order
    assert inquiry.messages.get().author == associate
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    followed = client.get(response["Location"]).content.decode()
    assert f"Inquiry {inquiry.reference} recorded" in followed
    assert "an acknowledgement goes to maya@example.com" in followed


def test_a_customer_with_only_a_phone_gets_the_reference_from_the_associate(
    client, store, associate, django_capture_on_commit_callbacks
):
    client.force_login(associate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("stores:inquiry_new", args=[store.code]), report(phone="415 555 0123")
        )
    inquiry = Inquiry.objects.get()
    assert inquiry.acknowledgement is None
    assert not mail.outbox
    assert inquiry.customer.contact_points.get().value == "+14155550123"
    followed = client.get(response["Location"]).content.decode()
    assert "give her the reference" in followed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "Enter the customer’s e-mail address or phone number."),
        ({"email": "maya@example.com", "text": ""}, "Write down what the customer reports."),
        ({"email": "maya@example.com", "order_number": "NOPE-1"}, "No order has this number."),
        ({"phone": "12"}, "is not a valid phone number"),
    ],
)
def test_bad_reports_show_the_error_and_store_nothing(client, store, associate, overrides, message):
    client.force_login(associate)
    response = client.post(reverse("stores:inquiry_new", args=[store.code]), report(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Inquiry.objects.exists()


def test_only_staff_of_this_store_may_record_reports(client, store):
    url = reverse("stores:inquiry_new", args=[store.code])
    other_store = StoreFactory(code="sf-mission")
    client.force_login(store_staff(other_store, StoreRole.ASSOCIATE))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role=Role.CUSTOMER))
    assert client.get(url).status_code == 403
    client.logout()
    assert "/accounts/login/" in client.get(url)["Location"]
    warehouse = StoreFactory(code="wh-east", kind=StoreKind.WAREHOUSE)
    client.force_login(store_staff(warehouse, StoreRole.MANAGER))
    assert client.get(reverse("stores:inquiry_new", args=[warehouse.code])).status_code == 404


def test_the_store_nav_links_to_the_report_and_the_page_has_a_query_budget(
    client, store, associate, django_assert_max_num_queries
):
    client.force_login(associate)
    url = reverse("stores:inquiry_new", args=[store.code])
    assert url in client.get(reverse("stores:pickups", args=[store.code])).content.decode()
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
