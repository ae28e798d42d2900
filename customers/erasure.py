"""Erasing a customer's personal data (the right to erasure). What identifies her goes: her name
and address, her contact points, her sign-in, the text of her inquiries, messages, comments and
e-mails, her call-back numbers, the files she sent, and the personal data in the audit log and in
the events sent to other systems (webhook deliveries). What the books need stays: her orders,
returns and pickups with their numbers, lines and totals, under an anonymous record ("Customer
#123"). The erasure itself is audited."""

from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from crm.models import AuditEntry, OutboundEmail, OutboundEmailStatus, User, WebhookDelivery
from crm.services import audit_record, audit_redacting
from customers.models import Activity, Comment, ContactPoint, Customer, MergeSuggestion
from orders.models import Order, Pickup, Return
from tickets.models import Attachment, CallbackRequest, Inquiry, Message

ERASED = "[erased]"
# Timeline entries about these keep their summary (an order number, a store, an amount); every
# other entry's summary may quote her details or her words.
BOOKKEEPING_SUBJECTS = {"order", "return", "pickup"}
# What audit entries about her records may hold of her personal data: what was written (before
# and after), contact points, call-back numbers and free-text notes.
PERSONAL_AUDIT_KEYS = ("changes", "contact_points_added", "phone", "note", "message")
# What webhook payloads about her hold of her personal data: her name, her inquiries' subjects.
PERSONAL_PAYLOAD_KEYS = {"first_name": "", "last_name": "", "subject": ERASED}


def customer_erase(*, customer: Customer, actor: User) -> dict[str, int]:
    """Erase her personal data in one transaction; returns how many rows of each kind changed."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.erased_at is not None:
            raise ValidationError(f"{customer.full_name}'s personal data is already erased.")
        if customer.merged_into_id is not None:
            raise ValidationError("Erase the record this one was merged into instead.")
        inquiries = Inquiry.objects.filter(customer=customer)
        messages = Message.objects.filter(inquiry__in=inquiries)
        files = list(Attachment.objects.filter(message__in=messages))
        done = {
            "contact points": ContactPoint.objects.filter(customer=customer).delete()[0],
            "inquiries": inquiries.update(
                subject=ERASED, requester_email="", requester_name="", rating_comment=""
            ),
            "messages": messages.update(
                text=ERASED, html="", from_address="", from_name="", subject="", references=""
            ),
            "attachments": len(files),
            "comments": Comment.objects.filter(customer=customer).update(body=ERASED),
            "call-back requests": CallbackRequest.objects.filter(customer=customer).update(
                phone=""
            ),
            "e-mails": _erase_emails(customer),
            "timeline entries": _erase_timeline(customer),
            "merge suggestions": MergeSuggestion.objects.filter(customer_a=customer).delete()[0]
            + MergeSuggestion.objects.filter(customer_b=customer).delete()[0],
            "audit entries": _erase_audit(customer),
            "webhook deliveries": _erase_webhook_payloads(customer),
        }
        for attachment in files:
            attachment.file.delete(save=False)
        Attachment.objects.filter(pk__in=[attachment.pk for attachment in files]).delete()
        if customer.user_id is not None:
            _close_sign_in(User.objects.get(pk=customer.user_id))
        Customer.objects.filter(pk=customer.pk).update(
            first_name="",
            last_name="",
            search_name="",
            search_name_reversed="",
            address_line1="",
            city="",
            postcode="",
            country="",
            user=None,
            erased_at=timezone.now(),
        )
        audit_record(actor=actor, action="customer.erase", obj=customer, data=done)
    return done


def _erase_emails(customer: Customer) -> int:
    """Her e-mails keep that they were sent, not to whom or what they said; unsent ones stop."""
    emails = OutboundEmail.objects.filter(customer=customer)
    emails.exclude(status=OutboundEmailStatus.SENT).update(
        status=OutboundEmailStatus.FAILED, last_error="The recipient's personal data was erased."
    )
    return emails.update(to=[], subject=ERASED, text_body="", html_body="", headers={})


def _erase_timeline(customer: Customer) -> int:
    activities = Activity.objects.filter(customer=customer)
    kept = activities.filter(subject_type__in=BOOKKEEPING_SUBJECTS).update(detail="")
    return kept + activities.exclude(subject_type__in=BOOKKEEPING_SUBJECTS).update(
        summary=ERASED, detail=""
    )


def _erase_audit(customer: Customer) -> int:
    """The audit entries about her records keep who did what when; the personal data some of
    them carry (what was written, numbers, notes) goes."""
    records: list[tuple[type[Model], QuerySet[Any]]] = [
        (Customer, Customer.objects.filter(pk=customer.pk)),
        (Inquiry, Inquiry.objects.filter(customer=customer)),
        (CallbackRequest, CallbackRequest.objects.filter(customer=customer)),
        (Comment, Comment.objects.filter(customer=customer)),
        (Order, Order.objects.filter(customer=customer)),
        (Pickup, Pickup.objects.filter(order__customer=customer)),
        (Return, Return.objects.filter(customer=customer)),
    ]
    about_her = Q(pk__in=[])
    for model, rows in records:
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        about_her |= Q(object_type=model._meta.label_lower, object_id__in=ids)
    entries = [
        entry
        for entry in AuditEntry.objects.filter(about_her)
        if any(key in entry.data for key in PERSONAL_AUDIT_KEYS)
    ]
    for entry in entries:
        entry.data = _without_personal_data(entry.data)
    with audit_redacting():
        AuditEntry.objects.bulk_update(entries, ["data"])
    return len(entries)


def _erase_webhook_payloads(customer: Customer) -> int:
    """The events about her kept for other systems (sent, or still to send) keep their ids,
    numbers and statuses; her name and her words go."""
    about_her = (
        Q(payload__data__inquiry__customer_id=customer.pk)
        | Q(payload__data__pickup__customer__id=customer.pk)
        | Q(payload__data__customer__id=customer.pk)
    )
    deliveries = list(WebhookDelivery.objects.filter(about_her))
    for delivery in deliveries:
        delivery.payload = _redacted(delivery.payload)
    WebhookDelivery.objects.bulk_update(deliveries, ["payload"])
    return len(deliveries)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: PERSONAL_PAYLOAD_KEYS[key] if key in PERSONAL_PAYLOAD_KEYS else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _without_personal_data(data: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in data.items() if key not in PERSONAL_AUDIT_KEYS}
    return kept | {"erased": True}


def _close_sign_in(user: User) -> None:
    EmailAddress.objects.filter(user=user).delete()
    user.email = f"erased-{user.pk}@erased.invalid"
    user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "first_name", "last_name", "is_active", "password"])
