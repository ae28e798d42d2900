"""The acknowledgement: the reference, a tracking link and an honest expected answer time."""

from django.conf import settings
from django.db import transaction

from crm.models import OutboundEmailStatus
from crm.services import email_release
from tickets.models import Inquiry


@transaction.atomic
def acknowledgement_release(*, inquiry_id: int) -> Inquiry | None:
    """Write the held acknowledgement of a routed inquiry and send it; repeated, it sends once."""
    inquiry = (
        Inquiry.objects.select_related("acknowledgement")
        .filter(
            pk=inquiry_id,
            routed_at__isnull=False,
            acknowledgement__status=OutboundEmailStatus.HELD,
        )
        .first()
    )
    if inquiry is None or inquiry.acknowledgement_id is None:
        return None
    text = (
        f"We received your message ({inquiry.reference}).\n"
        f"Follow it here: {settings.CRM_SITE_URL}{inquiry.get_tracking_url()}\n"
    )
    email_release(email_id=inquiry.acknowledgement_id, text=text)
    return inquiry
