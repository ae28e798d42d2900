"""Inbound e-mail from a provider's webhook (django-anymail's inbound signal) into the intake.
Connected by TicketsConfig.ready()."""

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from tickets.mail import message_bytes
from tickets.services.email_intake import email_ingest


@receiver(inbound, dispatch_uid="tickets.email_from_provider")
def email_from_provider(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """The provider's parsed message, written back out as bytes, goes the way every e-mail goes.
    A database error propagates: the webhook answers 500 and the provider delivers again."""
    email_ingest(raw=message_bytes(event.message), source=f"anymail:{esp_name.lower()}")
