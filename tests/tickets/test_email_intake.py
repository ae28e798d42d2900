"""E-mail intake against the real parts (PostgreSQL, the outbox, an SMTP server on loopback):
stored once, threaded only for participants, automated mail never acknowledged, bounces mark
the address, oversized mail answered once, no header injection (RELIABILITY.md)."""

import threading
from datetime import timedelta
from email.utils import make_msgid

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Channel, OutboundEmail, OutboundEmailStatus
from customers.models import ContactKind, ContactPoint
from tests.factories import UserFactory
from tests.tickets.test_mail_parser import AUTOMATED, ORIGINAL, dsn, make_mail
from tickets.models import Inquiry, InquiryStatus, Message, MessageKind
from tickets.services.email_intake import IngestOutcome, IngestResult, email_ingest
from tickets.services.inquiries import inquiry_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ingest(django_capture_on_commit_callbacks):
    """email_ingest as the MTA pipe calls it, with what follows the commit (routing, sending
    the acknowledgement) run in-process."""

    def run(raw: bytes, source: str = "mta") -> IngestResult:
        with django_capture_on_commit_callbacks(execute=True):
            return email_ingest(raw=raw, source=source)

    return run


def mail_from(sender: str, **fields) -> bytes:
    fields.setdefault("message_id", make_msgid(domain="mail.example.com")[1:-1])
    return make_mail(sender=sender, **fields)


def first_mail(ingest, sender: str = "Maya Lopez <maya@example.com>") -> Inquiry:
    result = ingest(mail_from(sender))
    assert result.outcome == IngestOutcome.STORED
    inquiry = result.inquiry
    assert inquiry is not None and inquiry.customer is not None
    inquiry.refresh_from_db()
    return inquiry


def test_a_new_email_opens_an_acknowledged_inquiry(ingest, mailer_to_sink) -> None:
    result = ingest(make_mail(message_id="q1@mail.example.com"))

    inquiry = result.inquiry
    assert result.outcome == IngestOutcome.STORED and inquiry is not None
    inquiry.refresh_from_db()
    assert inquiry.channel == Channel.EMAIL
    assert inquiry.subject == "Where is my order?"
    assert inquiry.requester_email == "maya@example.com"
    assert (inquiry.customer.first_name, inquiry.customer.last_name) == ("Maya", "Lopez")
    message = inquiry.messages.get()
    assert (message.message_id, message.from_address) == ("q1@mail.example.com", "maya@example.com")
    [delivery] = mailer_to_sink.deliveries
    assert delivery.rcpt_tos == ["maya@example.com"]
    assert inquiry.reference in delivery.message["Subject"]
    assert delivery.message["In-Reply-To"] == "<q1@mail.example.com>"
    assert delivery.message["Auto-Submitted"] == "auto-replied"


def test_a_hundred_messages_with_ten_percent_redelivered_are_stored_once_each(ingest) -> None:
    mails = [mail_from(f"customer{n}@example.com") for n in range(100)]
    deliveries = mails + mails[::10]

    outcomes = [ingest(raw).outcome for raw in deliveries]

    assert outcomes.count(IngestOutcome.STORED) == 100
    assert outcomes.count(IngestOutcome.DUPLICATE) == 10
    assert Message.objects.count() == 100
    assert Inquiry.objects.count() == 100
    assert Inquiry.objects.filter(acknowledgement__isnull=False).count() == 100
    assert OutboundEmail.objects.filter(status=OutboundEmailStatus.SENT).count() == 100


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_twice_at_once_is_stored_once() -> None:
    raw = mail_from("maya@example.com")
    barrier = threading.Barrier(4)
    results: list[IngestResult] = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(email_ingest(raw=raw, source="mta"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result.outcome for result in results) == sorted(
        [IngestOutcome.STORED] + [IngestOutcome.DUPLICATE] * 3
    )
    assert Message.objects.count() == 1
    assert Inquiry.objects.count() == 1


# Threading.


def test_a_reply_to_the_acknowledgement_joins_by_in_reply_to(ingest) -> None:
    inquiry = first_mail(ingest)
    acknowledgement = inquiry.acknowledgement

    result = ingest(
        mail_from(
            "maya@example.com",
            subject="Re: We received your message",
            headers=(("In-Reply-To", acknowledgement.message_id),),
        )
    )

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)
    assert inquiry.messages.count() == 2
    assert Inquiry.objects.count() == 1


def test_a_reply_with_only_references_joins_the_inquiry_of_our_reply(ingest) -> None:
    inquiry = first_mail(ingest)
    Message.objects.create(
        inquiry=inquiry,
        kind=MessageKind.OUTBOUND,
        channel=Channel.EMAIL,
        author=UserFactory.create(),
        text="It left our warehouse today.",
        message_id="reply-1@crm.example.com",
    )
    references = "<unknown@elsewhere.example> <reply-1@crm.example.com>"

    result = ingest(
        mail_from("maya@example.com", subject="Thanks", headers=(("References", references),))
    )

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)
    assert result.message.references == references


def test_a_reply_joins_by_the_reference_in_its_subject(ingest) -> None:
    inquiry = first_mail(ingest)

    result = ingest(mail_from("maya@example.com", subject=f"Re: [#{inquiry.reference}] Order"))

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)


def test_another_address_of_the_same_customer_may_join(ingest) -> None:
    inquiry = first_mail(ingest)
    assert inquiry.customer is not None
    ContactPoint.objects.create(
        customer=inquiry.customer, kind=ContactKind.EMAIL, value="maya.work@example.org"
    )

    result = ingest(
        mail_from("maya.work@example.org", subject=f"Re: [#{inquiry.reference}] From work")
    )

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)


def test_a_forged_in_reply_to_from_another_sender_opens_a_linked_inquiry(ingest) -> None:
    inquiry = first_mail(ingest)

    result = ingest(
        mail_from(
            "mallory@example.net",
            subject=f"Re: [#{inquiry.reference}] Your order",
            headers=(("In-Reply-To", inquiry.acknowledgement.message_id),),
        )
    )

    assert result.outcome == IngestOutcome.STORED
    assert result.inquiry != inquiry
    assert result.inquiry.related_to == inquiry
    assert result.inquiry.requester_email == "mallory@example.net"
    assert result.inquiry.customer != inquiry.customer
    assert list(inquiry.messages.values_list("from_address", flat=True)) == ["maya@example.com"]


def test_a_reply_reopens_a_resolved_inquiry_within_fourteen_days(ingest) -> None:
    inquiry = first_mail(ingest)
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=None)
    Inquiry.objects.filter(pk=inquiry.pk).update(resolved_at=timezone.now() - timedelta(days=13))

    result = ingest(mail_from("maya@example.com", subject=f"Re: [#{inquiry.reference}] Still"))

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def test_a_reply_to_an_inquiry_resolved_long_ago_opens_a_linked_one(ingest) -> None:
    inquiry = first_mail(ingest)
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=None)
    Inquiry.objects.filter(pk=inquiry.pk).update(resolved_at=timezone.now() - timedelta(days=15))

    result = ingest(mail_from("maya@example.com", subject=f"Re: [#{inquiry.reference}] Again"))

    assert result.outcome == IngestOutcome.STORED
    assert result.inquiry.related_to == inquiry
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.RESOLVED
    assert inquiry.messages.count() == 1


# Automated mail: stored, flagged, never acknowledged.


@pytest.mark.parametrize(("fields", "reason"), AUTOMATED)
def test_automated_mail_is_stored_and_never_acknowledged(
    ingest, mailer_to_sink, fields: dict, reason: str
) -> None:
    fields = {"sender": "Shop <shop@example.com>", **fields}

    result = ingest(mail_from(**fields))

    assert result.outcome == IngestOutcome.STORED
    inquiry = Inquiry.objects.get()
    assert inquiry.messages.get().automated_reason == inquiry.automated_reason
    assert reason in inquiry.automated_reason
    assert inquiry.acknowledgement is None
    assert inquiry.acknowledgement_skipped.startswith("Automated mail:")
    assert reason in inquiry.acknowledgement_skipped
    assert not OutboundEmail.objects.exists()
    assert mailer_to_sink.deliveries == []


def test_of_mixed_mail_only_people_are_acknowledged(ingest, mailer_to_sink) -> None:
    people = [mail_from(f"person{n}@example.com") for n in range(40)]
    variants: list[dict] = [param.values[0] for param in AUTOMATED]  # type: ignore[misc]
    machines = [
        mail_from(**{"sender": f"Bot {n} <bot{n}@example.org>", **fields})
        for n, fields in enumerate(variants)
    ]

    for raw in people + machines:
        ingest(raw)

    acknowledged = sorted(rcpt for d in mailer_to_sink.deliveries for rcpt in d.rcpt_tos)
    assert acknowledged == sorted(f"person{n}@example.com" for n in range(40))
    assert Inquiry.objects.count() == 40 + len(AUTOMATED)


@pytest.mark.parametrize("threads", [True, False], ids=["keeps-headers", "fresh-mail"])
def test_an_unmarked_auto_responder_cannot_loop(ingest, mailer_to_sink, threads: bool) -> None:
    """A robot that answers every mail with plain mail (no Auto-Submitted): its answers thread
    into its inquiry, and fresh mail from it gets at most CRM_AUTO_REPLY_LIMIT acknowledgements
    an hour, so it opens at most one inquiry more than that."""
    ingest(mail_from("robot@example.org", subject="Hello"))
    answered = 0
    while answered < len(mailer_to_sink.deliveries) and answered < 20:
        ack = mailer_to_sink.deliveries[answered].message
        answered += 1
        headers = (("In-Reply-To", ack["Message-ID"]),) if threads else ()
        subject = f"Re: {ack['Subject']}" if threads else f"Thanks for message {answered}"
        ingest(mail_from("robot@example.org", subject=subject, headers=headers))

    if threads:
        # Its answer joins the inquiry: nothing new to acknowledge.
        assert len(mailer_to_sink.deliveries) == 1
        assert (Inquiry.objects.count(), Message.objects.count()) == (1, 2)
    else:
        assert len(mailer_to_sink.deliveries) == 5
        assert Inquiry.objects.count() == 6


def test_an_out_of_office_reply_joins_without_reopening_or_answering(ingest) -> None:
    inquiry = first_mail(ingest)
    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.WAITING, actor=None)

    result = ingest(
        mail_from(
            "maya@example.com",
            subject="Out of office",
            headers=(
                ("Auto-Submitted", "auto-replied"),
                ("In-Reply-To", inquiry.acknowledgement.message_id),
            ),
        )
    )

    assert (result.outcome, result.inquiry) == (IngestOutcome.JOINED, inquiry)
    assert result.message.automated_reason
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.WAITING
    assert OutboundEmail.objects.count() == 1


# Bounces of our own mail.


def test_a_bounce_of_our_acknowledgement_marks_the_address_undeliverable(ingest) -> None:
    inquiry = first_mail(ingest)
    returned = "Content-Type: message/rfc822\r\n\r\n" + ORIGINAL.format(
        id=inquiry.acknowledgement.message_id.strip("<>")
    )

    result = ingest(dsn(returned + "\r\nWe received your message."))

    assert (result.outcome, result.inquiry) == (IngestOutcome.BOUNCE, inquiry)
    assert result.message.automated_reason
    point = ContactPoint.objects.get(value="maya@example.com")
    assert point.undeliverable_at is not None
    assert point.undeliverable_reason.startswith("5.1.1")
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.NEW
    assert inquiry.messages.count() == 2

    # Later mail from her is taken in, but nothing automatic is sent to an address that bounces.
    later = ingest(mail_from("maya@example.com", subject="New question"))
    assert later.outcome == IngestOutcome.STORED
    later.inquiry.refresh_from_db()
    assert later.inquiry.acknowledgement is None
    assert later.inquiry.acknowledgement_skipped == "Our mail to this address bounces."


def test_a_bounce_without_our_message_is_matched_by_its_recipient(ingest) -> None:
    inquiry = first_mail(ingest)
    returned = "Content-Type: text/plain\r\n\r\nThe original message was not included."

    result = ingest(dsn(returned))

    assert (result.outcome, result.inquiry) == (IngestOutcome.BOUNCE, inquiry)
    assert ContactPoint.objects.get(value="maya@example.com").undeliverable_at is not None


def test_a_bounce_of_mail_we_never_sent_marks_nothing(ingest) -> None:
    other = first_mail(ingest, "Other <other@example.com>").customer
    assert other is not None
    ContactPoint.objects.create(customer=other, kind=ContactKind.EMAIL, value="maya@example.com")
    OutboundEmail.objects.all().delete()

    result = ingest(dsn("Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <forged@x>\r\n"))

    assert result.outcome == IngestOutcome.STORED
    assert result.inquiry.automated_reason
    assert ContactPoint.objects.get(value="maya@example.com").undeliverable_at is None


# Size limit and rejections.


def test_oversized_mail_is_not_stored_and_answered_once(ingest, mailer_to_sink, settings) -> None:
    settings.CRM_INBOUND_MAX_BYTES = 20_000
    raw = make_mail(message_id="big@mail.example.com", body="x" * 30_000)

    first, again = ingest(raw), ingest(raw)

    assert first.outcome == again.outcome == IngestOutcome.REJECTED
    assert "20 KB" in first.reason
    assert not Inquiry.objects.exists() and not Message.objects.exists()
    rejection = OutboundEmail.objects.get()
    assert rejection.key == "inbound-rejected:big@mail.example.com"
    [delivery] = mailer_to_sink.deliveries
    assert delivery.rcpt_tos == ["maya@example.com"]
    assert delivery.message["Subject"] == "Not delivered: Where is my order?"
    assert delivery.message["In-Reply-To"] == "<big@mail.example.com>"
    assert delivery.message["Auto-Submitted"] == "auto-replied"
    assert "25 MB" not in delivery.message.get_content()
    assert "20 KB" in delivery.message.get_content()


@pytest.mark.parametrize(
    "fields",
    [
        {"headers": (("Auto-Submitted", "auto-replied"),)},
        {"sender": "MAILER-DAEMON@mx.example.net"},
        {"sender": "Customer Service <service@example.com>"},
    ],
)
def test_oversized_mail_from_machines_or_ourselves_gets_no_answer(
    ingest, settings, fields: dict
) -> None:
    settings.CRM_INBOUND_MAX_BYTES = 20_000

    result = ingest(mail_from(body="x" * 30_000, **{"sender": "maya@example.com", **fields}))

    assert result.outcome == IngestOutcome.REJECTED
    assert not OutboundEmail.objects.exists()


def test_rejection_notices_to_one_sender_are_limited_per_hour(ingest, settings) -> None:
    settings.CRM_INBOUND_MAX_BYTES = 20_000

    for _ in range(settings.CRM_AUTO_REPLY_LIMIT + 3):
        ingest(mail_from("maya@example.com", body="x" * 30_000))

    assert OutboundEmail.objects.count() == settings.CRM_AUTO_REPLY_LIMIT


def test_mail_without_a_sender_is_rejected_without_a_trace(ingest) -> None:
    result = ingest(b"Subject: who am I\r\n\r\nNo From at all.")

    assert result.outcome == IngestOutcome.REJECTED
    assert result.reason == "The message has no sender address to answer."
    assert not Inquiry.objects.exists() and not OutboundEmail.objects.exists()


# Header injection, end to end.


@pytest.mark.parametrize("subject", ["=?UTF-8?Q?x=0ABcc:_evil@x?=", "x=?UTF-8?Q?=0ABcc:_evil@x?="])
def test_an_encoded_subject_cannot_add_recipients_to_the_acknowledgement(
    ingest, mailer_to_sink, subject: str
) -> None:
    result = ingest(mail_from("maya@example.com", subject=subject))

    assert result.outcome == IngestOutcome.STORED
    [delivery] = mailer_to_sink.deliveries
    assert delivery.rcpt_tos == ["maya@example.com"]
    assert delivery.message["Bcc"] is None and delivery.message["Cc"] is None
    assert delivery.message.get_all("To") == ["maya@example.com"]
    assert "\n" not in str(delivery.message["Subject"])


# What a message brings.


def test_attachments_are_stored_and_an_oversized_one_is_noted(ingest, settings) -> None:
    settings.CRM_ATTACHMENT_MAX_BYTES = 1000
    raw = (
        "From: maya@example.com\r\nSubject: Photos\r\nMessage-ID: <att@x.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe box was crushed.\r\n"
        "--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=box.png\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        "--B\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=unbox.mp4\r\n"
        "\r\n" + "v" * 5000 + "\r\n--B--\r\n"
    ).encode()

    result = ingest(raw)

    message = result.message
    [attachment] = message.attachments.all()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "box.png",
        "image/png",
        8,
    )
    assert attachment.file.read() == b"\x89PNG\r\n\x1a\n"
    assert message.text.startswith("The box was crushed.")
    assert "[Not kept: the attachment unbox.mp4 (5 KB) is over the 1 KB limit.]" in message.text


def test_html_only_mail_is_kept_sanitised_with_its_text(ingest) -> None:
    result = ingest(
        mail_from(
            "maya@example.com",
            content_type="text/html; charset=utf-8",
            body='<p>Hi <img src="https://t.example/x.gif" onerror="x()">team</p>',
        )
    )

    assert result.message.text == "Hi team"
    assert result.message.html == "<p>Hi team</p>"


def test_an_empty_mail_is_still_taken_in(ingest) -> None:
    result = ingest(mail_from("maya@example.com", subject="Call me", body=""))

    assert result.outcome == IngestOutcome.STORED
    assert result.message.text == "(The e-mail had no text.)"
    assert result.inquiry.subject == "Call me"
