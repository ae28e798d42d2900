"""Workers recover when Redis restarts (celery#8030, #10205): after each restart a task published
to the restarted broker is run by the same worker process within a minute, and what was queued
when Redis went away (it keeps nothing on disk) is sent once by the outbox sweep."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import OutboundEmail, OutboundEmailStatus
from crm.services import email_enqueue, outbox_sweep
from tests.conftest import RedisServer, SmtpSink

RESTARTS = 5
RECOVERY_LIMIT = 60.0
LOAD = 10


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}


def canary(number: int | str) -> OutboundEmail:
    return email_enqueue(
        to="canary@example.com",
        subject=f"Canary {number}",
        text="A worker that lost its broker picked this up.",
        key=f"canary:{number}",
    )


def delivered_within(email: OutboundEmail, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        email.refresh_from_db()
        if email.status == OutboundEmailStatus.SENT:
            return time.monotonic() - started
        time.sleep(0.1)
    return None


@pytest.mark.worker
def test_a_worker_runs_tasks_again_after_each_redis_restart(
    own_redis: RedisServer, celery_workers, smtp_sink: SmtpSink
) -> None:
    worker = celery_workers(broker=own_redis.url)
    assert delivered_within(canary(0), RECOVERY_LIMIT) is not None

    for restart in range(1, RESTARTS + 1):
        for n in range(LOAD):
            canary(f"load {restart}.{n}")
        own_redis.stop()
        time.sleep(1)
        own_redis.start()
        # Published only once Redis is back: what is in flight while it is down is the sweep's.
        took = delivered_within(canary(restart), RECOVERY_LIMIT)

        assert took is not None, f"no task ran within {RECOVERY_LIMIT:.0f} s of restart {restart}"
        assert worker.poll() is None, "the worker process exited instead of reconnecting"

    # The load queued just before each stop: some sent, the rest lost with Redis's memory.
    # A minute on, the sweep finds them pending and enqueues them again.
    OutboundEmail.objects.filter(status=OutboundEmailStatus.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    outbox_sweep()
    deadline = time.monotonic() + RECOVERY_LIMIT
    while OutboundEmail.objects.exclude(status=OutboundEmailStatus.SENT).exists():
        assert time.monotonic() < deadline, "the sweep's e-mails were not all sent"
        time.sleep(0.1)
    subjects = [d.message["Subject"] for d in smtp_sink.deliveries]
    assert sorted(subjects) == sorted(
        [f"Canary {n}" for n in range(RESTARTS + 1)]
        + [f"Canary load {r}.{n}" for r in range(1, RESTARTS + 1) for n in range(LOAD)]
    )
