"""Background work of the e-mail outbox. Tasks take ids, call a service, and are safe to repeat."""

from celery import Task, shared_task

from crm import services


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
