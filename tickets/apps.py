from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Service inquiries from every channel (e-mail, web form, phone, store, call-back)."""

    name = "tickets"
