"""Inbound e-mail from a provider's webhook (django-anymail's inbound signal) into the intake,
and the default queue kept in place after every migrate and flush. Connected by
TicketsConfig.ready()."""

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from tickets.mail import message_bytes
from tickets.models import Queue
from tickets.services.email_intake import email_ingest


@receiver(inbound, dispatch_uid="tickets.email_from_provider")
def email_from_provider(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """The provider's parsed message, written back out as bytes, goes the way every e-mail goes.
    A database error propagates: the webhook answers 500 and the provider delivers again."""
    email_ingest(raw=message_bytes(event.message), source=f"anymail:{esp_name.lower()}")


@receiver(post_migrate, dispatch_uid="tickets.default_queue")
def default_queue_ensure(sender: AppConfig, using: str, **kwargs: Any) -> None:
    """Everything no routing rule sends elsewhere needs a queue to go to. The migration that made
    it runs once; this puts it back after `manage.py flush`, which empties every table."""
    if sender.name != "tickets" or Queue.objects.using(using).filter(is_default=True).exists():
        return
    Queue.objects.using(using).create(
        name="Customer Service",
        slug="service",
        description="Everything no routing rule sends elsewhere.",
        is_default=True,
    )
