"""What agents do on an inquiry: reply by e-mail, add internal notes, change priority, queue,
assignee and tags, merge two inquiries of one customer, link an order, and log a phone call.

Status changes go through tickets.services.inquiries.inquiry_set_status (the transitions table).
"""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils import timezone

from crm.models import Channel, User
from crm.services import audit_record, email_enqueue, subject_line
from customers.models import ActivityKind, Customer
from customers.services import activity_record
from orders.models import Order
from tickets.models import (
    SUBJECT_MAX_LENGTH,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
    MessageKind,
    Priority,
    Queue,
    QueueMembership,
)
from tickets.services import sla
from tickets.services.callbacks import staff_store
from tickets.services.inquiries import (
    TEXT_MAX_LENGTH,
    IncomingMessage,
    inquiry_open,
    inquiry_set_status,
)

# Statuses a reply may leave the inquiry in, besides the one it has.
REPLY_STATUSES = (InquiryStatus.OPEN, InquiryStatus.WAITING, InquiryStatus.RESOLVED)
# The References header keeps the thread's first message and the latest ones (RFC 5322 3.6.4
# lets it be trimmed), so that a long conversation doesn't grow an unbounded header.
REFERENCES_KEPT = 20
TAGS_MAX = 20
TAG_MAX_LENGTH = 40


def _locked(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.select_for_update().get(pk=inquiry.pk)


def _clean_text(text: str, what: str) -> str:
    # Browsers send line breaks as CRLF; a text is measured as the reader sees it.
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": [f"Write the {what} first."]})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(
            {"text": [f"The {what} can be at most {TEXT_MAX_LENGTH:,} characters."]}
        )
    return text


def _not_merged(inquiry: Inquiry) -> None:
    if inquiry.merged_into_id is not None:
        raise ValidationError(
            f"{inquiry.reference} was merged into another inquiry: work on that one."
        )


def _bracketed(message_id: str) -> str:
    return f"<{message_id}>"


def _thread_headers(inquiry: Inquiry) -> dict[str, str]:
    """In-Reply-To the customer's latest message (or our acknowledgement if she never mailed),
    References the thread's earlier ids, so that the reply threads in her mail program."""
    earlier: list[tuple[datetime, int, str]] = [
        (created_at, pk, message_id)
        for created_at, pk, message_id in inquiry.messages.exclude(kind=MessageKind.NOTE)
        .exclude(message_id="")
        .values_list("created_at", "pk", "message_id")
    ]
    acknowledgement = inquiry.acknowledgement
    if acknowledgement is not None:
        earlier.append((acknowledgement.created_at, 0, acknowledgement.message_id.strip("<>")))
    earlier.sort()
    ids = list(dict.fromkeys(message_id for _, _, message_id in earlier))
    if not ids:
        return {}
    inbound = (
        inquiry.messages.filter(kind=MessageKind.INBOUND)
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    parent = inbound or ids[-1]
    if len(ids) > REFERENCES_KEPT:
        ids = [ids[0], *ids[-(REFERENCES_KEPT - 1) :]]
    return {
        "In-Reply-To": _bracketed(parent),
        "References": " ".join(_bracketed(message_id) for message_id in ids),
    }


@transaction.atomic
def inquiry_reply(*, inquiry: Inquiry, text: str, actor: User, status: str = "") -> Message:
    """Answer the customer: the reply is stored and e-mailed through the outbox (not marked as
    automatic, threaded on her side by In-Reply-To and References). Without an address to write
    to, the reply is stored (she sees it on her tracking page) and its message has no e-mail.
    The first reply stops the first-response SLA; a new inquiry becomes open unless `status`
    says where it goes next (waiting on customer, resolved)."""
    inquiry = _locked(inquiry)
    _not_merged(inquiry)
    text = _clean_text(text, "reply")
    if status and status not in REPLY_STATUSES:
        raise ValidationError({"status": ["Choose open, waiting on customer or resolved."]})
    now = timezone.now()
    message = Message.objects.create(
        inquiry=inquiry,
        kind=MessageKind.OUTBOUND,
        channel=Channel.EMAIL if inquiry.requester_email else inquiry.channel,
        author=actor,
        from_address=settings.DEFAULT_FROM_EMAIL[:254],
        from_name=str(actor)[:200],
        subject=subject_line(f"Re: [#{inquiry.reference}] {inquiry.subject}")[:SUBJECT_MAX_LENGTH],
        text=text,
        created_at=now,
    )
    if inquiry.requester_email:
        headers = _thread_headers(inquiry)
        email = email_enqueue(
            to=inquiry.requester_email,
            subject=message.subject,
            text=render_to_string(
                "tickets/email/reply.txt",
                {
                    "inquiry": inquiry,
                    "text": text,
                    "agent": actor,
                    "site_url": settings.CRM_SITE_URL,
                },
            ),
            key=f"inquiry-reply:{message.pk}",
            customer=inquiry.customer,
            headers=headers,
            automatic=False,
        )
        message.outbound_email = email
        message.message_id = email.message_id.strip("<>")
        message.in_reply_to = headers.get("In-Reply-To", "").strip("<>")
        message.references = headers.get("References", "")
        message.save(update_fields=["outbound_email", "message_id", "in_reply_to", "references"])
    if inquiry.first_responded_at is None:
        inquiry.first_responded_at = now
    inquiry.save(update_fields=["first_responded_at", "updated_at"])
    if inquiry.customer is not None:
        activity_record(
            customer=inquiry.customer,
            kind=ActivityKind.INQUIRY_REPLIED,
            channel=message.channel,
            summary=f"{inquiry.reference}: reply by {actor}",
            detail=text[:500],
            actor=actor,
            occurred_at=now,
            subject=("inquiry", str(inquiry.pk)),
        )
    audit_record(
        actor=actor,
        action="inquiry.reply",
        obj=inquiry,
        data={"message": message.pk, "emailed": message.outbound_email_id is not None},
    )
    target = status or (InquiryStatus.OPEN if inquiry.status == InquiryStatus.NEW else "")
    if target and target != inquiry.status:
        inquiry_set_status(inquiry=inquiry, status=target, actor=actor, note="Set with a reply.")
    return message


@transaction.atomic
def inquiry_note_add(*, inquiry: Inquiry, text: str, actor: User) -> Message:
    """An internal note on the conversation, for colleagues only: never shown to the customer."""
    inquiry = _locked(inquiry)
    text = _clean_text(text, "note")
    message = Message.objects.create(
        inquiry=inquiry, kind=MessageKind.NOTE, channel=inquiry.channel, author=actor, text=text
    )
    inquiry.save(update_fields=["updated_at"])
    audit_record(actor=actor, action="inquiry.note", obj=inquiry, data={"message": message.pk})
    return message


def _event(
    inquiry: Inquiry, kind: str, old: object, new: object, actor: User, note: str = ""
) -> InquiryEvent:
    return InquiryEvent.objects.create(
        inquiry=inquiry,
        kind=kind,
        old_value=str(old or "")[:200],
        new_value=str(new or "")[:200],
        actor=actor,
        note=note[:500],
    )


@transaction.atomic
def inquiry_set_priority(*, inquiry: Inquiry, priority: int, actor: User) -> Inquiry:
    """Change how urgent the inquiry is; its SLA due times follow the queue's policy for the new
    priority. The history shows who changed it."""
    inquiry = _locked(inquiry)
    if priority not in Priority.values:
        raise ValidationError({"priority": ["Choose low, normal, high or urgent."]})
    if priority == inquiry.priority:
        return inquiry
    old = inquiry.get_priority_display()
    inquiry.priority = priority
    sla.sla_start(inquiry=inquiry)
    inquiry.save(
        update_fields=["priority", "first_response_due_at", "resolution_due_at", "updated_at"]
    )
    _event(inquiry, EventKind.PRIORITY, old, inquiry.get_priority_display(), actor)
    audit_record(actor=actor, action="inquiry.priority", obj=inquiry, data={"to": priority})
    return inquiry


@transaction.atomic
def inquiry_set_queue(*, inquiry: Inquiry, queue: Queue, actor: User) -> Inquiry:
    """Hand the inquiry to another team, whose SLA policy then sets its due times. An assignee
    who is not in that team lets it go."""
    inquiry = _locked(inquiry)
    _not_merged(inquiry)
    if queue.pk == inquiry.queue_id:
        return inquiry
    old = inquiry.queue
    inquiry.queue = queue
    sla.sla_start(inquiry=inquiry)
    fields = ["queue", "first_response_due_at", "resolution_due_at", "updated_at"]
    if (
        inquiry.assignee_id is not None
        and not queue.memberships.filter(user_id=inquiry.assignee_id).exists()
    ):
        _event(inquiry, EventKind.ASSIGNEE, inquiry.assignee, "", actor, "Not in the new queue.")
        inquiry.assignee = None
        fields.append("assignee")
    inquiry.save(update_fields=fields)
    _event(inquiry, EventKind.QUEUE, old, queue, actor)
    audit_record(actor=actor, action="inquiry.queue", obj=inquiry, data={"to": queue.slug})
    return inquiry


@transaction.atomic
def inquiry_assign(*, inquiry: Inquiry, assignee: User | None, actor: User) -> Inquiry:
    """Give the inquiry to a member of its queue (anyone may take it themselves), or to nobody."""
    inquiry = _locked(inquiry)
    _not_merged(inquiry)
    # Anyone may take an inquiry themselves; giving it to someone else needs them in the queue.
    if (
        assignee is not None
        and assignee != actor
        and not QueueMembership.objects.filter(queue=inquiry.queue, user=assignee).exists()
    ):
        raise ValidationError({"assignee": [f"{assignee} is not a member of this queue."]})
    if (assignee.pk if assignee else None) == inquiry.assignee_id:
        return inquiry
    old = inquiry.assignee
    inquiry.assignee = assignee
    inquiry.save(update_fields=["assignee", "updated_at"])
    _event(inquiry, EventKind.ASSIGNEE, old, assignee, actor)
    audit_record(
        actor=actor,
        action="inquiry.assign",
        obj=inquiry,
        data={"to": assignee.pk if assignee else None},
    )
    return inquiry


def clean_tags(raw: str | list[str]) -> list[str]:
    """ "Refund, damaged , refund" -> ["refund", "damaged"]: lower case, trimmed, once each."""
    values = raw.split(",") if isinstance(raw, str) else raw
    tags = list(dict.fromkeys(" ".join(value.split()).lower() for value in values))
    tags = [tag for tag in tags if tag]
    if len(tags) > TAGS_MAX:
        raise ValidationError({"tags": [f"At most {TAGS_MAX} tags."]})
    if too_long := [tag for tag in tags if len(tag) > TAG_MAX_LENGTH]:
        raise ValidationError(
            {"tags": [f"“{too_long[0]}” is longer than {TAG_MAX_LENGTH} characters."]}
        )
    return tags


@transaction.atomic
def inquiry_set_tags(*, inquiry: Inquiry, tags: list[str], actor: User) -> Inquiry:
    """Replace the inquiry's tags (they feed routing rules and reports)."""
    inquiry = _locked(inquiry)
    tags = clean_tags(tags)
    if tags == inquiry.tags:
        return inquiry
    old = inquiry.tags
    inquiry.tags = tags
    inquiry.save(update_fields=["tags", "updated_at"])
    InquiryEvent.objects.create(
        inquiry=inquiry,
        kind=EventKind.TAGS,
        old_value=", ".join(old)[:200],
        new_value=", ".join(tags)[:200],
        actor=actor,
    )
    audit_record(actor=actor, action="inquiry.tags", obj=inquiry, data={"from": old, "to": tags})
    return inquiry


@transaction.atomic
def inquiry_merge(*, survivor: Inquiry, merged: Inquiry, actor: User) -> Inquiry:
    """Join two inquiries of one customer about the same thing: the merged one's conversation
    and call-backs move to the survivor, and it is resolved and points to the survivor (its
    tracking link then shows where the conversation went). No rating is asked for it."""
    if survivor.pk == merged.pk:
        raise ValidationError("An inquiry cannot be merged into itself.")
    # Lock in id order, so that two merges of the same pair can't deadlock.
    locked = {
        inquiry.pk: inquiry
        for inquiry in Inquiry.objects.select_for_update()
        .filter(pk__in=[survivor.pk, merged.pk])
        .order_by("pk")
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.customer_id is None or survivor.customer_id != merged.customer_id:
        raise ValidationError("Only inquiries of the same customer can be merged.")
    if survivor.merged_into_id is not None or merged.merged_into_id is not None:
        raise ValidationError("One of these inquiries was already merged.")
    now = timezone.now()
    moved = merged.messages.update(inquiry=survivor)
    merged.callbacks.update(inquiry=survivor)
    survivor.tags = list(dict.fromkeys([*survivor.tags, *merged.tags]))
    survivor.last_message_at = max(survivor.last_message_at, merged.last_message_at)
    if survivor.order_id is None:
        survivor.order_id = merged.order_id
    survivor.save(update_fields=["tags", "last_message_at", "order", "updated_at"])
    old_status = merged.status
    merged.merged_into = survivor
    merged.status = InquiryStatus.RESOLVED
    merged.resolved_at = merged.resolved_at if old_status == InquiryStatus.RESOLVED else now
    merged.sla_paused_at = None
    merged.save(
        update_fields=["merged_into", "status", "resolved_at", "sla_paused_at", "updated_at"]
    )
    if old_status != InquiryStatus.RESOLVED:
        _event(merged, EventKind.STATUS, old_status, InquiryStatus.RESOLVED, actor)
    _event(
        merged,
        EventKind.MERGED,
        "",
        survivor.reference,
        actor,
        f"Merged into {survivor.reference}.",
    )
    _event(
        survivor,
        EventKind.MERGED,
        "",
        merged.reference,
        actor,
        f"{merged.reference} merged into this inquiry ({moved} message{pluralize(moved)}).",
    )
    activity_record(
        customer=survivor.customer,  # type: ignore[arg-type]
        kind=ActivityKind.INQUIRY_STATUS,
        channel=survivor.channel,
        summary=f"{merged.reference} merged into {survivor.reference}",
        actor=actor,
        occurred_at=now,
        subject=("inquiry", str(survivor.pk)),
    )
    audit_record(
        actor=actor,
        action="inquiry.merge",
        obj=survivor,
        data={"merged": merged.pk, "messages": moved},
    )
    return survivor


@transaction.atomic
def inquiry_link_order(*, inquiry: Inquiry, order: Order | None, actor: User) -> Inquiry:
    """Say which of the customer's orders the inquiry is about (None: about none)."""
    inquiry = _locked(inquiry)
    if order is not None and (
        inquiry.customer_id is None or order.customer_id != inquiry.customer_id
    ):
        raise ValidationError({"order": ["That order is not this customer's."]})
    if (order.pk if order else None) == inquiry.order_id:
        return inquiry
    old = inquiry.order.number if inquiry.order else ""
    inquiry.order = order
    inquiry.save(update_fields=["order", "updated_at"])
    _event(inquiry, EventKind.ORDER_LINKED, old, order.number if order else "", actor)
    audit_record(
        actor=actor,
        action="inquiry.link_order",
        obj=inquiry,
        data={"order": order.number if order else None},
    )
    return inquiry


@transaction.atomic
def inquiry_log_call(
    *,
    customer: Customer,
    subject: str,
    text: str,
    actor: User,
    order: Order | None = None,
    resolved: bool = False,
) -> Inquiry:
    """A rep (or store employee) writes down a phone call with the customer: it becomes an
    inquiry on the phone channel, answered already (the call was the answer), open for follow-up
    or resolved on the spot. No acknowledgement: she was on the line."""
    errors: dict[str, list[str]] = {}
    subject = subject_line(subject)
    if not subject:
        errors["subject"] = ["Say in a few words what the call was about."]
    elif len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = [f"The subject can be at most {SUBJECT_MAX_LENGTH} characters."]
    try:
        text = _clean_text(text, "account of the call")
    except ValidationError as error:
        errors.update(error.message_dict)
    if order is not None and order.customer_id != customer.pk:
        errors["order"] = ["That order is not this customer's."]
    if errors:
        raise ValidationError(errors)
    inquiry = inquiry_open(
        channel=Channel.PHONE,
        message=IncomingMessage(text=text, subject=subject, from_name=customer.full_name),
        customer=customer,
        subject=subject,
        actor=actor,
        store=staff_store(actor),
        order=order,
        acknowledge=False,
    )
    inquiry.first_responded_at = inquiry.created_at
    inquiry.save(update_fields=["first_responded_at"])
    inquiry_set_status(
        inquiry=inquiry,
        status=InquiryStatus.RESOLVED if resolved else InquiryStatus.OPEN,
        actor=actor,
        note="Resolved on the call." if resolved else "Logged from a phone call.",
    )
    return Inquiry.objects.get(pk=inquiry.pk)
