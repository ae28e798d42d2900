"""E-mail intake: one raw message in, from any of the mail paths (an MTA pipe, a mail gateway's
POST, a provider's webhook), stored once and filed where it belongs.

A message delivered twice (same Message-ID) is stored once. A reply joins its inquiry by
In-Reply-To, then References, then the reference in its subject, but only when its sender takes
part in that inquiry; anyone else's mail opens a new inquiry linked to the one it claimed.
Automated mail is stored and flagged, never acknowledged; a bounce of our own mail marks the
address undeliverable. Mail over the size limit is not stored: its sender gets one polite
rejection.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Channel, OutboundEmail
from crm.services import audit_record, email_enqueue, subject_line
from customers.identifiers import normalize_email
from customers.models import ContactKind, ContactPoint
from customers.services import Identity
from tickets.mail import Bounce, MessageRejected, ParsedEmail, human_size, parse_email
from tickets.models import (
    REFERENCE_OFFSET,
    SUBJECT_MAX_LENGTH,
    Inquiry,
    Message,
    MessageKind,
)
from tickets.services.inquiries import (
    TEXT_MAX_LENGTH,
    IncomingMessage,
    inquiry_open,
    inquiry_receive,
    own_addresses,
)

logger = logging.getLogger(__name__)

# "[#R-10234]" in a subject, as our acknowledgements and replies write it.
SUBJECT_REFERENCE = re.compile(r"\[\s*#\s*R-(\d{1,12})\s*\]", re.IGNORECASE)
REJECTION_KEY_PREFIX = "inbound-rejected:"
OUTBOX_KEY_MAX_LENGTH = 200
NO_TEXT = "(The e-mail had no text.)"
NOTES_MAX_LENGTH = 10_000


class IngestOutcome(StrEnum):
    STORED = "stored"  # opened a new inquiry
    JOINED = "joined"  # joined an existing inquiry
    DUPLICATE = "duplicate"  # stored before: nothing new
    BOUNCE = "bounce"  # a bounce of our mail: address marked, report stored
    REJECTED = "rejected"  # not stored (too large, no sender, unreadable)


@dataclass(frozen=True)
class IngestResult:
    """What became of one inbound e-mail."""

    outcome: IngestOutcome
    inquiry: Inquiry | None = None
    message: Message | None = None
    reason: str = ""

    @property
    def reference(self) -> str:
        return self.inquiry.reference if self.inquiry is not None else ""

    def __str__(self) -> str:
        if self.outcome == IngestOutcome.REJECTED:
            return f"Rejected: {self.reason}"
        where = f" {self.reference}" if self.inquiry is not None else ""
        related = self.inquiry.related_to if self.inquiry is not None else None
        linked = f" (linked to {related.reference})" if related is not None else ""
        return {
            IngestOutcome.STORED: f"Opened{where}{linked}",
            IngestOutcome.JOINED: f"Joined{where}",
            IngestOutcome.DUPLICATE: f"Duplicate: already stored on{where}",
            IngestOutcome.BOUNCE: f"Bounce recorded on{where}",
        }[self.outcome] + (f" ({self.reason})" if self.reason else "")


def _normal(address: str) -> str:
    try:
        return normalize_email(address)
    except ValidationError:
        return address.strip().lower()


def _incoming(parsed: ParsedEmail) -> IncomingMessage:
    text = parsed.text
    if parsed.dropped_attachments:
        limit = human_size(settings.CRM_ATTACHMENT_MAX_BYTES)
        notes = "\n".join(
            f"[Not kept: the attachment {name} is over the {limit} limit.]"
            for name in parsed.dropped_attachments
        )[:NOTES_MAX_LENGTH]
        text = f"{text[: TEXT_MAX_LENGTH - len(notes) - 2]}\n\n{notes}".strip()
    if not text.strip() and not parsed.html.strip() and not parsed.attachments:
        text = NO_TEXT
    return IncomingMessage(
        text=text,
        subject=parsed.subject,
        html=parsed.html,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to[0] if parsed.in_reply_to else "",
        references=" ".join(f"<{message_id}>" for message_id in parsed.references),
        automated_reason=parsed.automated_reason,
        attachments=tuple(parsed.attachments),
    )


def _identity(parsed: ParsedEmail) -> Identity | None:
    if not parsed.from_address:
        return None
    name = "" if "@" in parsed.from_name else parsed.from_name.strip()
    if "," in name:  # "Doe, Jane"
        last, _, first = name.partition(",")
    else:
        first, _, last = name.rpartition(" ") if " " in name else (name, "", "")
    return Identity(
        email=parsed.from_address, first_name=first.strip()[:100], last_name=last.strip()[:100]
    )


# Threading.


def _claimed_by_headers(parsed: ParsedEmail) -> Inquiry | None:
    """The inquiry the message's In-Reply-To or References point at: one of its messages
    (customer mail, our replies) or its acknowledgement. The first id that matches wins."""
    ids = parsed.thread_ids
    if not ids:
        return None
    found: dict[str, int] = {}
    for message_id, inquiry_id in Message.objects.filter(message_id__in=ids).values_list(
        "message_id", "inquiry_id"
    ):
        found.setdefault(message_id, inquiry_id)
    # Our outbox keeps the angle brackets; Message.message_id does not.
    for message_id, inquiry_id in Inquiry.objects.filter(
        acknowledgement__message_id__in=[f"<{message_id}>" for message_id in ids]
    ).values_list("acknowledgement__message_id", "pk"):
        found.setdefault(message_id.strip("<>"), inquiry_id)
    for message_id in ids:
        if message_id in found:
            return Inquiry.objects.filter(pk=found[message_id]).first()
    return None


def _claimed_by_subject(parsed: ParsedEmail) -> Inquiry | None:
    match = SUBJECT_REFERENCE.search(parsed.subject)
    if match is None:
        return None
    pk = int(match.group(1)) - REFERENCE_OFFSET
    return Inquiry.objects.filter(pk=pk).first() if pk > 0 else None


def is_participant(inquiry: Inquiry, address: str) -> bool:
    """Whether mail from this address may join the inquiry: its requester, an e-mail address of
    its customer, or someone who already wrote on it."""
    if not address:
        return False
    address = _normal(address)
    if address == inquiry.requester_email:
        return True
    if (
        inquiry.customer_id is not None
        and ContactPoint.objects.filter(
            customer_id=inquiry.customer_id, kind=ContactKind.EMAIL, value=address
        ).exists()
    ):
        return True
    return inquiry.messages.filter(kind=MessageKind.INBOUND, from_address__iexact=address).exists()


def _open(parsed: ParsedEmail, related_to: Inquiry | None = None) -> IngestResult:
    inquiry = inquiry_open(
        channel=Channel.EMAIL,
        identity=_identity(parsed),
        message=_incoming(parsed),
        related_to=related_to,
    )
    return IngestResult(IngestOutcome.STORED, inquiry, inquiry.messages.get())


def _thread(parsed: ParsedEmail) -> IngestResult:
    claimed = _claimed_by_headers(parsed) or _claimed_by_subject(parsed)
    if claimed is None:
        return _open(parsed)
    if not is_participant(claimed, parsed.from_address):
        # A stranger's mail never lands on someone else's inquiry, whatever its headers claim.
        return _open(parsed, related_to=claimed)
    landed, stored = inquiry_receive(
        inquiry=claimed, message=_incoming(parsed), channel=Channel.EMAIL
    )
    if landed.pk not in (claimed.pk, claimed.merged_into_id):
        # Resolved too long ago: a new inquiry linked to it.
        return IngestResult(IngestOutcome.STORED, landed, stored)
    return IngestResult(IngestOutcome.JOINED, landed, stored)


# Bounces of our own mail.


def _bounced_email(bounce: Bounce) -> OutboundEmail | None:
    if bounce.original_message_id:
        email = OutboundEmail.objects.filter(message_id=f"<{bounce.original_message_id}>").first()
        if email is not None:
            return email
    # No original attached: the latest mail we sent to a failed recipient.
    for recipient in bounce.failed_recipients:
        point = ContactPoint.objects.filter(
            kind=ContactKind.EMAIL, value=_normal(recipient)
        ).first()
        if point is None:
            continue
        for email in OutboundEmail.objects.filter(customer_id=point.customer_id).order_by(
            "-created_at", "-id"
        )[:20]:
            if point.value in email.to:
                return email
    return None


def _mark_undeliverable(bounce: Bounce, email: OutboundEmail) -> list[str]:
    """Mark the failed recipients of our e-mail undeliverable; returns the addresses marked."""
    sent_to = {_normal(address) for address in email.to}
    failed = [_normal(address) for address in bounce.failed_recipients]
    # A forwarding address bounces under its new name: then it is the address we wrote to.
    addresses = [address for address in failed if address in sent_to] or (
        sorted(sent_to) if failed else []
    )
    marked = []
    for point in ContactPoint.objects.select_for_update().filter(
        kind=ContactKind.EMAIL, value__in=addresses, undeliverable_at__isnull=True
    ):
        point.undeliverable_at = timezone.now()
        point.undeliverable_reason = bounce.reason[:255]
        point.save(update_fields=["undeliverable_at", "undeliverable_reason"])
        audit_record(
            actor=None,
            action="contact.undeliverable",
            obj=point,
            data={"reason": point.undeliverable_reason, "bounced_email": email.pk},
        )
        marked.append(point.value)
    return marked


def _record_bounce(parsed: ParsedEmail, bounce: Bounce, email: OutboundEmail) -> IngestResult:
    marked = _mark_undeliverable(bounce, email)
    inquiry = (
        Inquiry.objects.filter(acknowledgement=email).first()
        or Inquiry.objects.filter(messages__outbound_email=email).first()
    )
    if inquiry is not None:
        landed, stored = inquiry_receive(
            inquiry=inquiry, message=_incoming(parsed), channel=Channel.EMAIL
        )
    else:
        landed = inquiry_open(
            channel=Channel.EMAIL, message=_incoming(parsed), customer=email.customer
        )
        stored = landed.messages.get()
    reason = f"undeliverable: {', '.join(marked)}" if marked else ""
    return IngestResult(IngestOutcome.BOUNCE, landed, stored, reason)


# Intake.


def _duplicate(parsed: ParsedEmail) -> IngestResult | None:
    stored = (
        Message.objects.filter(message_id=parsed.message_id[:255]).select_related("inquiry").first()
    )
    if stored is None:
        return None
    return IngestResult(IngestOutcome.DUPLICATE, stored.inquiry, stored)


def _file(parsed: ParsedEmail, source: str) -> IngestResult:
    bounced = _bounced_email(parsed.bounce) if parsed.bounce is not None else None
    if parsed.bounce is not None and bounced is not None:
        result = _record_bounce(parsed, parsed.bounce, bounced)
    else:
        result = _thread(parsed)
    if result.inquiry is not None:
        audit_record(
            actor=None,
            action="inquiry.email",
            obj=result.inquiry,
            data={
                "source": source,
                "message_id": parsed.message_id,
                "outcome": str(result.outcome),
                "automated": parsed.automated_reason,
            },
        )
    return result


def email_ingest(*, raw: bytes, source: str) -> IngestResult:
    """Take in one raw e-mail from `source` (e.g. "mta", "gateway", "anymail:mailgun"): stored
    once whatever the number of deliveries, threaded into its inquiry or opening a new one.
    Database errors are raised (a temporary failure: the sender's side tries again); anything
    wrong with the message itself is a rejected result, never an exception."""
    try:
        parsed = parse_email(raw)
    except MessageRejected as rejection:
        return email_reject(rejection=rejection, source=source)
    duplicate = _duplicate(parsed)
    if duplicate is not None:
        return duplicate
    try:
        with transaction.atomic():
            result = _file(parsed, source)
    except IntegrityError:
        # The same message, delivered twice at once, was stored by the other delivery.
        duplicate = _duplicate(parsed)
        if duplicate is None:
            raise
        return duplicate
    except ValidationError as error:
        reason = "; ".join(error.messages)
        logger.warning("Inbound e-mail %s via %s not stored: %s", parsed.message_id, source, reason)
        return IngestResult(IngestOutcome.REJECTED, reason=reason)
    logger.info("Inbound e-mail %s via %s: %s", parsed.message_id, source, result)
    return result


# Rejections.


def _rejection_key(message_id: str) -> str:
    key = f"{REJECTION_KEY_PREFIX}{message_id}"
    if len(key) <= OUTBOX_KEY_MAX_LENGTH:
        return key
    return f"{REJECTION_KEY_PREFIX}sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"


def _rejections_this_hour(address: str) -> int:
    recent = OutboundEmail.objects.filter(
        key__startswith=REJECTION_KEY_PREFIX, created_at__gte=timezone.now() - timedelta(hours=1)
    ).values_list("to", flat=True)
    return sum(1 for recipients in recent if address in recipients)


def _rejection_blocker(parsed: ParsedEmail) -> str:
    """Why the sender of a rejected message must not be answered, or "" if she may."""
    if not parsed.from_address:
        return "no sender address"
    if parsed.automated_reason:
        return f"automated mail ({parsed.automated_reason})"
    if parsed.from_address in own_addresses():
        return "sent from one of our own addresses"
    if _rejections_this_hour(parsed.from_address) >= settings.CRM_AUTO_REPLY_LIMIT:
        return "too many rejections to this address in the last hour"
    return ""


def _rejection_text(parsed: ParsedEmail, rejection: MessageRejected) -> str:
    subject = f"“{parsed.subject}”" if parsed.subject else "without a subject"
    return (
        "Hello,\n\n"
        f"thank you for writing to us. Your e-mail {subject} could not be accepted: "
        f"it is {human_size(rejection.size)}, and we accept messages of up to "
        f"{human_size(settings.CRM_INBOUND_MAX_BYTES)}. It has not reached our team.\n\n"
        "Please send it again with fewer or smaller attachments (a link to large files works "
        "well). If you wrote about a request you already have with us, keep its reference, "
        "such as [#R-10234], in the subject.\n\n"
        "This is an automatic message.\n"
    )


def email_reject(*, rejection: MessageRejected, source: str) -> IngestResult:
    """Log a rejected message; the sender of one that was too large gets one polite answer
    (once per message, never to automated senders or our own addresses, at most
    CRM_AUTO_REPLY_LIMIT an hour per sender)."""
    parsed = rejection.parsed
    sender = parsed.from_address if parsed is not None else ""
    logger.warning(
        "Inbound e-mail via %s from %s rejected: %s", source, sender or "(unknown)", rejection
    )
    if rejection.code != MessageRejected.TOO_LARGE or parsed is None:
        return IngestResult(IngestOutcome.REJECTED, reason=rejection.reason)
    blocker = _rejection_blocker(parsed)
    if blocker:
        logger.info("No rejection notice to %s: %s", sender or "(unknown)", blocker)
        return IngestResult(IngestOutcome.REJECTED, reason=rejection.reason)
    headers = {}
    if not parsed.synthetic_id:
        headers = {"In-Reply-To": f"<{parsed.message_id}>", "References": f"<{parsed.message_id}>"}
    point = (
        ContactPoint.objects.filter(kind=ContactKind.EMAIL, value=_normal(sender))
        .select_related("customer")
        .first()
    )
    with transaction.atomic():
        email_enqueue(
            to=sender,
            subject=subject_line(f"Not delivered: {parsed.subject or 'your message'}")[
                :SUBJECT_MAX_LENGTH
            ],
            text=_rejection_text(parsed, rejection),
            key=_rejection_key(parsed.message_id),
            customer=point.customer if point is not None else None,
            headers=headers,
        )
    return IngestResult(IngestOutcome.REJECTED, reason=rejection.reason)
