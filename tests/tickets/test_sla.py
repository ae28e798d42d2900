"""Working-time arithmetic, SLA due times (calendar and business hours), pausing while waiting on
the customer, and the breach sweep."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.models import OutboundEmail, Role, User
from customers.models import Activity, ActivityKind
from tests.conftest import SmtpSink
from tests.factories import QueueFactory, UserFactory, web_inquiry
from tickets.business_hours import BusinessHours
from tickets.models import (
    EventKind,
    Inquiry,
    InquiryStatus,
    Priority,
    Queue,
    RoutingRule,
)
from tickets.services.inquiries import inquiry_set_status
from tickets.services.routing import inquiry_route
from tickets.services.sla import sla_pause, sla_resume, sla_sweep

NY = ZoneInfo("America/New_York")


def new_queue(**fields: object) -> Queue:
    queue: Queue = QueueFactory(**fields)
    return queue


def new_user(**fields: object) -> User:
    user: User = UserFactory(**fields)
    return user


def ny(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment in New York in December 2026 (Monday the 7th, Friday the 11th)."""
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def office(**fields: object) -> BusinessHours:
    values: dict[str, object] = {
        "time_zone": "America/New_York",
        "opens_at": time(9),
        "closes_at": time(17),
        "workdays": [0, 1, 2, 3, 4],
    }
    return BusinessHours.of(Queue(**{**values, **fields}))


class TestBusinessHours:
    def test_working_time_skips_evenings_and_weekends(self):
        hours = office()
        assert hours.add(ny(7, 10), timedelta(hours=3)) == ny(7, 13)
        assert hours.add(ny(7, 15), timedelta(hours=3)) == ny(8, 10)
        assert hours.add(ny(11, 16), timedelta(hours=2)) == ny(14, 10)
        assert hours.add(ny(12, 12), timedelta(hours=1)) == ny(14, 10)  # from a Saturday
        assert hours.between(ny(11, 16), ny(14, 10)) == timedelta(hours=2)
        assert hours.subtract(ny(14, 10), timedelta(hours=2)) == ny(11, 16)
        assert hours.subtract(ny(14, 10), timedelta(hours=24)) == ny(9, 10)

    def test_open_and_next_opening(self):
        hours = office()
        assert hours.is_open(ny(7, 9))
        assert not hours.is_open(ny(7, 17))
        assert hours.next_opening(ny(11, 18)) == ny(14, 9)
        assert hours.next_opening(ny(7, 11)) == ny(7, 11)

    def test_equal_opening_and_closing_is_all_day_on_workdays(self):
        hours = office(opens_at=time(8), closes_at=time(8))
        assert hours.is_open(ny(7, 3))
        assert not hours.is_open(ny(12, 12))
        assert hours.add(ny(11, 20), timedelta(hours=6)) == ny(14, 2)

    def test_a_night_shift_ends_the_next_morning(self):
        hours = office(opens_at=time(22), closes_at=time(6))
        assert hours.is_open(ny(8, 3))  # Monday night's shift
        assert hours.add(ny(7, 23), timedelta(hours=2)) == ny(8, 1)
        # Friday night's shift ends Saturday 6:00; the next starts Monday 22:00.
        assert hours.add(ny(11, 23), timedelta(hours=8)) == ny(14, 23)

    def test_durations_are_real_time_across_a_daylight_saving_change(self):
        every_day = office(opens_at=time(0), closes_at=time(0), workdays=list(range(7)))
        # Clocks jump from 2:00 to 3:00 on Sunday, March 8, 2026 in New York.
        assert every_day.add(ny(7, 12, month=3), timedelta(hours=24)) == ny(8, 13, month=3)
        shift = office(opens_at=time(0), closes_at=time(6), workdays=[6])
        assert shift.between(ny(8, 0, month=3), ny(8, 6, month=3)) == timedelta(hours=5)


def routed_at(created: datetime, queue: Queue | None = None, **fields: object) -> Inquiry:
    if queue is not None:
        RoutingRule.objects.create(name="All", queue=queue)
    inquiry = web_inquiry()
    Inquiry.objects.filter(pk=inquiry.pk).update(created_at=created, **fields)
    inquiry_route(inquiry_id=inquiry.pk)
    inquiry.refresh_from_db()
    return inquiry


@pytest.mark.django_db
class TestDueTimes:
    def test_calendar_targets_of_the_queue_policy(self):
        team = new_queue()
        team.sla_policies.create(
            priority=Priority.NORMAL, first_response_minutes=120, resolution_minutes=24 * 60
        )

        inquiry = routed_at(ny(11, 16), team)

        assert inquiry.first_response_due_at == ny(11, 18)
        assert inquiry.resolution_due_at == ny(12, 16)

    def test_business_hours_targets_count_only_working_time(self):
        team = new_queue(time_zone="America/New_York")
        team.sla_policies.create(
            priority=Priority.NORMAL,
            first_response_minutes=4 * 60,
            resolution_minutes=16 * 60,
            business_hours=True,
        )

        inquiry = routed_at(ny(11, 15), team)  # Friday, two hours before closing

        assert inquiry.first_response_due_at == ny(14, 11)
        assert inquiry.resolution_due_at == ny(15, 15)

    def test_defaults_without_a_policy(self, settings):
        settings.CRM_SLA_FIRST_RESPONSE_MINUTES = 90
        settings.CRM_SLA_RESOLUTION_MINUTES = 600
        inquiry = routed_at(ny(11, 15))
        assert inquiry.first_response_due_at == ny(11, 16, 30)
        assert inquiry.resolution_due_at == ny(12, 1)


@pytest.mark.django_db
class TestPause:
    def test_waiting_on_the_customer_pauses_and_answering_resumes_the_clock(self):
        inquiry = routed_at(timezone.now())
        first_due, resolution_due = inquiry.first_response_due_at, inquiry.resolution_due_at

        inquiry = inquiry_set_status(inquiry=inquiry, status=InquiryStatus.WAITING, actor=None)
        assert inquiry.sla_paused_at is not None
        # Two hours of waiting on her.
        Inquiry.objects.filter(pk=inquiry.pk).update(
            sla_paused_at=inquiry.sla_paused_at - timedelta(hours=2)
        )
        inquiry = inquiry_set_status(inquiry=inquiry, status=InquiryStatus.OPEN, actor=None)

        assert inquiry.sla_paused_at is None
        assert inquiry.first_response_due_at and first_due
        assert inquiry.resolution_due_at and resolution_due
        assert inquiry.first_response_due_at - first_due == pytest.approx(
            timedelta(hours=2), abs=timedelta(seconds=5)
        )
        assert inquiry.resolution_due_at - resolution_due == pytest.approx(
            timedelta(hours=2), abs=timedelta(seconds=5)
        )

    def test_under_business_hours_what_was_left_is_left_in_working_time(self):
        team = new_queue(time_zone="America/New_York")
        team.sla_policies.create(
            priority=Priority.NORMAL,
            first_response_minutes=240,
            resolution_minutes=600,
            business_hours=True,
        )
        inquiry = Inquiry(
            queue=team,
            priority=Priority.NORMAL,
            first_response_due_at=ny(14, 11),  # 3 working hours after Friday 16:00
            resolution_due_at=ny(11, 15),  # already missed when the wait began
        )

        sla_pause(inquiry=inquiry, now=ny(11, 16))
        sla_resume(inquiry=inquiry, now=ny(14, 12))

        assert inquiry.first_response_due_at == ny(14, 15)
        assert inquiry.resolution_due_at == ny(11, 15)
        assert inquiry.sla_paused_at is None


@pytest.mark.django_db
class TestBreachSweep:
    @pytest.fixture
    def supervisor(self):
        return new_user(role=Role.SUPERVISOR, first_name="Sam", email="sam@example.com")

    @pytest.fixture
    def team(self, supervisor):
        return new_queue(name="Returns", supervisor=supervisor)

    def overdue(self, team: Queue, **fields: object) -> Inquiry:
        inquiry = routed_at(timezone.now() - timedelta(hours=7), team)
        if fields:
            Inquiry.objects.filter(pk=inquiry.pk).update(**fields)
            inquiry.refresh_from_db()
        return inquiry

    def test_a_breach_is_flagged_once_escalated_and_told_to_the_supervisor(
        self, team, supervisor, mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
    ):
        inquiry = self.overdue(team)
        assert inquiry.first_response_due_at is not None
        assert inquiry.first_response_due_at < timezone.now()

        with django_capture_on_commit_callbacks(execute=True):
            assert sla_sweep() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert sla_sweep() == 0

        inquiry.refresh_from_db()
        assert inquiry.first_response_breached_at is not None
        assert inquiry.resolution_breached_at is None
        assert inquiry.priority == Priority.HIGH
        (event,) = inquiry.events.filter(kind=EventKind.SLA_BREACH)
        assert (
            event.note == "The first response target passed. Priority raised from Normal to High."
        )
        assert (
            Activity.objects.filter(
                customer=inquiry.customer,
                kind=ActivityKind.INQUIRY_STATUS,
                summary__contains="overdue",
            ).count()
            == 1
        )
        (delivery,) = mailer_to_sink.deliveries
        assert delivery.rcpt_tos == [supervisor.email]
        assert delivery.message["Subject"].startswith(
            f"[#{inquiry.reference}] First response overdue"
        )
        assert delivery.message["Auto-Submitted"] == "auto-generated"
        body = delivery.message.get_content()
        assert "Hello Sam," in body
        assert inquiry.get_absolute_url() in body
        assert OutboundEmail.objects.filter(key=f"sla-breach:{inquiry.pk}:first").count() == 1

    def test_resolution_breach_is_its_own_and_priority_stops_at_urgent(self, team):
        inquiry = self.overdue(
            team,
            priority=Priority.URGENT,
            first_responded_at=timezone.now() - timedelta(hours=6),
            resolution_due_at=timezone.now() - timedelta(minutes=1),
        )

        assert sla_sweep() == 1

        inquiry.refresh_from_db()
        assert inquiry.first_response_breached_at is None
        assert inquiry.resolution_breached_at is not None
        assert inquiry.priority == Priority.URGENT
        assert OutboundEmail.objects.filter(key=f"sla-breach:{inquiry.pk}:resolution").exists()

    def test_paused_answered_and_resolved_inquiries_do_not_breach(self, team):
        waiting = self.overdue(team)
        inquiry_set_status(inquiry=waiting, status=InquiryStatus.WAITING, actor=None)
        self.overdue(team, first_responded_at=timezone.now() - timedelta(hours=6))
        resolved = self.overdue(team)
        inquiry_set_status(inquiry=resolved, status=InquiryStatus.RESOLVED, actor=None)
        Inquiry.objects.filter(pk__in=[waiting.pk, resolved.pk]).update(
            first_responded_at=None, resolution_due_at=datetime(2000, 1, 1, tzinfo=UTC)
        )

        assert sla_sweep() == 0
        assert not Inquiry.objects.filter(first_response_breached_at__isnull=False).exists()

    def test_without_a_supervisor_the_breach_is_still_flagged(self):
        inquiry = self.overdue(new_queue(supervisor=None))

        assert sla_sweep() == 1

        inquiry.refresh_from_db()
        assert inquiry.first_response_breached_at is not None
        assert not OutboundEmail.objects.filter(key__startswith="sla-breach:").exists()
