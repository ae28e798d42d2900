"""The reports' history for the demo: the daily backlog snapshots the periodic task would have
taken over the last weeks, counted from the seeded inquiries' timestamps."""

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from crm.reports.services import backlog_snapshot_take, snapshot_day

HISTORY_DAYS = 60


def backlog_history_write(*, now: datetime, days: int = HISTORY_DAYS) -> int:
    """Snapshots for each of the last `days` days (as at the day's start) and today (as now);
    returns how many were taken. Days that already have one keep it."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = snapshot_day(now)
    taken = 0
    for back in range(days, 0, -1):
        start = datetime.combine(today - timedelta(days=back), time.min, tzinfo=zone)
        taken += backlog_snapshot_take(now=start, from_history=True) is not None
    taken += backlog_snapshot_take(now=timezone.localtime(now, zone)) is not None
    return taken
