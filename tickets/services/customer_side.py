"""What the customer does on her inquiries: open one, reply, re-open, ask for a call, rate."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from crm.models import User
from crm.services import audit_record, email_enqueue
from customers.models import ActivityKind, Customer
from customers.services import Identity, activity_record, customer_resolve
from orders.models import Order
from tickets.models import (
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
)
from tickets.services.callbacks import callback_request
from tickets.services.inquiries import (
    AttachmentFile,
    IncomingMessage,
    inquiry_open,
    inquiry_receive,
    inquiry_set_status,
    reopen_window,
)

RATING_COMMENT_MAX_LENGTH = 2000


@dataclass(frozen=True)
class CallbackWish:
    """A call the customer asks for: her number (E.164) and when she can take it."""

    phone: str
    window_start: datetime
    window_end: datetime
    note: str = ""


def rating_request_enqueue(*, inquiry: Inquiry) -> None:
    """Ask the customer to rate the answer, once per resolution, if she can be mailed."""
    if not inquiry.requester_email or inquiry.automated_reason or inquiry.resolved_at is None:
        return
    email_enqueue(
        to=inquiry.requester_email,
        subject=f"[#{inquiry.reference}] How did we do?",
        text=render_to_string(
            "tickets/email/rating_request.txt",
            {"inquiry": inquiry, "site_url": settings.CRM_SITE_URL},
        ),
        key=f"inquiry-rating:{inquiry.pk}:{inquiry.resolved_at:%Y%m%d%H%M%S}",
        customer=inquiry.customer,
    )


def _order_of(customer: Customer, number: str) -> Order | None:
    """The order she names, only if it is hers: a stranger's order number links nothing."""
    if not number:
        return None
    return Order.objects.filter(number__iexact=number, customer=customer).first()


@transaction.atomic
def inquiry_submit(
    *,
    channel: str,
    identity: Identity,
    subject: str,
    text: str,
    attachments: tuple[AttachmentFile, ...] = (),
    customer: Customer | None = None,
    order_number: str = "",
    callback: CallbackWish | None = None,
    actor: User | None = None,
) -> Inquiry:
    """A customer's own inquiry from the web form or the portal, with the call back she asked for.
    The order she names is linked when it is hers; its number stays in her message either way."""
    if customer is None:
        customer = customer_resolve(identity=identity, source=channel, actor=actor).customer
    order_number = order_number.strip()
    if order_number:
        text = f"{text}\n\nOrder number: {order_number}"
    inquiry = inquiry_open(
        channel=channel,
        identity=identity,
        customer=customer,
        subject=subject,
        message=IncomingMessage(
            text=text,
            subject=subject,
            from_address=identity.email,
            from_name=f"{identity.first_name} {identity.last_name}".strip(),
            attachments=attachments,
        ),
        order=_order_of(customer, order_number),
        actor=actor,
    )
    if callback is not None:
        callback_request(
            customer=customer,
            phone=callback.phone,
            window_start=callback.window_start,
            window_end=callback.window_end,
            note=callback.note,
            channel=channel,
            actor=actor,
            inquiry=inquiry,
        )
    return inquiry


def inquiry_customer_reply(
    *,
    inquiry: Inquiry,
    text: str,
    channel: str,
    actor: User | None,
    attachments: tuple[AttachmentFile, ...] = (),
) -> tuple[Inquiry, Message]:
    """The customer writes on her inquiry from the portal or its tracking page; it joins it as
    if she had e-mailed (re-opening it, or opening a linked one when resolved long ago)."""
    return inquiry_receive(
        inquiry=inquiry,
        message=IncomingMessage(
            text=text,
            from_address=inquiry.requester_email,
            from_name=inquiry.requester_name,
            attachments=attachments,
        ),
        channel=channel,
        actor=actor,
    )


@transaction.atomic
def inquiry_reopen(*, inquiry: Inquiry, text: str, channel: str, actor: User | None) -> Inquiry:
    """The customer says a resolved inquiry is not solved, and why. Within CRM_REOPEN_DAYS it
    opens again; later, a new inquiry linked to it is opened. Returns where her message landed."""
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if locked.status != InquiryStatus.RESOLVED:
        raise ValidationError({"text": ["This inquiry is still open: write a reply instead."]})
    if locked.resolved_at is None or timezone.now() - locked.resolved_at <= reopen_window():
        inquiry_set_status(
            inquiry=locked,
            status=InquiryStatus.OPEN,
            actor=actor,
            note="Re-opened by the customer.",
        )
    landed, _ = inquiry_customer_reply(inquiry=locked, text=text, channel=channel, actor=actor)
    return landed


@transaction.atomic
def inquiry_rate(
    *, inquiry: Inquiry, rating: int, comment: str = "", actor: User | None
) -> Inquiry:
    """The customer rates the answer to a resolved inquiry from 1 to 5, with an optional comment.
    Rating again replaces her earlier rating; the history keeps both."""
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    if not 1 <= rating <= 5:
        errors["rating"] = ["Choose from 1 (poor) to 5 (excellent)."]
    if len(comment) > RATING_COMMENT_MAX_LENGTH:
        errors["comment"] = [f"Keep the comment under {RATING_COMMENT_MAX_LENGTH:,} characters."]
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.status != InquiryStatus.RESOLVED:
        errors.setdefault("rating", []).append("Only a resolved inquiry can be rated.")
    if errors:
        raise ValidationError(errors)
    previous = inquiry.rating
    inquiry.rating = rating
    inquiry.rating_comment = comment
    inquiry.rated_at = timezone.now()
    inquiry.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    InquiryEvent.objects.create(
        inquiry=inquiry,
        kind=EventKind.RATED,
        old_value=str(previous or ""),
        new_value=str(rating),
        note=comment[:500],
        actor=actor,
    )
    if inquiry.customer is not None:
        activity_record(
            customer=inquiry.customer,
            kind=ActivityKind.INQUIRY_RATED,
            channel=inquiry.channel,
            summary=f"{inquiry.reference} rated {rating}/5",
            detail=comment[:500],
            actor=actor,
            subject=("inquiry", str(inquiry.pk)),
        )
    audit_record(
        actor=actor,
        action="inquiry.rate",
        obj=inquiry,
        data={"rating": rating, "previous": previous},
    )
    return inquiry
