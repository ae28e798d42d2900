"""The background work of inquiries against the real parts: PostgreSQL, Redis (the shared test
broker, or a redis-server of the test's own that it stops), real Celery workers (one of them
killed) and an SMTP server on loopback."""

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from crm.celery import app as celery_app
from crm.models import OutboundEmail, OutboundEmailStatus
from crm.services import outbox_sweep
from tests.conftest import RedisServer, SmtpSink
from tests.factories import web_inquiry
from tickets.models import EventKind, Inquiry, InquiryEvent
from tickets.services.routing import inquiry_route
from tickets.tasks import route_inquiry, sla_sweep, sweep_inquiries


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}


def wait_for(
    condition: Callable[[], bool],
    seconds: float = 20,
    every: Callable[[], object] | None = None,
) -> None:
    """Wait until `condition` holds, calling `every` (a sweep, as beat would) every 2 s."""
    deadline = time.monotonic() + seconds
    next_call = time.monotonic()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("Timed out waiting for the worker.")
        if every is not None and time.monotonic() >= next_call:
            every()
            next_call = time.monotonic() + 2
        time.sleep(0.1)


def sent_acknowledgements() -> int:
    return Inquiry.objects.filter(acknowledgement__status=OutboundEmailStatus.SENT).count()


def lost_work_is_overdue() -> None:
    """Age what is still unfinished past the sweeps' one-minute grace, as if a minute passed."""
    minute_ago = timezone.now() - timedelta(minutes=2)
    Inquiry.objects.filter(routed_at__isnull=True).update(created_at=minute_ago)
    Inquiry.objects.filter(
        routed_at__isnull=False, acknowledgement__status=OutboundEmailStatus.HELD
    ).update(routed_at=minute_ago)
    OutboundEmail.objects.filter(status=OutboundEmailStatus.PENDING).update(
        next_attempt_at=minute_ago
    )


def sweep() -> None:
    """What beat does every minute: the inquiry sweep and the outbox sweep."""
    lost_work_is_overdue()
    sweep_inquiries()
    outbox_sweep()


def routings_per_inquiry() -> Counter[int]:
    return Counter(
        InquiryEvent.objects.filter(kind=EventKind.ROUTED).values_list("inquiry_id", flat=True)
    )


def one_ack_each(sink: SmtpSink, addresses: list[str]) -> None:
    received = Counter(recipient for d in sink.deliveries for recipient in d.rcpt_tos)
    assert received == Counter(addresses)
    assert all(d.message["Auto-Submitted"] == "auto-replied" for d in sink.deliveries)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_for_a_rolled_back_inquiry_never_reaches_redis() -> None:
    celery_app.control.purge()

    with pytest.raises(RuntimeError), transaction.atomic():
        web_inquiry()
        raise RuntimeError("the request failed after the intake")

    assert not Inquiry.objects.exists()
    assert redis.Redis.from_url(django_settings.CELERY_BROKER_URL).llen("celery") == 0


@pytest.mark.worker
def test_the_routing_task_runs_only_after_the_commit_even_a_slow_one(
    smtp_sink: SmtpSink, celery_worker_process
) -> None:
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    with transaction.atomic():
        inquiry = web_inquiry(email="slow@example.com")
        time.sleep(2)  # the request is still busy; the worker is idle and waiting
        assert broker.llen("celery") == 0

    # No sweep: had the task run before the commit, it would have found no inquiry to route.
    wait_for(lambda: sent_acknowledgements() == 1)
    inquiry.refresh_from_db()
    assert inquiry.routed_at is not None
    one_ack_each(smtp_sink, ["slow@example.com"])


@pytest.mark.django_db
def test_a_task_run_twice_sends_one_email(
    mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        inquiry = web_inquiry()

    with django_capture_on_commit_callbacks(execute=True):
        route_inquiry(inquiry.pk)
    with django_capture_on_commit_callbacks(execute=True):
        route_inquiry(inquiry.pk)

    assert len(mailer_to_sink.deliveries) == 1
    assert inquiry.events.filter(kind=EventKind.ROUTED).count() == 1


@pytest.mark.worker
def test_a_task_delivered_twice_to_a_real_worker_sends_one_email(
    smtp_sink: SmtpSink, celery_worker_process
) -> None:
    with transaction.atomic(), pytest.MonkeyPatch.context() as patch:
        # The intake's own publish is lost; the two below stand for one task delivered twice.
        patch.setattr("tickets.services.inquiries.route_after_commit", lambda inquiry: None)
        inquiry = web_inquiry()

    route_inquiry.delay(inquiry.pk)
    route_inquiry.delay(inquiry.pk)

    wait_for(lambda: len(smtp_sink.deliveries) == 1)
    time.sleep(1)  # room for a second e-mail, were one coming
    assert len(smtp_sink.deliveries) == 1
    assert inquiry.events.filter(kind=EventKind.ROUTED).count() == 1


@pytest.mark.django_db
def test_the_sweep_routes_and_acknowledges_what_lost_tasks_left(
    mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
) -> None:
    # given: the broker was down at each commit, so no task ran
    with django_capture_on_commit_callbacks(execute=False):
        lost = web_inquiry(email="lost@example.com")
        half_done = web_inquiry(email="half@example.com")
        just_now = web_inquiry(email="now@example.com")
    inquiry_route(inquiry_id=half_done.pk)  # a worker died between routing and release
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    Inquiry.objects.filter(pk=lost.pk).update(created_at=two_minutes_ago)
    Inquiry.objects.filter(pk=half_done.pk).update(routed_at=two_minutes_ago)

    # when: the sweep enqueues the two lost ones, not the one whose task may merely be slow
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_inquiries() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_inquiries() == 0

    # then: the first routing task routed the one waiting with it too; each got one e-mail
    one_ack_each(mailer_to_sink, ["lost@example.com", "half@example.com", "now@example.com"])
    just_now.refresh_from_db()
    assert just_now.routed_at is not None
    assert just_now.acknowledgement.status == OutboundEmailStatus.SENT


@pytest.mark.django_db
@pytest.mark.parametrize("task", [sweep_inquiries, sla_sweep])
def test_the_sweeps_run_twice_do_their_work_once(
    task, mailer_to_sink: SmtpSink, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        inquiry = web_inquiry()
    Inquiry.objects.filter(pk=inquiry.pk).update(created_at=timezone.now() - timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        route_inquiry(inquiry.pk)  # due times from its arrival four days ago: both overdue
    mailer_to_sink.deliveries.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = task()
    with django_capture_on_commit_callbacks(execute=True):
        second = task()

    assert second == 0
    assert first == (0 if task is sweep_inquiries else 2)
    assert inquiry.events.filter(kind=EventKind.ROUTED).count() == 1
    assert inquiry.events.filter(kind=EventKind.SLA_BREACH).count() == first


@pytest.mark.worker
def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    own_redis: RedisServer, celery_workers, smtp_sink: SmtpSink
) -> None:
    addresses = [f"buyer{n}@example.com" for n in range(50)]
    first = celery_workers(broker=own_redis.url)

    for address in addresses:
        web_inquiry(email=address)
    wait_for(lambda: Inquiry.objects.filter(routed_at__isnull=False).count() >= 10)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_after = Inquiry.objects.filter(routed_at__isnull=False).count()
    assert killed_after < 50, "the worker finished before it could be killed"

    celery_workers(broker=own_redis.url)
    wait_for(lambda: sent_acknowledgements() == 50, seconds=25, every=sweep)
    time.sleep(1)

    assert routings_per_inquiry() == dict.fromkeys(Inquiry.objects.values_list("pk", flat=True), 1)
    received = Counter(recipient for d in smtp_sink.deliveries for recipient in d.rcpt_tos)
    assert set(received) == set(addresses)
    # A kill between the server's 250 and the commit of "sent" can repeat that one e-mail.
    assert sum(received.values()) <= len(addresses) + 1
