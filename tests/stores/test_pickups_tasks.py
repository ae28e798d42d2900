"""Pickup tasks: expiry and reminders are safe to repeat, and a real worker e-mails the code."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Pickup, PickupStatus, Refund
from orders.services import pickup_set_status
from orders.tasks import expire_pickups, remind_pickups
from stores.models import StockLevel
from tests.conftest import SmtpSink
from tests.stores.pickup_fixtures import place_pickup, stocked_store


def ready_pickup() -> Pickup:
    pickup = place_pickup(stocked_store())
    for status in (PickupStatus.PREPARING, PickupStatus.READY):
        pickup = pickup_set_status(pickup=pickup, to=status, actor=None)
    return pickup


@pytest.mark.django_db(transaction=True)
def test_expiry_task_run_twice_expires_once_and_sends_one_email(mailer_to_sink) -> None:
    pickup = ready_pickup()
    Pickup.objects.filter(pk=pickup.pk).update(hold_until=timezone.now() - timedelta(minutes=1))
    sent_before = len(mailer_to_sink.deliveries)

    assert expire_pickups.delay().get() == 1
    assert expire_pickups.delay().get() == 0

    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.EXPIRED
    assert StockLevel.objects.get(store=pickup.store).reserved == 0
    assert Refund.objects.filter(order=pickup.order).count() == 1
    expired = mailer_to_sink.deliveries[sent_before:]
    assert [d.message["Subject"] for d in expired] == [
        f"Your pickup of order {pickup.order.number} has expired"
    ]


@pytest.mark.django_db(transaction=True)
def test_reminder_task_run_twice_sends_one_reminder(mailer_to_sink) -> None:
    pickup = ready_pickup()
    Pickup.objects.filter(pk=pickup.pk).update(hold_until=timezone.now() + timedelta(days=1))

    assert remind_pickups.delay().get() == 1
    assert remind_pickups.delay().get() == 0

    reminders = [d for d in mailer_to_sink.deliveries if "Reminder" in d.message["Subject"]]
    assert len(reminders) == 1
    assert pickup.code in reminders[0].message.get_content()


@pytest.fixture
def worker_env(smtp_sink: SmtpSink) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}


@pytest.mark.worker
def test_a_real_worker_emails_the_ready_code(smtp_sink, celery_worker_process) -> None:
    pickup = ready_pickup()

    deadline = time.monotonic() + 30
    while not smtp_sink.deliveries and time.monotonic() < deadline:
        time.sleep(0.1)

    assert len(smtp_sink.deliveries) == 1
    delivery = smtp_sink.deliveries[0]
    assert delivery.rcpt_tos == ["ann@example.com"]
    assert delivery.message["Auto-Submitted"] == "auto-replied"
    found = re.search(r"Your pickup code: (\w+)", delivery.message.get_content())
    assert found is not None and found.group(1) == pickup.code
