"""The one intake of inquiries from every channel, messages joining an inquiry, and its status.

Every channel (e-mail, web form, portal, phone, store, call-back) opens an inquiry through
inquiry_open: the customer is found by identity resolution, the first message stored, the
timeline written, and the acknowledgement held in the outbox, all in one transaction. Routing and
the acknowledgement's text follow in the background (tickets.route_inquiry).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from crm.models import Channel, User
from crm.services import audit_record, email_enqueue, enqueue_after_commit, subject_line
from crm.webhooks import webhook_event_emit
from customers.identifiers import normalize_email
from customers.models import ActivityKind, ContactKind, ContactPoint, Customer
from customers.services import Identity, activity_record, customer_resolve
from orders.models import Order
from stores.models import Store
from tickets.models import (
    SUBJECT_MAX_LENGTH,
    Attachment,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
    MessageKind,
)
from tickets.services import sla

INQUIRY_CHANNELS = frozenset(
    {
        Channel.EMAIL,
        Channel.WEB_FORM,
        Channel.PORTAL,
        Channel.PHONE,
        Channel.STORE,
        Channel.CALLBACK,
    }
)
TEXT_MAX_LENGTH = 100_000


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class IncomingMessage:
    """A message from the customer's side as an intake path received it. For a phone call or an
    in-store report it is the employee's account of what the customer said."""

    text: str
    subject: str = ""
    html: str = ""
    from_address: str = ""
    from_name: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    automated_reason: str = ""
    attachments: Sequence[AttachmentFile] = field(default_factory=tuple)
    received_at: datetime | None = None


# Status moves an inquiry may make; anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    InquiryStatus.NEW: frozenset(
        {InquiryStatus.OPEN, InquiryStatus.WAITING, InquiryStatus.RESOLVED}
    ),
    InquiryStatus.OPEN: frozenset({InquiryStatus.WAITING, InquiryStatus.RESOLVED}),
    InquiryStatus.WAITING: frozenset({InquiryStatus.OPEN, InquiryStatus.RESOLVED}),
    InquiryStatus.RESOLVED: frozenset({InquiryStatus.OPEN}),
}


def own_addresses() -> frozenset[str]:
    """The retailer's own addresses: mail from them is never acknowledged (no loops)."""
    configured = [settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL, *settings.CRM_OWN_ADDRESSES]
    return frozenset(address.lower() for _, address in getaddresses(configured) if address)


def message_text(message: IncomingMessage) -> str:
    """The message as plain text: its text part, or its HTML part without the markup."""
    return message.text.strip() or strip_tags(message.html).strip()


def _clean_subject(subject: str, text: str) -> str:
    line = subject_line(subject)
    if not line:
        line = subject_line(text)[:80] or "(no subject)"
    return line[:SUBJECT_MAX_LENGTH]


def _check(channel: str, message: IncomingMessage) -> None:
    errors: dict[str, list[str]] = {}
    if channel not in INQUIRY_CHANNELS:
        errors["channel"] = [f"{channel!r} is not a channel inquiries come from."]
    if not message.text.strip() and not message.html.strip() and not message.attachments:
        errors["text"] = ["Please describe the question or problem."]
    if len(message.text) > TEXT_MAX_LENGTH:
        errors["text"] = [f"The message is longer than {TEXT_MAX_LENGTH:,} characters."]
    if errors:
        raise ValidationError(errors)


def _lock_sender(address: str) -> None:
    """Serialise acknowledgements to one address, so that concurrent intakes count each other
    against the hourly limit. SQLite (the demo) has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"ack:{address}"])


def _acknowledgement_blocker(inquiry: Inquiry, message: IncomingMessage) -> str:
    """Why this inquiry must not get an automatic acknowledgement, or "" if it may."""
    address = inquiry.requester_email
    if message.automated_reason:
        return f"Automated mail: {message.automated_reason}"
    if not address:
        return "No e-mail address to answer to."
    if address in own_addresses():
        return "Sent from one of our own addresses."
    if ContactPoint.objects.filter(
        kind=ContactKind.EMAIL, value=address, undeliverable_at__isnull=False
    ).exists():
        return "Our mail to this address bounces."
    _lock_sender(address)
    recent = Inquiry.objects.filter(
        requester_email=address,
        acknowledgement__isnull=False,
        created_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    if recent >= settings.CRM_AUTO_REPLY_LIMIT:
        return f"{recent} automatic replies to this address in the last hour already."
    return ""


def _hold_acknowledgement(inquiry: Inquiry, message: IncomingMessage) -> None:
    """Write the acknowledgement in the intake's transaction, held until routing tells it the
    expected answer time; its Message-ID is known from now on, for threading replies to it."""
    blocker = _acknowledgement_blocker(inquiry, message)
    if blocker:
        inquiry.acknowledgement_skipped = blocker
        inquiry.save(update_fields=["acknowledgement_skipped"])
        return
    headers = {}
    if message.message_id:
        headers = {
            "In-Reply-To": f"<{message.message_id}>",
            "References": f"<{message.message_id}>",
        }
    inquiry.acknowledgement = email_enqueue(
        to=inquiry.requester_email,
        subject=subject_line(f"[#{inquiry.reference}] We received your message: {inquiry.subject}")[
            :SUBJECT_MAX_LENGTH
        ],
        text="",
        key=f"inquiry-ack:{inquiry.pk}",
        customer=inquiry.customer,
        headers=headers,
        held=True,
    )
    inquiry.save(update_fields=["acknowledgement"])


def _customer_for(
    identity: Identity | None,
    message: IncomingMessage,
    channel: str,
    store: Store | None,
    actor: User | None,
) -> Customer | None:
    if identity is None:
        return None
    if message.automated_reason:
        # A machine is not a customer: automated mail joins a known customer, creates none.
        if not identity.email:
            return None
        point = (
            ContactPoint.objects.filter(
                kind=ContactKind.EMAIL, value=normalize_email(identity.email)
            )
            .select_related("customer")
            .first()
        )
        return point.customer if point else None
    return customer_resolve(identity=identity, source=channel, store=store, actor=actor).customer


def _store_attachments(stored: Message, attachments: Sequence[AttachmentFile]) -> None:
    for item in attachments:
        attachment = Attachment(
            message=stored,
            filename=item.filename[:255] or "attachment",
            content_type=item.content_type[:100] or "application/octet-stream",
            size=len(item.content),
        )
        attachment.file.save(item.filename or "attachment", ContentFile(item.content), save=True)


def _record_message(
    inquiry: Inquiry,
    message: IncomingMessage,
    channel: str,
    actor: User | None,
    kind: str = MessageKind.INBOUND,
) -> Message:
    stored = Message.objects.create(
        inquiry=inquiry,
        kind=kind,
        channel=channel,
        author=actor,
        from_address=message.from_address[:254],
        from_name=message.from_name[:200],
        subject=subject_line(message.subject)[:SUBJECT_MAX_LENGTH],
        text=message.text,
        html=message.html,
        message_id=message.message_id[:255],
        in_reply_to=message.in_reply_to[:255],
        references=message.references,
        automated_reason=message.automated_reason[:200],
        created_at=message.received_at or timezone.now(),
    )
    _store_attachments(stored, message.attachments)
    return stored


@transaction.atomic
def inquiry_open(
    *,
    channel: str,
    message: IncomingMessage,
    identity: Identity | None = None,
    customer: Customer | None = None,
    subject: str = "",
    actor: User | None = None,
    store: Store | None = None,
    order: Order | None = None,
    related_to: Inquiry | None = None,
    acknowledge: bool = True,
) -> Inquiry:
    """Open an inquiry from any channel: resolve the customer (or take the one given), store the
    first message, write the timeline and the audit log, and hold an acknowledgement for the
    requester unless the mail is automated, from our own addresses, to an address that bounces,
    or over the hourly limit per sender. Routing follows after commit."""
    _check(channel, message)
    customer = customer or _customer_for(identity, message, channel, store, actor)
    requester = normalize_email(identity.email) if identity and identity.email else ""
    if not requester and customer is not None:
        requester = customer_email(customer)
    now = timezone.now()
    inquiry = Inquiry.objects.create(
        customer=customer,
        channel=channel,
        subject=_clean_subject(subject or message.subject, message.text),
        requester_email=requester,
        requester_name=subject_line(
            message.from_name or (f"{identity.first_name} {identity.last_name}" if identity else "")
        )[:200],
        automated_reason=message.automated_reason[:200],
        store=store,
        order=order,
        related_to=related_to,
        opened_by=actor,
        created_at=message.received_at or now,
        last_message_at=message.received_at or now,
    )
    _record_message(inquiry, message, channel, actor)
    InquiryEvent.objects.create(
        inquiry=inquiry, kind=EventKind.STATUS, new_value=InquiryStatus.NEW, actor=actor
    )
    # A call-back request writes its own timeline entry, with the number and the window.
    if customer is not None and channel != Channel.CALLBACK:
        activity_record(
            customer=customer,
            # A call a rep logs is the call itself on the timeline.
            kind=ActivityKind.CALL_LOGGED
            if channel == Channel.PHONE
            else ActivityKind.INQUIRY_OPENED,
            channel=channel,
            summary=f"{inquiry.reference}: {inquiry.subject}",
            detail=message_text(message)[:500],
            store=store,
            actor=actor,
            subject=("inquiry", str(inquiry.pk)),
        )
    audit_record(actor=actor, action="inquiry.open", obj=inquiry, data={"channel": channel})
    if acknowledge:
        _hold_acknowledgement(inquiry, message)
    elif not message.automated_reason:
        inquiry.acknowledgement_skipped = "Opened by staff: no acknowledgement needed."
        inquiry.save(update_fields=["acknowledgement_skipped"])
    route_after_commit(inquiry)
    return inquiry


def route_after_commit(inquiry: Inquiry) -> None:
    from tickets.tasks import route_inquiry  # tasks call services: import late

    enqueue_after_commit(route_inquiry, inquiry.pk)


def customer_email(customer: Customer) -> str:
    """The customer's first deliverable e-mail address, or ""."""
    point = (
        customer.contact_points.filter(kind=ContactKind.EMAIL, undeliverable_at__isnull=True)
        .order_by("created_at", "id")
        .first()
    )
    return point.value if point else ""


def reopen_window() -> timedelta:
    return timedelta(days=settings.CRM_REOPEN_DAYS)


@transaction.atomic
def inquiry_receive(
    *,
    inquiry: Inquiry,
    message: IncomingMessage,
    channel: str,
    actor: User | None = None,
) -> tuple[Inquiry, Message]:
    """The customer wrote again on an inquiry. It joins it (re-opening it if resolved within
    CRM_REOPEN_DAYS, resuming its SLA if it waited on her); a reply to an inquiry resolved longer
    ago opens a new inquiry linked to the old one. Returns where the message landed."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.merged_into_id:
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.merged_into_id)
    if (
        inquiry.status == InquiryStatus.RESOLVED
        and inquiry.resolved_at is not None
        and timezone.now() - inquiry.resolved_at > reopen_window()
    ):
        follow_up = inquiry_open(
            channel=channel,
            message=message,
            customer=inquiry.customer,
            identity=Identity(email=inquiry.requester_email) if inquiry.requester_email else None,
            subject=message.subject or inquiry.subject,
            related_to=inquiry,
            actor=actor,
        )
        return follow_up, follow_up.messages.get()
    _check(channel, message)
    stored = _record_message(inquiry, message, channel, actor)
    inquiry.last_message_at = stored.created_at
    inquiry.save(update_fields=["last_message_at", "updated_at"])
    if inquiry.status in (InquiryStatus.RESOLVED, InquiryStatus.WAITING) and not (
        message.automated_reason
    ):
        inquiry_set_status(
            inquiry=inquiry,
            status=InquiryStatus.OPEN,
            actor=actor,
            note="The customer wrote again.",
        )
    if inquiry.customer is not None:
        activity_record(
            customer=inquiry.customer,
            kind=ActivityKind.INQUIRY_MESSAGE,
            channel=channel,
            summary=f"{inquiry.reference}: {subject_line(message_text(message))[:200]}",
            actor=actor,
            subject=("inquiry", str(inquiry.pk)),
        )
    return inquiry, stored


@transaction.atomic
def inquiry_set_status(
    *, inquiry: Inquiry, status: str, actor: User | None, note: str = ""
) -> Inquiry:
    """Move an inquiry to a new status along TRANSITIONS, recording the change (the customer sees
    it) and keeping the SLA right: waiting on the customer pauses it, leaving that resumes it.
    Resolving asks the customer for a rating; re-opening clears the resolution."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if status == inquiry.status:
        return inquiry
    if status not in TRANSITIONS.get(inquiry.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    f"An inquiry that is {inquiry.get_status_display().lower()} cannot become "
                    f"{InquiryStatus(status).label.lower()}."
                ]
            }
        )
    old = inquiry.status
    now = timezone.now()
    if old == InquiryStatus.WAITING:
        sla.sla_resume(inquiry=inquiry, now=now)
    if status == InquiryStatus.WAITING:
        sla.sla_pause(inquiry=inquiry, now=now)
    inquiry.status = status
    inquiry.resolved_at = now if status == InquiryStatus.RESOLVED else None
    inquiry.save()
    InquiryEvent.objects.create(
        inquiry=inquiry,
        kind=EventKind.STATUS,
        old_value=old,
        new_value=status,
        actor=actor,
        note=note[:500],
    )
    audit_record(
        actor=actor,
        action="inquiry.status",
        obj=inquiry,
        data={"from": old, "to": status, "note": note},
    )
    webhook_event_emit(
        event="inquiry.status_changed", obj=inquiry, data={"from": old, "to": status}
    )
    if inquiry.customer is not None and (
        status == InquiryStatus.RESOLVED or old == InquiryStatus.RESOLVED
    ):
        activity_record(
            customer=inquiry.customer,
            kind=ActivityKind.INQUIRY_STATUS,
            channel=inquiry.channel,
            summary=f"{inquiry.reference} "
            + ("resolved" if status == InquiryStatus.RESOLVED else "re-opened"),
            actor=actor,
            subject=("inquiry", str(inquiry.pk)),
        )
    if status == InquiryStatus.RESOLVED:
        from tickets.services.customer_side import rating_request_enqueue

        rating_request_enqueue(inquiry=inquiry)
    return inquiry
