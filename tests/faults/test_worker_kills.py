"""Fault: Celery workers SIGKILLed at random while inquiries are routed and acknowledged.

Inquiries arrive while no worker runs; then a worker starts, and is SIGKILLed at random moments
and replaced, again and again, while beat's sweeps run as they would. Nothing is lost (every
inquiry routed and acknowledged), nothing is done twice (each inquiry routed once), and at most
one e-mail per kill is sent twice (a kill between the SMTP server's 250 and the commit of "sent").
The suite runs 300 inquiries and 5 kills; CRM_FAULT_INQUIRIES=1000 CRM_FAULT_KILLS=10 runs the
full size of RELIABILITY.md."""

import os
import random
import signal
import time
from collections import Counter

import pytest

from tests.conftest import RedisServer, SmtpSink
from tests.factories import web_inquiry
from tests.tickets.test_tasks import routings_per_inquiry, sent_acknowledgements, sweep, wait_for
from tickets.models import Inquiry

pytestmark = [pytest.mark.fault, pytest.mark.worker]

INQUIRIES = int(os.environ.get("CRM_FAULT_INQUIRIES", "300"))
KILLS = int(os.environ.get("CRM_FAULT_KILLS", "5"))


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}


def test_workers_killed_at_random_lose_nothing_and_repeat_at_most_one_send_per_kill(
    own_redis: RedisServer, celery_workers, smtp_sink: SmtpSink, capsys
) -> None:
    addresses = [f"shopper{n}@example.com" for n in range(INQUIRIES)]
    for address in addresses:
        web_inquiry(email=address)
    moments = random.Random(INQUIRIES * 31 + KILLS)

    worker = celery_workers(broker=own_redis.url, ready=False)
    kills, killed_at = 0, []
    while kills < KILLS and sent_acknowledgements() < INQUIRIES:
        # Each worker dies a random moment after it sent its first acknowledgement: mid-work,
        # however fast the machine gets through the inquiries.
        sent, deadline = sent_acknowledgements(), time.monotonic() + 60
        while sent_acknowledgements() == sent and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(moments.uniform(0.02, 0.25))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1
        killed_at.append(sent_acknowledgements())
        worker = celery_workers(broker=own_redis.url, ready=False)
    wait_for(lambda: sent_acknowledgements() == INQUIRIES, seconds=60 + INQUIRIES / 5, every=sweep)
    time.sleep(1)  # room for duplicates, were any coming
    sweep()
    time.sleep(1)

    sends = sum(len(delivery.rcpt_tos) for delivery in smtp_sink.deliveries)
    with capsys.disabled():
        print(
            f"\n{INQUIRIES} inquiries, {kills} kills (after {killed_at} acknowledgements): "
            f"{sends} acknowledgements sent, {sends - INQUIRIES} twice"
        )
    assert kills >= 1, "the work finished before a worker could be killed"
    assert routings_per_inquiry() == dict.fromkeys(Inquiry.objects.values_list("pk", flat=True), 1)
    received = Counter(recipient for d in smtp_sink.deliveries for recipient in d.rcpt_tos)
    assert set(received) == set(addresses)
    assert sends <= INQUIRIES + kills
