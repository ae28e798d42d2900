"""Background work on customer records. Tasks take ids, call a service, and are safe to repeat."""

from celery import shared_task

from customers import services


@shared_task(name="customers.find_merge_suggestions", acks_late=True, max_retries=3)
def find_merge_suggestions(customer_id: int) -> int:
    """Look for other records of the same person; the suggestion pairs are unique, so a rerun
    changes nothing."""
    return len(services.merge_suggestions_find(customer_id=customer_id))
