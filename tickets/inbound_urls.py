"""Inbound e-mail from a mail gateway (raw MIME) and from e-mail providers' webhooks."""

app_name = "inbound"
urlpatterns: list = []
