"""Tracking links: the inquiry page for whoever holds its unguessable link, without an account.
A wrong token is a plain 404, guessing is rate-limited, and internal notes never show."""

import secrets
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm.models import Channel, OutboundEmail, Role
from customers.models import ContactKind
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, web_inquiry
from tickets.models import Attachment, Inquiry, InquiryEvent, InquiryStatus, Message, MessageKind
from tickets.services.inquiries import inquiry_set_status
from tickets.services.workspace import inquiry_note_add, inquiry_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP, first_name="Sam")


def test_tracking_page_shows_the_public_conversation_and_status(client, rep):
    inquiry = web_inquiry(text="Where is my parcel?")
    inquiry_note_add(inquiry=inquiry, text="Carrier lost it, do not say yet", actor=rep)
    inquiry_reply(inquiry=inquiry, text="It arrives tomorrow.", actor=rep)
    response = client.get(inquiry.get_tracking_url())
    assert response.status_code == 200
    text = response.content.decode()
    assert "Where is my parcel?" in text
    assert "It arrives tomorrow." in text
    assert "Sam from Customer Service" in text
    assert "In progress" in text and "We are working on it" in text
    assert "Carrier lost it" not in text
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_wrong_token_is_a_plain_404(client):
    inquiry = web_inquiry()
    token = inquiry.tracking_token
    assert len(token) >= 43  # 256 bits from secrets, URL-safe
    for wrong in (
        token[:-1],
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token + "x",
        secrets.token_urlsafe(32),
        "R-10001",
        str(inquiry.pk),
    ):
        response = client.get(reverse("support:track", args=[wrong]))
        assert response.status_code == 404, wrong
        assert inquiry.subject not in response.content.decode()


def test_guessing_tokens_is_rate_limited(client):
    inquiry = web_inquiry()
    for _ in range(30):
        assert (
            client.get(reverse("support:track", args=[secrets.token_urlsafe(32)])).status_code
            == 404
        )
    response = client.get(inquiry.get_tracking_url())
    assert response.status_code == 429
    assert inquiry.subject not in response.content.decode()
    assert client.get(inquiry.get_tracking_url(), REMOTE_ADDR="10.1.2.3").status_code == 200


def test_reply_with_the_token_joins_the_inquiry_and_needs_the_csrf_token(rep):
    inquiry = web_inquiry()
    inquiry_reply(inquiry=inquiry, text="Which size?", actor=rep, status=InquiryStatus.WAITING)
    url = reverse("support:track_reply", args=[inquiry.tracking_token])
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url, {"text": "Size M"}).status_code == 403
    strict.get(inquiry.get_tracking_url())
    token = strict.cookies["csrftoken"].value
    response = strict.post(url, {"text": "Size M", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    message = inquiry.messages.get(text="Size M")
    assert message.kind == MessageKind.INBOUND
    assert message.channel == Channel.WEB_FORM
    assert message.author is None
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def test_rating_with_the_token_from_the_email_link(client, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = web_inquiry()
        inquiry_reply(inquiry=inquiry, text="Done.", actor=rep, status=InquiryStatus.RESOLVED)
    request = OutboundEmail.objects.get(key__startswith=f"inquiry-rating:{inquiry.pk}:")
    assert f"{inquiry.get_tracking_url()}#rate" in request.text_body
    page = client.get(inquiry.get_tracking_url()).content.decode()
    assert 'id="rate"' in page
    url = reverse("support:track_rate", args=[inquiry.tracking_token])
    assert client.post(url, {"rating": "9"}).status_code == 400
    response = client.post(url, {"rating": "5", "comment": "Thanks <b>a lot</b>"})
    assert response["Location"].endswith("#rate")
    page = client.get(inquiry.get_tracking_url()).content.decode()
    assert "You rated 5/5" in page
    assert "Thanks &lt;b&gt;a lot&lt;/b&gt;" in page
    inquiry.refresh_from_db()
    assert inquiry.rating == 5


def test_a_resolved_inquiry_is_reopened_with_the_token(client, rep):
    inquiry = web_inquiry()
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)
    page = client.get(inquiry.get_tracking_url()).content.decode()
    assert "Re-open the inquiry" in page
    url = reverse("support:track_reopen", args=[inquiry.tracking_token])
    assert client.post(url, {"text": "Not fixed"}).status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def test_attachments_of_public_messages_download_with_the_token(client, rep):
    inquiry = web_inquiry()
    other = web_inquiry(email="bo@example.com")
    url = reverse("support:track_reply", args=[inquiry.tracking_token])
    upload = SimpleUploadedFile("photo.html", b"<script>alert(1)</script>", "text/html")
    client.post(url, {"text": "Photo attached", "attachments": [upload]})
    public = Attachment.objects.get(message__inquiry=inquiry)
    note = inquiry_note_add(inquiry=inquiry, text="scan", actor=rep)
    hidden = Attachment.objects.create(
        message=note,
        filename="internal.txt",
        content_type="text/plain",
        size=1,
        file=public.file.name,
    )
    foreign_message = Message.objects.get(inquiry=other)
    foreign = Attachment.objects.create(
        message=foreign_message,
        filename="b.txt",
        content_type="text/plain",
        size=1,
        file=public.file.name,
    )

    def download(attachment):
        return client.get(
            reverse("support:track_attachment", args=[inquiry.tracking_token, attachment.pk])
        )

    response = download(public)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    assert download(hidden).status_code == 404
    assert download(foreign).status_code == 404
    page = client.get(inquiry.get_tracking_url()).content.decode()
    assert "photo.html" in page and "internal.txt" not in page


def _at(inquiry, moment):
    """Her inquiry, its messages and its status changes as if they all happened at `moment`."""
    Inquiry.objects.filter(pk=inquiry.pk).update(created_at=moment)
    Message.objects.filter(inquiry=inquiry).update(created_at=moment)
    InquiryEvent.objects.filter(inquiry=inquiry).update(created_at=moment)


def test_times_are_in_the_shops_zone_for_whoever_holds_the_link(client, rep, settings):
    settings.TIME_ZONE = "America/New_York"
    inquiry = web_inquiry(text="Where is my parcel?")
    inquiry_reply(inquiry=inquiry, text="It arrives tomorrow.", actor=rep)
    # 4:30 UTC on March 8 is still March 7 in New York.
    _at(inquiry, datetime(2026, 3, 8, 4, 30, tzinfo=UTC))

    page = client.get(inquiry.get_tracking_url()).content.decode()

    assert "opened Mar 7, 2026, 11:30 PM</p>" in page
    shown = 'datetime="2026-03-07T23:30:00-05:00">Mar 7, 2026, 11:30 PM</time>'
    assert page.count(shown) == 4  # her message, the reply, received, working on it


def test_in_the_portal_times_are_in_her_zone_and_files_download_from_the_portal(client):
    user = UserFactory(role=Role.CUSTOMER, email="maya@example.com", time_zone="Asia/Kolkata")
    customer = CustomerFactory(user=user)
    ContactPointFactory(customer=customer, kind=ContactKind.EMAIL, value="maya@example.com")
    inquiry = web_inquiry(email="maya@example.com")
    client.force_login(user)
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4", "application/pdf")
    client.post(
        reverse("support:portal_inquiry_reply", args=[inquiry.reference]),
        {"text": "Receipt attached", "attachments": [upload]},
    )
    _at(inquiry, datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    attachment = Attachment.objects.get(message__inquiry=inquiry)

    page = client.get(reverse("support:portal_inquiry", args=[inquiry.reference]))

    text = page.content.decode()
    assert 'datetime="2026-03-08T01:30:00+05:30">Mar 8, 2026, 1:30 AM</time>' in text
    url = reverse("support:portal_inquiry_attachment", args=[inquiry.reference, attachment.pk])
    assert f'<a href="{url}" download>' in text
    assert 'receipt.pdf</a> <span class="small text-body-secondary">8\xa0bytes</span>' in text


def test_what_she_wrote_is_shown_as_text_with_its_line_breaks(client):
    inquiry = web_inquiry(text="<b>Hello</b>\nMy order & <script>alert(1)</script>")
    url = reverse("support:track_reply", args=[inquiry.tracking_token])
    upload = SimpleUploadedFile("<img src=x>.txt", b"hi", "text/plain")
    client.post(url, {"text": "See file", "attachments": [upload]})
    attachment = Attachment.objects.get(message__inquiry=inquiry)

    page = client.get(inquiry.get_tracking_url()).content.decode()

    assert (
        "&lt;b&gt;Hello&lt;/b&gt;<br>My order &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    assert "<script>alert(1)" not in page and "<img src=x>" not in page
    url = reverse("support:track_attachment", args=[inquiry.tracking_token, attachment.pk])
    assert f'<a href="{url}" download>' in page


@pytest.mark.parametrize("count", [2, 20])
def test_tracking_page_query_budget(client, django_assert_max_num_queries, rep, count):
    inquiry = web_inquiry()
    for n in range(count):
        inquiry_reply(inquiry=inquiry, text=f"Answer {n}", actor=rep)
        inquiry_note_add(inquiry=inquiry, text=f"Note {n}", actor=rep)
    with django_assert_max_num_queries(8):
        response = client.get(inquiry.get_tracking_url())
    assert response.status_code == 200
    assert f"Answer {count - 1}" in response.content.decode()


def test_behind_a_proxy_each_client_has_its_own_limit(client, settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    inquiry = web_inquiry()
    for _ in range(30):
        client.get(
            reverse("support:track", args=[secrets.token_urlsafe(32)]),
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    # The guesser is stopped, however it names itself further left; another client is not.
    for forged in ("203.0.113.7", "198.51.100.1, 203.0.113.7"):
        response = client.get(inquiry.get_tracking_url(), HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 429
    response = client.get(inquiry.get_tracking_url(), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert response.status_code == 200
