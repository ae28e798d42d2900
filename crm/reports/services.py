"""The reports' one write: the daily snapshot of the backlog."""

import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from crm.models import BacklogCount, BacklogSnapshot
from tickets.models import OPEN_STATUSES, Inquiry


def snapshot_day(moment: datetime) -> date:
    """The day a snapshot taken at `moment` belongs to, in the retailer's time zone."""
    return timezone.localdate(moment, timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _open_inquiries(at: datetime, *, from_history: bool) -> list[Mapping[str, Any]]:
    """Open, unanswered and overdue inquiries per queue and store at `at`: from their status now,
    or (from_history) from their timestamps, as they stood at a moment gone by."""
    inquiries = Inquiry.objects.filter(merged_into__isnull=True, automated_reason="")
    if from_history:
        inquiries = inquiries.filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gt=at), created_at__lte=at
        )
        unanswered = Q(first_responded_at__isnull=True) | Q(first_responded_at__gt=at)
    else:
        inquiries = inquiries.filter(status__in=OPEN_STATUSES)
        unanswered = Q(first_responded_at__isnull=True)
    return list(
        inquiries.values("queue_id", "store_id")
        .annotate(
            open=Count("pk"),
            unanswered=Count("pk", filter=unanswered),
            overdue=Count("pk", filter=unanswered & Q(first_response_due_at__lt=at)),
        )
        .order_by()
    )


@transaction.atomic
def backlog_snapshot_take(
    *, now: datetime | None = None, from_history: bool = False
) -> BacklogSnapshot | None:
    """Record the backlog of every queue and store once per day (in CRM_DEFAULT_TIME_ZONE): the
    day's first call counts, a later call the same day changes nothing and returns None.
    `from_history` counts a past moment from the inquiries' timestamps, to fill a missed day."""
    now = now or timezone.now()
    day = snapshot_day(now)
    # The unique day makes a concurrent second run wait for the first and then find its row.
    snapshot, created = BacklogSnapshot.objects.get_or_create(day=day, defaults={"taken_at": now})
    if not created:
        return None
    BacklogCount.objects.bulk_create(
        BacklogCount(
            snapshot=snapshot,
            day=day,
            queue_id=row["queue_id"],
            store_id=row["store_id"],
            open=row["open"],
            unanswered=row["unanswered"],
            overdue=row["overdue"],
        )
        for row in _open_inquiries(now, from_history=from_history)
    )
    return snapshot
