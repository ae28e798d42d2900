"""SLA timers: due times from the queue's policy, paused while waiting on the customer."""

from datetime import datetime

from tickets.models import Inquiry


def sla_pause(*, inquiry: Inquiry, now: datetime) -> None:
    """Stop the clock: the inquiry waits on the customer. The caller saves the inquiry."""
    inquiry.sla_paused_at = now


def sla_resume(*, inquiry: Inquiry, now: datetime) -> None:
    """Start the clock again, moving the due times on by the time spent waiting."""
    if inquiry.sla_paused_at is None:
        return
    waited = now - inquiry.sla_paused_at
    if inquiry.first_response_due_at and inquiry.first_responded_at is None:
        inquiry.first_response_due_at += waited
    if inquiry.resolution_due_at:
        inquiry.resolution_due_at += waited
    inquiry.sla_paused_at = None
