"""Background work on customer records. Tasks take ids, call a service, and are safe to repeat."""

from celery import shared_task
from django.db import OperationalError

from customers import services
from customers.insights.services import insight_refresh


@shared_task(name="customers.find_merge_suggestions", acks_late=True, max_retries=3)
def find_merge_suggestions(customer_id: int) -> int:
    """Look for other records of the same person; the suggestion pairs are unique, so a rerun
    changes nothing."""
    return len(services.merge_suggestions_find(customer_id=customer_id))


@shared_task(
    name="customers.refresh_insight",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def refresh_insight(customer_id: int) -> bool:
    """Recompute the customer's insight from her history: a full recompute, so a rerun (or a
    run after a later event's) leaves the same row. False for a merged or unknown customer."""
    return insight_refresh(customer_id=customer_id) is not None


@shared_task(name="customers.find_merge_suggestions_batch", acks_late=True, max_retries=3)
def find_merge_suggestions_batch(customer_ids: list[int]) -> int:
    """find_merge_suggestions for the customers a batch of orders created."""
    return sum(
        len(services.merge_suggestions_find(customer_id=customer_id))
        for customer_id in customer_ids
    )


@shared_task(
    name="customers.refresh_insights",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def refresh_insights(customer_ids: list[int]) -> int:
    """refresh_insight for the customers of a batch of events; each is a full recompute, so a
    rerun of the whole batch leaves the same rows. Returns how many have an insight."""
    return sum(insight_refresh(customer_id=customer_id) is not None for customer_id in customer_ids)
