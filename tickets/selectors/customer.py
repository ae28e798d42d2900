"""Reads of the customer's side. Every query is scoped to one customer or one tracking token, and
none of them ever returns an internal note."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer
from tickets.models import (
    REFERENCE_OFFSET,
    Attachment,
    CallbackRequest,
    CallbackStatus,
    EventKind,
    Inquiry,
    InquiryStatus,
    Message,
    MessageKind,
)
from tickets.services.acknowledgement import expected_reply

PORTAL_PAGE_SIZE = 20
# Listed rather than "all but notes": a kind added later stays hidden until it is added here.
PUBLIC_KINDS = (MessageKind.INBOUND, MessageKind.OUTBOUND)
REFERENCE_PATTERN = re.compile(r"^(?:R-)?(\d{1,12})$", re.IGNORECASE)
# Tokens are secrets.token_urlsafe(32): 43 characters; anything far off is not worth a query.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

# What each status means to the customer, in her words rather than the team's.
CUSTOMER_STATUS = {
    InquiryStatus.NEW: "Received",
    InquiryStatus.OPEN: "In progress",
    InquiryStatus.WAITING: "Waiting for your reply",
    InquiryStatus.RESOLVED: "Resolved",
}


def customer_status(status: str) -> str:
    return CUSTOMER_STATUS.get(InquiryStatus(status), status)


@dataclass(frozen=True)
class PortalRow:
    inquiry: Inquiry
    status_label: str


@dataclass(frozen=True)
class StatusStep:
    label: str
    at: datetime


@dataclass(frozen=True)
class PublicInquiry:
    """An inquiry as its customer sees it: public messages and the status history."""

    inquiry: Inquiry
    status_label: str
    messages: list[Message]
    history: list[StatusStep]
    callbacks: list[CallbackRequest]


def _status_step(old: str, new: str) -> str:
    if new == InquiryStatus.NEW:
        return "We received your inquiry"
    if new == InquiryStatus.OPEN:
        return "Opened again" if old == InquiryStatus.RESOLVED else "We are working on it"
    if new == InquiryStatus.WAITING:
        return "We asked you for more information"
    return "Resolved"


def inquiries_of_customer(*, customer: Customer) -> QuerySet[Inquiry]:
    """Her inquiries, latest activity first. Merged-away duplicates live on in the survivor."""
    return Inquiry.objects.filter(customer=customer, merged_into__isnull=True).order_by(
        "-last_message_at", "-id"
    )


def portal_page(
    *, customer: Customer, page: str | int | None
) -> tuple[Page[Inquiry], list[PortalRow]]:
    paginated = Paginator(inquiries_of_customer(customer=customer), PORTAL_PAGE_SIZE).get_page(page)
    rows = [PortalRow(inquiry, customer_status(inquiry.status)) for inquiry in paginated]
    return paginated, rows


def recent_inquiries(*, customer: Customer, limit: int = 5) -> list[PortalRow]:
    return [
        PortalRow(inquiry, customer_status(inquiry.status))
        for inquiry in inquiries_of_customer(customer=customer)[:limit]
    ]


def inquiry_of_customer(*, customer: Customer, key: str) -> Inquiry | None:
    """Her inquiry by its reference ("R-10234") or id; anyone else's is None."""
    match = REFERENCE_PATTERN.match(key.strip())
    if match is None:
        return None
    number = int(match.group(1))
    pk = number - REFERENCE_OFFSET if key.strip().upper().startswith("R-") else number
    return Inquiry.objects.filter(pk=pk, customer=customer).first()


def inquiry_by_token(*, token: str) -> Inquiry | None:
    """The inquiry of a tracking link: the whole token must match, nothing less."""
    if not TOKEN_PATTERN.match(token):
        return None
    return Inquiry.objects.filter(tracking_token=token).first()


def public_inquiry(*, inquiry: Inquiry) -> PublicInquiry:
    """The customer's view of an inquiry, in a fixed number of queries."""
    messages = list(
        Message.objects.filter(inquiry=inquiry, kind__in=PUBLIC_KINDS)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    events = inquiry.events.filter(kind=EventKind.STATUS).order_by("created_at", "id")
    history = [
        StatusStep(_status_step(event.old_value, event.new_value), event.created_at)
        for event in events.only("old_value", "new_value", "created_at")
    ]
    callbacks = list(
        inquiry.callbacks.filter(status=CallbackStatus.PENDING).order_by("window_start", "id")
    )
    return PublicInquiry(
        inquiry=inquiry,
        status_label=customer_status(inquiry.status),
        messages=messages,
        history=history,
        callbacks=callbacks,
    )


def public_attachment(*, inquiry: Inquiry, attachment_id: int) -> Attachment | None:
    """A file of one of the inquiry's public messages; a note's file is never served here."""
    return Attachment.objects.filter(
        pk=attachment_id, message__inquiry=inquiry, message__kind__in=PUBLIC_KINDS
    ).first()


def sent_inquiry(*, inquiry_id: int) -> Inquiry | None:
    """The inquiry just sent from the web form, with what its thank-you page tells."""
    return Inquiry.objects.select_related("acknowledgement", "queue").filter(pk=inquiry_id).first()


def expected_answer(*, inquiry: Inquiry) -> str:
    """When the team expects to answer, once routing has put the inquiry in a queue; else ""."""
    if inquiry.queue is None or inquiry.routed_at is None:
        return ""
    return expected_reply(
        inquiry.queue, timezone.now(), ahead_of=inquiry.routed_at, priority=inquiry.priority
    ).wording
