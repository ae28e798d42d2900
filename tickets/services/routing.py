"""Routing: the first enabled rule that matches sends the inquiry to its queue."""

from django.db import transaction
from django.utils import timezone

from tickets.models import Inquiry, Queue


@transaction.atomic
def inquiry_route(*, inquiry_id: int) -> Inquiry | None:
    """Route an unrouted inquiry; a routed one is left alone (a task run twice routes once)."""
    inquiry = (
        Inquiry.objects.select_for_update().filter(pk=inquiry_id, routed_at__isnull=True).first()
    )
    if inquiry is None:
        return None
    inquiry.queue = Queue.objects.filter(is_default=True).first()
    inquiry.routed_at = timezone.now()
    inquiry.routing_reason = "No rule matched: the default queue."
    inquiry.save(update_fields=["queue", "routed_at", "routing_reason"])
    return inquiry
