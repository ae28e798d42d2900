"""SLA timers: due times from the queue's policy, paused while waiting on the customer, and the
periodic sweep that flags breaches and escalates them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from crm.services import audit_record, email_enqueue, subject_line
from customers.models import ActivityKind
from customers.services import activity_record
from tickets.business_hours import BusinessHours
from tickets.models import (
    SUBJECT_MAX_LENGTH,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Priority,
    Queue,
    SlaPolicy,
)

SWEEP_BATCH = 200
# Inquiries an agent still owes something: waiting ones are paused, resolved ones are done.
RUNNING = (InquiryStatus.NEW, InquiryStatus.OPEN)


@dataclass(frozen=True)
class SlaTargets:
    first_response: timedelta
    resolution: timedelta
    business_hours: bool

    def due(self, queue: Queue, start: datetime, target: timedelta) -> datetime:
        """When `target` has run out from `start`: in the queue's working time if the policy
        counts business hours only, else in calendar time."""
        if self.business_hours:
            return BusinessHours.of(queue).add(start, target)
        return start + target


def sla_targets(*, queue: Queue | None, priority: int) -> SlaTargets:
    """The targets of the queue's policy for this priority, or the configured defaults."""
    policy = SlaPolicy.objects.filter(queue=queue, priority=priority).first() if queue else None
    if policy is None:
        return SlaTargets(
            first_response=timedelta(minutes=settings.CRM_SLA_FIRST_RESPONSE_MINUTES),
            resolution=timedelta(minutes=settings.CRM_SLA_RESOLUTION_MINUTES),
            business_hours=False,
        )
    return SlaTargets(
        first_response=timedelta(minutes=policy.first_response_minutes),
        resolution=timedelta(minutes=policy.resolution_minutes),
        business_hours=policy.business_hours,
    )


class TargetsCache:
    """sla_targets read once per queue and priority, for work on many inquiries at once (a
    routing batch and its acknowledgements)."""

    def __init__(self) -> None:
        self.read: dict[tuple[int | None, int], SlaTargets] = {}

    def __call__(self, *, queue: Queue | None, priority: int) -> SlaTargets:
        key = (queue.pk if queue else None, priority)
        if key not in self.read:
            self.read[key] = sla_targets(queue=queue, priority=priority)
        return self.read[key]


def sla_start(*, inquiry: Inquiry, targets: TargetsCache | None = None) -> None:
    """Set the due times of a newly routed inquiry, counted from its arrival. Automated mail
    (auto-replies, bounces) waits for no answer: it has none. The caller saves."""
    if inquiry.queue is None or inquiry.automated_reason:
        inquiry.first_response_due_at = inquiry.resolution_due_at = None
        return
    policy = (targets or sla_targets)(queue=inquiry.queue, priority=inquiry.priority)
    inquiry.first_response_due_at = policy.due(
        inquiry.queue, inquiry.created_at, policy.first_response
    )
    inquiry.resolution_due_at = policy.due(inquiry.queue, inquiry.created_at, policy.resolution)


def sla_pause(*, inquiry: Inquiry, now: datetime) -> None:
    """Stop the clock: the inquiry waits on the customer. The caller saves the inquiry."""
    if inquiry.sla_paused_at is None:
        inquiry.sla_paused_at = now


def sla_resume(*, inquiry: Inquiry, now: datetime) -> None:
    """Start the clock again: what was left of each target when the wait began is left from now
    (in working time under a business-hours policy). A target already missed stays missed.
    The caller saves the inquiry."""
    paused_at = inquiry.sla_paused_at
    if paused_at is None:
        return
    inquiry.sla_paused_at = None
    targets = sla_targets(queue=inquiry.queue, priority=inquiry.priority)
    hours = BusinessHours.of(inquiry.queue) if inquiry.queue and targets.business_hours else None

    def moved(due: datetime) -> datetime:
        if due <= paused_at:
            return due
        if hours is None:
            return now + (due - paused_at)
        return hours.add(now, hours.between(paused_at, due))

    if inquiry.first_response_due_at and inquiry.first_responded_at is None:
        inquiry.first_response_due_at = moved(inquiry.first_response_due_at)
    if inquiry.resolution_due_at:
        inquiry.resolution_due_at = moved(inquiry.resolution_due_at)


BREACHES = {
    # kind: (due field, breached field, extra condition, words for people)
    "first": (
        "first_response_due_at",
        "first_response_breached_at",
        Q(first_responded_at__isnull=True),
        "first response",
    ),
    "resolution": (
        "resolution_due_at",
        "resolution_breached_at",
        Q(resolved_at__isnull=True),
        "resolution",
    ),
}


def sla_sweep(*, now: datetime | None = None) -> int:
    """Flag every running inquiry past a due time, once per target: record the breach, raise its
    priority one step (up to urgent), write its history and the customer's timeline, and tell
    the queue's supervisor by e-mail. Paused (waiting) inquiries do not breach. Returns how many
    breaches were flagged; each batch is one transaction."""
    now = now or timezone.now()
    flagged = 0
    for kind, (due_field, breached_field, condition, words) in BREACHES.items():
        with transaction.atomic():
            # skip_locked: an inquiry being changed right now is flagged by the next sweep.
            inquiries = list(
                Inquiry.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("queue__supervisor", "customer")
                .filter(
                    condition,
                    status__in=RUNNING,
                    sla_paused_at__isnull=True,
                    merged_into__isnull=True,
                    **{f"{due_field}__lt": now, f"{breached_field}__isnull": True},
                )
                .order_by(due_field)[:SWEEP_BATCH]
            )
            for inquiry in inquiries:
                _flag_breach(inquiry, kind, breached_field, words, now)
            flagged += len(inquiries)
    return flagged


def _flag_breach(
    inquiry: Inquiry, kind: str, breached_field: str, words: str, now: datetime
) -> None:
    old_priority = inquiry.priority
    inquiry.priority = min(old_priority + 1, Priority.URGENT)
    setattr(inquiry, breached_field, now)
    inquiry.save(update_fields=[breached_field, "priority", "updated_at"])
    raised = (
        f" Priority raised from {Priority(old_priority).label} to "
        f"{Priority(inquiry.priority).label}."
        if inquiry.priority != old_priority
        else ""
    )
    note = f"The {words} target passed.{raised}"
    InquiryEvent.objects.create(
        inquiry=inquiry,
        kind=EventKind.SLA_BREACH,
        old_value=str(old_priority),
        new_value=words,
        note=note,
        created_at=now,
    )
    audit_record(
        actor=None,
        action="inquiry.sla_breach",
        obj=inquiry,
        data={"target": kind, "priority": [old_priority, inquiry.priority]},
    )
    if inquiry.customer is not None:
        activity_record(
            customer=inquiry.customer,
            kind=ActivityKind.INQUIRY_STATUS,
            channel=inquiry.channel,
            summary=f"{inquiry.reference}: {words} overdue",
            detail=note,
            occurred_at=now,
            subject=("inquiry", str(inquiry.pk)),
        )
    supervisor = inquiry.queue.supervisor if inquiry.queue else None
    if supervisor is not None and supervisor.is_active and supervisor.email:
        email_enqueue(
            to=supervisor.email,
            subject=subject_line(
                f"[#{inquiry.reference}] {words.capitalize()} overdue: {inquiry.subject}"
            )[:SUBJECT_MAX_LENGTH],
            text=render_to_string(
                "tickets/email/sla_breach.txt",
                {
                    "inquiry": inquiry,
                    "supervisor": supervisor,
                    "words": words,
                    "raised": raised.strip(),
                    "site_url": settings.CRM_SITE_URL,
                },
            ),
            key=f"sla-breach:{inquiry.pk}:{kind}",
            # A notification, not a reply: RFC 3834's auto-generated, and still no auto-replies.
            automatic=False,
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
