"""What the customer does on her inquiries: rate the answer, reply, re-open, ask for a call."""

from django.conf import settings
from django.template.loader import render_to_string

from crm.services import email_enqueue
from tickets.models import Inquiry


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
