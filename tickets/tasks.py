"""Background work of inquiries. Tasks take ids, call a service, and are safe to repeat."""

from celery import shared_task
from django.db import OperationalError

from crm.services import email_deliver
from tickets.services import acknowledgement, retention, routing, sla, tally


# A database that is briefly away is worth a few tries; beyond them, the sweep routes it later.
@shared_task(
    name="tickets.route_inquiry",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=5,
)
def route_inquiry(inquiry_id: int) -> None:
    """Route a new inquiry, with the others waiting when the worker is behind, then send their
    acknowledgements with the routed queues' answer times from this task, on the worker's kept
    mail connection. Each step checks the inquiry's or e-mail's state first: a second run
    changes nothing."""
    for email_id in acknowledgement.inquiries_route_and_acknowledge(inquiry_id=inquiry_id):
        email_deliver(email_id=email_id)


@shared_task(name="tickets.sweep_inquiries", acks_late=True)
def sweep_inquiries() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): route again the inquiries whose routing task was lost."""
    return routing.inquiry_sweep()


@shared_task(name="tickets.sla_sweep", acks_late=True)
def sla_sweep() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): flag and escalate SLA breaches, once each."""
    return sla.sla_sweep()


@shared_task(name="tickets.compact_open_inquiry_tally", acks_late=True)
def compact_open_inquiry_tally() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): fold the agent queue's tally of open inquiries."""
    return tally.open_inquiry_tally_compact()


@shared_task(name="tickets.purge_attachments", acks_late=True)
def purge_attachments() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): delete the files of inquiries resolved longer ago than
    CRM_ATTACHMENT_RETENTION_DAYS."""
    return retention.attachments_purge()
