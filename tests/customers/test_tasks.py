import json
import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from crm.models import Channel
from customers.models import MergeSuggestion
from customers.services import Identity, customer_resolve
from customers.tasks import find_merge_suggestions, find_merge_suggestions_batch
from tests.conftest import start_worker


def resolve(**identity: str):
    return customer_resolve(identity=Identity(**identity), source=Channel.STORE).customer


def insights_queue() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued_suggestions() -> int:
    """Merge suggestion tasks waiting on their queue (insights, beside the insight recomputes)."""
    queue = insights_queue().lrange("insights", 0, -1)
    return sum(
        json.loads(message)["headers"]["task"] == "customers.find_merge_suggestions"
        for message in queue
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_task_is_published_only_when_the_write_commits() -> None:
    insights_queue().delete("insights")  # what earlier tests left there

    with pytest.raises(RuntimeError), transaction.atomic():
        resolve(
            email="rolled.back@example.com", first_name="Ann", last_name="Lee", postcode="10001"
        )
        raise RuntimeError("the request failed after the customer was created")
    assert queued_suggestions() == 0

    resolve(email="kept@example.com", first_name="Ann", last_name="Lee", postcode="10001")
    assert queued_suggestions() == 1
    insights_queue().delete("insights")


@pytest.mark.worker
def test_a_worker_of_the_insights_queue_suggests_the_duplicate(transactional_db) -> None:
    insights_queue().delete("insights")  # what earlier tests left there
    online = resolve(email="zoe@example.com", first_name="Zoë", last_name="Brown", postcode="10001")
    in_store = resolve(phone="212 555 0199", first_name="Zoe", last_name="Brown", postcode="10001")

    worker = start_worker(queues="insights")
    try:
        deadline = time.monotonic() + 30
        while not MergeSuggestion.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        insights_queue().delete("insights")

    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_a, suggestion.customer_b} == {online, in_store}
    assert suggestion.reason == "Same name and address"


@pytest.mark.django_db
def test_running_the_task_twice_has_one_effect() -> None:
    resolve(email="zoe@example.com", first_name="Zoe", last_name="Brown", postcode="10001")
    twin = resolve(phone="212 555 0199", first_name="Zoe", last_name="Brown", postcode="10001")

    find_merge_suggestions(twin.pk)
    find_merge_suggestions(twin.pk)

    assert MergeSuggestion.objects.count() == 1


@pytest.mark.django_db
def test_running_the_batch_task_twice_has_one_effect() -> None:
    resolve(email="zoe@example.com", first_name="Zoe", last_name="Brown", postcode="10001")
    twin = resolve(phone="212 555 0199", first_name="Zoe", last_name="Brown", postcode="10001")
    other = resolve(email="al@example.com", first_name="Al", last_name="Ng", postcode="10002")

    assert find_merge_suggestions_batch([twin.pk, other.pk]) == 1
    find_merge_suggestions_batch([twin.pk, other.pk])

    assert MergeSuggestion.objects.count() == 1


@pytest.mark.django_db
def test_a_missing_or_merged_customer_is_skipped() -> None:
    assert find_merge_suggestions(123456) == 0
