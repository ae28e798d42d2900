"""The 360 page's inquiries card, and the phone call and call-back forms posted from it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Role
from customers.models import Customer
from customers.services import Identity
from orders.services import LineInput, order_record
from tests.factories import ProductFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tickets.models import CallbackRequest, Inquiry, InquiryStatus
from tickets.services.inquiries import inquiry_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya() -> Customer:
    product = ProductFactory(price=Decimal("80.00"))
    order_record(
        identity=Identity(email="maya@example.com", phone="+1 415 555 0134", first_name="Maya"),
        channel=Channel.WEB,
        lines=[LineInput(sku=product.sku, quantity=1)],
        number="W500001",
    )
    return Customer.objects.get()


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_card_shows_her_latest_five_and_how_many_are_open(maya, rep):
    inquiries = [web_inquiry(email="maya@example.com", subject=f"Question {n}") for n in range(6)]
    inquiry_set_status(inquiry=inquiries[0], status=InquiryStatus.RESOLVED, actor=rep)

    page = signed_in(rep).get(reverse("customers:detail", args=[maya.pk]))

    card = page.context["inquiries"]
    assert [i.subject for i in card.latest] == [f"Question {n}" for n in (5, 4, 3, 2, 1)]
    assert card.open_count == 5
    html = page.content.decode()
    assert "5 open" in html and inquiries[5].reference in html


def test_the_call_back_form_offers_her_phone(maya, rep):
    page = signed_in(rep).get(reverse("customers:detail", args=[maya.pk]))

    assert page.context["callback_form"].initial["phone"] == "(415) 555-0134"


def test_logging_a_call(maya, rep):
    response = signed_in(rep).post(
        reverse("customers:call_log", args=[maya.pk]),
        {
            "subject": "Delivery date",
            "text": "Asked when the sofa comes.",
            "order": "W500001",
            "status": "resolved",
        },
        follow=True,
    )

    inquiry = Inquiry.objects.get(channel=Channel.PHONE)
    assert inquiry.customer == maya and inquiry.order.number == "W500001"
    assert inquiry.status == InquiryStatus.RESOLVED
    assert inquiry.acknowledgement is None
    assert f"Call logged as {inquiry.reference} (resolved)." in response.content.decode()


def test_a_call_without_subject_comes_back_with_the_error(maya, rep):
    response = signed_in(rep).post(
        reverse("customers:call_log", args=[maya.pk]), {"subject": "", "text": "x"}
    )

    assert response.status_code == 400
    assert response.context["open_phone_form"] == "call"
    assert "is-invalid" in response.content.decode()
    assert not Inquiry.objects.exists()


def test_requesting_a_call_back(maya, rep):
    tomorrow = timezone.localtime() + timedelta(days=1)

    response = signed_in(rep).post(
        reverse("customers:callback_request", args=[maya.pk]),
        {
            "phone": "(415) 555-0134",
            "day": tomorrow.date().isoformat(),
            "start": "10:00",
            "end": "12:00",
            "note": "About the sofa",
        },
        follow=True,
    )

    callback = CallbackRequest.objects.get()
    assert callback.customer == maya and callback.phone == "+14155550134"
    assert timezone.localtime(callback.window_start).hour == 10
    assert "Call-back requested" in response.content.decode()


def test_a_call_back_window_in_the_past_is_refused_on_its_field(maya, rep):
    yesterday = timezone.localtime() - timedelta(days=1)

    response = signed_in(rep).post(
        reverse("customers:callback_request", args=[maya.pk]),
        {
            "phone": "(415) 555-0134",
            "day": yesterday.date().isoformat(),
            "start": "10:00",
            "end": "09:00",
        },
    )

    assert response.status_code == 400
    form = response.context["callback_form"]
    assert "must start in the future" in " ".join(form.errors["start"])
    assert "end after it starts" in " ".join(form.errors["end"])
    assert not CallbackRequest.objects.exists()


def test_store_staff_see_only_their_stores_inquiries_on_the_card(maya):
    store = StoreFactory()
    manager = store_staff(store)
    ours = web_inquiry(email="maya@example.com", store=store)
    web_inquiry(email="maya@example.com")

    page = signed_in(manager).get(reverse("customers:detail", args=[maya.pk]))

    assert page.context["inquiries"].latest == [ours]


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", "#{ref}", "{digits}"])
def test_a_rep_finds_the_customer_by_an_inquiry_reference(typed, maya, rep):
    inquiry = web_inquiry(email="maya@example.com")
    query = typed.format(
        ref=inquiry.reference,
        ref_lower=inquiry.reference.lower(),
        digits="R" + inquiry.reference.removeprefix("R-"),
    )

    response = signed_in(rep).get(reverse("customers:search"), {"q": query})

    # One match opens her 360 page at once, as for every exact identifier.
    assert response.status_code == 302
    assert response["Location"] == maya.get_absolute_url()


def test_an_unknown_reference_finds_nobody(maya, rep):
    response = signed_in(rep).get(reverse("customers:search"), {"q": "R-99999999"})

    assert response.status_code == 200
    assert "No customer matches" in response.content.decode()
