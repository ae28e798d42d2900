"""The customer's side: the web form, the portal's inquiries, replying, re-opening, call-back
requests and rating. A customer only ever sees her own inquiries, and never an internal note."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, Channel, OutboundEmail, Role
from customers.models import Activity, ActivityKind, ContactKind, Customer
from orders.models import Order
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, web_inquiry
from tickets.models import (
    CallbackRequest,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
    MessageKind,
)
from tickets.services.customer_side import inquiry_rate
from tickets.services.inquiries import inquiry_set_status
from tickets.services.workspace import inquiry_note_add, inquiry_reply

pytestmark = pytest.mark.django_db

NOTE = "Internal: she returned three dresses this month, be careful"


def customer_user(email: str = "maya@example.com", **names: str) -> Any:
    user = UserFactory(role=Role.CUSTOMER, email=email, **names)
    customer = CustomerFactory(user=user, first_name=user.first_name, last_name=user.last_name)
    ContactPointFactory(customer=customer, kind=ContactKind.EMAIL, value=email)
    return user


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Maya Lopez",
        "email": "maya@example.com",
        "phone": "",
        "order_number": "",
        "subject": "Zip broke on my jacket",
        "message": "The zip of the rain jacket broke after two days.",
        "website": "",
    }
    data.update(overrides)
    return data


def tomorrow_window(**overrides: Any) -> dict[str, Any]:
    day = (timezone.localtime() + timedelta(days=1)).date()
    window = {
        "callback": "on",
        "phone": "(415) 555-0100",
        "callback_day": day.isoformat(),
        "callback_from": "10:00",
        "callback_to": "12:00",
    }
    window.update(overrides)
    return window


@pytest.fixture
def rep() -> Any:
    return UserFactory(role=Role.REP, first_name="Sam")


# The web form ---------------------------------------------------------------------------------


def test_visitor_sends_the_web_form_and_gets_reference_answer_time_and_tracking_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:contact"), form_data())
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.WEB_FORM
    assert inquiry.requester_email == "maya@example.com"
    assert inquiry.customer is not None and inquiry.customer.full_name == "Maya Lopez"
    assert inquiry.messages.get().text.startswith("The zip of the rain jacket")

    page = client.get(response["Location"])
    text = page.content.decode()
    assert inquiry.reference in text
    assert f"http://testserver{inquiry.get_tracking_url()}" in text
    assert "We expect to reply" in text
    assert "We have sent an acknowledgement to maya@example.com" in text
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    assert inquiry.reference in mail.outbox[0].subject


def test_signed_in_customer_is_known_without_typing_her_details(
    client, django_capture_on_commit_callbacks
):
    user = customer_user()
    client.force_login(user)
    form = client.get(reverse("support:contact")).content.decode()
    assert 'name="email"' not in form
    assert "Signed in as" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:contact"), form_data(name="", email=""))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.PORTAL
    assert inquiry.customer == user.customer
    assert inquiry.opened_by == user
    page = client.get(response["Location"]).content.decode()
    assert reverse("support:portal_inquiry", args=[inquiry.reference]) in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": ""}, "email", "This field is required."),
        ({"email": "maya@"}, "email", "Enter a valid email address."),
        ({"message": "   "}, "message", "This field is required."),
        ({"subject": ""}, "subject", "This field is required."),
        ({"phone": "12"}, "phone", "is not a valid phone number"),
        ({"callback": "on", "phone": ""}, "phone", "Enter the number we should call."),
        ({**tomorrow_window(), "callback_to": "09:00"}, "callback_to", "must be after"),
        ({**tomorrow_window(), "callback_day": "2001-01-01"}, "callback_day", "That time is past"),
    ],
)
def test_bad_web_form_input_shows_the_error_and_stores_nothing(client, overrides, field, message):
    response = client.post(reverse("support:contact"), form_data(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Inquiry.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not Activity.objects.exists()


def test_honeypot_filled_in_by_a_robot_stores_nothing(client):
    response = client.post(reverse("support:contact"), form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not Inquiry.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_web_form_is_rate_limited_per_address(client):
    for _ in range(10):
        assert client.post(reverse("support:contact"), form_data(email="")).status_code == 400
    response = client.post(reverse("support:contact"), form_data())
    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert not Inquiry.objects.exists()
    # another visitor is not held back
    other = client.post(reverse("support:contact"), form_data(), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_attachments_are_stored_with_the_message(client):
    files = [
        SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"),
        SimpleUploadedFile("zip.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg"),
    ]
    response = client.post(reverse("support:contact"), {**form_data(), "attachments": files})
    assert response.status_code == 302
    stored = Message.objects.get().attachments.order_by("filename")
    assert [(a.filename, a.size) for a in stored] == [("receipt.pdf", 16), ("zip.jpg", 9)]


def test_too_large_or_too_many_attachments_are_refused(client, settings):
    settings.CRM_ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * 11)
    response = client.post(reverse("support:contact"), {**form_data(), "attachments": [big]})
    assert response.status_code == 400
    assert "larger than 10" in response.context["form"].errors["attachments"][0]
    settings.CRM_ATTACHMENT_MAX_BYTES = 1000
    many = [SimpleUploadedFile(f"{n}.txt", b"x") for n in range(4)]
    response = client.post(reverse("support:contact"), {**form_data(), "attachments": many})
    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == ["Attach at most 3 files."]
    assert not Inquiry.objects.exists()


def test_web_form_call_back_request_joins_the_new_inquiry(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:contact"), form_data(**tomorrow_window()))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    callback = CallbackRequest.objects.get()
    assert callback.inquiry == inquiry
    assert callback.customer == inquiry.customer
    assert callback.phone == "+14155550100"
    assert timezone.localtime(callback.window_start).hour == 10
    assert Activity.objects.filter(kind=ActivityKind.CALLBACK_REQUESTED).count() == 1


def test_her_order_number_links_her_order_and_a_strangers_does_not(client):
    user = customer_user()
    stranger: Customer = CustomerFactory()
    hers = Order.objects.create(number="W-1001", customer=user.customer, channel=Channel.WEB)
    Order.objects.create(number="W-2002", customer=stranger, channel=Channel.WEB)
    client.force_login(user)
    client.post(reverse("support:contact"), form_data(order_number="w-1001"))
    client.post(reverse("support:contact"), form_data(order_number="W-2002"))
    first, second = Inquiry.objects.order_by("id")
    assert first.order == hers
    assert second.order is None
    assert "Order number: W-2002" in second.messages.get().text


# The portal -----------------------------------------------------------------------------------


def test_portal_lists_only_her_own_inquiries_and_hides_others(client):
    maya = customer_user("maya@example.com")
    bo = customer_user("bo@example.com")
    mine = web_inquiry(email="maya@example.com", subject="My parcel")
    theirs = web_inquiry(email="bo@example.com", subject="Bo's refund")
    client.force_login(maya)
    page = client.get(reverse("support:portal")).content.decode()
    assert "My parcel" in page and mine.reference in page
    assert "Bo's refund" not in page
    for key in (theirs.reference, str(theirs.pk)):
        assert client.get(reverse("support:portal_inquiry", args=[key])).status_code == 404
        assert (
            client.post(
                reverse("support:portal_inquiry_reply", args=[key]), {"text": "hi"}
            ).status_code
            == 404
        )
    assert client.get(reverse("support:portal_inquiry", args=[mine.reference])).status_code == 200
    assert client.get(reverse("support:portal_inquiry", args=[str(mine.pk)])).status_code == 200
    assert not theirs.messages.filter(text="hi").exists()
    assert bo.customer.inquiries.count() == 1


def test_portal_empty_state_and_who_may_enter(client):
    client.force_login(customer_user())
    page = client.get(reverse("support:portal")).content.decode()
    assert "No inquiries yet" in page
    client.force_login(UserFactory(role=Role.REP))
    assert client.get(reverse("support:portal")).status_code == 403
    client.logout()
    response = client.get(reverse("support:portal"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_portal_pages_through_many_inquiries(client):
    client.force_login(customer_user())
    for n in range(23):
        web_inquiry(subject=f"Question {n}")
    first = client.get(reverse("support:portal")).content.decode()
    second = client.get(reverse("support:portal") + "?page=2").content.decode()
    assert "Page 1 of 2" in first and "Question 22" in first
    assert "Question 0" in second and "Question 22" not in second


@pytest.mark.parametrize("count", [2, 20])
def test_portal_list_query_budget(client, django_assert_max_num_queries, count):
    client.force_login(customer_user())
    for n in range(count):
        web_inquiry(subject=f"Question {n}")
    with django_assert_max_num_queries(8):
        assert client.get(reverse("support:portal")).status_code == 200


@pytest.mark.parametrize("count", [2, 20])
def test_portal_inquiry_query_budget(client, django_assert_max_num_queries, rep, count):
    client.force_login(customer_user())
    inquiry = web_inquiry()
    for n in range(count):
        inquiry_reply(inquiry=inquiry, text=f"Answer {n}", actor=rep)
        inquiry_note_add(inquiry=inquiry, text=f"Note {n}", actor=rep)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))
    assert response.status_code == 200
    assert f"Answer {count - 1}" in response.content.decode()


def test_internal_notes_never_reach_the_customer(client, rep, django_capture_on_commit_callbacks):
    user = customer_user()
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = web_inquiry()
        inquiry_note_add(inquiry=inquiry, text=NOTE, actor=rep)
        inquiry_reply(inquiry=inquiry, text="Your new zip is on its way.", actor=rep)
        inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    client.force_login(user)
    portal_page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))
    client.logout()
    tracking_page = client.get(inquiry.get_tracking_url())
    for response in (portal_page, tracking_page):
        text = response.content.decode()
        assert "Your new zip is on its way." in text
        assert NOTE not in text
    emails = OutboundEmail.objects.all()
    assert emails.count() >= 3  # acknowledgement, reply, rating request
    for email in emails:
        assert NOTE not in email.text_body
        assert NOTE not in email.html_body
    for sent in mail.outbox:
        assert NOTE not in sent.body


def test_status_history_speaks_the_customers_language(client, rep):
    client.force_login(customer_user())
    inquiry = web_inquiry()
    inquiry_set_status(
        inquiry=inquiry, status=InquiryStatus.WAITING, actor=rep, note="Staff-only remark"
    )
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))
    steps = [step.label for step in page.context["public"].history]
    assert steps == ["We received your inquiry", "We asked you for more information", "Resolved"]
    assert "Staff-only remark" not in page.content.decode()


def test_she_replies_from_the_portal(client, rep):
    user = customer_user()
    inquiry = web_inquiry()
    inquiry_reply(inquiry=inquiry, text="Which size?", actor=rep, status=InquiryStatus.WAITING)
    client.force_login(user)
    url = reverse("support:portal_inquiry_reply", args=[inquiry.reference])
    assert client.post(url, {"text": "  "}).status_code == 400
    response = client.post(url, {"text": "Size M, please."})
    assert response.status_code == 302
    message = inquiry.messages.get(text="Size M, please.")
    assert message.kind == MessageKind.INBOUND and message.channel == Channel.PORTAL
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def test_she_reopens_a_resolved_inquiry_and_a_long_closed_one_opens_a_new(client, rep):
    user = customer_user()
    inquiry = web_inquiry()
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    client.force_login(user)
    url = reverse("support:portal_inquiry_reopen", args=[inquiry.reference])
    assert client.post(url, {"text": ""}).status_code == 400
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.RESOLVED
    assert client.post(url, {"text": "Still broken."}).status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN
    page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))
    assert page.context["public"].history[-1].label == "Opened again"

    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    Inquiry.objects.filter(pk=inquiry.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    response = client.post(url, {"text": "It broke again."})
    follow_up = Inquiry.objects.get(related_to=inquiry)
    assert response["Location"] == reverse("support:portal_inquiry", args=[follow_up.reference])
    assert follow_up.customer == user.customer


def test_she_requests_a_call_back_from_the_portal(client):
    user = customer_user()
    inquiry = web_inquiry()
    client.force_login(user)
    url = reverse("support:portal_inquiry_callback", args=[inquiry.reference])
    bad = client.post(url, tomorrow_window(callback_day=""))
    assert bad.status_code == 400
    assert not CallbackRequest.objects.exists()
    assert client.post(url, tomorrow_window()).status_code == 302
    callback = CallbackRequest.objects.get()
    assert callback.inquiry == inquiry
    page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference])).content
    assert "We will call you at" in page.decode()


def test_she_requests_a_call_back_on_its_own(client, django_capture_on_commit_callbacks):
    client.force_login(customer_user())
    assert client.get(reverse("support:callback")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:callback"), tomorrow_window(note="About my order"))
    callback = CallbackRequest.objects.get()
    assert callback.inquiry.channel == Channel.CALLBACK
    assert response["Location"] == reverse(
        "support:portal_inquiry", args=[callback.inquiry.reference]
    )


# Rating ---------------------------------------------------------------------------------------


def test_rating_a_resolved_inquiry_records_it_everywhere_and_rating_again_replaces_it(client, rep):
    user = customer_user()
    inquiry = web_inquiry()
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    client.force_login(user)
    url = reverse("support:portal_inquiry_rate", args=[inquiry.reference])
    assert client.post(url, {"rating": "4", "comment": "Quick!"}).status_code == 302
    page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))
    assert "You rated 4/5" in page.content.decode()
    assert client.post(url, {"rating": "5"}).status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.rating, inquiry.rating_comment) == (5, "")
    events = InquiryEvent.objects.filter(inquiry=inquiry, kind=EventKind.RATED)
    assert [(e.old_value, e.new_value) for e in events] == [("", "4"), ("4", "5")]
    assert Activity.objects.filter(kind=ActivityKind.INQUIRY_RATED).count() == 2
    assert AuditEntry.objects.filter(action="inquiry.rate", actor=user).count() == 2


@pytest.mark.parametrize("rating", ["0", "6", "", "five"])
def test_rating_outside_one_to_five_is_refused(client, rep, rating):
    user = customer_user()
    inquiry = web_inquiry()
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    client.force_login(user)
    url = reverse("support:portal_inquiry_rate", args=[inquiry.reference])
    response = client.post(url, {"rating": rating})
    assert response.status_code == 400
    assert "Choose" in response.content.decode() or "Select a valid choice" in (
        response.content.decode()
    )
    inquiry.refresh_from_db()
    assert inquiry.rating is None


def test_an_open_inquiry_cannot_be_rated(client):
    user = customer_user()
    inquiry = web_inquiry()
    client.force_login(user)
    url = reverse("support:portal_inquiry_rate", args=[inquiry.reference])
    response = client.post(url, {"rating": "5"})
    assert response.status_code == 400
    assert "Only a resolved inquiry can be rated." in response.content.decode()
    inquiry.refresh_from_db()
    assert inquiry.rating is None
    with pytest.raises(Exception, match="resolved"):
        inquiry_rate(inquiry=inquiry, rating=5, actor=None)


def test_account_home_shows_her_inquiries_and_the_ways_to_ask(client):
    client.force_login(customer_user())
    inquiry = web_inquiry(subject="Where is my parcel?")
    page = client.get(reverse("account_home")).content.decode()
    assert "Where is my parcel?" in page
    assert reverse("support:portal_inquiry", args=[inquiry.reference]) in page
    assert reverse("support:contact") in page and reverse("support:callback") in page
    assert reverse("support:portal") in page
