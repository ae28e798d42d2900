"""Fault: Redis stopped while 500 web inquiries arrive, then started again. Every web-form post
is answered at once (the write stands, the failed publish and the unreachable cache are logged);
after the restart the sweep finds the work and every customer gets exactly one acknowledgement."""

import time

import pytest
from django.urls import reverse

from crm.models import OutboundEmail, OutboundEmailStatus
from crm.settings import shared_cache
from tests.conftest import RedisServer, SmtpSink
from tests.tickets.test_tasks import (
    one_ack_each,
    routings_per_inquiry,
    sent_acknowledgements,
    sweep,
    wait_for,
)
from tickets.models import Inquiry

pytestmark = [pytest.mark.fault, pytest.mark.worker]


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}


WEB_INQUIRIES_WHILE_REDIS_IS_DOWN = 500


def test_acknowledgements_survive_redis_being_stopped_between_commit_and_publish(
    own_redis: RedisServer, celery_workers, smtp_sink: SmtpSink, client, settings
) -> None:
    count = WEB_INQUIRIES_WHILE_REDIS_IS_DOWN
    addresses = [f"customer{n}@example.com" for n in range(count)]
    # The web form's rate limit reads the same Redis, as in production: it goes down too.
    settings.CACHES = {"default": shared_cache(own_redis.url_of(1))}
    own_redis.stop()

    # Every web-form post is answered at once: the write stands, the failed publish and the
    # unreachable cache are logged.
    for n, address in enumerate(addresses):
        started = time.monotonic()
        response = client.post(
            reverse("support:contact"),
            {
                "name": f"Customer {n}",
                "email": address,
                "subject": "Where is my order?",
                "message": "It was due yesterday.",
            },
            REMOTE_ADDR=f"10.0.{n // 200}.{n % 200 + 1}",  # one visitor each: no rate limit
        )
        assert response.status_code == 302, response.content
        assert time.monotonic() - started < 2, "the intake waited for the broker"

    assert Inquiry.objects.filter(routed_at__isnull=True).count() == count
    assert OutboundEmail.objects.filter(status=OutboundEmailStatus.HELD).count() == count
    assert smtp_sink.deliveries == []

    own_redis.start()
    celery_workers(broker=own_redis.url)
    # Beat's first run after the outage finds all of it lost and enqueues it again; nothing is
    # lost after that. (A sweep every 2 s with all unfinished work aged a minute each time would
    # enqueue the whole backlog again faster than one worker drains it; beat runs once a minute.)
    sweep()
    wait_for(lambda: sent_acknowledgements() == count, seconds=120)
    inquiries = list(Inquiry.objects.all())
    time.sleep(1)  # room for duplicates, were any coming
    sweep()
    time.sleep(1)

    one_ack_each(smtp_sink, addresses)
    assert routings_per_inquiry() == {inquiry.pk: 1 for inquiry in inquiries}
