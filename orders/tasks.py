"""Background work of pickups. Each task calls a service that checks state first: safe to repeat."""

from celery import shared_task

from orders.services import pickups


@shared_task(name="orders.expire_pickups", acks_late=True)
def expire_pickups() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): expire ready pickups past their store's hold period."""
    return pickups.pickups_expire()


@shared_task(name="orders.remind_pickups", acks_late=True)
def remind_pickups() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): remind customers two days before their pickup expires."""
    return pickups.pickups_remind()
