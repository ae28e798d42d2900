"""The daily backlog snapshot behind "backlog by queue over time": what it counts, once a day."""

from datetime import UTC, date, datetime, timedelta

import pytest

from crm.demo.reports import backlog_history_write
from crm.models import BacklogCount, BacklogSnapshot
from crm.reports.services import backlog_snapshot_take
from crm.tasks import backlog_snapshot
from tests.crm import factories_reports as rows
from tests.factories import QueueFactory, StoreFactory
from tickets.models import InquiryStatus

pytestmark = pytest.mark.django_db

# 10:00 in New York (CRM_DEFAULT_TIME_ZONE's default) on 12 January 2026.
NOW = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def counts() -> set[tuple[str | None, str | None, int, int, int]]:
    return {
        (
            row.queue.name if row.queue else None,
            row.store.name if row.store else None,
            row.open,
            row.unanswered,
            row.overdue,
        )
        for row in BacklogCount.objects.select_related("queue", "store")
    }


@pytest.fixture
def desk(settings):
    settings.TIME_ZONE = "America/New_York"
    alpha, bravo = QueueFactory(name="Alpha"), QueueFactory(name="Bravo")
    north = StoreFactory(name="North")
    early = NOW - 30 * HOUR
    # Alpha, call center: new and overdue; answered and waiting; resolved (not counted).
    rows.inquiry(created_at=early, queue=alpha, first_response_due_at=early + 6 * HOUR)
    rows.inquiry(
        created_at=early,
        queue=alpha,
        status=InquiryStatus.WAITING,
        first_responded_at=early + HOUR,
        first_response_due_at=early + 6 * HOUR,
    )
    rows.inquiry(created_at=early, queue=alpha, resolved_at=early + 2 * HOUR)
    # Alpha at North: open, unanswered, not due yet.
    rows.inquiry(
        created_at=NOW - HOUR, queue=alpha, store=north, first_response_due_at=NOW + 5 * HOUR
    )
    # Bravo: merged and automated ones are not backlog.
    kept = rows.inquiry(created_at=early, queue=bravo, status=InquiryStatus.OPEN)
    rows.inquiry(created_at=early, queue=bravo, merged_into=kept)
    rows.inquiry(created_at=early, queue=bravo, automated_reason="Auto-Submitted: auto-replied")
    return {"alpha": alpha, "north": north}


def test_the_snapshot_counts_open_unanswered_and_overdue_per_queue_and_store(desk) -> None:
    snapshot = backlog_snapshot_take(now=NOW)

    assert snapshot is not None
    assert snapshot.day == date(2026, 1, 12)
    assert counts() == {
        ("Alpha", None, 2, 1, 1),
        ("Alpha", "North", 1, 1, 0),
        ("Bravo", None, 1, 1, 0),
    }


def test_running_twice_in_one_day_keeps_one_snapshot(desk) -> None:
    first = backlog_snapshot_take(now=NOW)
    rows.inquiry(created_at=NOW, queue=desk["alpha"])  # arrives between the two runs

    again = backlog_snapshot_take(now=NOW + 8 * HOUR)  # 18:00 in New York, the same day

    assert first is not None and again is None
    assert BacklogSnapshot.objects.count() == 1
    assert BacklogCount.objects.count() == 3
    assert ("Alpha", None, 2, 1, 1) in counts()


def test_the_periodic_task_takes_the_days_snapshot_once(desk) -> None:
    assert backlog_snapshot.delay().get() is True
    assert backlog_snapshot.delay().get() is False

    assert BacklogSnapshot.objects.count() == 1


def test_the_next_day_in_the_retailers_zone_is_a_new_snapshot(desk) -> None:
    backlog_snapshot_take(now=NOW)
    # 04:59 UTC on the 13th is still the 12th in New York; 05:00 is the 13th.
    assert backlog_snapshot_take(now=datetime(2026, 1, 13, 4, 59, tzinfo=UTC)) is None
    assert backlog_snapshot_take(now=datetime(2026, 1, 13, 5, 0, tzinfo=UTC)) is not None

    assert list(BacklogSnapshot.objects.order_by("day").values_list("day", flat=True)) == [
        date(2026, 1, 12),
        date(2026, 1, 13),
    ]


def test_a_past_day_is_counted_from_the_timestamps(desk) -> None:
    # Midnight in New York on the 12th: the early Alpha ones had arrived at 09:00 UTC on the 11th
    # and one was answered an hour later, one resolved two hours later; North's came the next
    # afternoon.
    midnight = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)

    backlog_snapshot_take(now=midnight, from_history=True)

    assert counts() == {("Alpha", None, 2, 1, 1), ("Bravo", None, 1, 1, 0)}


def test_the_demo_history_fills_the_days_before_and_today(desk) -> None:
    taken = backlog_history_write(now=NOW, days=5)

    assert taken == 6
    days = list(BacklogSnapshot.objects.order_by("day").values_list("day", flat=True))
    assert days == [date(2026, 1, 7) + timedelta(days=n) for n in range(6)]
    assert backlog_history_write(now=NOW, days=5) == 0
