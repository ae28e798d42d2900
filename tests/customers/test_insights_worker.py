"""Insight recomputes run on real workers of their own queue, apart from acknowledgements."""

import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from crm.celery import app as celery_app
from crm.models import Channel
from customers.models import CustomerInsight
from customers.services import Identity
from orders.services import LineInput, order_record
from tests.conftest import start_worker
from tests.factories import ProductFactory


def queued(queue: str) -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue))


@pytest.mark.worker
def test_an_order_is_reflected_by_a_worker_of_the_insights_queue_only(transactional_db) -> None:
    celery_app.control.purge()
    ProductFactory(sku="JKT-1", price=Decimal("120.00"))

    order = order_record(
        identity=Identity(email="ana@example.com", first_name="Ana"),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-1", quantity=1)],
    )

    # The recompute waits on its own queue, not behind (or ahead of) the default queue's work.
    assert queued("insights") >= 1
    assert not CustomerInsight.objects.filter(customer_id=order.customer_id).exists()

    worker = start_worker(queues="insights")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            insight = CustomerInsight.objects.filter(customer_id=order.customer_id).first()
            if insight is not None:
                break
            time.sleep(0.2)
        assert insight is not None, "no worker of the insights queue recomputed her figures"
        assert insight.order_count == 1
        assert insight.lifetime_value == order.total
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        celery_app.control.purge()
