"""Call-back requests: the customer (portal, web form) or a rep asks for a call at a phone number
within a time window; reps work them from the call-back list and log each call's outcome."""

import dataclasses
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone

from crm.models import Channel, User
from crm.permissions import is_staff_member, is_store_staff
from crm.services import audit_record
from customers.identifiers import format_phone, normalize_phone
from customers.models import ActivityKind, Customer
from customers.services import Identity, activity_record
from stores.models import Store
from tickets.models import (
    CallbackOutcome,
    CallbackRequest,
    CallbackStatus,
    Inquiry,
    InquiryStatus,
    Message,
    MessageKind,
)
from tickets.services.inquiries import IncomingMessage, inquiry_open, inquiry_set_status

CALLBACK_WINDOW_MAX = timedelta(hours=8)
# A form filled in for "as soon as possible" sends the minute it was opened: a little grace.
CALLBACK_WINDOW_GRACE = timedelta(minutes=5)
# After a call nobody answered, try again this much later (within the window, else next day's).
CALLBACK_RETRY_AFTER = timedelta(minutes=30)
# After this many unanswered calls the request stays in the list, flagged for a decision.
CALLBACK_MISSES_FLAGGED = 3
NOTE_MAX_LENGTH = 2000


def callback_window_label(start: datetime, end: datetime) -> str:
    """The window as staff and customers read it, in the active time zone (the reader's):
    "Tue, May 14, 2030, 2:00 PM - 4:00 PM EDT" (with an en dash)."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    day = formats.date_format(start, "D, M j, Y")
    start_time, end_time = formats.time_format(start, "g:i A"), formats.time_format(end, "g:i A T")
    if start.date() == end.date():
        return f"{day}, {start_time} – {end_time}"
    return f"{day}, {start_time} – {formats.date_format(end, 'D, M j, Y')}, {end_time}"


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _clean_request(
    phone: str, window_start: datetime, window_end: datetime, note: str
) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    normalized = ""
    if not phone.strip():
        errors["phone"] = ["Give the phone number to call."]
    else:
        try:
            normalized = normalize_phone(phone)
        except ValidationError as error:
            errors["phone"] = list(error.messages)
    now = timezone.now()
    if window_start < now - CALLBACK_WINDOW_GRACE:
        errors["window_start"] = ["The call-back window must start in the future."]
    if window_end <= window_start:
        errors["window_end"] = ["The window must end after it starts."]
    elif window_end - window_start > CALLBACK_WINDOW_MAX:
        hours = int(CALLBACK_WINDOW_MAX.total_seconds() // 3600)
        errors["window_end"] = [f"A call-back window can be at most {hours} hours wide."]
    note = note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"The note can be at most {NOTE_MAX_LENGTH:,} characters."]
    if errors:
        raise ValidationError(errors)
    return normalized, note


def staff_store(user: User | None) -> Store | None:
    """The store an inquiry taken by store staff belongs to (their first), so that they can
    follow it up from their console; None for the call center and customers."""
    if user is None or not is_store_staff(user):
        return None
    return Store.objects.filter(memberships__user=user).order_by("pk").first()


def _internal_note(inquiry: Inquiry, text: str, actor: User | None) -> Message:
    message = Message.objects.create(
        inquiry=inquiry, kind=MessageKind.NOTE, channel=Channel.PHONE, author=actor, text=text
    )
    # Saving bumps updated_at: the workspace lists recently touched inquiries first.
    inquiry.save(update_fields=["updated_at"])
    return message


@transaction.atomic
def callback_request(
    *,
    customer: Customer | None = None,
    identity: Identity | None = None,
    phone: str,
    window_start: datetime,
    window_end: datetime,
    note: str = "",
    channel: str,
    actor: User | None,
    inquiry: Inquiry | None = None,
    subject: str = "Please call me back",
) -> CallbackRequest:
    """Ask for a call at a phone number within a window (at most 8 hours wide, in the future).
    Without an inquiry one is opened on the call-back channel (acknowledged unless staff asked
    on the customer's behalf); with one, the request joins it and re-opens it if needed."""
    window_start, window_end = _aware(window_start), _aware(window_end)
    phone, note = _clean_request(phone, window_start, window_end, note)
    window = callback_window_label(window_start, window_end)
    if inquiry is None:
        if customer is None and identity is None:
            raise ValidationError("Say who is to be called back: a customer or her details.")
        if identity is not None and not identity.phone:
            # The number she asked to be called at becomes one of her contact points.
            identity = dataclasses.replace(identity, phone=phone)
        text = f"Please call me back at {format_phone(phone)}, {window}."
        inquiry = inquiry_open(
            channel=Channel.CALLBACK,
            message=IncomingMessage(text=f"{text}\n\n{note}" if note else text),
            identity=identity,
            customer=customer,
            subject=subject,
            actor=actor,
            store=staff_store(actor),
            acknowledge=actor is None or not is_staff_member(actor),
        )
    else:
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if customer is not None and inquiry.customer_id != customer.pk:
            raise ValidationError("This inquiry belongs to another customer.")
        if inquiry.status in (InquiryStatus.WAITING, InquiryStatus.RESOLVED):
            inquiry = inquiry_set_status(
                inquiry=inquiry,
                status=InquiryStatus.OPEN,
                actor=actor,
                note="A call-back was requested.",
            )
        text = f"Call-back requested at {format_phone(phone)}, {window}."
        _internal_note(inquiry, f"{text}\n\n{note}" if note else text, actor)
    if inquiry.customer is None:
        raise ValidationError("A call-back needs a customer to call.")
    callback = CallbackRequest.objects.create(
        inquiry=inquiry,
        customer=inquiry.customer,
        phone=phone,
        window_start=window_start,
        window_end=window_end,
        due_at=window_start,
        requested_by=actor,
    )
    activity_record(
        customer=inquiry.customer,
        kind=ActivityKind.CALLBACK_REQUESTED,
        channel=channel,
        summary=f"{inquiry.reference}: call {format_phone(phone)}, {window}",
        detail=note,
        actor=actor,
        subject=("inquiry", str(inquiry.pk)),
    )
    audit_record(
        actor=actor,
        action="callback.request",
        obj=callback,
        data={
            "inquiry": inquiry.pk,
            "phone": phone,
            "window_start": window_start.isoformat(),
            "window_end": window_end.isoformat(),
        },
    )
    return callback


def _next_attempt(callback: CallbackRequest, now: datetime) -> datetime:
    """The next time to call: half an hour on if that is still inside the window, otherwise
    the start of the same window on the next day that still has room (wall-clock time)."""
    candidate = now + CALLBACK_RETRY_AFTER
    start = timezone.localtime(callback.window_start)
    end = timezone.localtime(callback.window_end)
    days = 0
    while end + timedelta(days=days) <= candidate:
        days += 1
    return max(candidate, start + timedelta(days=days))


@transaction.atomic
def callback_log_outcome(
    *, callback: CallbackRequest, outcome: str, note: str = "", actor: User
) -> CallbackRequest:
    """Record a call made for a call-back request. No answer: try again later (after three misses
    it stays on the list, flagged); reached: done; resolved: done and the inquiry resolved.
    Every call is on the customer's timeline and an internal note on the inquiry."""
    callback = (
        CallbackRequest.objects.select_for_update().select_related("inquiry").get(pk=callback.pk)
    )
    if outcome not in CallbackOutcome.values:
        raise ValidationError({"outcome": ["Choose how the call went."]})
    if callback.status != CallbackStatus.PENDING:
        raise ValidationError(
            f"This call-back is already closed ({callback.get_status_display().lower()})."
        )
    note = note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": [f"The note can be at most {NOTE_MAX_LENGTH:,} characters."]}
        )
    now = timezone.now()
    inquiry = callback.inquiry
    callback.attempts += 1
    callback.last_outcome = outcome
    if outcome == CallbackOutcome.NO_ANSWER:
        callback.due_at = _next_attempt(callback, now)
        next_call = formats.date_format(timezone.localtime(callback.due_at), "D, M j, g:i A")
        summary = f"no answer (attempt {callback.attempts}); next try {next_call}"
    else:
        callback.status = (
            CallbackStatus.RESOLVED
            if outcome == CallbackOutcome.RESOLVED
            else CallbackStatus.REACHED
        )
        summary = "reached and resolved" if outcome == CallbackOutcome.RESOLVED else "reached"
    callback.save(update_fields=["attempts", "last_outcome", "due_at", "status"])
    label = f"Call-back to {format_phone(callback.phone)}: {summary}."
    _internal_note(inquiry, f"{label}\n\n{note}" if note else label, actor)
    if outcome != CallbackOutcome.NO_ANSWER:
        _answered_by_phone(inquiry, outcome, actor, now)
    activity_record(
        customer=callback.customer,
        kind=ActivityKind.CALLBACK_LOGGED,
        channel=Channel.PHONE,
        summary=f"{inquiry.reference}: {summary}",
        detail=note,
        actor=actor,
        subject=("inquiry", str(inquiry.pk)),
    )
    audit_record(
        actor=actor,
        action="callback.outcome",
        obj=callback,
        data={"outcome": outcome, "attempts": callback.attempts, "note": note},
    )
    return callback


def _answered_by_phone(inquiry: Inquiry, outcome: str, actor: User, now: datetime) -> None:
    """A call that reached the customer is the inquiry's first response if none came before."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.first_responded_at is None:
        inquiry.first_responded_at = now
        inquiry.save(update_fields=["first_responded_at", "updated_at"])
    if outcome == CallbackOutcome.RESOLVED:
        if inquiry.status != InquiryStatus.RESOLVED:
            inquiry_set_status(
                inquiry=inquiry,
                status=InquiryStatus.RESOLVED,
                actor=actor,
                note="Resolved on a call-back.",
            )
    elif inquiry.status == InquiryStatus.NEW:
        inquiry_set_status(
            inquiry=inquiry, status=InquiryStatus.OPEN, actor=actor, note="Customer called back."
        )
