"""Inbound e-mail from a mail gateway (raw MIME) and from e-mail providers' webhooks."""

from django.urls import path

from tickets.views import inbound

app_name = "inbound"
urlpatterns = [
    path("email/", inbound.email, name="email"),
    # Only the provider we set up: anymail's other webhooks, without their secrets configured,
    # would take mail from anyone.
    path("anymail/mailgun/inbound/", inbound.mailgun, name="mailgun"),
    path("anymail/mailgun/inbound_mime/", inbound.mailgun, name="mailgun_mime"),
]
