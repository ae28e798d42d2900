"""The acknowledgement: what it says, when we expect to reply (from a real backlog and answering
rate), and that it is released once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from crm.models import Channel, OutboundEmail, OutboundEmailStatus
from customers.services import Identity
from tests.conftest import SmtpSink
from tests.factories import QueueFactory, web_inquiry
from tickets.models import Inquiry, InquiryStatus, Priority, Queue, RoutingRule
from tickets.services.acknowledgement import (
    acknowledgement_release,
    expected_reply,
    inquiries_route_and_acknowledge,
)
from tickets.services.inquiries import IncomingMessage, inquiry_open
from tickets.services.routing import inquiry_route

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# Thursday, December 3, 2026, 11:00 in New York.
NOW = datetime(2026, 12, 3, 11, 0, tzinfo=NY)


def around_the_clock() -> Queue:
    queue: Queue = QueueFactory(
        time_zone="America/New_York",
        opens_at=time(0),
        closes_at=time(0),
        workdays=list(range(7)),
    )
    return queue


def office_hours() -> Queue:
    queue: Queue = QueueFactory(time_zone="America/New_York", opens_at=time(9), closes_at=time(17))
    return queue


def waiting(queue: Queue, count: int, *, routed: datetime = NOW - timedelta(hours=1), **fields):
    """`count` inquiries routed to the queue that nobody answered yet."""
    Inquiry.objects.bulk_create(
        Inquiry(
            queue=queue,
            channel=Channel.EMAIL,
            subject=f"Question {n}",
            created_at=routed,
            routed_at=routed,
            **fields,
        )
        for n in range(count)
    )


def answered(
    queue: Queue, count: int, *, within: timedelta = timedelta(hours=24), now: datetime = NOW
) -> None:
    """`count` inquiries the queue answered, their first responses spread over `within` before
    `now`."""
    Inquiry.objects.bulk_create(
        Inquiry(
            queue=queue,
            channel=Channel.EMAIL,
            subject=f"Answered {n}",
            status=InquiryStatus.RESOLVED,
            created_at=now - within - timedelta(hours=1),
            routed_at=now - within - timedelta(hours=1),
            first_responded_at=now - within * (n + 0.5) / count,
        )
        for n in range(count)
    )


class TestExpectedReply:
    def test_a_queue_with_no_history_promises_its_first_response_target(self):
        team = around_the_clock()
        team.sla_policies.create(priority=Priority.NORMAL, first_response_minutes=4 * 60)

        expected = expected_reply(team, NOW)

        assert expected.wording == "We expect to reply within about 4 hours."
        assert expected.at == NOW + timedelta(hours=4)
        assert not expected.busy

    def test_the_eta_wording_changes_with_a_real_backlog(self):
        team = around_the_clock()
        answered(team, 24)  # one first response an hour over the last day
        waiting(team, 2)

        healthy = expected_reply(team, NOW)

        # Two ahead and this one, at one an hour.
        assert (healthy.backlog, healthy.answered) == (2, 24)
        assert healthy.at == NOW + timedelta(hours=3)
        assert healthy.wording == "We expect to reply within about 3 hours."

        waiting(team, 45)  # a bad morning: 47 waiting
        busy = expected_reply(team, NOW)

        assert busy.backlog == 47
        assert busy.at == NOW + timedelta(hours=48)  # Saturday 11:00
        assert busy.busy
        assert busy.wording == (
            "We expect to reply by Saturday, December 5, around 11 AM EST. "
            "We are busier than usual."
        )

    def test_a_fast_team_is_promised_no_less_than_an_hour(self):
        team = around_the_clock()
        answered(team, 240)
        assert expected_reply(team, NOW).wording == "We expect to reply within about an hour."

    def test_only_what_still_waits_for_a_first_response_before_this_one_counts(self):
        team = around_the_clock()
        answered(team, 24)
        waiting(team, 2)
        waiting(team, 1, status=InquiryStatus.WAITING)  # waits on the customer, not on us
        waiting(team, 1, automated_reason="Auto-Submitted: auto-replied")
        waiting(team, 1, first_responded_at=NOW - timedelta(days=3))
        waiting(team, 3, routed=NOW + timedelta(minutes=1))  # arrived after this one
        waiting(QueueFactory(), 5)  # another team's

        assert expected_reply(team, NOW).backlog == 2

    def test_outside_business_hours_it_says_when_the_team_is_back(self):
        team = office_hours()
        answered(team, 8, within=timedelta(hours=20))
        friday_evening = datetime(2026, 12, 4, 18, 30, tzinfo=NY)

        expected = expected_reply(team, friday_evening)

        # Eight answers in the last 24 working hours: one every three hours; Monday 9:00 + 3 h.
        assert expected.at == datetime(2026, 12, 7, 12, 0, tzinfo=NY)
        assert expected.wording == (
            "Our team is away right now and back on Monday, December 7, at 9 AM EST. "
            "We expect to reply by Monday, December 7, around 12 PM EST."
        )

    def test_the_answering_rate_counts_working_hours_only(self):
        team = office_hours()
        # Monday 9:00: the last 24 working hours began Wednesday 9:00, before the weekend.
        monday = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
        Inquiry.objects.bulk_create(
            Inquiry(
                queue=team,
                channel=Channel.EMAIL,
                subject="Answered on Thursday",
                routed_at=monday - timedelta(days=5),
                first_responded_at=datetime(2026, 12, 3, 10, n, tzinfo=NY),
            )
            for n in range(12)
        )

        expected = expected_reply(team, monday)

        assert expected.answered == 12
        assert expected.at == monday + timedelta(hours=2)
        assert expected.wording == "We expect to reply within about 2 hours."


class TestAcknowledgement:
    def test_it_tells_her_the_reference_what_she_wrote_when_we_reply_and_how_to_follow_it(
        self, mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
    ):
        Queue.objects.filter(is_default=True).update(
            opens_at=time(0), closes_at=time(0), workdays=list(range(7))
        )
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = inquiry_open(
                channel=Channel.WEB_FORM,
                identity=Identity(email="maya@example.com", first_name="Maya", last_name="Ray"),
                subject="Broken zip",
                message=IncomingMessage(
                    text="The zip of my <b>jacket</b> broke after a week.\n\nCan you help?"
                ),
            )

        inquiry.refresh_from_db()
        (delivery,) = mailer_to_sink.deliveries
        message = delivery.message
        assert delivery.rcpt_tos == ["maya@example.com"]
        assert message["Subject"] == f"[#{inquiry.reference}] We received your message: Broken zip"
        assert message["Auto-Submitted"] == "auto-replied"
        assert message["X-Auto-Response-Suppress"] == "All"
        text = message.get_body(("plain",)).get_content()
        assert text.startswith("Hello Maya Ray,")
        assert f"given it the reference {inquiry.reference}" in text
        assert "> The zip of my <b>jacket</b> broke after a week. Can you help?" in text
        assert "We expect to reply within about 6 hours." in text
        assert f"{settings.CRM_SITE_URL}/track/{inquiry.tracking_token}/" in text
        assert f'keep "[#{inquiry.reference}]" in the subject' in text
        html = message.get_body(("html",)).get_content()
        assert "&lt;b&gt;jacket&lt;/b&gt;" in html
        assert "<b>jacket" not in html
        assert inquiry.acknowledgement.status == OutboundEmailStatus.SENT

    def test_it_is_released_once_and_only_after_routing(
        self, mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
    ):
        inquiry = web_inquiry()

        with django_capture_on_commit_callbacks(execute=True):
            assert acknowledgement_release(inquiry_id=inquiry.pk) is None
        inquiry.refresh_from_db()
        assert inquiry.acknowledgement.status == OutboundEmailStatus.HELD

        inquiry_route(inquiry_id=inquiry.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert acknowledgement_release(inquiry_id=inquiry.pk) is not None
        with django_capture_on_commit_callbacks(execute=True):
            assert acknowledgement_release(inquiry_id=inquiry.pk) is None

        assert len(mailer_to_sink.deliveries) == 1

    def test_a_long_message_is_quoted_short(
        self, mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            web_inquiry(text="word " * 400)

        text = mailer_to_sink.deliveries[0].message.get_body(("plain",)).get_content()
        quoted = [line for line in text.splitlines() if line.startswith("> ")]
        assert 3 <= len(quoted) <= 6
        assert quoted[-1].endswith("…")


def test_inquiries_acknowledged_together_each_count_the_ones_routed_before_them(
    django_capture_on_commit_callbacks,
):
    # given: a team answering one inquiry an hour, all day, with nobody waiting
    team = around_the_clock()
    RoutingRule.objects.create(name="Everything", queue=team, position=1)
    answered(team, 24, now=timezone.now())
    arrived = [web_inquiry(email=f"c{n}@example.com") for n in range(3)]

    # when: one routing task routes and acknowledges the three waiting
    with django_capture_on_commit_callbacks(execute=False):
        released = inquiries_route_and_acknowledge(inquiry_id=arrived[0].pk)

    # then: each one's answer time counts those ahead of it in the team's queue
    bodies = {
        email.to[0]: email.text_body
        for email in OutboundEmail.objects.filter(
            pk__in=released, status=OutboundEmailStatus.PENDING
        )
    }
    assert "within about an hour" in bodies["c0@example.com"]
    assert "within about 2 hours" in bodies["c1@example.com"]
    assert "within about 3 hours" in bodies["c2@example.com"]
    assert inquiries_route_and_acknowledge(inquiry_id=arrived[1].pk) == [
        arrived[1].acknowledgement_id
    ]
