"""Background work of the e-mail outbox. Tasks take ids, call a service, and are safe to repeat."""

from celery import Task, shared_task

from crm import services, webhooks
from crm.reports.services import backlog_snapshot_take


# max_retries=None: the e-mail's own attempt count decides when to give up (email_send marks it
# failed), so attempts made by a task the sweep enqueued again count towards the same limit.
# The wait is the service's too: the e-mail's next attempt time and the retry's countdown agree,
# so the sweep never takes a scheduled retry for a lost task.
@shared_task(name="crm.send_email", bind=True, acks_late=True, max_retries=None)
def send_email(self: Task[[int], None], email_id: int) -> None:
    """Send one outbox e-mail; a temporary failure retries after a growing, jittered wait."""
    try:
        services.email_send(email_id=email_id)
    except services.EmailTemporaryFailure as failure:
        raise self.retry(countdown=failure.retry_in, exc=failure) from failure


@shared_task(name="crm.sweep_outbox", acks_late=True)
def sweep_outbox() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): enqueue again the e-mail whose task was lost."""
    return services.outbox_sweep()


# As send_email: the delivery's own attempt count decides when to give up, and its next attempt
# time and the retry's countdown agree.
@shared_task(name="crm.deliver_webhook", bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self: Task[[int], None], delivery_id: int) -> None:
    """POST one webhook delivery; a temporary failure retries after a growing, jittered wait."""
    try:
        webhooks.webhook_deliver(delivery_id=delivery_id)
    except webhooks.WebhookTemporaryFailure as failure:
        if self.request.is_eager:
            # In-process (no broker): a retry would run at once, in the request, ignoring the
            # wait. The delivery stays pending with its next attempt time for the sweep.
            return
        raise self.retry(countdown=failure.retry_in, exc=failure) from failure


@shared_task(name="crm.sweep_webhooks", acks_late=True)
def sweep_webhooks() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): enqueue again the webhook deliveries whose task was lost."""
    return webhooks.webhooks_sweep()


@shared_task(name="crm.backlog_snapshot", acks_late=True)
def backlog_snapshot() -> bool:
    """Periodic (CELERY_BEAT_SCHEDULE): today's backlog snapshot for the reports, taken by the
    day's first run; the later runs find it and do nothing. True when this run took it."""
    return backlog_snapshot_take() is not None
