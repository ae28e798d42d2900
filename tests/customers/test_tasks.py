import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from crm.celery import app as celery_app
from crm.models import Channel
from customers.models import MergeSuggestion
from customers.services import Identity, customer_resolve
from customers.tasks import find_merge_suggestions


def resolve(**identity: str):
    return customer_resolve(identity=Identity(**identity), source=Channel.STORE).customer


def queued_messages() -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery"))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_task_is_published_only_when_the_write_commits() -> None:
    celery_app.control.purge()

    with pytest.raises(RuntimeError), transaction.atomic():
        resolve(
            email="rolled.back@example.com", first_name="Ann", last_name="Lee", postcode="10001"
        )
        raise RuntimeError("the request failed after the customer was created")
    assert queued_messages() == 0

    resolve(email="kept@example.com", first_name="Ann", last_name="Lee", postcode="10001")
    assert queued_messages() == 1
    celery_app.control.purge()


@pytest.mark.worker
def test_a_real_worker_suggests_the_duplicate(celery_worker_process) -> None:
    online = resolve(email="zoe@example.com", first_name="Zoë", last_name="Brown", postcode="10001")
    in_store = resolve(phone="212 555 0199", first_name="Zoe", last_name="Brown", postcode="10001")

    deadline = time.monotonic() + 30
    while not MergeSuggestion.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)

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
def test_a_missing_or_merged_customer_is_skipped() -> None:
    assert find_merge_suggestions(123456) == 0
