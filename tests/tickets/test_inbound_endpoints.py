"""The ways mail comes in (the gateway's raw MIME endpoint, Mailgun's webhook through
django-anymail, the MTA pipe command) and the way attachments go out (downloads, to permitted
users only)."""

import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

import tickets.receivers  # noqa: F401  (connects the anymail inbound signal)
from crm.models import Channel, OutboundEmail, Role
from customers.models import Customer
from tests.factories import CustomerFactory, UserFactory
from tests.tickets.test_mail_parser import make_mail
from tickets.models import Attachment, Inquiry, Message, MessageKind

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SECRET = "gateway-secret-0123456789"
SIGNING_KEY = "mailgun-signing-key-abcdef"
EMAIL_URL = "/inbound/email/"


@pytest.fixture(autouse=True)
def _configured(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.CRM_INBOUND_EMAIL_SECRET = SECRET
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def post_raw(client, raw: bytes, token: str | None = SECRET, content_type="message/rfc822"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(EMAIL_URL, data=raw, content_type=content_type, headers=headers)


# The gateway's endpoint.


def test_the_endpoint_is_off_until_a_secret_is_set(client, settings) -> None:
    settings.CRM_INBOUND_EMAIL_SECRET = ""

    response = post_raw(client, make_mail(), token="")

    assert response.status_code == 503
    assert "CRM_INBOUND_EMAIL_SECRET" in response.json()["error"]
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("token", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
def test_a_wrong_or_missing_secret_is_refused(client, token: str | None) -> None:
    response = post_raw(client, make_mail(), token=token)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Inquiry.objects.exists()


def test_raw_mime_is_stored_once(django_capture_on_commit_callbacks) -> None:
    client = Client(enforce_csrf_checks=True)
    raw = make_mail(message_id="gw-1@mail.example.com")

    with django_capture_on_commit_callbacks(execute=True):
        first = post_raw(client, raw)
    again = post_raw(client, raw, content_type="application/octet-stream")

    inquiry = Inquiry.objects.get()
    assert first.status_code == 201
    assert first.json() == {"result": "stored", "inquiry": inquiry.reference, "reason": ""}
    assert again.status_code == 200
    assert again.json()["result"] == "duplicate"
    assert inquiry.messages.get().message_id == "gw-1@mail.example.com"
    assert inquiry.acknowledgement is not None


def test_another_content_type_is_refused(client) -> None:
    response = client.post(
        EMAIL_URL,
        data={"message": "x"},
        headers={"Authorization": f"Bearer {SECRET}"},
    )

    assert response.status_code == 415


def test_mail_without_a_sender_is_unprocessable(client) -> None:
    response = post_raw(client, b"Subject: nobody\r\n\r\nhello")

    assert response.status_code == 422
    assert response.json()["result"] == "rejected"


def test_oversized_mail_is_refused_before_reading_it(
    client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CRM_INBOUND_MAX_BYTES = 20_000
    raw = make_mail(message_id="huge@mail.example.com", body="x" * 50_000)

    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_raw(client, raw) for _ in range(2)]

    assert [response.status_code for response in responses] == [413, 413]
    assert responses[0].json()["result"] == "rejected"
    assert not Inquiry.objects.exists()
    rejection = OutboundEmail.objects.get()
    assert rejection.to == ["maya@example.com"]
    assert rejection.key == "inbound-rejected:huge@mail.example.com"


# Mailgun's inbound webhook, through django-anymail.


def signed(fields: dict[str, object], key: str = SIGNING_KEY) -> dict[str, object]:
    timestamp, token = str(int(time.time())), hashlib.sha256(os.urandom(16)).hexdigest()[:50]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def test_mailgun_raw_mime_forward_is_stored() -> None:
    client = Client(enforce_csrf_checks=True)
    raw = make_mail(message_id="mg-1@mail.example.com", subject="Größe falsch")
    fields = signed(
        {
            "recipient": "service@example.com",
            "sender": "maya@example.com",
            "from": "Maya Lopez <maya@example.com>",
            "subject": "Größe falsch",
            "body-mime": raw.decode(),
        }
    )

    response = client.post(reverse("inbound:mailgun_mime"), data=fields)

    assert response.status_code == 200
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.subject) == (Channel.EMAIL, "Größe falsch")
    assert inquiry.messages.get().message_id == "mg-1@mail.example.com"


def test_mailgun_parsed_forward_with_an_attachment_is_stored(client) -> None:
    headers = [
        ["From", "Maya Lopez <maya@example.com>"],
        ["To", "service@example.com"],
        ["Subject", "Receipt"],
        ["Message-Id", "<mg-2@mail.example.com>"],
        ["Date", "Mon, 3 Mar 2025 10:15:00 +0100"],
    ]
    receipt = io.BytesIO(b"%PDF-1.4\n")
    receipt.name = "receipt.pdf"
    fields = signed(
        {
            "recipient": "service@example.com",
            "sender": "maya@example.com",
            "from": "Maya Lopez <maya@example.com>",
            "subject": "Receipt",
            "body-plain": "Here is the receipt.\r\n",
            "stripped-text": "Here is the receipt.",
            "message-headers": json.dumps(headers),
            "attachment-count": "1",
            "attachment-1": receipt,
        }
    )

    response = client.post(reverse("inbound:mailgun"), data=fields)

    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.message_id, message.text) == ("mg-2@mail.example.com", "Here is the receipt.")
    assert [a.filename for a in message.attachments.all()] == ["receipt.pdf"]


def test_mailgun_with_a_wrong_signature_is_refused(client) -> None:
    fields = signed({"body-mime": make_mail().decode()}, key="not-the-key")

    response = client.post(reverse("inbound:mailgun_mime"), data=fields)

    assert response.status_code == 400
    assert not Inquiry.objects.exists()


def test_mailgun_webhook_is_off_without_a_signing_key(client, settings) -> None:
    settings.ANYMAIL = {}

    response = client.post(reverse("inbound:mailgun_mime"), data=signed({"body-mime": "x"}))

    assert response.status_code == 503
    assert not Inquiry.objects.exists()


# The MTA's pipe: manage.py ingest_email.


def test_the_command_stores_a_piped_message() -> None:
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "ingest_email", stdin=io.BytesIO(make_mail()), stdout=out, stderr=err, source="mta"
    )

    inquiry = Inquiry.objects.get()
    assert out.getvalue().strip() == f"Opened {inquiry.reference}"
    assert err.getvalue() == ""


def test_the_command_rejects_oversized_mail_and_succeeds(settings) -> None:
    settings.CRM_INBOUND_MAX_BYTES = 20_000
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "ingest_email", stdin=io.BytesIO(make_mail(body="x" * 3_000_000)), stdout=out, stderr=err
    )

    assert "Rejected: The message is 2.9 MB" in err.getvalue()
    assert not Inquiry.objects.exists()
    assert OutboundEmail.objects.get().to == ["maya@example.com"]


def test_the_command_asks_the_mta_to_retry_when_the_database_is_away(tmp_path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "CRM_VAR_DIR": str(tmp_path),
        "DJANGO_DEBUG": "true",
        # Nothing listens on port 9: the database is down.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/crm",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email"],
        cwd=ROOT,
        env=env,
        input=make_mail(),
        capture_output=True,
        timeout=60,
    )

    assert result.returncode == 75, result.stderr
    assert b"Temporary failure, deliver again later" in result.stderr


# Attachment downloads.


def attachment_on(message: Message, filename: str, content_type: str, content: bytes):
    attachment = Attachment(
        message=message, filename=filename, content_type=content_type, size=len(content)
    )
    attachment.file.save("upload", ContentFile(content), save=True)
    return attachment


@pytest.fixture
def inquiry_with_files():
    """A customer's inquiry with an HTML attachment on her message and a file on a staff note."""
    customer: Customer = CustomerFactory.create(user=UserFactory.create(role=Role.CUSTOMER))
    inquiry = Inquiry.objects.create(
        customer=customer, channel=Channel.EMAIL, subject="Broken", requester_email="c@example.com"
    )
    public = Message.objects.create(
        inquiry=inquiry, kind=MessageKind.INBOUND, channel=Channel.EMAIL, text="See file"
    )
    note = Message.objects.create(
        inquiry=inquiry, kind=MessageKind.NOTE, channel=Channel.EMAIL, text="Internal"
    )
    return (
        customer,
        attachment_on(public, 'inv"oice\r\n.html', "text/html", b"<script>alert(1)</script>"),
        attachment_on(note, "notes.pdf", "application/pdf", b"%PDF-1.4"),
    )


def download(client, attachment):
    return client.get(reverse("tickets:attachment", args=[attachment.pk]))


def test_staff_download_any_attachment_as_an_inert_file(
    client, inquiry_with_files, django_assert_max_num_queries
) -> None:
    _, public, note = inquiry_with_files
    client.force_login(UserFactory(role=Role.REP))

    with django_assert_max_num_queries(3):
        response = download(client, public)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="inv\'oice .html"'
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert download(client, note).status_code == 200


def test_a_customer_downloads_only_her_public_attachments(client, inquiry_with_files) -> None:
    customer, public, note = inquiry_with_files
    client.force_login(customer.user)

    assert download(client, public).status_code == 200
    assert download(client, note).status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "other customer", "customer without record"])
def test_anyone_else_gets_a_plain_404(client, inquiry_with_files, who: str) -> None:
    _, public, _ = inquiry_with_files
    if who == "other customer":
        other: Customer = CustomerFactory.create(user=UserFactory.create(role=Role.CUSTOMER))
        client.force_login(other.user)
    elif who == "customer without record":
        client.force_login(UserFactory(role=Role.CUSTOMER))

    assert download(client, public).status_code == 404


def test_a_safe_type_keeps_its_type_and_a_non_ascii_name(client, inquiry_with_files) -> None:
    _, public, _ = inquiry_with_files
    pdf = attachment_on(public.message, "reçu.pdf", "application/pdf", b"%PDF-1.4")
    client.force_login(UserFactory(role=Role.REP))

    response = download(client, pdf)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''re%C3%A7u.pdf"
