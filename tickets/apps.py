from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Service inquiries from every channel (e-mail, web form, phone, store, call-back)."""

    name = "tickets"

    def ready(self) -> None:
        # Connects the e-mail providers' inbound webhook (django-anymail's signal) to the intake.
        import tickets.receivers  # noqa: F401
