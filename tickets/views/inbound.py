"""Inbound e-mail over HTTP: raw MIME from a mail gateway, and a provider's inbound webhook.

Both go through email_ingest like the MTA pipe does. The gateway authenticates with a shared
secret (CRM_INBOUND_EMAIL_SECRET); the provider's webhook with its signature, checked by
django-anymail.
"""

import hmac
from typing import Any

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets.mail import HEADER_PEEK_BYTES, too_large
from tickets.services.email_intake import IngestOutcome, email_ingest, email_reject

RAW_CONTENT_TYPES = frozenset({"message/rfc822", "application/octet-stream"})
STATUS = {
    IngestOutcome.STORED: 201,
    IngestOutcome.JOINED: 201,
    IngestOutcome.BOUNCE: 201,
    IngestOutcome.DUPLICATE: 200,
    IngestOutcome.REJECTED: 422,
}


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _authorised(request: HttpRequest, secret: str) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), secret.encode()
    )


@csrf_exempt
@require_POST
def email(request: HttpRequest) -> JsonResponse:
    """POST /inbound/email/ with one raw message as the body (Content-Type message/rfc822 or
    application/octet-stream) and `Authorization: Bearer <CRM_INBOUND_EMAIL_SECRET>`."""
    secret = settings.CRM_INBOUND_EMAIL_SECRET
    if not secret:
        return _error(
            503, "Inbound e-mail over HTTP is off: set CRM_INBOUND_EMAIL_SECRET to turn it on."
        )
    if not _authorised(request, secret):
        return _error(401, "Wrong or missing bearer token.", **{"WWW-Authenticate": "Bearer"})
    if request.content_type not in RAW_CONTENT_TYPES:
        return _error(415, "Send the raw message as message/rfc822 or application/octet-stream.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number.")
    limit = settings.CRM_INBOUND_MAX_BYTES
    try:
        if length > limit:
            # Only the headers are read: enough to answer the sender, never the whole body.
            result = email_reject(
                rejection=too_large(head=request.read(HEADER_PEEK_BYTES), size=length),
                source="gateway",
            )
            return JsonResponse(
                {"result": str(result.outcome), "reason": result.reason}, status=413
            )
        # Read from the stream: request.body would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE.
        raw = request.read(limit + 1)
        if not raw:
            return _error(400, "The body is empty: send one raw message.")
        result = email_ingest(raw=raw, source="gateway")
    except DatabaseError:
        return _error(503, "Temporary failure: deliver again later.", **{"Retry-After": "60"})
    return JsonResponse(
        {"result": str(result.outcome), "inquiry": result.reference, "reason": result.reason},
        status=STATUS[result.outcome],
    )


@csrf_exempt
def mailgun(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Mailgun's inbound route ("forward" to this URL), checked against its signing key by
    django-anymail, which sends the message to tickets.receivers. Without a key it is off."""
    if not getattr(settings, "ANYMAIL", {}).get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        return _error(503, "The Mailgun webhook is off: set MAILGUN_WEBHOOK_SIGNING_KEY.")
    return MailgunInboundWebhookView.as_view()(request, *args, **kwargs)
